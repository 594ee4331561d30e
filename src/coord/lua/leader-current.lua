--[[
  leader-current: read the leader lease if it is unexpired (no change).

  KEYS[1]  lease  sb:{ns}:lease:<scope>  hash {holder, token, expiresAtMs}
  ARGV[1]  nowMs  the caller's clock, or '' for the server's TIME

  Returns {holderId, token, expiresAtMs} or false (nil) when nobody holds it.
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local lease = redis.call('HMGET', KEYS[1], 'holder', 'token', 'expiresAtMs')
if not lease[1] or tonumber(lease[3]) <= now then
  return false
end
return { lease[1], tonumber(lease[2]), tonumber(lease[3]) }
