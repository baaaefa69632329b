-- KEYS[1] = P. ARGV: epoch_candidate. Returns {epoch, seq, incident JSON...}, atomically.
redis.call('SET', P .. 'epoch', ARGV[1], 'NX')
local result = {redis.call('GET', P .. 'epoch'), redis.call('GET', P .. 'seq') or '0'}
for _, loc in ipairs(redis.call('ZRANGE', P .. 'due', 0, -1)) do
  local inc = redis.call('HMGET', P .. 'inc:' .. loc, 'iid', 'loc', 'started', 'ends', 'count',
    'last_type', 'last_frag', 'types', 'last_cat', 'last_name')
  if inc[1] then
    result[#result + 1] = '{"incident_id":"' .. inc[1] .. '",' .. inc[2]
      .. ',"type":' .. cjson.encode(inc[6]) .. ',"category":' .. cjson.encode(inc[9])
      .. ',"source_name":' .. inc[10] .. ',"types":' .. inc[8] .. ','
      .. inc[7] .. ',"started_at":' .. inc[3] .. ',"ends_at":' .. inc[4]
      .. ',"alert_count":' .. inc[5] .. '}'
  end
end
return result
