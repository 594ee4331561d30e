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
import { isUniqueViolation, type PgDatabase } from './database.js';

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

export class PgUsers implements UserRepository {
  constructor(private readonly db: PgDatabase) {}

  async create(user: NewUser): Promise<UserRecord> {
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO users (id, tenant_id, email, role, password_hash, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *`,
        [user.id, user.tenantId, user.email, user.role, user.passwordHash, user.createdBy, user.createdAt],
      );
      return toUser(rows[0]!);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError('a user has this e-mail', 'email_taken', { cause: error });
      throw error;
    }
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE email = $1', [email]);
    return rows[0] && toUser(rows[0]);
  }

  async get(tenantId: string, id: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1 AND tenant_id = $2', [
      id,
      tenantId,
    ]);
    return rows[0] && toUser(rows[0]);
  }

  async list(tenantId: string): Promise<UserRecord[]> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE tenant_id = $1 ORDER BY id', [
      tenantId,
    ]);
    return rows.map(toUser);
  }

  async update(tenantId: string, id: string, patch: UserPatch, nowMs: number): Promise<UserRecord> {
    const { rows } = await this.db.query<UserRow>(
      `UPDATE users SET role = COALESCE($1, role), password_hash = COALESCE($2, password_hash),
         disabled = COALESCE($3, disabled), updated_at = $4, version = version + 1
       WHERE id = $5 AND tenant_id = $6 RETURNING *`,
      [
        patch.role ?? null,
        patch.passwordHash ?? null,
        patch.disabled === undefined ? null : patch.disabled ? 1 : 0,
        nowMs,
        id,
        tenantId,
      ],
    );
    if (!rows[0]) throw new NotFoundError(`user ${id} not found`);
    return toUser(rows[0]);
  }

  async delete(tenantId: string, id: string): Promise<void> {
    const result = await this.db.query('DELETE FROM users WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
    if (result.rowCount === 0) throw new NotFoundError(`user ${id} not found`);
  }

  async recordLogin(id: string, nowMs: number): Promise<void> {
    await this.db.query('UPDATE users SET last_login_at = $1 WHERE id = $2', [nowMs, id]);
  }
}

interface SessionColumns {
  s_id_hash: string;
  s_user_id: string;
  s_created_at: number;
  s_last_seen_at: number;
  s_expires_at: number;
}

export class PgSessions implements SessionRepository {
  constructor(private readonly db: PgDatabase) {}

  async create(session: Omit<SessionRecord, 'lastSeenAt'>): Promise<void> {
    await this.db.query(
      `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
       VALUES ($1, $2, $3, $3, $4)`,
      [session.idHash, session.userId, session.createdAt, session.expiresAt],
    );
  }

  async find(idHash: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
    // On every cookie-authenticated request: session and user in one read.
    const { rows } = await this.db.query<SessionColumns & UserRow>(
      `SELECT u.*, s.id_hash AS s_id_hash, s.user_id AS s_user_id, s.created_at AS s_created_at,
         s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
      [idHash],
    );
    const row = rows[0];
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
    await this.db.query('UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2', [nowMs, idHash]);
  }

  async delete(idHash: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }

  async deleteForUser(userId: string): Promise<number> {
    return (await this.db.query('DELETE FROM sessions WHERE user_id = $1', [userId])).rowCount ?? 0;
  }

  async deleteExpired(nowMs: number, idleBeforeMs: number): Promise<number> {
    const result = await this.db.query('DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2', [
      nowMs,
      idleBeforeMs,
    ]);
    return result.rowCount ?? 0;
  }
}
