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
local function encode_record(issued, ends, atype, category, name_json, cause)
  return '{"i":' .. num(issued) .. ',"e":' .. num(ends) .. ',"t":' .. cjson.encode(atype)
    .. ',"c":' .. cjson.encode(category) .. ',"n":' .. name_json
    .. ',"f":' .. cjson.encode(cause) .. '}'
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
    'last_cat', 'last_name')
  local ends = inc[4]
  if ended_by and ended_by < tonumber(ends) then ends = num(ended_by) end
  return '"kind":"close","reason":"' .. reason .. '",' .. inc[2]
    .. ',"type":' .. cjson.encode(inc[6]) .. ',"category":' .. cjson.encode(inc[7])
    .. ',"source_name":' .. inc[8] .. ',' .. cause_frag
    .. ',"incident_id":"' .. inc[1] .. '","started_at":' .. inc[3]
    .. ',"ends_at":' .. ends .. ',"alert_count":' .. inc[5]
end
