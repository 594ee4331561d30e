--[=[
  ledger-write: apply one batch of the leader's slot changes (grants and releases) under its fence.

  KEYS[1]  meta      sb:{ns}:ledger:meta      hash: fence -> token of the last leader that took or wrote it,
                                               complete -> '1' once a leader declared it complete
  KEYS[2]  leases    sb:{ns}:ledger:leases    hash: leaseId -> JSON {"k":[level keys],"e":expiresAtMs}
  KEYS[3]  inflight  sb:{ns}:ledger:inflight  hash: level key -> calls in flight
  KEYS[4]  pace      sb:{ns}:ledger:pace      sorted set: JSON [level key, entry id] scored by its time
  KEYS[5]  tats      sb:{ns}:ledger:tats      hash: level key -> the pace schedule (GCRA TAT), %.17g
  ARGV[1]  fence     the writer's token
  ARGV[2]  pruneMs   pace entries scored at or below this are dropped
  ARGV[3]  batch     JSON {"g":[[leaseId, leaseJson, [keys], [[key, member, atMs, tat], ...]], ...],
                     "r":[leaseId, ...]}; member = JSON [key, leaseId]
                     (times as strings, so no precision is lost on the way)

  Returns 'lost' (the ledger does not exist: nothing written), 'fenced' (a newer token holds it:
  nothing written) or 'ok'. Resent after a reconnect it changes nothing more: a lease is counted
  only when it is new, uncounted only when it was there.
]=]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'lost'
end
local fence = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'fence'))
if current and current > fence then
  return 'fenced'
end
if not current or current < fence then
  redis.call('HSET', KEYS[1], 'fence', ARGV[1])
end
local batch = cjson.decode(ARGV[3])
for _, grant in ipairs(batch.g) do
  if redis.call('HSETNX', KEYS[2], grant[1], grant[2]) == 1 then
    for _, key in ipairs(grant[3]) do
      redis.call('HINCRBY', KEYS[3], key, 1)
    end
  end
  for _, entry in ipairs(grant[4]) do
    local levelKey = entry[1]
    redis.call('ZADD', KEYS[4], entry[3], entry[2])
    local tat = tonumber(redis.call('HGET', KEYS[5], levelKey))
    if not tat or tat < tonumber(entry[4]) then
      redis.call('HSET', KEYS[5], levelKey, entry[4])
    end
  end
end
for _, leaseId in ipairs(batch.r) do
  local lease = redis.call('HGET', KEYS[2], leaseId)
  if lease then
    redis.call('HDEL', KEYS[2], leaseId)
    for _, key in ipairs(cjson.decode(lease).k) do
      if redis.call('HINCRBY', KEYS[3], key, -1) <= 0 then
        redis.call('HDEL', KEYS[3], key)
      end
    end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[2])
return 'ok'
