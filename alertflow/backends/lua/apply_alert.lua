-- KEYS[1] = P. ARGV: now_ms, dedup_ttl_s, stream_maxlen, epoch_candidate, alert_id, kind,
-- issued_at, ends_at, type, category, cause_fragment, group ('' for none), source, h, then the
-- h hazards (an alert's own; the ones a cancel ends), m, then the m groups it supersedes, then
-- n, then n triples of (location, location_fragment, source_name_json).
-- Returns {outcome, number of events}.
local now, ttl, maxlen = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local id, kind = ARGV[5], ARGV[6]
local issued, ends, atype, category = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], ARGV[10]
local cause, group, source = ARGV[11], ARGV[12], ARGV[13]
local h = tonumber(ARGV[14])
local hazards = {}
for i = 1, h do hazards[i] = ARGV[14 + i] end
local m = tonumber(ARGV[15 + h])
local supersedes = {}
for i = 1, m do supersedes[ARGV[15 + h + i]] = true end
local n = tonumber(ARGV[16 + h + m])
local FIRST = 17 + h + m

-- An all-clear's time per (hazard, source, location): the source's length keeps the key
-- unambiguous whatever characters the source and the location hold.
local function ct_key(hazard, loc)
  return P .. 'wct:' .. hazard .. ':' .. #source .. ':' .. source .. ':' .. loc
end

-- After alerts left an incident: it carries on with the others (due at their end), or, when
-- none is left, it is gone and `close` (its close event, made before they left) is emitted.
local function settle(events, key, due, member, close)
  if summarize(key) then
    redis.call('ZADD', P .. due, redis.call('HGET', key, 'ends'), member)
  else
    redis.call('DEL', key)
    redis.call('ZREM', P .. due, member)
    emit(events, close, maxlen)
  end
end

-- Marks the superseded groups, so their alerts that arrive later are superseded.
local function mark_superseded()
  for g, _ in pairs(supersedes) do redis.call('SET', P .. 'gx:' .. g, '1', 'EX', ttl) end
end

