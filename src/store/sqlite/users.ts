import {
  ConflictError,
  type NewUser,
  NotFoundError,
  type SessionRecord,
  type SessionRepository,
  type UserPatch,
  type UserRecord,
  type UserRepository,
} from '../contract.js';
import { isUniqueViolation, type SqliteDatabase } from './database.js';

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  role: string;
  password_hash: string;
  disabled: number;
  created_by: string;
  created_at: number;
  updated_at: number;
  version: number;
  last_login_at: number | null;
}

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    role: row.role,
    passwordHash: row.password_hash,
    disabled: row.disabled === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
    lastLoginAt: row.last_login_at,
  };
}

export class SqliteUsers implements UserRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async create(user: NewUser): Promise<UserRecord> {
    try {
      this.db
        .prepare(
          `INSERT INTO users (id, tenant_id, email, role, password_hash, created_by, created_at, updated_at)
           VALUES (@id, @tenantId, @email, @role, @passwordHash, @createdBy, @createdAt, @createdAt)`,
        )
        .run(user);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError('a user has this e-mail', 'email_taken', { cause: error });
      throw error;
    }
    return (await this.get(user.tenantId, user.id))!;
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserRow | undefined;
    return row && toUser(row);
  }

  async get(tenantId: string, id: string): Promise<UserRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ? AND tenant_id = ?').get(id, tenantId) as
      | UserRow
      | undefined;
    return row && toUser(row);
  }

  async list(tenantId: string): Promise<UserRecord[]> {
    return (
      this.db.prepare('SELECT * FROM users WHERE tenant_id = ? ORDER BY id').all(tenantId) as UserRow[]
    ).map(toUser);
  }

  async update(tenantId: string, id: string, patch: UserPatch, nowMs: number): Promise<UserRecord> {
    const result = this.db
      .prepare(
        `UPDATE users SET role = COALESCE(@role, role), password_hash = COALESCE(@passwordHash, password_hash),
           disabled = COALESCE(@disabled, disabled), updated_at = @now, version = version + 1
         WHERE id = @id AND tenant_id = @tenantId`,
      )
      .run({
        id,
        tenantId,
        now: nowMs,
        role: patch.role ?? null,
        passwordHash: patch.passwordHash ?? null,
        disabled: patch.disabled === undefined ? null : patch.disabled ? 1 : 0,
      });
    if (result.changes === 0) throw new NotFoundError(`user ${id} not found`);
    return (await this.get(tenantId, id))!;
  }

  async delete(tenantId: string, id: string): Promise<void> {
    const result = this.db.prepare('DELETE FROM users WHERE id = ? AND tenant_id = ?').run(id, tenantId);
    if (result.changes === 0) throw new NotFoundError(`user ${id} not found`);
  }

  async recordLogin(id: string, nowMs: number): Promise<void> {
    this.db.prepare('UPDATE users SET last_login_at = ? WHERE id = ?').run(nowMs, id);
  }
}

interface SessionColumns {
  s_id_hash: string;
  s_user_id: string;
  s_created_at: number;
  s_last_seen_at: number;
  s_expires_at: number;
}

export class SqliteSessions implements SessionRepository {
  private readonly byHash;

  constructor(private readonly db: SqliteDatabase) {
    // On every cookie-authenticated request: prepared once, session and user in one read.
    this.byHash = db.prepare(
      `SELECT u.*, s.id_hash AS s_id_hash, s.user_id AS s_user_id, s.created_at AS s_created_at,
         s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
    );
  }

  async create(session: Omit<SessionRecord, 'lastSeenAt'>): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
         VALUES (@idHash, @userId, @createdAt, @createdAt, @expiresAt)`,
      )
      .run(session);
  }

  async find(idHash: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
    const row = this.byHash.get(idHash) as (SessionColumns & UserRow) | undefined;
    if (!row) return undefined;
    return {
      session: {
        idHash: row.s_id_hash,
        userId: row.s_user_id,
        createdAt: row.s_created_at,
        lastSeenAt: row.s_last_seen_at,
        expiresAt: row.s_expires_at,
      },
      user: toUser(row),
    };
  }

  async touch(idHash: string, nowMs: number): Promise<void> {
    this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(nowMs, idHash);
  }

  async delete(idHash: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  async deleteForUser(userId: string): Promise<number> {
    return this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes;
  }

  async deleteExpired(nowMs: number, idleBeforeMs: number): Promise<number> {
    return this.db
      .prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?')
      .run(nowMs, idleBeforeMs).changes;
  }
}
