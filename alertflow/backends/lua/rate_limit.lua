-- One source's token bucket, shared by every listener (GCRA: one number per source).
-- KEYS[1] = the source's key. ARGV: interval_us (1e6 / rate), burst, cost.
-- Returns 0 when granted, otherwise the microseconds to wait (nothing is taken then).
-- Redis's own clock, so listeners' clocks never disagree about a shared budget.
local interval, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + cost * interval
local allowed_at = new_tat - burst * interval
-- Rounded up: a wait under a microsecond must not read as 0, "granted".
if allowed_at > now then return math.ceil(allowed_at - now) end
-- The key lives only while the bucket is not full again: an idle source costs nothing.
-- (At least 1 ms: at very high rates the interval is below a double's precision here.)
local ttl = math.max(1, math.ceil((new_tat - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
return 0
