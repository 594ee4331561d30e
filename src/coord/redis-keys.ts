import { CoordInvalidInputError } from './coord-errors.js';
import type { StreamKind } from './stream-bus.js';

const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Key names. Every key is `sb:{<namespace>}:…`: the braces are a Redis Cluster hash tag, so all
 * keys of one namespace live in one slot and any script may touch several of them. Each kind of
 * key has its own prefix word and the caller's name comes last, so no name can make two kinds
 * collide (`lease:a:x` can only be the lease of scope `a:x`). A namespace is plain characters
 * only, so it cannot close the tag early or act as a glob in the cleanup's SCAN MATCH.
 */
export class RedisKeys {
  readonly prefix: string;

  constructor(readonly namespace: string) {
    if (!NAMESPACE.test(namespace))
      throw new CoordInvalidInputError(`namespace must match ${NAMESPACE}, got ${JSON.stringify(namespace)}`);
    this.prefix = `sb:{${namespace}}:`;
  }

  lease(scope: string): string {
    return `${this.prefix}lease:${scope}`;
  }

  fence(scope: string): string {
    return `${this.prefix}fence:${scope}`;
  }

  memberExpiries(role: string): string {
    return `${this.prefix}members:${role}`;
  }

  memberInfos(role: string): string {
    return `${this.prefix}member-info:${role}`;
  }

  votes(): string {
    return `${this.prefix}votes`;
  }

  stream(kind: StreamKind, name: string): string {
    return `${this.prefix}${kind}:${name}`;
  }

  publishers(kind: StreamKind, name: string): string {
    return `${this.prefix}${kind}-publishers:${name}`;
  }

  /** The API rate limit's token bucket of one caller (`key:<id>`, `user:<id>`). */
  rateBucket(callerId: string): string {
    return `${this.prefix}rate:${callerId}`;
  }

  /** Failed logins of one account or address, by the digest of its name (no e-mail at rest). */
  loginFailures(kind: 'account' | 'address', digest: string): string {
    return `${this.prefix}login-${kind}:${digest}`;
  }

  /** One of the scheduler's slot ledger keys (`meta`, `leases`, `inflight`, `pace`, `tats`). */
  ledger(part: string): string {
    return `${this.prefix}ledger:${part}`;
  }

  /** SCAN MATCH pattern of every key of the namespace (for tests and `flush` tooling). */
  pattern(): string {
    return `${this.prefix}*`;
  }
}
