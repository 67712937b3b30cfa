-- report.lua - the done() of the wrk scripts of `make bench` (dofile'd by
-- post.lua and get_job.lua): one machine-readable line for bench/run.py,
-- latencies in microseconds. lat_pcts is the latency at a grid of
-- percentiles, from which run.py merges the slices of one target
-- (bench/README.md, "Interleaved slices").
local GRID = {10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 91, 92, 93, 94, 95, 96, 97, 98,
              99, 99.1, 99.2, 99.3, 99.4, 99.5, 99.6, 99.7, 99.8, 99.9, 99.95, 99.99}

function done(summary, latency, requests)
  local e = summary.errors
  local pcts = {}
  for i, p in ipairs(GRID) do
    pcts[i] = string.format("[%g,%d]", p, latency:percentile(p))
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_min_us":%d,' ..
    '"lat_max_us":%d,"lat_pcts":[%s]}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.min, latency.max, table.concat(pcts, ",")))
end
