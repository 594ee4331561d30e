--[[
  members-leave: a member of a role leaves at once.

  KEYS[1]  expiries  sb:{ns}:members:<role>      sorted set: memberId scored by expiresAtMs
  KEYS[2]  infos     sb:{ns}:member-info:<role>  hash: memberId -> info JSON
  ARGV[1]  memberId

  Returns 1 when the member was known, 0 otherwise.
]]
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])
