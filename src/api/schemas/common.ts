import {
  type TLiteral,
  type TObject,
  type TProperties,
  type TSchema,
  type TUnion,
  Type,
} from '@sinclair/typebox';

/** Every instant in the API is an RFC 3339 string (see src/intake/timestamps.ts). */
export const Instant = Type.String({ format: 'date-time' });

/** One of a fixed list of strings (the domain's `as const` vocabularies), typed as that union. */
export function Literals<const T extends readonly string[]>(values: T, options?: { description?: string }) {
  // map() loses the literal types that TypeBox needs for Static; the runtime schema is exactly this.
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as TUnion<TLiteral<T[number]>[]>;
}

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Ids are UUIDv7 when the API makes them; other stores may have made others, so only the shape is bounded. */
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const Version = Type.Integer({
  minimum: 1,
  description: 'Optimistic lock: the version last read (alternatively send it as If-Match: "<version>")',
});

export const Cursor = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' });

export const PageQueryProperties = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Cursor),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(
      Type.String({ description: 'Pass as ?cursor= for the next page; null on the last' }),
    ),
  });
}

export function List<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item) });
}

export const CallerId = Type.String({
  pattern: '^\\+?[0-9]{1,20}$',
  description: 'Digits, optionally after +',
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { title: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' },
);

/** Adds the problem responses every route may give, so they appear in the OpenAPI document. */
export function withProblems<R extends Record<number, TSchema>>(responses: R) {
  return { ...responses, '4xx': ProblemSchema, '5xx': ProblemSchema };
}

/** A partial of an object schema that still refuses unknown fields. */
export function PartialStrict<P extends TProperties>(object: TObject<P>) {
  return Type.Partial(object, { additionalProperties: false });
}
