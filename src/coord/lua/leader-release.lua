--[[
  leader-release: give the leader lease up, only if still held by the caller under its token, so
  a standby can take it at once. The fence is kept: the next token is still larger.

  KEYS[1]  lease  sb:{ns}:lease:<scope>  hash {holder, token, expiresAtMs}
  ARGV[1]  holderId
  ARGV[2]  token

  Returns 1 when released, 0 when the lease was not the caller's (nothing changes).
]]
local lease = redis.call('HMGET', KEYS[1], 'holder', 'token')
if lease[1] == ARGV[1] and lease[2] == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
