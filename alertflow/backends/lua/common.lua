-- Helpers shared by every script: the loader puts this file before each of them.
--
-- Source strings (types, names, titles) reach these scripts only as whole arguments or as
-- JSON an encoder produced; an incident's alert records are JSON written here with
-- cjson.encode and read back with cjson.decode, so no text a source sent is ever split.
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

-- Byte order, as Python orders str: Lua's `<` on strings follows the server's locale.
local function bytes_less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- A window shows its last issued real alert, else its last early warning (ties: by id).
local function rank(category)
  if category == 'early_warning' then return 0 end
  return 1
end

local function outranks(r, issued, id, last_r, last_issued, last_id)
  if last_r == nil then return true end
  if r ~= last_r then return r > last_r end
  if issued ~= last_issued then return issued > last_issued end
  return bytes_less(last_id, id)
end

-- An alert record as stored in the incident's hash ("a:<id>").
-- `group`: the message it came from ('' for none), for messages that supersede it.
-- `source`: its source, for that source's all-clears (records written before hazards have none).
local function encode_record(issued, ends, atype, category, name_json, cause, group, source)
  return '{"i":' .. num(issued) .. ',"e":' .. num(ends) .. ',"t":' .. cjson.encode(atype)
    .. ',"c":' .. cjson.encode(category) .. ',"n":' .. name_json
    .. ',"f":' .. cjson.encode(cause) .. ',"g":' .. cjson.encode(group or '')
    .. ',"s":' .. cjson.encode(source or '') .. '}'
end

-- Windows are per (hazard, area): hash P.."win:"..member, member = hazard..":"..location, due
-- in the sorted set P.."wdue". Windows a version before hazards opened (P.."inc:"..location,
-- due in P.."due") are still shown, swept and ended by all-clears as then, until they end.
local function window_key(member) return P .. 'win:' .. member end
local LEGACY_DUE, DUE = 'due', 'wdue'

-- A window's hazard: the one it was opened with, else (a window from before hazards) the
-- hazard of the category it shows, by domain/hazards.py's table (HAZARD_OF, appended below).
local function hazard_field(hz, category)
  return ',"hazard":' .. cjson.encode(hz or HAZARD_OF[category] or 'general')
end

-- Deletes an incident's alerts whose group is a key of `groups`; true when it deleted any.
local function drop_groups(key, groups)
  local fields = redis.call('HGETALL', key)
  local dropped = false
  for i = 1, #fields, 2 do
    local name = fields[i]
    if string.sub(name, 1, 2) == 'a:' then
      local g = cjson.decode(fields[i + 1]).g
      if g and groups[g] then
        redis.call('HDEL', key, name)
        dropped = true
      end
    end
  end
  return dropped
end

