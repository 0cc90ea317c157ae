-- wrk script for scripts/bench: POST /v1/events with unique event ids, from the ingest feed whose
-- token is in AYUMI_BENCH_TOKEN. AYUMI_BENCH_BATCH events per request (walks of residents
-- bench-0 … bench-(AYUMI_BENCH_RESIDENTS-1) on AYUMI_BENCH_DATE).
local token = os.getenv("AYUMI_BENCH_TOKEN")
local date = os.getenv("AYUMI_BENCH_DATE")
local residents = tonumber(os.getenv("AYUMI_BENCH_RESIDENTS") or "1000")
local batch = tonumber(os.getenv("AYUMI_BENCH_BATCH") or "1")
local path = os.getenv("AYUMI_BENCH_PATH") or "/v1/events"
local threads = 0
local counter = 0

-- AYUMI_BENCH_RUN makes the ids of one wrk run differ from another's against the same server.
local run = os.getenv("AYUMI_BENCH_RUN") or "r0"

function setup(thread)
  threads = threads + 1
  thread:set("prefix", run .. "-t" .. threads)
end

function init(args)
  counter = 0
  prefix = prefix or "t0" -- set per thread by setup()
end

request = function()
  local events = {}
  for i = 1, batch do
    counter = counter + 1
    local resident = "bench-" .. (counter * 7919 % residents)
    events[i] = string.format('{"id":"%s-%d","kind":"walk","resident":"%s","date":"%s","steps":%d,"source":"phone"}',
      prefix, counter, resident, date, 2000 + (counter * 104729) % 12000)
  end
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    "[" .. table.concat(events, ",") .. "]")
end
