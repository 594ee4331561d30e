--[[
  members-heartbeat: announce or refresh a live member of a role, and forget the expired ones.

  KEYS[1]  expiries  sb:{ns}:members:<role>      sorted set: memberId scored by expiresAtMs
  KEYS[2]  infos     sb:{ns}:member-info:<role>  hash: memberId -> info (JSON object of strings)
  ARGV[1]  nowMs     the caller's clock, or '' for the server's TIME
  ARGV[2]  memberId
  ARGV[3]  ttlMs     whole milliseconds
  ARGV[4]  info      JSON
  ARGV[5]  graceMs   both keys outlive the longest heartbeat by this much

  Returns the member's expiresAtMs.
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local ttlMs = tonumber(ARGV[3])
local expiresAtMs = now + ttlMs

local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
-- unpack in chunks: Lua's C stack holds ~8,000 values.
for i = 1, #expired, 1000 do
  local last = math.min(i + 999, #expired)
  redis.call('ZREM', KEYS[1], unpack(expired, i, last))
  redis.call('HDEL', KEYS[2], unpack(expired, i, last))
end
redis.call('ZADD', KEYS[1], string.format('%d', expiresAtMs), ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])

local keepMs = ttlMs + tonumber(ARGV[5])
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < keepMs then
    redis.call('PEXPIRE', key, keepMs)
  end
end
return expiresAtMs
