-- wrk script: every request carries "X-Session-Token: tok-NNNNNN" for a token drawn at random
-- from 1..N (uniform), so a gateway in front of N stored sessions mostly misses its cache.
--
--   wrk -t1 -c32 -d30s -s tokens-random.lua http://127.0.0.1:18283/ -- 1000000
--
-- done() prints the same "BENCH key=value ..." line as tokens.lua.
local n = 1000000
local headers = {}

function init(args)
   n = tonumber(args[1]) or n
   for k, v in pairs(wrk.headers) do headers[k] = v end
   math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
   headers["X-Session-Token"] = string.format("tok-%06d", math.random(1, n))
   return wrk.format(nil, nil, headers)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d " ..
      "max_us=%d mean_us=%.1f err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
