-- KEYS[1] = P. ARGV: now_ms, dedup_ttl_s, stream_maxlen, epoch_candidate, alert_id, kind,
-- issued_at, ends_at, type, category, cause_fragment, group ('' for none), m, then the m groups
-- it supersedes, then n, then n triples of (location, location_fragment, source_name_json).
-- Returns {outcome, number of events}.
local now, ttl, maxlen = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local id, kind = ARGV[5], ARGV[6]
local issued, ends, atype, category = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], ARGV[10]
local cause, group = ARGV[11], ARGV[12]
local m = tonumber(ARGV[13])
local supersedes = {}
for i = 1, m do supersedes[ARGV[13 + i]] = true end
local n = tonumber(ARGV[14 + m])
local FIRST = 15 + m

-- After alerts left an incident: it carries on with the others (due at their end), or, when
-- none is left, it is gone and `close` (its close event, made before they left) is emitted.
local function settle(events, key, loc, close)
  if summarize(key) then
    redis.call('ZADD', P .. 'due', redis.call('HGET', key, 'ends'), loc)
  else
    redis.call('DEL', key)
    redis.call('ZREM', P .. 'due', loc)
    emit(events, close, maxlen)
  end
end

-- Marks the superseded groups, so their alerts that arrive later are superseded.
local function mark_superseded()
  for g, _ in pairs(supersedes) do redis.call('SET', P .. 'gx:' .. g, '1', 'EX', ttl) end
end

-- A cancel: removes the alerts of the groups it supersedes from every window; a window left
-- empty closes now.
local function end_groups(events)
  if m == 0 then return end
  mark_superseded()
  local listed, locations = {}, {}
  for g, _ in pairs(supersedes) do
    for _, loc in ipairs(redis.call('SMEMBERS', P .. 'grp:' .. g)) do
      if not listed[loc] then
        listed[loc] = true
        locations[#locations + 1] = loc
      end
    end
  end
  table.sort(locations, bytes_less)  -- the order Python's sorted() gives
  for _, loc in ipairs(locations) do
    local key = P .. 'inc:' .. loc
    if redis.call('EXISTS', key) == 1 then
      local body = close_body(key, loc, 'cancelled', cause, issued)
      if drop_groups(key, supersedes) then settle(events, key, loc, body) end
    end
  end
end

ensure_epoch(ARGV[4])
if not redis.call('SET', P .. 'seen:' .. id, '1', 'NX', 'EX', ttl) then
  return {'duplicate', 0}
end

local events = {}
if kind ~= 'cancel' and group ~= '' and redis.call('EXISTS', P .. 'gx:' .. group) == 1 then
  return {'superseded', 0}
end
if kind == 'cancel' then
  end_groups(events)
  for i = 0, n - 1 do
    local loc = ARGV[FIRST + 3 * i]
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
          local record = cjson.decode(redis.call('HGET', key, name))
          if record.i <= through then redis.call('HDEL', key, name) end
        end
      end
      settle(events, key, loc, body)
    end
  end
  publish(events)
  return {'cancel', #events}
end

local r = rank(category)
local indexed = false
-- Processed after its window ended (a stall upstream): shown all the same, as an open and its
-- close at once, both late, in a window of its own that joins no incident.
local late = ends <= now
-- The groups it replaces leave the windows it joins quietly (they carry on with it); elsewhere
-- the replacing message's cancel ends them.
if m > 0 then mark_superseded() end
for i = 0, n - 1 do
  local loc, loc_frag = ARGV[FIRST + 3 * i], ARGV[FIRST + 1 + 3 * i]
  local name_json = ARGV[FIRST + 2 + 3 * i]
  local through = tonumber(redis.call('GET', P .. 'ct:' .. loc) or '-1')
  if issued <= through then
    -- An all-clear issued after this alert already ended its window: nothing to show.
  elseif late then
    local iid = tostring(tonumber(redis.call('GET', P .. 'seq') or '0') + 1)
    local window = loc_frag .. ',"type":' .. cjson.encode(atype) .. ',"category":'
      .. cjson.encode(category) .. ',"source_name":' .. name_json .. ','
    local times = ',"incident_id":"' .. iid .. '","started_at":' .. num(issued)
      .. ',"ends_at":' .. num(ends) .. ',"alert_count":1'
    emit(events, '"kind":"open","reason":"alert","late":true,' .. window .. cause .. times,
      maxlen)
    emit(events, '"kind":"close","reason":"expired","late":true,' .. window .. NULL_CAUSE
      .. times, maxlen)
  else
    local key = P .. 'inc:' .. loc
    local started, e, count
    local summary = {'iid', 'started', 'ends', 'count', 'last_rank', 'last_issued', 'last_id',
      'last_cat'}
    local inc = redis.call('HMGET', key, unpack(summary))
    if inc[1] and m > 0 and drop_groups(key, supersedes) then
      if not summarize(key) then
        -- Only what this alert replaces was there: the window carries on with this alert.
        redis.call('HDEL', key, 'last_rank', 'last_issued', 'last_id', 'last_type', 'last_cat',
          'last_name', 'last_frag', 'types')
        redis.call('HSET', key, 'started', num(issued), 'ends', num(ends), 'count', 0)
      end
      inc = redis.call('HMGET', key, unpack(summary))
    end
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
    redis.call('HSET', key, 'a:' .. id,
      encode_record(issued, ends, atype, category, name_json, cause, group),
      'started', num(started), 'ends', num(e), 'count', count)
    if group ~= '' then
      -- Where the group's alerts are, for a later message that supersedes it.
      redis.call('SADD', P .. 'grp:' .. group, loc)
      indexed = true
    end
    local window_category = inc[8]
    if outranks(r, issued, id, tonumber(inc[5]), tonumber(inc[6]), inc[7]) then
      redis.call('HSET', key, 'last_rank', r, 'last_issued', num(issued), 'last_id', id,
        'last_type', atype, 'last_cat', category, 'last_name', name_json, 'last_frag', cause)
      window_category = category
    end
    add_type(key, atype)
    redis.call('ZADD', P .. 'due', num(e), loc)
    emit(events, '"kind":"open","reason":"alert",' .. loc_frag .. ',"type":' .. cjson.encode(atype)
      .. ',"category":' .. cjson.encode(window_category) .. ',"source_name":' .. name_json
      .. ',' .. cause .. ',"incident_id":"' .. iid .. '","started_at":' .. num(started)
      .. ',"ends_at":' .. num(e) .. ',"alert_count":' .. count, maxlen)
  end
end
if indexed then
  -- Kept while any of the group's windows may last, and as long as alert ids are remembered
  -- after that; an alert with a shorter window never shortens it.
  local index = P .. 'grp:' .. group
  local keep_s = ttl + math.ceil((ends - now) / 1000)
  if redis.call('TTL', index) < keep_s then redis.call('EXPIRE', index, keep_s) end
end
publish(events)
if #events == 0 then return {'superseded', 0} end
if late then return {'late', #events} end
return {'new', #events}
