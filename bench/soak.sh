#!/usr/bin/env bash
# A soak run of the gateway: SOAK_MINUTES (default 30) minutes at SOAK_LOAD_PCT (default 50) percent
# of its measured peak, SOAK_STREAM_PCT (default 10) percent of the requests streamed, and
# SOAK_FAIL_PCT (default 5) percent of upstream calls failing with a 503 (the gateway retries them).
# Every minute it prints the minute's requests/s, p50 and p99, errors, and the gateway's RSS, open
# file descriptors and threads; at the end, whether p99, RSS and descriptors stayed flat.
#
#   bench/soak.sh                      # 30 minutes
#   SOAK_MINUTES=3 bench/soak.sh       # a quick check of the script itself
#
# Environment: GATEHOUSE_BIN (default ./build/gatehouse), SOAK_REPORT (also write the markdown
# table there), BENCH_TARGET_CPU / BENCH_LOAD_CPU (default 0 / 1: the gateway and the mock on one
# core, the load on the other, as bench/run.sh). Needs nginx, wrk, taskset, curl.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
GATEHOUSE_BIN="${GATEHOUSE_BIN:-./build/gatehouse}"
MINUTES="${SOAK_MINUTES:-30}"
LOAD_PCT="${SOAK_LOAD_PCT:-50}"
STREAM_PCT="${SOAK_STREAM_PCT:-10}"
FAIL_PCT="${SOAK_FAIL_PCT:-5}"
CONNS="${SOAK_CONNS:-16}"
TARGET_CPU="${BENCH_TARGET_CPU:-0}"
LOAD_CPU="${BENCH_LOAD_CPU:-1}"
KEY="gk-soak-0000000000000001"

log() { echo "soak: $*" >&2; }
die() { echo "soak: $*" >&2; exit 1; }
for tool in nginx wrk taskset curl awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install nginx-light wrk util-linux curl)"
done
[[ -x "$GATEHOUSE_BIN" ]] || die "no gatehouse binary at $GATEHOUSE_BIN (set GATEHOUSE_BIN)"
GATEHOUSE_BIN="$(cd "$(dirname "$GATEHOUSE_BIN")" && pwd)/$(basename "$GATEHOUSE_BIN")"

work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-soak.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  die "$2 did not listen on port $1"
}

# --- the mock upstream: nginx, with FAIL_PCT percent of its answers a 503 (split_clients) -----------
chat_json='{"id":"chatcmpl-soak","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the soak mock."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":520,"completion_tokens":7,"total_tokens":527}}'
sse=''
for word in Hello ' from' ' the' ' soak' ' mock.'; do
  sse+="data: {\"id\":\"chatcmpl-soak\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"$word\"},\"finish_reason\":null}]}\\n\\n"
done
sse+='data: {"id":"chatcmpl-soak","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":520,"completion_tokens":5,"total_tokens":525}}\n\n'
sse+='data: [DONE]\n\n'
overload='{"error":{"message":"overloaded (soak mock)","type":"server_error"}}'
mock_port="$(free_port)"
mkdir -p "$work/mock/logs" "$work/mock/tmp"
nginx_user=""
[[ "$(id -u)" == 0 ]] && nginx_user="user root;"
cat >"$work/mock/nginx.conf" <<EOF
$nginx_user
worker_processes 1;
daemon off;
pid $work/mock/nginx.pid;
error_log $work/mock/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/mock/tmp/body;
  proxy_temp_path $work/mock/tmp/proxy;
  fastcgi_temp_path $work/mock/tmp/fastcgi;
  uwsgi_temp_path $work/mock/tmp/uwsgi;
  scgi_temp_path $work/mock/tmp/scgi;
  client_max_body_size 64m;
  client_body_buffer_size 1m;
  keepalive_requests 10000000;
  split_clients "\${request_id}" \$soak_fail { $( ((FAIL_PCT > 0)) && echo "${FAIL_PCT}% 1;") * 0; }
  server {
    listen 127.0.0.1:$mock_port backlog=4096;
    location = /v1/chat/completions {
      default_type application/json;
      if (\$soak_fail) { return 503 '$overload'; }
      return 200 '$chat_json';
    }
    location = /sse/v1/chat/completions {
      default_type text/event-stream;
      if (\$soak_fail) { return 503 '$overload'; }
      return 200 '$sse';
    }
    location / { return 404; }
  }
}
EOF
taskset -c "$TARGET_CPU" nginx -e "$work/mock/logs/error.log" -p "$work/mock" -c "$work/mock/nginx.conf" >"$work/mock/logs/out.log" 2>&1 &
pids+=($!)
wait_port "$mock_port" "the mock"

