"""The Lua scripts that make each processor step atomic in Redis.

They implement `alertflow.domain.aggregation` (the property tests hold the two to the same
results). Every key is `<P>…` where P = "{prefix}:" — one hash tag, so they are Redis-Cluster-safe.

Keys: P.."seq" (last event seq), P.."epoch" (random id of this stream's life), P.."stream"
(events, entry id "<seq>-0", field "e" = the event JSON), P.."due" (zset location → ends_at),
P.."inc:"..loc (hash: the open incident; alert fields "a:<id>" = issued|ends|type|fragment),
P.."seen:"..id (dedup claim, TTL), P.."ct:"..loc (cancelled-through time, TTL),
channel P.."events" (a JSON array of the events of one call).

Events are built by concatenating JSON fragments that Python encoded, so Lua never parses JSON.
"""

# Shared helpers, prepended to each script.
_COMMON = r"""
local P = KEYS[1]
local function num(x) return string.format('%d', x) end

local function emit(events, body, maxlen)
  local seq = redis.call('INCR', P .. 'seq')
  local event = '{"seq":' .. seq .. ',' .. body .. '}'
  redis.call('XADD', P .. 'stream', 'MAXLEN', '~', maxlen, seq .. '-0', 'e', event)
  events[#events + 1] = event
  return seq
end

local function publish(events)
  if #events > 0 then
    redis.call('PUBLISH', P .. 'events', '[' .. table.concat(events, ',') .. ']')
  end
end

local NULL_CAUSE = '"title":null,"instructions":null,"alert_id":null,'
  .. '"issued_at":null,"received_at":null,"source":null'

local function split_alert(value)
  local issued, ends, atype, frag = string.match(value, '^(%-?%d+)|(%-?%d+)|([^|]*)|(.*)$')
  return tonumber(issued), tonumber(ends), atype, frag
end

-- Recompute an incident's cached summary from its alerts; returns false when it has none.
local function summarize(key)
  local fields = redis.call('HGETALL', key)
  local started, ends, count = nil, nil, 0
  local last_issued, last_id, last_type, last_frag = nil, nil, nil, nil
  local types = {}
  for i = 1, #fields, 2 do
    local name = fields[i]
    if string.sub(name, 1, 2) == 'a:' then
      local id = string.sub(name, 3)
      local issued, e, atype, frag = split_alert(fields[i + 1])
      count = count + 1
      if started == nil or issued < started then started = issued end
      if ends == nil or e > ends then ends = e end
      if last_issued == nil or issued > last_issued or (issued == last_issued and id > last_id) then
        last_issued, last_id, last_type, last_frag = issued, id, atype, frag
      end
      types[atype] = true
    end
  end
  if count == 0 then return false end
  local list = {}
  for t, _ in pairs(types) do list[#list + 1] = t end
  table.sort(list)
  redis.call('HSET', key, 'started', num(started), 'ends', num(ends), 'count', count,
    'last_issued', num(last_issued), 'last_id', last_id, 'last_type', last_type,
    'last_frag', last_frag, 'types', table.concat(list, ','))
  return true
end

-- `ended_by`: when an all-clear ends the window early, the window's end is the all-clear's time.
local function close_body(key, loc, reason, cause_frag, ended_by)
  local inc = redis.call('HMGET', key, 'iid', 'loc', 'started', 'ends', 'count', 'last_type')
  local ends = inc[4]
  if ended_by and ended_by < tonumber(ends) then ends = num(ended_by) end
  return '"kind":"close","reason":"' .. reason .. '",' .. inc[2]
    .. ',"type":' .. cjson.encode(inc[6]) .. ',' .. cause_frag
    .. ',"incident_id":"' .. inc[1] .. '","started_at":' .. inc[3]
    .. ',"ends_at":' .. ends .. ',"alert_count":' .. inc[5]
end
"""

# KEYS[1] = P. ARGV: now_ms, dedup_ttl_s, stream_maxlen, epoch_candidate, alert_id, kind,
# issued_at, ends_at, type, cause_fragment, n, then n pairs of (location, location_fragment).
# Returns {outcome, number of events}.
APPLY_ALERT = _COMMON + r"""
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
"""

# KEYS[1] = P. ARGV: now_ms, stream_maxlen, epoch_candidate, limit. Closes ended windows;
# returns {closed, still open}.
SWEEP = _COMMON + r"""
local now, maxlen, limit = ARGV[1], ARGV[2], tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, limit)
if #due == 0 then return {0, redis.call('ZCARD', P .. 'due')} end
redis.call('SET', P .. 'epoch', ARGV[3], 'NX')
local events = {}
for _, loc in ipairs(due) do
  local key = P .. 'inc:' .. loc
  if redis.call('EXISTS', key) == 1 then
    emit(events, close_body(key, loc, 'expired', NULL_CAUSE, nil), maxlen)
    redis.call('DEL', key)
  end
  redis.call('ZREM', P .. 'due', loc)
end
publish(events)
return {#events, redis.call('ZCARD', P .. 'due')}
"""

# KEYS[1] = P. ARGV: epoch_candidate. Returns {epoch, seq, incident JSON...}, atomically.
SNAPSHOT = _COMMON + r"""
redis.call('SET', P .. 'epoch', ARGV[1], 'NX')
local result = {redis.call('GET', P .. 'epoch'), redis.call('GET', P .. 'seq') or '0'}
for _, loc in ipairs(redis.call('ZRANGE', P .. 'due', 0, -1)) do
  local inc = redis.call('HMGET', P .. 'inc:' .. loc, 'iid', 'loc', 'started', 'ends', 'count',
    'last_type', 'last_frag', 'types')
  if inc[1] then
    local types = {}
    for t in string.gmatch(inc[8], '[^,]+') do types[#types + 1] = cjson.encode(t) end
    result[#result + 1] = '{"incident_id":"' .. inc[1] .. '",' .. inc[2]
      .. ',"type":' .. cjson.encode(inc[6]) .. ',"types":[' .. table.concat(types, ',') .. '],'
      .. inc[7] .. ',"started_at":' .. inc[3] .. ',"ends_at":' .. inc[4]
      .. ',"alert_count":' .. inc[5] .. '}'
  end
end
return result
"""
