-- 001: tenants, resources (switches, gateways, lines), campaigns, tasks and attempts.
-- Times are Unix epoch milliseconds. Phone numbers are never stored in clear: `number_sealed`
-- is AES-256-GCM ciphertext, `number_index` a keyed HMAC blind index, `number_masked` for display.

CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE switches (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE,
  esl_host         TEXT NOT NULL,
  esl_port         INTEGER NOT NULL,
  esl_password_sealed TEXT NOT NULL,
  max_sessions     INTEGER NOT NULL,
  max_caps         INTEGER NOT NULL,
  enabled          INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  version          INTEGER NOT NULL
);

CREATE TABLE gateways (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  max_caps        INTEGER,
  max_concurrent  INTEGER,
  enabled         INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  version         INTEGER NOT NULL
);

CREATE TABLE gateway_switches (
  gateway_id  TEXT NOT NULL REFERENCES gateways(id) ON DELETE CASCADE,
  switch_id   TEXT NOT NULL REFERENCES switches(id) ON DELETE RESTRICT,
  PRIMARY KEY (gateway_id, switch_id)
);

CREATE TABLE lines (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  gateway_id      TEXT NOT NULL REFERENCES gateways(id) ON DELETE RESTRICT,
  dial_template   TEXT NOT NULL,
  number_format   TEXT NOT NULL,
  caller_ids      TEXT NOT NULL,
  caps            INTEGER NOT NULL,
  max_concurrent  INTEGER NOT NULL,
  tenant_id       TEXT REFERENCES tenants(id) ON DELETE RESTRICT,
  enabled         INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  version         INTEGER NOT NULL
);

CREATE TABLE campaigns (
  id                     TEXT PRIMARY KEY,
  tenant_id              TEXT NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  name                   TEXT NOT NULL,
  status                 TEXT NOT NULL,
  weight                 INTEGER NOT NULL,
  default_region         TEXT,
  caller_id              TEXT,
  retry_policy           TEXT NOT NULL,
  ring_timeout_sec       INTEGER NOT NULL,
  max_call_duration_sec  INTEGER NOT NULL,
  caps                   INTEGER,
  max_concurrent         INTEGER,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  version                INTEGER NOT NULL
);
CREATE INDEX campaigns_by_tenant ON campaigns (tenant_id, id);

CREATE TABLE campaign_lines (
  campaign_id  TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  line_id      TEXT NOT NULL REFERENCES lines(id) ON DELETE RESTRICT,
  position     INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, line_id)
);

CREATE TABLE tasks (
  id                TEXT PRIMARY KEY,
  tenant_id         TEXT NOT NULL,
  campaign_id       TEXT NOT NULL REFERENCES campaigns(id) ON DELETE RESTRICT,
  number_sealed     TEXT NOT NULL,
  number_index      TEXT NOT NULL,
  number_masked     TEXT NOT NULL,
  variables         TEXT NOT NULL,
  priority          INTEGER NOT NULL,
  not_before        INTEGER NOT NULL,
  expires_at        INTEGER,
  status            TEXT NOT NULL,
  version           INTEGER NOT NULL,
  attempt_count     INTEGER NOT NULL,
  not_dialed_count  INTEGER NOT NULL,
  outcome           TEXT,
  external_ref      TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
-- The campaign queue (R3.7): due tasks by priority, then due time, then age.
CREATE INDEX tasks_queue ON tasks (campaign_id, status, priority DESC, not_before, id);
CREATE INDEX tasks_by_tenant ON tasks (tenant_id, id);
CREATE INDEX tasks_by_campaign ON tasks (campaign_id, id);
CREATE INDEX tasks_by_number ON tasks (campaign_id, number_index);

CREATE TABLE attempts (
  id                 TEXT PRIMARY KEY,
  task_id            TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  campaign_id        TEXT NOT NULL,
  tenant_id          TEXT NOT NULL,
  worker_id          TEXT NOT NULL,
  switch_id          TEXT NOT NULL,
  gateway_id         TEXT NOT NULL,
  line_id            TEXT NOT NULL,
  caller_id          TEXT,
  status             TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  originated_at      INTEGER,
  ringing_at         INTEGER,
  answered_at        INTEGER,
  ended_at           INTEGER,
  hangup_cause       TEXT,
  sip_code           INTEGER,
  outcome            TEXT,
  may_have_reached   INTEGER
);
CREATE INDEX attempts_by_task ON attempts (task_id, created_at);
CREATE INDEX attempts_open ON attempts (worker_id, status) WHERE status <> 'ended';
