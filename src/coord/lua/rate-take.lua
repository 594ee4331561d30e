--[[
  rate-take: take one token from a caller's bucket (the API rate limit per key, shared by every
  api process).

  KEYS[1]  bucket  sb:{ns}:rate:<callerId>  hash {tokens (fractional), atMs}
  ARGV[1]  nowMs      the caller's clock, or '' for the server's TIME
  ARGV[2]  perSecond  tokens added per second (> 0)
  ARGV[3]  burst      the bucket's size (>= 1); a missing bucket is full
  ARGV[4]  graceMs    the key outlives the moment its bucket is full again by this much

  Returns 0 when a token was taken, else the whole milliseconds until one will be available.
  A full bucket is the same as a missing one, so the key may go once it would be full again:
  memory is bounded by the callers seen within that time (plus grace).
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local perSecond = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])

local tokens = burst
local atMs = now
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'atMs')
if bucket[1] and bucket[2] then
  tokens = tonumber(bucket[1])
  atMs = tonumber(bucket[2])
end
-- The same expression, in the same order, as MemoryRateLimits: both give the same doubles.
local refilled = math.min(burst, tokens + (math.max(0, now - atMs) * perSecond) / 1000)
local waitMs = 0
if refilled >= 1 then
  tokens = refilled - 1
else
  tokens = refilled
  waitMs = math.ceil(((1 - refilled) * 1000) / perSecond)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'atMs', string.format('%d', now))
local fullInMs = math.ceil(((burst - tokens) * 1000) / perSecond)
redis.call('PEXPIRE', KEYS[1], fullInMs + tonumber(ARGV[4]))
return waitMs
