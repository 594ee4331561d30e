--[=[
  ledger-take: a new leader takes the slot ledger; writes under an older token are refused from now.

  KEYS[1..5]  meta, leases, inflight, pace, tats   as in ledger-write.lua
  ARGV[1]  fence     the new leader's token
  ARGV[2]  nowMs     leases expired by then are dropped
  ARGV[3]  windowMs  pace entries scored at or below nowMs - windowMs are dropped (they count no more)

  Returns {'fenced'} if a newer token holds it, else
  {'ok', previousFence or '', complete '1'|'0', pace [member, score, ...], tats [key, tat, ...],
   leases [leaseId, leaseJson, ...]}. A ledger that did not exist is created incomplete.
]=]
local fence = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local existed = redis.call('EXISTS', KEYS[1]) == 1
local previous = redis.call('HGET', KEYS[1], 'fence')
if previous and tonumber(previous) > fence then
  return {'fenced'}
end
local complete = existed and redis.call('HGET', KEYS[1], 'complete') == '1'
if not existed then
  redis.call('HSET', KEYS[1], 'complete', '0')
end
redis.call('HSET', KEYS[1], 'fence', ARGV[1])
local leases = redis.call('HGETALL', KEYS[2])
local kept = {}
for i = 1, #leases, 2 do
  local lease = cjson.decode(leases[i + 1])
  if lease.e <= now then
    redis.call('HDEL', KEYS[2], leases[i])
    for _, key in ipairs(lease.k) do
      if redis.call('HINCRBY', KEYS[3], key, -1) <= 0 then
        redis.call('HDEL', KEYS[3], key)
      end
    end
  else
    kept[#kept + 1] = leases[i]
    kept[#kept + 1] = leases[i + 1]
  end
end
local oldest = now - tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('%.17g', oldest))
local tats = redis.call('HGETALL', KEYS[5])
local live = {}
for i = 1, #tats, 2 do
  if tonumber(tats[i + 1]) <= oldest then
    redis.call('HDEL', KEYS[5], tats[i])
  else
    live[#live + 1] = tats[i]
    live[#live + 1] = tats[i + 1]
  end
end
return {
  'ok',
  previous or '',
  complete and '1' or '0',
  redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES'),
  live,
  kept,
}
