-- wrk script for benches/fpm_bench.sh: done() prints one line to parse:
--   result REQUESTS DURATION_US P50_US P99_US ERRORS
-- (ERRORS: connect/read/write/timeout errors plus non-2xx/3xx answers).
-- A round is bounded by wrk's -d: wrk's main thread sleeps for -d whatever
-- the threads do, so a request-count limit here would not shorten it.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("result %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