# --- the gateway ------------------------------------------------------------------------------------
# Two providers on the mock behind one weighted route (and two for streams): a failed call fails over
# to the other target at once, as a user's route does, rather than waiting out a retry backoff, which
# would put the backoff (hundreds of ms) into the p99 of the 5% that fail. Failures are random, not an
# outage, so the breaker opens only after 20 in a row (never, at 5%), not after the default 3. When both
# targets fail (0.25% of requests) the retry waits 0-20 ms, not the default 0-500 ms: with the default,
# those waits alone were wrk's p99 (295 ms, against 4.6 ms measured request by request).
# The load repeats two bodies, which is what the repetition guardrail pauses (every request after the
# fifth would be refused): it only alerts here, so every request still goes through the guardrails.
mkdir -p "$work/gatehouse/data"
cat >"$work/gatehouse/config.json" <<EOF
{
  "providers": [
    {"id": "mock", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/v1", "api_key_env": "SOAK_UPSTREAM_KEY"},
    {"id": "mockb", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/v1", "api_key_env": "SOAK_UPSTREAM_KEY"},
    {"id": "mocksse", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/sse/v1", "api_key_env": "SOAK_UPSTREAM_KEY"},
    {"id": "mockbsse", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/sse/v1", "api_key_env": "SOAK_UPSTREAM_KEY"}
  ],
  "models": [
$(for p in mock mockb mocksse mockbsse; do
    echo "    {\"id\": \"$p/bench-model\", \"provider\": \"$p\", \"upstream_model\": \"bench-model\","
    echo "     \"pricing\": {\"input\": 0.40, \"output\": 1.60}, \"context_window\": 1047576, \"max_output_tokens\": 32768}$([[ $p == mockbsse ]] || echo ,)"
  done)
  ],
  "routes": [
    {"id": "soak", "strategy": "weighted", "targets": [{"model": "mock/bench-model"}, {"model": "mockb/bench-model"}]},
    {"id": "soak-sse", "strategy": "weighted", "targets": [{"model": "mocksse/bench-model"}, {"model": "mockbsse/bench-model"}]}
  ],
  "keys": [{"name": "soak", "secret": "$KEY", "guardrails": {"repetition": "alert"}}],
  "settings": {"breaker": {"failure_threshold": 20}, "retry": {"backoff_base_ms": 5, "backoff_max_ms": 20}}
}
EOF
SOAK_UPSTREAM_KEY=sk-soak-upstream-0001 taskset -c "$TARGET_CPU" "$GATEHOUSE_BIN" --headless --port 0 \
  --data-dir "$work/gatehouse/data" --config "$work/gatehouse/config.json" \
  >"$work/gatehouse/stdout.log" 2>"$work/gatehouse/stderr.log" &
gh_pid=$!
pids+=("$gh_pid")
gh_port=""
for _ in $(seq 300); do
  gh_port="$(sed -n 's#^Gatehouse gateway listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$work/gatehouse/stdout.log" | head -1)"
  [[ -n "$gh_port" ]] && break
  kill -0 "$gh_pid" 2>/dev/null || die "gatehouse exited: $(cat "$work/gatehouse/stderr.log")"
  sleep 0.1
done
[[ -n "$gh_port" ]] || die "gatehouse did not start"
url="http://127.0.0.1:$gh_port/v1/chat/completions"
log "gatehouse (pid $gh_pid) on 127.0.0.1:$gh_port, mock on $mock_port, $FAIL_PCT% upstream 503s"

run_wrk() { # seconds delay_ms -> the SOAK line
  SOAK_KEY="$KEY" SOAK_MODEL=soak SOAK_STREAM_MODEL=soak-sse SOAK_STREAM_PCT="$STREAM_PCT" \
    SOAK_DELAY_MS="$2" taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$1s" --timeout 10s -s "$here/wrk_soak.lua" "$url" 2>&1 \
    | grep '^SOAK ' || die "wrk printed no result"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
proc_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# --- peak, then the paced soak ------------------------------------------------------------------------
run_wrk 3 0 >/dev/null # warm-up
line="$(run_wrk 10 0)"
peak="$(awk -v n="$(field requests "$line")" -v us="$(field duration_us "$line")" 'BEGIN { printf "%.0f", n / (us / 1e6) }')"
# A soak of refusals measures nothing: the gateway retries the mock's 503s, so nearly every request
# must succeed (a run once soaked 30 minutes of guardrail refusals without noticing).
failed_share() { # SOAK line -> percent of its requests that failed
  local e=0 k
  for k in err_connect err_read err_write err_status err_timeout; do e=$((e + $(field "$k" "$1"))); done
  awk -v e="$e" -v n="$(field requests "$1")" 'BEGIN { printf "%.2f", (n > 0 ? 100 * e / n : 100) }'
}
share="$(failed_share "$line")"
awk -v s="$share" 'BEGIN { exit !(s > 1) }' && die "$share% of the peak run's requests failed (see $work/gatehouse/stderr.log)"
# Each connection waits `delay` ms between requests: CONNS connections at LOAD_PCT of the peak.
delay="$(awk -v c="$CONNS" -v p="$peak" -v pct="$LOAD_PCT" 'BEGIN { d = c * 1000 / (p * pct / 100); if (d < 1) d = 1; printf "%.0f", d }')"
log "peak $peak req/s with $CONNS connections; soaking at $LOAD_PCT% ($delay ms between a connection's requests) for $MINUTES min"

table="| minute | req/s | p50 ms | p99 ms | errors | RSS MB | open fds | threads |
|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "$table"
p99s=()
total_requests=0
total_errors=0
rsss=()
fds=()
for ((m = 1; m <= MINUTES; m++)); do
  line="$(run_wrk 60 "$delay")"
  kill -0 "$gh_pid" 2>/dev/null || die "gatehouse died in minute $m: $(tail -5 "$work/gatehouse/stderr.log")"
  rps="$(awk -v n="$(field requests "$line")" -v us="$(field duration_us "$line")" 'BEGIN { printf "%.0f", n / (us / 1e6) }')"
  p50="$(awk -v v="$(field p50_us "$line")" 'BEGIN { printf "%.3f", v / 1000 }')"
  p99="$(awk -v v="$(field p99_us "$line")" 'BEGIN { printf "%.3f", v / 1000 }')"
  errors=0
  for e in err_connect err_read err_write err_status err_timeout; do errors=$((errors + $(field "$e" "$line"))); done
  total_requests=$((total_requests + $(field requests "$line")))
  total_errors=$((total_errors + errors))
  rss="$(awk -v kb="$(proc_field "$gh_pid" VmRSS)" 'BEGIN { printf "%.1f", kb / 1024 }')"
  fd="$(ls "/proc/$gh_pid/fd" | wc -l)"
  threads="$(proc_field "$gh_pid" Threads)"
  row="| $m | $rps | $p50 | $p99 | $errors | $rss | $fd | $threads |"
  echo "$row"
  table+=$'\n'"$row"
  p99s+=("$p99")
  rsss+=("$rss")
  fds+=("$fd")
done

# Flat: the last third against the first third (after the first minute's warm-up), by median.
summary="$(printf '%s\n' "${p99s[*]}" "${rsss[*]}" "${fds[*]}" | awk -v n="$MINUTES" '
  function med(a, lo, hi,   k, i, j, t, b) { k = 0; for (i = lo; i <= hi; i++) b[++k] = a[i];
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
    return k % 2 ? b[(k + 1) / 2] : (b[k / 2] + b[k / 2 + 1]) / 2 }
  { split($0, v, " "); for (i = 1; i <= n; i++) x[NR, i] = v[i] }
  END {
    third = int(n / 3); if (third < 1) third = 1
    lo1 = n > 1 ? 2 : 1; hi1 = lo1 + third - 1; if (hi1 > n) hi1 = n; lo2 = n - third + 1
    for (r = 1; r <= 3; r++) { for (i = 1; i <= n; i++) a[i] = x[r, i]; first[r] = med(a, lo1, hi1); last[r] = med(a, lo2, n) }
    printf "p99 %.3f -> %.3f ms; RSS %.1f -> %.1f MB; open fds %d -> %d\n", first[1], last[1], first[2], last[2], first[3], last[3]
    flat = last[1] <= first[1] * 1.5 + 0.2 && last[2] <= first[2] * 1.10 + 1 && last[3] <= first[3] + 8
    print flat ? "FLAT" : "NOT FLAT"
  }')"
failed_pct="$(awk -v e="$total_errors" -v n="$total_requests" 'BEGIN { printf "%.3f", (n > 0 ? 100 * e / n : 100) }')"
if awk -v s="$failed_pct" 'BEGIN { exit !(s > 1) }'; then
  summary="${summary%$'\n'*}"$'\n'"NOT FLAT: $failed_pct% of the requests failed"
fi
served="$(curl -sS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$gh_port/v1/key" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p' | head -1)"
log "summary (median of the first third after minute 1 -> median of the last third): ${summary%$'\n'*}"
log "${summary##*$'\n'}"
if [[ -n "${SOAK_REPORT:-}" ]]; then
  {
    echo "Soak: $MINUTES min at $LOAD_PCT% of a $peak req/s peak, $CONNS connections, $STREAM_PCT% streamed, $FAIL_PCT% upstream 503s."
    echo
    echo "$table"
    echo
    echo "First third -> last third: ${summary%$'\n'*} (${summary##*$'\n'}); $total_errors of $total_requests requests failed ($failed_pct%)."
  } >"$SOAK_REPORT"
fi
[[ "${summary##*$'\n'}" == FLAT ]]
