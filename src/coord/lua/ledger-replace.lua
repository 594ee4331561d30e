--[=[
  ledger-replace: write the leader's whole slot state, replacing whatever the ledger held (after
  ledger-take, or after ledger-write answered 'lost').

  KEYS[1..5]  meta, leases, inflight, pace, tats   as in ledger-write.lua
  ARGV[1]  fence     the leader's token
  ARGV[2]  complete  '1': the state holds every grant that can still reach a switch; '0': not yet
  ARGV[3]  state     JSON {"p":[[key, tat, [[member, atMs], ...]], ...], "l":[[leaseId, leaseJson, [keys]], ...]}
                     (times as strings)

  Returns 'fenced' (a newer token holds it: nothing written) or 'ok'.
]=]
local current = tonumber(redis.call('HGET', KEYS[1], 'fence'))
if current and current > tonumber(ARGV[1]) then
  return 'fenced'
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'complete', ARGV[2])
local state = cjson.decode(ARGV[3])
for _, pace in ipairs(state.p) do
  redis.call('HSET', KEYS[5], pace[1], pace[2])
  for _, entry in ipairs(pace[3]) do
    redis.call('ZADD', KEYS[4], entry[2], entry[1])
  end
end
for _, lease in ipairs(state.l) do
  redis.call('HSET', KEYS[2], lease[1], lease[2])
  for _, key in ipairs(lease[3]) do
    redis.call('HINCRBY', KEYS[3], key, 1)
  end
end
return 'ok'
