-- 009: the worker's write-ahead before it writes an originate to its switch (R3.6). A worker
-- sets sending_at, on condition that the attempt is still open and still its own, and only then
-- sends; an adopter that takes an attempt over with sending_at still NULL knows it never reached
-- any switch and ends it not_dialed (dispatched again at once) instead of unknown.
ALTER TABLE attempts ADD COLUMN sending_at INTEGER;
