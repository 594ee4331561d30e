--[[
  login-succeed: a login succeeded; forget its account's failures. The address's count stays:
  one valid account must not reset an attacker's budget, so the address key is not passed.

  KEYS[1]  account  sb:{ns}:login-account:<digest>

  Returns 1 when a count was forgotten, else 0.
]]
return redis.call('DEL', KEYS[1])
