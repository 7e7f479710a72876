-- Rotates through prepared requests, so every connection uses many tokens and resources.
--
-- The request list comes from the file named by POSTVENTA_BENCH_REQUESTS (written by bench/run.py),
-- one request a line: METHOD <tab> PATH <tab> TOKEN <tab> BODY <tab> KIND. Requests are formatted
-- once in init(); request() only picks the next one. Each thread starts at its own place.
-- done() prints one JSON line (prefix POSTVENTA_RESULT) with wrk's counts, latency percentiles and
-- how many requests of each KIND the threads issued (bench/run.py checks writes against it).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local prepared = {}
local kinds = {}
local counter = 0
issued = {}

function init(args)
  local path = os.getenv("POSTVENTA_BENCH_REQUESTS")
  for line in io.lines(path) do
    local method, target, token, body, kind =
      line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if body ~= "" then
      headers["Content-Type"] = "application/json"
    else
      body = nil
    end
    table.insert(prepared, wrk.format(method, target, headers, body))
    table.insert(kinds, kind)
  end
  counter = (id or 0) * 7919
end

function request()
  counter = counter + 1
  local index = (counter % #prepared) + 1
  local kind = kinds[index]
  issued[kind] = (issued[kind] or 0) + 1
  return prepared[index]
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("issued")
    for kind, n in pairs(counts) do totals[kind] = (totals[kind] or 0) + n end
  end
  local parts = {}
  for kind, n in pairs(totals) do table.insert(parts, string.format('"%s":%d', kind, n)) end
  local e = summary.errors
  io.write(string.format(
    'POSTVENTA_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,' ..
    '"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"issued":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, table.concat(parts, ",")))
end
