-- KEYS[1] = P. ARGV: now_ms, stream_maxlen, epoch_candidate, limit. Closes ended windows;
-- returns {closed, still open}.
local now, maxlen, limit = ARGV[1], ARGV[2], tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, limit)
if #due == 0 then return {0, redis.call('ZCARD', P .. 'due')} end
ensure_epoch(ARGV[3])
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
