-- wrk script: OpenAI chat requests shaped like an agent's, for the secret scan's share of a request.
--
-- Environment:
--   BENCH_CONVERSATION  "grow"  (default): each request is the previous one plus one new ~500-byte
--                                message, as an agent resends its whole conversation every turn; after
--                                BENCH_TURNS turns a new conversation starts (a different first message).
--                       "nonce": a fixed ~BENCH_BODY_BYTES body whose last message holds a counter,
--                                so no two bodies are the same (what a scan costs when nothing is reused).
--   BENCH_BODY_BYTES    "nonce" body size (default 2048); "grow": the first message's size (default 2048)
--   BENCH_TURNS         "grow": turns per conversation (default 64: ~2 KB to ~34 KB)
--   BENCH_MODEL, BENCH_KEY, BENCH_MAX_REQUESTS: as in wrk_chat.lua
--
-- done() prints the same "BENCH " line as wrk_chat.lua.

local mode = os.getenv("BENCH_CONVERSATION") or "grow"
local size = tonumber(os.getenv("BENCH_BODY_BYTES") or "2048")
local turns = tonumber(os.getenv("BENCH_TURNS") or "64")
local model = os.getenv("BENCH_MODEL") or "bench-model"
local key = os.getenv("BENCH_KEY")
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

-- Text like an agent's turns: prose and code words, so the scan's keyword prefilter sees what it
-- sees in real prompts ("token", "key", "auth" occur; no secret does).
local words = { "the", "function", "returns", "token", "count", "for", "each", "request", "key", "value",
  "auth", "header", "cache", "config", "file", "line", "error", "handler", "struct", "const", "int",
  "string", "view", "offset", "length", "buffer", "worker", "thread", "budget", "model" }
local function text(seed, n)
  local out, i = {}, 0
  local len = 0
  while len < n do
    i = i + 1
    local w = words[(seed * 7 + i * 13) % #words + 1]
    out[#out + 1] = w
    len = len + #w + 1
  end
  return table.concat(out, " "):sub(1, n)
end

-- Numbered from the clock, so that a second run (the measured one after a warm-up) sends none of
-- the first run's bodies again.
local counter = (os.time() % 100000) * 100000
local conversation = counter
local messages = {}
local head = '{"model":"' .. model .. '","max_tokens":16,"messages":['
local tail = ']}'

local function message(role, content)
  return '{"role":"' .. role .. '","content":"' .. content .. '"}'
end

function request()
  counter = counter + 1
  local body
  if mode == "nonce" then
    local first = message("user", text(1, math.max(1, size - 140)))
    body = head .. first .. "," .. message("user", "turn " .. counter .. " of the bench") .. tail
  else
    if #messages == 0 or #messages >= turns then
      conversation = conversation + 1
      messages = { message("user", "conversation " .. conversation .. ": " .. text(conversation, size)) }
    else
      local role = (#messages % 2 == 1) and "assistant" or "user"
      messages[#messages + 1] = message(role, "turn " .. #messages .. ": " .. text(counter, 500))
    end
    body = head .. table.concat(messages, ",") .. tail
  end
  return wrk.format(nil, nil, nil, body)
end

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
    e.connect, e.read, e.write, e.status, e.timeout, 0))
end
