-- 001 (PostgreSQL): the core tables — tenants, resources (switches, gateways, lines), campaigns,
-- tasks, attempts and dispatch fences — with the same column names and meanings as SQLite has
-- after its migrations 001–007, so that both stores share their row shapes and mappers.
--
-- Conventions (the security tables of 002 follow them too):
-- * Times are Unix epoch milliseconds in BIGINT; counters and versions are BIGINT; small settings
--   (ports, CAPS, weights, priorities) are INTEGER. The pool reads BIGINT as a JS number.
-- * Flags stay INTEGER 0/1 as in SQLite (CHECK-ed), so one set of row mappers serves both stores.
-- * JSON (retry policy, schedule, caller ids, variables, prefix lists) is TEXT holding JSON, as in
--   SQLite: the mappers parse it; nothing queries inside it.
-- * Ids and names compare byte-wise (COLLATE "C"), like SQLite's BINARY: cursors are "id > last"
--   over UUIDv7 text and must order the same whatever the database's default collation.
-- * Phone numbers are never stored in clear: `number_sealed` is AES-256-GCM ciphertext,
--   `number_index` a keyed HMAC blind index, `number_masked` for display.

CREATE TABLE tenants (
  id                  TEXT COLLATE "C" PRIMARY KEY,
  name                TEXT NOT NULL,
  created_at          BIGINT NOT NULL,
  -- Limits the scheduler enforces (NULL = no tenant-level limit).
  max_caps            INTEGER,
  max_concurrent      INTEGER,
  max_daily_attempts  INTEGER,
  -- JSON arrays of E.164 prefixes ("+86", "+8613"); deny wins; an empty allow list allows all.
  allow_prefixes      TEXT NOT NULL DEFAULT '[]',
  deny_prefixes       TEXT NOT NULL DEFAULT '[]',
  allow_premium_rate  INTEGER NOT NULL DEFAULT 0 CHECK (allow_premium_rate IN (0, 1)),
  -- 0 = never updated since `tenants.ensure` (readers fall back to created_at).
  updated_at          BIGINT NOT NULL DEFAULT 0,
  version             BIGINT NOT NULL DEFAULT 1,
  -- Share of dispatch against other tenants.
  weight              INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE switches (
  id                   TEXT COLLATE "C" PRIMARY KEY,
  name                 TEXT COLLATE "C" NOT NULL UNIQUE,
  esl_host             TEXT NOT NULL,
  esl_port             INTEGER NOT NULL,
  esl_password_sealed  TEXT NOT NULL,
  max_sessions         INTEGER NOT NULL,
  max_caps             INTEGER NOT NULL,
  enabled              INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL,
  version              BIGINT NOT NULL
);

CREATE TABLE gateways (
  id              TEXT COLLATE "C" PRIMARY KEY,
  name            TEXT COLLATE "C" NOT NULL UNIQUE,
  max_caps        INTEGER,
  max_concurrent  INTEGER,
  enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  version         BIGINT NOT NULL
);

CREATE TABLE gateway_switches (
  gateway_id  TEXT COLLATE "C" NOT NULL REFERENCES gateways(id) ON DELETE CASCADE,
  switch_id   TEXT COLLATE "C" NOT NULL REFERENCES switches(id) ON DELETE RESTRICT,
  PRIMARY KEY (gateway_id, switch_id)
);
-- PostgreSQL does not index referencing columns: these keep the RESTRICT checks on delete cheap.
CREATE INDEX gateway_switches_by_switch ON gateway_switches (switch_id);

CREATE TABLE lines (
  id                        TEXT COLLATE "C" PRIMARY KEY,
  name                      TEXT COLLATE "C" NOT NULL UNIQUE,
  gateway_id                TEXT COLLATE "C" NOT NULL REFERENCES gateways(id) ON DELETE RESTRICT,
  dial_template             TEXT NOT NULL,
  number_format             TEXT NOT NULL,
  -- JSON array of caller ids.
  caller_ids                TEXT NOT NULL,
  caps                      INTEGER NOT NULL,
  max_concurrent            INTEGER NOT NULL,
  tenant_id                 TEXT COLLATE "C" REFERENCES tenants(id) ON DELETE RESTRICT,
  enabled                   INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at                BIGINT NOT NULL,
  updated_at                BIGINT NOT NULL,
  version                   BIGINT NOT NULL,
  weight                    INTEGER NOT NULL DEFAULT 1,
  caller_id_caps            INTEGER,
  caller_id_max_concurrent  INTEGER,
  -- 'in' | 'out' | NULL (automatic)
  health_override           TEXT
);
CREATE INDEX lines_by_gateway ON lines (gateway_id);
CREATE INDEX lines_by_tenant ON lines (tenant_id) WHERE tenant_id IS NOT NULL;

CREATE TABLE campaigns (
  id                     TEXT COLLATE "C" PRIMARY KEY,
  tenant_id              TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  name                   TEXT NOT NULL,
  status                 TEXT NOT NULL,
  weight                 INTEGER NOT NULL,
  default_region         TEXT,
  caller_id              TEXT,
  -- JSON retry policy.
  retry_policy           TEXT NOT NULL,
  ring_timeout_sec       INTEGER NOT NULL,
  max_call_duration_sec  INTEGER NOT NULL,
  caps                   INTEGER,
  max_concurrent         INTEGER,
  created_at             BIGINT NOT NULL,
  updated_at             BIGINT NOT NULL,
  version                BIGINT NOT NULL,
  -- JSON {"timeZone": "Asia/Shanghai", "windows": [{"days": [1,2,3,4,5], "start": "09:00", "end": "20:00"}]};
  -- NULL = any time.
  schedule               TEXT,
  selection_strategy     TEXT NOT NULL DEFAULT 'answer_rate_first'
);
CREATE INDEX campaigns_by_tenant ON campaigns (tenant_id, id);
-- The scheduler's view (listActive).
CREATE INDEX campaigns_active ON campaigns (id) WHERE status = 'active';

CREATE TABLE campaign_lines (
  campaign_id  TEXT COLLATE "C" NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  line_id      TEXT COLLATE "C" NOT NULL REFERENCES lines(id) ON DELETE RESTRICT,
  position     INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, line_id)
);
CREATE INDEX campaign_lines_by_line ON campaign_lines (line_id);

