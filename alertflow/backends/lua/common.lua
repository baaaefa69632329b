-- Helpers shared by every script: the loader puts this file before each of them.
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
