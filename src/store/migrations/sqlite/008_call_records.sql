-- 008: call records (CDRs) the switches post at hang-up (mod_json_cdr → POST /internal/v1/cdr), the
-- evidence recovery uses for calls that ended while no worker watched (R3.6). One row per call,
-- keyed by the call's uuid (for our calls: the attempt id, sent as origination_uuid); the first
-- post of a call wins, a re-post changes nothing.
--
-- No phone number is kept: only the fields below are taken from the posted document (never the
-- destination, caller id, SIP URIs or channel name), and the document itself is not stored.
-- No foreign key to attempts: a record may arrive before, after or without its attempt row.
CREATE TABLE call_records (
  call_uuid       TEXT PRIMARY KEY,
  attempt_id      TEXT,
  worker_tag      TEXT,
  switch_name     TEXT NOT NULL,
  core_uuid       TEXT,
  hangup_cause    TEXT NOT NULL,
  q850            INTEGER,
  sip_code        INTEGER,
  started_at      INTEGER,
  answered_at     INTEGER,
  ended_at        INTEGER NOT NULL,
  billsec_ms      INTEGER NOT NULL,
  duration_ms     INTEGER,
  received_at     INTEGER NOT NULL
);
