-- wrk: after the run, one line with the rate, the latency percentiles in ms
-- and the failures (status errors are the responses over 399).
function done(summary, latency, requests)
  io.write(string.format(
    "RESULT rate=%.1f p50=%.3f p95=%.3f p99=%.3f errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
