-- 005: the scheduler asks "when does this campaign's next queued task fall due?" after each
-- refill; the queue index (priority first) cannot answer that without a scan.
CREATE INDEX tasks_next_due ON tasks (campaign_id, status, not_before);
