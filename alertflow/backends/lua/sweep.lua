-- KEYS[1] = P. ARGV: now_ms, stream_maxlen, epoch_candidate, limit. Closes ended windows
-- (those from before hazards first, then the (hazard, area) windows, each in ends_at order);
-- returns {closed, still open}.
local now, maxlen, limit = ARGV[1], ARGV[2], tonumber(ARGV[4])
local legacy = redis.call('ZRANGEBYSCORE', P .. LEGACY_DUE, '-inf', now, 'LIMIT', 0, limit)
local due = redis.call('ZRANGEBYSCORE', P .. DUE, '-inf', now, 'LIMIT', 0, limit - #legacy)
local function still_open()
  return redis.call('ZCARD', P .. DUE) + redis.call('ZCARD', P .. LEGACY_DUE)
end
if #legacy + #due == 0 then return {0, still_open()} end
ensure_epoch(ARGV[3])
local events = {}
for _, set in ipairs({{LEGACY_DUE, legacy}, {DUE, due}}) do
  for _, member in ipairs(set[2]) do
    local key = (set[1] == DUE) and window_key(member) or (P .. 'inc:' .. member)
    if redis.call('EXISTS', key) == 1 then
      emit(events, close_body(key, member, 'expired', NULL_CAUSE, nil), maxlen)
      redis.call('DEL', key)
    end
    redis.call('ZREM', P .. set[1], member)
  end
end
publish(events)
return {#events, still_open()}
