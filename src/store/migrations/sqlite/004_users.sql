-- 004: console users and their sessions, and service tokens for the platform's own processes.
-- No secret is stored in a form that can be replayed: passwords as argon2id hashes, session ids
-- and service tokens as SHA-256 of 256-bit random values.

-- One account per e-mail across the platform (login takes only e-mail and password); the role
-- is one of the API key roles (src/security/rbac.ts).
CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  email          TEXT NOT NULL UNIQUE,
  role           TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  disabled       INTEGER NOT NULL DEFAULT 0,
  created_by     TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  version        INTEGER NOT NULL DEFAULT 1,
  last_login_at  INTEGER
);
CREATE INDEX users_by_tenant ON users (tenant_id, id);

-- A session ends when idle too long (last_seen_at), at expires_at whatever happens, at logout,
-- or with its user (cascade).
CREATE TABLE sessions (
  id_hash       TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Credentials of the platform's own processes (api, scheduler, worker roles of the cluster);
-- they open /internal routes only and belong to no tenant.
CREATE TABLE service_tokens (
  id            TEXT PRIMARY KEY,
  role          TEXT NOT NULL,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  token_prefix  TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  last_used_at  INTEGER
);
