-- A mix of what Qualiplan's users do at once, for wrk: page views and
-- certificate downloads with an HR login, calendar feeds, and attendance
-- writes through the API. The requests come from requests.lua, which
-- bench/load/run_load.py writes before the run.
--
-- Responses are counted by what they are (content type and status), since
-- wrk's response() does not say which request it answers; an attendance
-- write is acknowledged when it answers 200 with the recorded mark.

local requests = dofile(os.getenv("QUALIPLAN_LOAD_REQUESTS"))
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = math.random(1, #requests)
  acked, pages, feeds, pdfs, unavailable, failed, redirected = 0, 0, 0, 0, 0, 0, 0
  server_errors = 0
end

function request()
  counter = counter % #requests + 1
  local r = requests[counter]
  return wrk.format(r.method, r.path, r.headers, r.body)
end

function response(status, headers, body)
  local kind = headers["Content-Type"] or ""
  if status == 503 then
    unavailable = unavailable + 1
  elseif status >= 400 then
    failed = failed + 1
    if status >= 500 then server_errors = server_errors + 1 end
  elseif status >= 300 then
    redirected = redirected + 1
  elseif kind:find("application/json", 1, true) and body:find('"recorded_at"', 1, true) then
    acked = acked + 1
  elseif kind:find("text/calendar", 1, true) then
    feeds = feeds + 1
  elseif kind:find("application/pdf", 1, true) then
    pdfs = pdfs + 1
  elseif kind:find("text/html", 1, true) then
    pages = pages + 1
  end
end

function done(summary, latency, requests)
  local totals = {
    acked = 0, pages = 0, feeds = 0, pdfs = 0, unavailable = 0, failed = 0, redirected = 0,
    server_errors = 0
  }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f p50=%.2f p95=%.2f p99=%.2f max=%.2f " ..
    "acked=%d pages=%d feeds=%d pdfs=%d unavailable=%d failed=%d redirected=%d " ..
    "server_errors=%d " ..
    "socket_errors=%d timeouts=%d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    totals.acked, totals.pages, totals.feeds, totals.pdfs, totals.unavailable, totals.failed,
    totals.redirected, totals.server_errors,
    summary.errors.connect + summary.errors.read + summary.errors.write,
    summary.errors.timeout))
end
