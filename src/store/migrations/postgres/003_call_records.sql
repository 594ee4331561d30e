-- 003 (PostgreSQL): call records (CDRs) the switches post at hang-up (mod_json_cdr → POST
-- /internal/v1/cdr), the evidence recovery uses for calls that ended while no worker watched (R3.6).
-- Same columns and meanings as SQLite's 008_call_records.sql; conventions as in 001_core.sql.
--
-- One row per call, keyed by the call's uuid (for our calls: the attempt id, sent as
-- origination_uuid); the first post of a call wins, a re-post changes nothing (ON CONFLICT DO
-- NOTHING). No phone number is kept: only these fields are taken from the posted document, and the
-- document itself is not stored. No foreign keys: a record may arrive before, after or without its
-- attempt row, and this table needs nothing from 001/002.
CREATE TABLE call_records (
  call_uuid       TEXT COLLATE "C" PRIMARY KEY,
  attempt_id      TEXT COLLATE "C",
  worker_tag      TEXT,
  switch_name     TEXT NOT NULL,
  core_uuid       TEXT,
  hangup_cause    TEXT NOT NULL,
  q850            INTEGER,
  sip_code        INTEGER,
  started_at      BIGINT,
  answered_at     BIGINT,
  ended_at        BIGINT NOT NULL,
  billsec_ms      BIGINT NOT NULL,
  duration_ms     BIGINT,
  received_at     BIGINT NOT NULL
);
