import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import { schemaErrors } from '../intake/task-intake.js';
import { validationFailed } from './problem.js';

/** Route handlers see request parts typed from their TypeBox schemas. */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

/**
 * Validates with TypeBox's compiled checkers instead of Fastify's default Ajv setup, because
 * that setup silently removes unknown properties and coerces body types (`"5"` → 5): here an
 * unknown field or a wrong type is a 400. Bodies are checked as sent; query strings and path
 * parameters are text on the wire, so they are converted to the schema's types first. The
 * same engine checks each item of a task batch (src/intake), so both speak the same errors.
 */
export const typeBoxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const convert = httpPart !== 'body';
  return (input: unknown) => {
    const value = convert ? Value.Convert(schema, input) : input;
    if (check.Check(value)) return { value };
    const part = httpPart === 'body' ? '' : `/${httpPart ?? 'request'}`;
    const errors = schemaErrors(check, value).map((e) => ({
      ...e,
      path: `${part}${e.path === '/' ? '' : e.path}` || '/',
    }));
    return { error: validationFailed(errors) };
  };
};
