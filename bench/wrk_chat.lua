-- wrk script for bench/run.sh: POSTs one OpenAI chat request of a fixed size, over and over.
--
-- Environment:
--   BENCH_BODY_BYTES    exact size of the JSON body in bytes (default 2048)
--   BENCH_MODEL         the "model" field (default "bench-model")
--   BENCH_KEY           when set, sent as "Authorization: Bearer <key>"
--   BENCH_MAX_REQUESTS  when > 0, each wrk thread stops after this many responses
--
-- done() prints one machine-readable line starting with "BENCH " that run.sh parses.

local size = tonumber(os.getenv("BENCH_BODY_BYTES") or "2048")
local model = os.getenv("BENCH_MODEL") or "bench-model"
local key = os.getenv("BENCH_KEY")
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")

local head = '{"model":"' .. model .. '","max_tokens":16,"messages":[{"role":"user","content":"'
local tail = '"}]}'
local pad = size - #head - #tail
if pad < 1 then
  pad = 1
end
local filler = string.rep("lorem ipsum ", math.ceil(pad / 12)):sub(1, pad)

wrk.method = "POST"
wrk.body = head .. filler .. tail
wrk.headers["Content-Type"] = "application/json"
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

-- Only defined when needed: a response() callback makes wrk hand every response to Lua.
if max_requests > 0 then
  local seen = 0
  function response(status, headers, body)
    seen = seen + 1
    if seen >= max_requests then
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f mean_us=%.1f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d body_bytes=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, #wrk.body))
end
