-- 002: tenancy and security on PostgreSQL, the same tables as SQLite's 002 + 004: per-tenant API
-- keys (hashed), the hash-chained audit log with its head and prune checkpoints, erasure
-- suppressions (blind index only), console users and sessions, and service tokens.
-- The conventions of 001: times in epoch milliseconds (BIGINT), flags INTEGER 0/1, ids compared
-- byte-wise (COLLATE "C") so that lists come in SQLite's order whatever the database's locale.
-- (The tenant profile columns are on `tenants` since 001.)

-- The key itself is never stored: only the SHA-256 of a 256-bit random secret, and a short
-- prefix so people can tell their keys apart.
CREATE TABLE api_keys (
  id            TEXT COLLATE "C" PRIMARY KEY,
  tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  name          TEXT NOT NULL,
  role          TEXT NOT NULL,
  key_hash      TEXT NOT NULL UNIQUE,
  key_prefix    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  revoked_at    BIGINT,
  last_used_at  BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

-- Append-only and hash-chained: hash = SHA-256(canonical content + prev_hash). `seq` is the order;
-- it is the head's seq + 1, assigned under the head row's lock, never by a sequence (a sequence
-- leaves gaps on rollback, and a gap reads as a removed entry).
CREATE TABLE audit_log (
  seq         BIGINT PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  at          BIGINT NOT NULL,
  actor       TEXT NOT NULL,
  tenant_id   TEXT COLLATE "C",
  source_ip   TEXT,
  action      TEXT NOT NULL,
  target      TEXT,
  before      TEXT,
  after       TEXT,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX audit_by_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_by_time ON audit_log (at);

-- The last entry written (so that a truncated tail is noticed). Its one row exists from the
-- start (seq 0 = nothing written yet) so that every append can lock it with SELECT … FOR UPDATE:
-- appends from any number of processes take their turn on it, and two entries never share a
-- predecessor.
CREATE TABLE audit_head (
  one   INTEGER PRIMARY KEY CHECK (one = 1),
  seq   BIGINT NOT NULL,
  hash  TEXT NOT NULL
);
INSERT INTO audit_head (one, seq, hash) VALUES (1, 0, repeat('0', 64));

-- What retention pruned: the chain continues from the last pruned entry's hash.
CREATE TABLE audit_checkpoints (
  through_seq   BIGINT PRIMARY KEY,
  through_hash  TEXT NOT NULL,
  pruned        BIGINT NOT NULL,
  at            BIGINT NOT NULL
);

-- Entries never change, and leave only through a prune that first recorded a checkpoint past
-- them (SQLite's two triggers, in PL/pgSQL; TRUNCATE, which fires no row trigger, is refused
-- outright). The functions resolve audit_checkpoints in this schema whatever the caller's
-- search_path.
CREATE FUNCTION audit_log_refuse_update() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_update();

CREATE FUNCTION audit_log_refuse_unpruned_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF OLD.seq > COALESCE((SELECT MAX(through_seq) FROM audit_checkpoints), 0) THEN
    RAISE EXCEPTION 'audit_log entries leave only through a checkpointed prune'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN OLD;
END;
$$;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_unpruned_delete();

CREATE FUNCTION audit_log_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log entries leave only through a checkpointed prune'
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_truncate();

-- Numbers erased with "suppress": intake refuses them again. Only the keyed blind index is kept.
CREATE TABLE suppressions (
  tenant_id     TEXT COLLATE "C" NOT NULL,
  number_index  TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, number_index)
);

-- One account per e-mail across the platform (login takes only e-mail and password); the role
-- is one of the API key roles (src/security/rbac.ts).
CREATE TABLE users (
  id             TEXT COLLATE "C" PRIMARY KEY,
  tenant_id      TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  email          TEXT NOT NULL UNIQUE,
  role           TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_by     TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  version        BIGINT NOT NULL DEFAULT 1,
  last_login_at  BIGINT
);
CREATE INDEX users_by_tenant ON users (tenant_id, id);

-- A session ends when idle too long (last_seen_at), at expires_at whatever happens, at logout,
-- or with its user (cascade). Only the SHA-256 of the session id is stored.
CREATE TABLE sessions (
  id_hash       TEXT PRIMARY KEY,
  user_id       TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);

-- Credentials of the platform's own processes (api, scheduler, worker roles of the cluster);
-- they open /internal routes only and belong to no tenant.
CREATE TABLE service_tokens (
  id            TEXT COLLATE "C" PRIMARY KEY,
  role          TEXT NOT NULL,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  token_prefix  TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  revoked_at    BIGINT,
  last_used_at  BIGINT
);
