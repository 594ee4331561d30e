-- 006: the scheduler's once-a-second expiry sweep ("queued tasks past their deadline") scanned
-- every task; on a large backlog that blocked the dispatch loop for milliseconds each second.
CREATE INDEX tasks_expiring ON tasks (status, expires_at) WHERE expires_at IS NOT NULL;
