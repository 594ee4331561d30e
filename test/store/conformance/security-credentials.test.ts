import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, type Store } from '../../../src/store/contract.js';
import { storeKinds } from '../../support/stores.js';

/**
 * API keys, console users and their sessions, service tokens: the same behaviour on every store
 * (tenant scoping, ordering, idempotent revocation, typed errors). One fresh store per kind.
 */
const NOW = 1_800_000_000_000;
const kinds = await storeKinds();

describe.each(kinds.map((kind) => [kind.name, kind] as const))('%s: credentials', (_name, kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await kind.open());
    await store.tenants.ensure({ id: 'acme', name: 'Acme' }, NOW);
    await store.tenants.ensure({ id: 'other', name: 'Other' }, NOW);
  });
  afterAll(() => dispose());

  function key(id: string, tenantId = 'acme') {
    return {
      id,
      tenantId,
      name: `key ${id}`,
      role: 'operator',
      keyHash: `hash-${id}`,
      keyPrefix: `sbk_${id}`,
      createdBy: 'bootstrap:acme',
      createdAt: NOW,
    };
  }

  describe('API keys', () => {
    it('creates, finds by hash, and lists a tenant’s keys in id order', async () => {
      const created = await store.apiKeys.create(key('k2'));
      expect(created).toEqual({ ...key('k2'), revokedAt: null, lastUsedAt: null });
      await store.apiKeys.create(key('k1'));
      await store.apiKeys.create(key('k10'));
      await store.apiKeys.create(key('K0', 'other'));
      expect(await store.apiKeys.findByHash('hash-K0')).toMatchObject({ id: 'K0', tenantId: 'other' });
      expect(await store.apiKeys.findByHash('hash-none')).toBeUndefined();
      // byte order, as SQLite compares: 'k1' < 'k10' < 'k2'
      expect((await store.apiKeys.list('acme')).map((k) => k.id)).toEqual(['k1', 'k10', 'k2']);
      expect((await store.apiKeys.list('other')).map((k) => k.id)).toEqual(['K0']);
    });

    it('is tenant-scoped: another tenant’s key is not found, not revoked', async () => {
      expect(await store.apiKeys.get('other', 'k1')).toBeUndefined();
      expect(await store.apiKeys.get('acme', 'k1')).toMatchObject({ id: 'k1' });
      const revoking = store.apiKeys.revoke('other', 'k1', NOW + 5);
      await expect(revoking).rejects.toBeInstanceOf(NotFoundError);
      await expect(revoking).rejects.toMatchObject({ code: 'not_found' });
      expect((await store.apiKeys.get('acme', 'k1'))!.revokedAt).toBeNull();
    });

    it('revokes idempotently (the first time stays) and records use', async () => {
      expect((await store.apiKeys.revoke('acme', 'k2', NOW + 10)).revokedAt).toBe(NOW + 10);
      expect((await store.apiKeys.revoke('acme', 'k2', NOW + 20)).revokedAt).toBe(NOW + 10);
      await expect(store.apiKeys.revoke('acme', 'missing', NOW)).rejects.toBeInstanceOf(NotFoundError);
      await store.apiKeys.touch('k1', NOW + 30);
      await store.apiKeys.touch('missing', NOW + 30);
      expect((await store.apiKeys.findByHash('hash-k1'))!.lastUsedAt).toBe(NOW + 30);
    });
  });

  describe('console users and sessions', () => {
    function user(id: string, email: string, tenantId = 'acme') {
      return {
        id,
        tenantId,
        email,
        role: 'operator',
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
        createdBy: 'bootstrap:acme',
        createdAt: NOW,
      };
    }

    it('creates users with unique e-mails across tenants (email_taken)', async () => {
      const created = await store.users.create(user('u2', 'ann@acme.test'));
      expect(created).toEqual({
        ...user('u2', 'ann@acme.test'),
        disabled: false,
        updatedAt: NOW,
        version: 1,
        lastLoginAt: null,
      });
      await store.users.create(user('u1', 'bob@acme.test'));
      await store.users.create(user('u3', 'cy@other.test', 'other'));
      const taken = store.users.create(user('u4', 'ann@acme.test', 'other'));
      await expect(taken).rejects.toBeInstanceOf(ConflictError);
      await expect(taken).rejects.toMatchObject({ code: 'email_taken' });
      expect((await store.users.list('acme')).map((u) => u.id)).toEqual(['u1', 'u2']);
      expect(await store.users.findByEmail('cy@other.test')).toMatchObject({ id: 'u3', tenantId: 'other' });
      expect(await store.users.findByEmail('nobody@acme.test')).toBeUndefined();
    });

    it('updates only the fields given, bumps the version, and is tenant-scoped', async () => {
      const updated = await store.users.update('acme', 'u1', { disabled: true }, NOW + 1);
      expect(updated).toMatchObject({ role: 'operator', disabled: true, updatedAt: NOW + 1, version: 2 });
      const again = await store.users.update('acme', 'u1', { role: 'auditor', disabled: false }, NOW + 2);
      expect(again).toMatchObject({ role: 'auditor', disabled: false, version: 3 });
      expect(again.passwordHash).toBe(user('u1', '').passwordHash);
      await expect(store.users.update('other', 'u1', { role: 'agent' }, NOW)).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await store.users.get('other', 'u1')).toBeUndefined();
      await store.users.recordLogin('u1', NOW + 3);
      expect((await store.users.get('acme', 'u1'))!.lastLoginAt).toBe(NOW + 3);
    });

    it('finds a session with its user, touches, expires and deletes sessions', async () => {
      await store.sessions.create({ idHash: 's1', userId: 'u2', createdAt: NOW, expiresAt: NOW + 1000 });
      await store.sessions.create({ idHash: 's2', userId: 'u2', createdAt: NOW, expiresAt: NOW + 1000 });
      await store.sessions.create({ idHash: 's3', userId: 'u3', createdAt: NOW, expiresAt: NOW + 50 });
      const found = await store.sessions.find('s1');
      expect(found?.session).toEqual({
        idHash: 's1',
        userId: 'u2',
        createdAt: NOW,
        lastSeenAt: NOW,
        expiresAt: NOW + 1000,
      });
      expect(found?.user).toMatchObject({ id: 'u2', email: 'ann@acme.test', disabled: false });
      expect(await store.sessions.find('nope')).toBeUndefined();
      await store.sessions.touch('s1', NOW + 100);
      expect((await store.sessions.find('s1'))!.session.lastSeenAt).toBe(NOW + 100);
      // s3 is past its absolute expiry, s2 idle since before NOW + 50
      expect(await store.sessions.deleteExpired(NOW + 60, NOW + 50)).toBe(2);
      expect(await store.sessions.find('s1')).toBeDefined();
      await store.sessions.delete('s1');
      expect(await store.sessions.find('s1')).toBeUndefined();
    });

    it('takes a deleted user’s sessions with it; deleting another tenant’s user is NotFound', async () => {
      await store.sessions.create({ idHash: 's4', userId: 'u1', createdAt: NOW, expiresAt: NOW + 1000 });
      await store.sessions.create({ idHash: 's5', userId: 'u1', createdAt: NOW, expiresAt: NOW + 1000 });
      expect(await store.sessions.deleteForUser('u1')).toBe(2);
      await store.sessions.create({ idHash: 's6', userId: 'u1', createdAt: NOW, expiresAt: NOW + 1000 });
      await expect(store.users.delete('other', 'u1')).rejects.toBeInstanceOf(NotFoundError);
      await store.users.delete('acme', 'u1');
      expect(await store.users.get('acme', 'u1')).toBeUndefined();
      expect(await store.sessions.find('s6')).toBeUndefined();
      await expect(store.users.delete('acme', 'u1')).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('service tokens', () => {
    function token(id: string, role = 'worker') {
      return {
        id,
        role,
        name: `${role}-${id}`,
        tokenHash: `th-${id}`,
        tokenPrefix: `sbs_${id}`,
        createdAt: NOW,
      };
    }

    it('creates, finds by hash, lists in id order, revokes once, records use', async () => {
      expect(await store.serviceTokens.create(token('t2'))).toEqual({
        ...token('t2'),
        revokedAt: null,
        lastUsedAt: null,
      });
      await store.serviceTokens.create(token('t1', 'scheduler'));
      expect((await store.serviceTokens.list()).map((t) => t.id)).toEqual(['t1', 't2']);
      expect(await store.serviceTokens.findByHash('th-t1')).toMatchObject({ id: 't1', role: 'scheduler' });
      expect(await store.serviceTokens.findByHash('th-none')).toBeUndefined();
      expect((await store.serviceTokens.revoke('t2', NOW + 1)).revokedAt).toBe(NOW + 1);
      expect((await store.serviceTokens.revoke('t2', NOW + 2)).revokedAt).toBe(NOW + 1);
      await expect(store.serviceTokens.revoke('t9', NOW)).rejects.toBeInstanceOf(NotFoundError);
      await store.serviceTokens.touch('t1', NOW + 3);
      expect((await store.serviceTokens.findByHash('th-t1'))!.lastUsedAt).toBe(NOW + 3);
    });
  });
});
