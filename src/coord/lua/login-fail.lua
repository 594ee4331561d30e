--[[
  login-fail: count one failed login against its account and its address; from a key's threshold
  on, lock that key for baseDelayMs * 2^(failures - threshold), at most maxDelayMs.

  KEYS[1]  account  sb:{ns}:login-account:<digest>  hash {failures, firstAtMs, lockedUntilMs}
  KEYS[2]  address  sb:{ns}:login-address:<digest>  the same
  ARGV[1]  nowMs             the caller's clock, or '' for the server's TIME
  ARGV[2]  windowMs          a count starts at its first failure and is forgotten once both this
                             window and its lock have passed
  ARGV[3]  accountThreshold
  ARGV[4]  addressThreshold
  ARGV[5]  baseDelayMs
  ARGV[6]  maxDelayMs
  ARGV[7]  graceMs           each key outlives the moment it would be forgotten by this much

  Returns {accountLocked, addressLocked}: 1 where this failure set a lock, else 0.
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local windowMs = tonumber(ARGV[2])
local thresholds = { tonumber(ARGV[3]), tonumber(ARGV[4]) }
local baseDelayMs = tonumber(ARGV[5])
local maxDelayMs = tonumber(ARGV[6])
local graceMs = tonumber(ARGV[7])

local locked = { 0, 0 }
for i, key in ipairs(KEYS) do
  local count = redis.call('HMGET', key, 'failures', 'firstAtMs', 'lockedUntilMs')
  local failures = tonumber(count[1] or '0')
  local firstAtMs = tonumber(count[2] or '0')
  local lockedUntilMs = tonumber(count[3] or '0')
  if failures == 0 or (now - firstAtMs >= windowMs and now >= lockedUntilMs) then
    failures = 0
    firstAtMs = now
    lockedUntilMs = 0
  end
  failures = failures + 1
  if failures >= thresholds[i] then
    local delayMs = baseDelayMs * 2 ^ math.min(30, failures - thresholds[i])
    lockedUntilMs = now + math.min(maxDelayMs, delayMs)
    locked[i] = 1
  end
  redis.call('HSET', key, 'failures', string.format('%d', failures),
    'firstAtMs', string.format('%d', firstAtMs), 'lockedUntilMs', string.format('%d', lockedUntilMs))
  redis.call('PEXPIRE', key, math.max(firstAtMs + windowMs, lockedUntilMs) - now + graceMs)
end
return locked
