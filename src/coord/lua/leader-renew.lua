--[[
  leader-renew: extend the leader lease, only if the caller still holds it under its token and
  it has not expired (an expired lease is lost even if nobody took it yet: the holder must have
  stopped acting at its deadline).

  KEYS[1]  lease  sb:{ns}:lease:<scope>  hash {holder, token, expiresAtMs}
  ARGV[1]  nowMs     the caller's clock, or '' for the server's TIME
  ARGV[2]  holderId
  ARGV[3]  token
  ARGV[4]  ttlMs     whole milliseconds
  ARGV[5]  graceMs   the key outlives its logical expiry by this much

  Returns 1 when extended, 0 when deposed.
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local lease = redis.call('HMGET', KEYS[1], 'holder', 'token', 'expiresAtMs')
if not lease[1] or lease[1] ~= ARGV[2] or lease[2] ~= ARGV[3] or tonumber(lease[3]) <= now then
  return 0
end
local ttlMs = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'expiresAtMs', string.format('%d', now + ttlMs))
redis.call('PEXPIRE', KEYS[1], ttlMs + tonumber(ARGV[5]))
return 1
