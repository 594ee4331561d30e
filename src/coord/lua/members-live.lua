--[[
  members-live: the unexpired members of a role (no change).

  KEYS[1]  expiries  sb:{ns}:members:<role>      sorted set: memberId scored by expiresAtMs
  KEYS[2]  infos     sb:{ns}:member-info:<role>  hash: memberId -> info JSON
  ARGV[1]  nowMs     the caller's clock, or '' for the server's TIME

  Returns a flat array {memberId, expiresAtMs, info, ...} (the caller sorts it).
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now), '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  out[#out + 1] = live[i]
  out[#out + 1] = tonumber(live[i + 1])
  out[#out + 1] = redis.call('HGET', KEYS[2], live[i]) or '{}'
end
return out
