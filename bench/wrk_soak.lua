-- wrk script for bench/soak.sh: a mix of OpenAI chat requests at a paced rate.
--
-- Environment:
--   SOAK_KEY          sent as "Authorization: Bearer <key>"
--   SOAK_MODEL        the model of plain requests
--   SOAK_STREAM_MODEL the model of streamed requests
--   SOAK_STREAM_PCT   percent of requests that stream (default 10)
--   SOAK_DELAY_MS     pause of each connection between its requests (default 0: as fast as it can)
--
-- done() prints one machine-readable line starting with "SOAK " that soak.sh parses.

local key = os.getenv("SOAK_KEY")
local model = os.getenv("SOAK_MODEL") or "mock/bench-model"
local stream_model = os.getenv("SOAK_STREAM_MODEL") or model
local stream_pct = tonumber(os.getenv("SOAK_STREAM_PCT") or "10")
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0")

local filler = string.rep("lorem ipsum ", 160) -- about 2 KB of prompt
local plain = '{"model":"' .. model .. '","max_tokens":16,"messages":[{"role":"user","content":"' .. filler .. '"}]}'
local streamed = '{"model":"' .. stream_model .. '","max_tokens":16,"stream":true,'
  .. '"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"' .. filler .. '"}]}'

local headers = {["Content-Type"] = "application/json"}
if key and key ~= "" then
  headers["Authorization"] = "Bearer " .. key
end

function setup(thread)
  thread:set("id", math.random(1, 1000000))
end

function init(args)
  math.randomseed(id or os.time())
end

function request()
  if math.random(100) <= stream_pct then
    return wrk.format("POST", nil, headers, streamed)
  end
  return wrk.format("POST", nil, headers, plain)
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  io.write(string.format("SOAK requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f err_connect=%d err_read=%d "
      .. "err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
