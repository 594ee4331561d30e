-- 002: tenancy and security. Tenant limits and destination policy, per-tenant API keys (hashed),
-- the hash-chained audit log with its prune checkpoints, and erasure suppressions (blind index only).

-- Limits the scheduler enforces (NULL = no tenant-level limit) and the fraud guards intake applies.
ALTER TABLE tenants ADD COLUMN max_caps INTEGER;
ALTER TABLE tenants ADD COLUMN max_concurrent INTEGER;
ALTER TABLE tenants ADD COLUMN max_daily_attempts INTEGER;
-- JSON arrays of E.164 prefixes ("+86", "+8613"); deny wins; an empty allow list allows all.
ALTER TABLE tenants ADD COLUMN allow_prefixes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tenants ADD COLUMN deny_prefixes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tenants ADD COLUMN allow_premium_rate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- The key itself is never stored: only the SHA-256 of a 256-bit random secret, and a short
-- prefix so people can tell their keys apart.
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  name          TEXT NOT NULL,
  role          TEXT NOT NULL,
  key_hash      TEXT NOT NULL UNIQUE,
  key_prefix    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  last_used_at  INTEGER
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

-- Append-only and hash-chained: hash = SHA-256(canonical content + prev_hash). `seq` is the order.
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  tenant_id   TEXT,
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

-- The last entry written (so that a truncated tail is noticed) ...
CREATE TABLE audit_head (
  one        INTEGER PRIMARY KEY CHECK (one = 1),
  seq        INTEGER NOT NULL,
  hash       TEXT NOT NULL
);
-- ... and what retention pruned: the chain continues from the last pruned entry's hash.
CREATE TABLE audit_checkpoints (
  through_seq   INTEGER PRIMARY KEY,
  through_hash  TEXT NOT NULL,
  pruned        INTEGER NOT NULL,
  at            INTEGER NOT NULL
);

-- Entries never change, and leave only through a prune that first recorded a checkpoint past them.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > COALESCE((SELECT MAX(through_seq) FROM audit_checkpoints), 0)
BEGIN
  SELECT RAISE(ABORT, 'audit_log entries leave only through a checkpointed prune');
END;

-- Numbers erased with "suppress": intake refuses them again. Only the keyed blind index is kept.
CREATE TABLE suppressions (
  tenant_id     TEXT NOT NULL,
  number_index  TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, number_index)
);
