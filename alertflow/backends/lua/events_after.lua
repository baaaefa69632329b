-- KEYS[1] = P. ARGV: epoch_candidate, since, limit. Returns {epoch, oldest seq in the stream
-- ('' if empty), last seq, then the JSON of up to `limit` events after `since`}, atomically.
local epoch = ensure_epoch(ARGV[1])
local entries = redis.call('XRANGE', P .. 'stream', '(' .. ARGV[2] .. '-0', '+', 'COUNT', ARGV[3])
local first = redis.call('XRANGE', P .. 'stream', '-', '+', 'COUNT', 1)
local result = {epoch, first[1] and first[1][1] or '', redis.call('GET', P .. 'seq') or '0'}
for _, entry in ipairs(entries) do result[#result + 1] = entry[2][2] end
return result