-- Distinct types, in the order first seen (Python sorts them for snapshots).
local function add_type(key, atype)
  local stored = redis.call('HGET', key, 'types')
  local list = {}
  if stored then list = cjson.decode(stored) end
  for _, t in ipairs(list) do
    if t == atype then return end
  end
  list[#list + 1] = atype
  redis.call('HSET', key, 'types', cjson.encode(list))
end

-- Recompute an incident's cached summary from its alerts; returns false when it has none.
local function summarize(key)
  local fields = redis.call('HGETALL', key)
  local started, ends, count = nil, nil, 0
  local last = {}
  local types, list = {}, {}
  for i = 1, #fields, 2 do
    local name = fields[i]
    if string.sub(name, 1, 2) == 'a:' then
      local id = string.sub(name, 3)
      local record = cjson.decode(fields[i + 1])
      local issued, e, r = record.i, record.e, rank(record.c)
      count = count + 1
      if started == nil or issued < started then started = issued end
      if ends == nil or e > ends then ends = e end
      if outranks(r, issued, id, last.r, last.issued, last.id) then
        last = {r = r, issued = issued, id = id, record = record}
      end
      if not types[record.t] then
        types[record.t] = true
        list[#list + 1] = record.t
      end
    end
  end
  if count == 0 then return false end
  local shown = last.record
  redis.call('HSET', key, 'started', num(started), 'ends', num(ends), 'count', count,
    'last_rank', last.r, 'last_issued', num(last.issued), 'last_id', last.id,
    'last_type', shown.t, 'last_cat', shown.c, 'last_name', cjson.encode(shown.n),
    'last_frag', shown.f, 'types', cjson.encode(list))
  return true
end

-- `ended_by`: when an all-clear ends the window early, the window's end is the all-clear's time.
local function close_body(key, loc, reason, cause_frag, ended_by)
  local inc = redis.call('HMGET', key, 'iid', 'loc', 'started', 'ends', 'count', 'last_type',
    'last_cat', 'last_name', 'hz')
  local ends = inc[4]
  if ended_by and ended_by < tonumber(ends) then ends = num(ended_by) end
  return '"kind":"close","reason":"' .. reason .. '",' .. inc[2]
    .. ',"type":' .. cjson.encode(inc[6]) .. ',"category":' .. cjson.encode(inc[7])
    .. hazard_field(inc[9], inc[7])
    .. ',"source_name":' .. inc[8] .. ',' .. cause_frag
    .. ',"incident_id":"' .. inc[1] .. '","started_at":' .. inc[3]
    .. ',"ends_at":' .. ends .. ',"alert_count":' .. inc[5]
end

-- The open incidents as snapshots show them, one JSON object each.
local function incident_views()
  local views = {}
  for _, due in ipairs({LEGACY_DUE, DUE}) do
    for _, member in ipairs(redis.call('ZRANGE', P .. due, 0, -1)) do
      local key = (due == DUE) and window_key(member) or (P .. 'inc:' .. member)
      local inc = redis.call('HMGET', key, 'iid', 'loc', 'started', 'ends', 'count',
        'last_type', 'last_frag', 'types', 'last_cat', 'last_name', 'hz')
      if inc[1] then
        views[#views + 1] = '{"incident_id":"' .. inc[1] .. '",' .. inc[2]
          .. ',"type":' .. cjson.encode(inc[6]) .. ',"category":' .. cjson.encode(inc[9])
          .. hazard_field(inc[11], inc[9])
          .. ',"source_name":' .. inc[10] .. ',"types":' .. inc[8] .. ','
          .. inc[7] .. ',"started_at":' .. inc[3] .. ',"ends_at":' .. inc[4]
          .. ',"alert_count":' .. inc[5] .. '}'
      end
    end
  end
  return views
end

-- The stream's epoch, changed whenever its history may have been rolled back: when the server
-- running this script is not the one whose replication history wrote the stream (a replica
-- promoted after the master died, with or without its last writes; a restart that reloaded an
-- AOF, which may lack its last second). Every script calls this before its first write, so a
-- new epoch starts exactly where the surviving history ends: at seq X, with the incidents open
-- at X kept in P.."epoch_snapshot" for notifiers to resync their clients from, followed by the
-- events after X. `candidate` (random per caller) names a new epoch.
local function ensure_epoch(candidate)
  local info = redis.call('INFO', 'replication')
  local replid = string.match(info, 'master_replid:(%w+)')
  local epoch = redis.call('GET', P .. 'epoch')
  local stored = redis.call('GET', P .. 'replid')
  if epoch and stored == replid then return epoch end
  if epoch and not stored then
    -- Written before epochs followed the replication id: adopt this server's.
    redis.call('SET', P .. 'replid', replid)
    return epoch
  end
  local seq = redis.call('GET', P .. 'seq') or '0'
  if epoch then epoch = candidate .. '.' .. string.sub(replid, 1, 8) .. '.' .. seq
  else epoch = candidate end
  redis.call('SET', P .. 'epoch', epoch)
  redis.call('SET', P .. 'replid', replid)
  redis.call('SET', P .. 'epoch_seq', seq)
  redis.call('DEL', P .. 'epoch_snapshot')
  local views = incident_views()
  for i = 1, #views, 500 do  -- unpack has a stack limit: a few hundred at a time
    redis.call('RPUSH', P .. 'epoch_snapshot', unpack(views, i, math.min(i + 499, #views)))
  end
  return epoch
end
