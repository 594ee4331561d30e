/**
 * The API writes every instant as an RFC 3339 date-time string (ISO 8601 with a mandatory offset,
 * e.g. `2026-03-01T09:30:00Z` or `2026-03-01T17:30:00+08:00`); the domain keeps epoch ms.
 * One representation for the whole API: strings are self-describing in logs and can't be
 * confused between seconds and milliseconds. A local time without offset is refused, because
 * it would be read in the server's time zone, not the business's.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export function isRfc3339(text: string): boolean {
  return RFC3339.test(text) && Number.isFinite(Date.parse(text));
}

/** Epoch ms of an RFC 3339 string, or undefined if it is not one. */
export function parseInstant(text: string): number | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}

export function formatOptionalInstant(ms: number | null): string | null {
  return ms === null ? null : formatInstant(ms);
}