-- A cancel: removes the alerts of the groups it supersedes from every window; a window left
-- empty closes now. (Windows from before hazards are indexed in P.."grp:", by location.)
local function end_groups(events)
  if m == 0 then return end
  mark_superseded()
  local listed, members = {}, {}
  for g, _ in pairs(supersedes) do
    for _, index in ipairs({{'grp:', LEGACY_DUE}, {'wgrp:', DUE}}) do
      for _, member in ipairs(redis.call('SMEMBERS', P .. index[1] .. g)) do
        local entry = index[2] .. '\0' .. member
        if not listed[entry] then
          listed[entry] = true
          members[#members + 1] = {index[2], member}
        end
      end
    end
  end
  -- The order Python's sorted() gives to (hazard, location); windows from before hazards first.
  table.sort(members, function(a, b)
    if a[1] ~= b[1] then return a[1] == LEGACY_DUE end
    return bytes_less(a[2], b[2])
  end)
  for _, entry in ipairs(members) do
    local due, member = entry[1], entry[2]
    local key = (due == DUE) and window_key(member) or (P .. 'inc:' .. member)
    if redis.call('EXISTS', key) == 1 then
      local body = close_body(key, member, 'cancelled', cause, issued)
      if drop_groups(key, supersedes) then settle(events, key, due, member, body) end
    end
  end
end

-- Removes from the window `key` the alerts that `ended(record)` says the cancel ends, then
-- settles it (closing it when none is left).
local function remove(events, key, due, member, ended)
  if redis.call('EXISTS', key) == 0 then return end
  local body = close_body(key, member, 'cancelled', cause, issued)
  local dropped = false
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if string.sub(name, 1, 2) == 'a:' then
      if ended(cjson.decode(redis.call('HGET', key, name))) then
        redis.call('HDEL', key, name)
        dropped = true
      end
    end
  end
  if dropped then settle(events, key, due, member, body) end
end

-- An alert that opens no live window, recorded all the same: its open and its close at once,
-- in a window of its own that joins no incident; `late` (processed after its window ended),
-- or `superseded` (and late: history, not an active alert) when an all-clear of its hazard by
-- its source, or a Cancel of its message, had already ended it.
local function record_unshown(events, loc_frag, name_json, hazard, superseded)
  local iid = tostring(tonumber(redis.call('GET', P .. 'seq') or '0') + 1)
  local window = loc_frag .. ',"type":' .. cjson.encode(atype) .. ',"category":'
    .. cjson.encode(category) .. ',"hazard":' .. cjson.encode(hazard) .. ',"source_name":'
    .. name_json .. ','
  local times = ',"incident_id":"' .. iid .. '","started_at":' .. num(issued)
    .. ',"ends_at":' .. num(ends) .. ',"alert_count":1'
  local flags, closed = '"late":true,', 'expired'
  if superseded then flags, closed = '"late":true,"superseded":true,', 'cancelled' end
  emit(events, '"kind":"open","reason":"alert",' .. flags .. window .. cause .. times, maxlen)
  emit(events, '"kind":"close","reason":"' .. closed .. '",' .. flags .. window .. NULL_CAUSE
    .. times, maxlen)
end

ensure_epoch(ARGV[4])
if not redis.call('SET', P .. 'seen:' .. id, '1', 'NX', 'EX', ttl) then
  return {'duplicate', 0}
end

local events = {}
if kind == 'cancel' then
  end_groups(events)
  for i = 0, n - 1 do
    local loc = ARGV[FIRST + 3 * i]
    -- A window from before hazards ends as it did then: every alert issued at or before the
    -- latest all-clear for the area, whatever its hazard and source.
    local legacy_ct = P .. 'ct:' .. loc
    local through = tonumber(redis.call('GET', legacy_ct) or '-1')
    if redis.call('EXISTS', P .. 'inc:' .. loc) == 1 then
      if issued > through then through = issued end
      redis.call('SET', legacy_ct, num(through), 'EX', ttl)
      remove(events, P .. 'inc:' .. loc, LEGACY_DUE, loc,
        function(record) return record.i <= through end)
    end
    for _, hazard in ipairs(hazards) do
      local key_ct = ct_key(hazard, loc)
      local upto = tonumber(redis.call('GET', key_ct) or '-1')
      if issued > upto then upto = issued end
      redis.call('SET', key_ct, num(upto), 'EX', ttl)
      -- The close shows the window as it was; then the alerts this source's all-clear covers go.
      local member = hazard .. ':' .. loc
      remove(events, window_key(member), DUE, member,
        function(record) return record.s == source and record.i <= upto end)
    end
  end
  publish(events)
  return {'cancel', #events}
end

local hazard = hazards[1]
if group ~= '' and redis.call('EXISTS', P .. 'gx:' .. group) == 1 then
  -- Of a message a later one replaced or cancelled: recorded, never shown as live.
  for i = 0, n - 1 do
    record_unshown(events, ARGV[FIRST + 1 + 3 * i], ARGV[FIRST + 2 + 3 * i], hazard, true)
  end
  publish(events)
  return {'superseded', #events}
end

local r = rank(category)
local indexed = false
local shown_any = false
-- Processed after its window ended (a stall upstream): shown all the same, as an open and its
-- close at once, both late, in a window of its own that joins no incident.
local late = ends <= now
-- The groups it replaces leave the windows it joins quietly (they carry on with it); elsewhere
-- the replacing message's cancel ends them.
if m > 0 then mark_superseded() end
for i = 0, n - 1 do
  local loc, loc_frag = ARGV[FIRST + 3 * i], ARGV[FIRST + 1 + 3 * i]
  local name_json = ARGV[FIRST + 2 + 3 * i]
  local through = tonumber(redis.call('GET', ct_key(hazard, loc)) or '-1')
  if issued <= through then
    -- An all-clear of its hazard by its own source, issued after it, already ended its window.
    record_unshown(events, loc_frag, name_json, hazard, true)
  elseif late then
    shown_any = true
    record_unshown(events, loc_frag, name_json, hazard, false)
  else
    shown_any = true
    local member = hazard .. ':' .. loc
    local key = window_key(member)
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
      redis.call('HSET', key, 'iid', iid, 'loc', loc_frag, 'hz', hazard)
    else
      started, e, count = tonumber(inc[2]), tonumber(inc[3]), tonumber(inc[4]) + 1
      if issued < started then started = issued end
      if ends > e then e = ends end
    end
    redis.call('HSET', key, 'a:' .. id,
      encode_record(issued, ends, atype, category, name_json, cause, group, source),
      'started', num(started), 'ends', num(e), 'count', count)
    if group ~= '' then
      -- Where the group's alerts are, for a later message that supersedes it.
      redis.call('SADD', P .. 'wgrp:' .. group, member)
      indexed = true
    end
    local window_category = inc[8]
    if outranks(r, issued, id, tonumber(inc[5]), tonumber(inc[6]), inc[7]) then
      redis.call('HSET', key, 'last_rank', r, 'last_issued', num(issued), 'last_id', id,
        'last_type', atype, 'last_cat', category, 'last_name', name_json, 'last_frag', cause)
      window_category = category
    end
    add_type(key, atype)
    redis.call('ZADD', P .. DUE, num(e), member)
    emit(events, '"kind":"open","reason":"alert",' .. loc_frag .. ',"type":' .. cjson.encode(atype)
      .. ',"category":' .. cjson.encode(window_category) .. ',"hazard":' .. cjson.encode(hazard)
      .. ',"source_name":' .. name_json .. ',' .. cause .. ',"incident_id":"' .. iid
      .. '","started_at":' .. num(started) .. ',"ends_at":' .. num(e) .. ',"alert_count":'
      .. count, maxlen)
  end
end
if indexed then
  -- Kept while any of the group's windows may last, and as long as alert ids are remembered
  -- after that; an alert with a shorter window never shortens it.
  local index = P .. 'wgrp:' .. group
  local keep_s = ttl + math.ceil((ends - now) / 1000)
  if redis.call('TTL', index) < keep_s then redis.call('EXPIRE', index, keep_s) end
end
publish(events)
if not shown_any then return {'superseded', #events} end
if late then return {'late', #events} end
return {'new', #events}
