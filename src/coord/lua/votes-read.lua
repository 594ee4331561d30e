--[[
  votes-read: every unexpired vote, removing the expired ones.

  KEYS[1]  votes  sb:{ns}:votes  hash: JSON [switchId, workerId] -> '<expiresAtMs>:<1|0>'
  ARGV[1]  nowMs  the caller's clock, or '' for the server's TIME

  Returns a flat array {field, reachable ('1'|'0'), ...}. Filtering by live workers is the
  caller's (the list can be long and changes every call; it need not travel to Redis).
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local all = redis.call('HGETALL', KEYS[1])
local out = {}
local expired = {}
for i = 1, #all, 2 do
  local expiresAtMs, reachable = string.match(all[i + 1], '^(%d+):([01])$')
  if expiresAtMs and tonumber(expiresAtMs) > now then
    out[#out + 1] = all[i]
    out[#out + 1] = reachable
  else
    expired[#expired + 1] = all[i]
  end
end
-- unpack in chunks: Lua's C stack holds ~8,000 values.
for i = 1, #expired, 1000 do
  redis.call('HDEL', KEYS[1], unpack(expired, i, math.min(i + 999, #expired)))
end
return out
