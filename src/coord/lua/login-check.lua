--[[
  login-check: how long a login must wait, given the locks on its account and its address.
  Reads only.

  KEYS[1]  account  sb:{ns}:login-account:<digest>  hash {failures, firstAtMs, lockedUntilMs}
  KEYS[2]  address  sb:{ns}:login-address:<digest>  the same
  ARGV[1]  nowMs    the caller's clock, or '' for the server's TIME

  Returns 0 when a login may be tried now, else the milliseconds until it may (the longer lock).
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local waitMs = 0
for _, key in ipairs(KEYS) do
  local lockedUntilMs = tonumber(redis.call('HGET', key, 'lockedUntilMs') or '0')
  waitMs = math.max(waitMs, lockedUntilMs - now)
end
return waitMs
