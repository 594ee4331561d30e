--[[
  votes-cast: record one worker's current view of one switch.

  KEYS[1]  votes  sb:{ns}:votes  hash: JSON [switchId, workerId] -> '<expiresAtMs>:<1 reachable|0 not>'
  ARGV[1]  nowMs    the caller's clock, or '' for the server's TIME
  ARGV[2]  field    JSON [switchId, workerId]
  ARGV[3]  reachable  '1' or '0'
  ARGV[4]  ttlMs    whole milliseconds
  ARGV[5]  graceMs  the key outlives the longest vote by this much

  Returns the vote's expiresAtMs. Expired votes are removed by votes-read.
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local ttlMs = tonumber(ARGV[4])
local expiresAtMs = now + ttlMs
redis.call('HSET', KEYS[1], ARGV[2], string.format('%d', expiresAtMs) .. ':' .. ARGV[3])
local keepMs = ttlMs + tonumber(ARGV[5])
if redis.call('PTTL', KEYS[1]) < keepMs then
  redis.call('PEXPIRE', KEYS[1], keepMs)
end
return expiresAtMs
