--[[
  bus-publish: append one publish call's messages to a stream, all or nothing, at most once.

  ioredis resends a command whose reply was lost in a disconnect; this script may therefore run
  twice for one call. Each publisher numbers its calls, and the script skips a call whose number
  is not above the last one it applied for that publisher, so a resend never duplicates orders.
  Calls from one publisher arrive in order (one connection, sent with EVAL so that no NOSCRIPT
  fallback can reorder them).

  KEYS[1]  stream      sb:{ns}:<kind>:<stream>             Redis stream, entries {m: <JSON>}
  KEYS[2]  publishers  sb:{ns}:<kind>-publishers:<stream>  hash: publisherId -> last applied call number
  ARGV[1]  publisherId
  ARGV[2]  callNumber    increasing per publisher
  ARGV[3]  maxLength     the stream's cap (MAXLEN ~: trimmed in whole nodes)
  ARGV[4]  idleTtlMs     both keys vanish after this long without a publish
  ARGV[5..] messages     JSON, in order

  Returns the number of entries appended (0 for a resent call).
]]
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local callNumber = tonumber(ARGV[2])
if callNumber <= last then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
for i = 5, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return #ARGV - 4