CREATE TABLE tasks (
  id                TEXT COLLATE "C" PRIMARY KEY,
  tenant_id         TEXT COLLATE "C" NOT NULL,
  campaign_id       TEXT COLLATE "C" NOT NULL REFERENCES campaigns(id) ON DELETE RESTRICT,
  number_sealed     TEXT NOT NULL,
  number_index      TEXT COLLATE "C" NOT NULL,
  number_masked     TEXT NOT NULL,
  -- JSON object of template variables.
  variables         TEXT NOT NULL,
  priority          INTEGER NOT NULL,
  not_before        BIGINT NOT NULL,
  expires_at        BIGINT,
  status            TEXT NOT NULL,
  version           BIGINT NOT NULL,
  attempt_count     BIGINT NOT NULL,
  not_dialed_count  BIGINT NOT NULL,
  outcome           TEXT,
  external_ref      TEXT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL
);
-- The campaign queue (R3.7, dueTasks): queued tasks by priority, then due time, then age. Partial
-- on 'queued' so that the finished backlog never weighs on it.
CREATE INDEX tasks_queue ON tasks (campaign_id, priority DESC, not_before, id) WHERE status = 'queued';
-- nextDueAt: when the campaign's next queued task falls due.
CREATE INDEX tasks_next_due ON tasks (campaign_id, not_before) WHERE status = 'queued';
-- The once-a-second expiry sweep (expireDue).
CREATE INDEX tasks_expiring ON tasks (expires_at) WHERE status = 'queued' AND expires_at IS NOT NULL;
-- Listing with a cursor (tasks.list, export): by tenant, by campaign, and with a status or outcome.
CREATE INDEX tasks_by_tenant ON tasks (tenant_id, id);
CREATE INDEX tasks_by_tenant_status ON tasks (tenant_id, status, id);
CREATE INDEX tasks_by_campaign ON tasks (tenant_id, campaign_id, id);
CREATE INDEX tasks_by_campaign_status ON tasks (campaign_id, status, id);
CREATE INDEX tasks_by_tenant_outcome ON tasks (tenant_id, outcome, id) WHERE outcome IS NOT NULL;
-- Also serves the campaign's counts by outcome (campaigns.stats).
CREATE INDEX tasks_by_campaign_outcome ON tasks (campaign_id, outcome, id) WHERE outcome IS NOT NULL;
-- Duplicate check at intake (open task with the same number in the campaign) and erasure by number.
CREATE INDEX tasks_by_number ON tasks (campaign_id, number_index);
CREATE INDEX tasks_by_tenant_number ON tasks (tenant_id, number_index);

-- The call records, partitioned by month of `created_at` (epoch ms). The store creates each
-- month's partition (and the next one) before it writes there, named attempts_pYYYYMM; the
-- DEFAULT partition only catches a row whose month was not made in time, and is emptied into its
-- month's partition when that is created. The primary key must include the partition key.
CREATE TABLE attempts (
  id                 TEXT COLLATE "C" NOT NULL,
  task_id            TEXT COLLATE "C" NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  campaign_id        TEXT COLLATE "C" NOT NULL,
  tenant_id          TEXT COLLATE "C" NOT NULL,
  worker_id          TEXT COLLATE "C" NOT NULL,
  switch_id          TEXT NOT NULL,
  gateway_id         TEXT NOT NULL,
  line_id            TEXT NOT NULL,
  caller_id          TEXT,
  status             TEXT NOT NULL,
  created_at         BIGINT NOT NULL,
  originated_at      BIGINT,
  ringing_at         BIGINT,
  answered_at        BIGINT,
  ended_at           BIGINT,
  hangup_cause       TEXT,
  sip_code           INTEGER,
  outcome            TEXT,
  may_have_reached   INTEGER CHECK (may_have_reached IN (0, 1)),
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE attempts_default PARTITION OF attempts DEFAULT;
-- A task's attempts (tasks.get) and the cascade from tasks.
CREATE INDEX attempts_by_task ON attempts (task_id, created_at);
-- Recovery (openAttempts). The progress and ending batches find an attempt by id alone: the
-- primary key's leading column, probed in each partition (a few dozen months at most).
CREATE INDEX attempts_open ON attempts (worker_id, status) WHERE status <> 'ended';
-- attemptsSince (daily-attempt guard at start): a range of created_at, counted per tenant.
CREATE INDEX attempts_by_time ON attempts (created_at, tenant_id);

-- Dispatch fencing: the newest leadership token seen per scope. A claim made under an older
-- token is refused (FencedError), so a deposed scheduler cannot dispatch after its successor.
CREATE TABLE fences (
  scope  TEXT COLLATE "C" PRIMARY KEY,
  token  BIGINT NOT NULL
);
