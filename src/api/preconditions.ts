import type { FastifyRequest } from 'fastify';
import { validationFailed } from './problem.js';

/**
 * The version a write expects to replace (optimistic lock), from `If-Match: "<version>"` or a
 * `version` field in the body; undefined means "whatever is current". Responses carry the
 * version as their ETag, so a client can echo it back unchanged.
 */
export function expectedVersion(
  request: FastifyRequest,
  bodyVersion: number | undefined,
): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header === '*') return bodyVersion;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  const fromHeader = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(fromHeader) || fromHeader < 1) {
    throw validationFailed([{ path: '/headers/if-match', message: 'expected a version, e.g. "3"' }]);
  }
  if (bodyVersion !== undefined && bodyVersion !== fromHeader) {
    throw validationFailed([{ path: '/version', message: 'differs from If-Match' }]);
  }
  return fromHeader;
}

export function etag(version: number): string {
  return `"${version}"`;
}
