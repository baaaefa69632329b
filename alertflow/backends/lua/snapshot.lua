-- KEYS[1] = P. ARGV: epoch_candidate. Returns {epoch, seq, incident JSON...}, atomically.
local result = {ensure_epoch(ARGV[1]), redis.call('GET', P .. 'seq') or '0'}
for _, view in ipairs(incident_views()) do result[#result + 1] = view end
return result
