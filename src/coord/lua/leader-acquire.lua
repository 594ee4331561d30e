--[[
  leader-acquire: take the leader lease of a scope if it is free or expired (with a new fencing
  token), or extend it if the caller already holds it (same token).

  KEYS[1]  lease  sb:{ns}:lease:<scope>  hash {holder, token, expiresAtMs}
  KEYS[2]  fence  sb:{ns}:fence:<scope>  the highest token ever issued for the scope (no expiry)
  ARGV[1]  nowMs       the caller's clock, or '' for the server's TIME
  ARGV[2]  holderId
  ARGV[3]  ttlMs       whole milliseconds
  ARGV[4]  floorToken  the store's highest seen token: after a data loss the fence restarts above it
  ARGV[5]  graceMs     the key outlives its logical expiry by this much (garbage collection only)

  Returns the caller's token, or false (nil) when another holder's lease is unexpired.
  Expiry is decided here against nowMs, never by Redis dropping the key, so a lease is exactly
  as long as ttlMs in the chosen clock.
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local holderId = ARGV[2]
local ttlMs = tonumber(ARGV[3])
local floorToken = tonumber(ARGV[4])
local graceMs = tonumber(ARGV[5])
local expiresAtMs = now + ttlMs

local lease = redis.call('HMGET', KEYS[1], 'holder', 'token', 'expiresAtMs')
if lease[1] and tonumber(lease[3]) > now then
  if lease[1] ~= holderId then
    return false
  end
  redis.call('HSET', KEYS[1], 'expiresAtMs', string.format('%d', expiresAtMs))
  redis.call('PEXPIRE', KEYS[1], ttlMs + graceMs)
  return tonumber(lease[2])
end

local token = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), floorToken) + 1
redis.call('SET', KEYS[2], string.format('%d', token))
redis.call('HSET', KEYS[1], 'holder', holderId, 'token', string.format('%d', token),
  'expiresAtMs', string.format('%d', expiresAtMs))
redis.call('PEXPIRE', KEYS[1], ttlMs + graceMs)
return token
