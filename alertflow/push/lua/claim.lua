-- Claims of (subscription, incident, notice) before a push is sent: a subscriber never hears
-- the same notice twice, whichever replica handles which stream entry.
-- KEYS: the claim keys (one hash tag). ARGV[1] = this consumer's name, ARGV[2] = TTL (s),
-- ARGV[3] = '1' when the entry was taken over from a consumer that stopped (crash), so claims
-- that consumer left unfinished are taken over too (at least once across crashes).
-- Returns one 1 (send it) or 0 (someone else has or had it) per key.
local owner, ttl, takeover = ARGV[1], ARGV[2], ARGV[3] == '1'
local result = {}
for i, key in ipairs(KEYS) do
  local held = redis.call('GET', key)
  if not held or held == owner or (takeover and held ~= 'done') then
    redis.call('SET', key, owner, 'EX', ttl)
    result[i] = 1
  else
    result[i] = 0
  end
end
return result
