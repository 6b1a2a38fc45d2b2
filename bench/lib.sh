# Shared by the bench scripts that run the headless gateway in front of tests/mock's mock_upstream
# (cpu_per_request.sh, callgrind_request.sh, rss.sh). Source it; it defines functions only.
# The callers keep `pids` (an array: processes their cleanup stops) and `OUT` (their temp dir).

# bench_start_mock MOCK_BIN [ARGS...]: starts the mock on a free port, logging to $OUT/mock.log;
# sets mock_port. Exits the script when it does not start within 10 s.
bench_start_mock() {
  local bin="$1"
  shift
  "$bin" --port 0 "$@" >"$OUT/mock.log" 2>&1 &
  pids+=($!)
  mock_port=""
  for _ in $(seq 100); do
    mock_port="$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$OUT/mock.log")"
    [[ -n "$mock_port" ]] && return 0
    sleep 0.1
  done
  echo "mock_upstream did not start: $(cat "$OUT/mock.log")" >&2
  exit 1
}

# bench_write_config KEY: $OUT/config.json with one priced model on the mock and one key, and
# $OUT/data for the gateway's data dir.
bench_write_config() {
  mkdir -p "$OUT/data"
  cat >"$OUT/config.json" <<JSON
{
  "providers": [{"id": "mock", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/v1", "api_key_env": "BENCH_UPSTREAM_KEY"}],
  "models": [{"id": "mock/bench-model", "provider": "mock", "upstream_model": "ok",
              "pricing": {"input": 0.40, "output": 1.60, "cache_read": 0.10, "cache_write": 0.0},
              "context_window": 1047576, "max_output_tokens": 32768}],
  "keys": [{"name": "bench", "secret": "$1", "guardrails": {"repetition": "alert"}}]
}
JSON
}

# bench_wait_gateway PID TENTHS: waits up to TENTHS × 0.1 s for the gateway's listening line in
# $OUT/stdout.log; sets port. Exits the script when the gateway exits or does not start in time.
bench_wait_gateway() {
  local pid="$1" tries="$2"
  port=""
  for _ in $(seq "$tries"); do
    port="$(sed -n 's#^Gatehouse gateway listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$OUT/stdout.log")"
    [[ -n "$port" ]] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the gateway did not start: $(cat "$OUT/stderr.log")" >&2
  exit 1
}
