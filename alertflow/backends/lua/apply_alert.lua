-- KEYS[1] = P. ARGV: now_ms, dedup_ttl_s, stream_maxlen, epoch_candidate, alert_id, kind,
-- issued_at, ends_at, type, cause_fragment, n, then n pairs of (location, location_fragment).
-- Returns {outcome, number of events}.
local now, ttl, maxlen = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local id, kind = ARGV[5], ARGV[6]
local issued, ends, atype, cause = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], ARGV[10]
local n = tonumber(ARGV[11])

if not redis.call('SET', P .. 'seen:' .. id, '1', 'NX', 'EX', ttl) then
  return {'duplicate', 0}
end
redis.call('SET', P .. 'epoch', ARGV[4], 'NX')

local events = {}
if kind == 'cancel' then
  for i = 0, n - 1 do
    local loc = ARGV[12 + 2 * i]
    local ct_key = P .. 'ct:' .. loc
    local through = tonumber(redis.call('GET', ct_key) or '-1')
    if issued > through then through = issued end
    redis.call('SET', ct_key, num(through), 'EX', ttl)
    local key = P .. 'inc:' .. loc
    if redis.call('EXISTS', key) == 1 then
      -- The close shows the incident as it was; then the alerts the cancel covers go.
      local body = close_body(key, loc, 'cancelled', cause, issued)
      local fields = redis.call('HKEYS', key)
      for _, name in ipairs(fields) do
        if string.sub(name, 1, 2) == 'a:' then
          local a_issued = split_alert(redis.call('HGET', key, name))
          if a_issued <= through then redis.call('HDEL', key, name) end
        end
      end
      if summarize(key) then
        redis.call('ZADD', P .. 'due', redis.call('HGET', key, 'ends'), loc)
      else
        redis.call('DEL', key)
        redis.call('ZREM', P .. 'due', loc)
        emit(events, body, maxlen)
      end
    end
  end
  publish(events)
  return {'cancel', #events}
end

local superseded = 0
for i = 0, n - 1 do
  local loc, loc_frag = ARGV[12 + 2 * i], ARGV[13 + 2 * i]
  local through = tonumber(redis.call('GET', P .. 'ct:' .. loc) or '-1')
  if issued <= through then
    superseded = superseded + 1
  elseif ends > now then
    local key = P .. 'inc:' .. loc
    local started, e, count
    local inc = redis.call('HMGET', key, 'iid', 'started', 'ends', 'count',
      'last_issued', 'last_id')
    local iid = inc[1]
    if not iid then
      iid = tostring(tonumber(redis.call('GET', P .. 'seq') or '0') + 1)
      started, e, count = issued, ends, 1
      redis.call('HSET', key, 'iid', iid, 'loc', loc_frag)
    else
      started, e, count = tonumber(inc[2]), tonumber(inc[3]), tonumber(inc[4]) + 1
      if issued < started then started = issued end
      if ends > e then e = ends end
    end
    local stored = num(issued) .. '|' .. num(ends) .. '|' .. atype .. '|' .. cause
    redis.call('HSET', key, 'a:' .. id, stored,
      'started', num(started), 'ends', num(e), 'count', count)
    local last_issued, last_id = tonumber(inc[5]), inc[6]
    if not last_issued or issued > last_issued or (issued == last_issued and id > last_id) then
      redis.call('HSET', key, 'last_issued', num(issued), 'last_id', id, 'last_type', atype,
        'last_frag', cause)
    end
    local types = redis.call('HGET', key, 'types')
    if not types then
      redis.call('HSET', key, 'types', atype)
    else
      local seen = false
      local list = {}
      for t in string.gmatch(types, '[^,]+') do
        if t == atype then seen = true end
        list[#list + 1] = t
      end
      if not seen then
        list[#list + 1] = atype
        table.sort(list)
        redis.call('HSET', key, 'types', table.concat(list, ','))
      end
    end
    redis.call('ZADD', P .. 'due', num(e), loc)
    emit(events, '"kind":"open","reason":"alert",' .. loc_frag .. ',"type":' .. cjson.encode(atype)
      .. ',' .. cause .. ',"incident_id":"' .. iid .. '","started_at":' .. num(started)
      .. ',"ends_at":' .. num(e) .. ',"alert_count":' .. count, maxlen)
  end
end
publish(events)
if #events > 0 then return {'new', #events} end
if superseded > 0 then return {'superseded', 0} end
return {'expired', 0}
