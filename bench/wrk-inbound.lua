-- wrk's closed loop for the bench (bench/wrk.ts runs it): `wrk ... -s wrk-inbound.lua <url> -- <shape> <offset> <threads>`.
-- Request k of thread t is number N = offset + k * threads + t, so numbers never repeat across
-- threads, and the bench moves offset past the last run's numbers. shape "inbound" sends the
-- Kannel MO of bench/load.ts's inboundPath(N), "hello" its helloPath(N).
-- done() prints one JSON line: wrk's counts, latency percentiles in µs, and each thread's count.

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  shape = args[1]
  offset = tonumber(args[2])
  stride = tonumber(args[3])
  issued = 0
end

local function path(n)
  if shape == "hello" then
    return string.format("/?n=%d", n)
  end
  return string.format(
    "/backend/kannel/?id=%%2B2557%08d&text=echo+m%d&charset=UTF-8&coding=0&msgid=bench-%d",
    n % 10000,
    n,
    n
  )
end

function request()
  local n = offset + issued * stride + thread_id
  issued = issued + 1
  return wrk.format("GET", path(n))
end

function done(summary, latency, requests)
  local counts = {}
  for i, thread in ipairs(threads) do
    counts[i] = string.format("%d", thread:get("issued"))
  end
  local e = summary.errors
  io.write(
    string.format(
      '{"durationUs":%d,"requests":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"issued":[%s]}\n',
      summary.duration,
      summary.requests,
      e.connect,
      e.read,
      e.write,
      e.status,
      e.timeout,
      latency:percentile(50),
      latency:percentile(99),
      latency.max,
      table.concat(counts, ",")
    )
  )
  io.flush()
end
