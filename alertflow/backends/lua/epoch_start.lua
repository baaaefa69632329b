-- KEYS[1] = P. ARGV: epoch_candidate. Where the current epoch began: {epoch, seq X, the
-- incidents open at X...}; a notifier resyncs its clients to that, then replays the events
-- after X from the stream.
local result = {ensure_epoch(ARGV[1]), redis.call('GET', P .. 'epoch_seq') or '0'}
for _, view in ipairs(redis.call('LRANGE', P .. 'epoch_snapshot', 0, -1)) do
  result[#result + 1] = view
end
return result
