-- 007: dispatch fencing. The newest leadership token seen per scope; a claim made under an older
-- token is refused (FencedError), so a deposed scheduler cannot dispatch after its successor.
CREATE TABLE fences (
  scope  TEXT PRIMARY KEY,
  token  INTEGER NOT NULL
);
