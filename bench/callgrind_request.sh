#!/usr/bin/env bash
# Instructions per request on the proxy path, for a loaded machine where wall-clock figures mean
# nothing: the headless gateway under callgrind (one file per thread) in front of tests/mock's
# mock_upstream, serving a fixed number of 2 KB chat requests from wrk at one connection.
#
#   bench/callgrind_request.sh [REQUESTS]        # default 3000
#
# Environment: BUILD (default ./build), BENCH_BODY_BYTES (default 2048), WORKERS (default 1),
# WRK_SCRIPT (default bench/wrk_chat.lua, one body resent; bench/wrk_conversation.lua with
# BENCH_CONVERSATION=grow|nonce for an agent's growing conversation or a body new every time),
# OUT (default a temp dir: the callgrind files and the gateway's logs stay there), WARMUP_SECS and
# RUN_SECS (default 120 and 600: wrk's -d; wrk stops at the request count but waits out -d).
# Prints instructions per request for each thread that served them, and the top functions of the
# worker and the log writer (inclusive), from callgrind_annotate.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
BUILD="${BUILD:-./build}"
N="${1:-3000}"
WORKERS="${WORKERS:-1}"
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-callgrind.XXXXXX")}"
KEY="gk-bench-0123456789abcdef"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

bench_start_mock "$BUILD/tests/mock/mock_upstream"
bench_write_config "$KEY"
BENCH_UPSTREAM_KEY=sk-bench-upstream GATEHOUSE_NO_KEYCHAIN=1 valgrind --tool=callgrind --separate-threads=yes \
  --callgrind-out-file="$OUT/callgrind.out" "$BUILD/gatehoused" --port 0 --workers "$WORKERS" \
  --data-dir "$OUT/data" --config "$OUT/config.json" >"$OUT/stdout.log" 2>"$OUT/stderr.log" &
gh_pid=$!
pids+=($gh_pid)
bench_wait_gateway "$gh_pid" 600

# Warm up (first connection, pools, caches), then zero the counters and run the measured requests.
BENCH_KEY=$KEY BENCH_MODEL=mock/bench-model BENCH_MAX_REQUESTS=200 \
  wrk -t1 -c1 -d"${WARMUP_SECS:-120}s" -s "${WRK_SCRIPT:-$here/wrk_chat.lua}" "http://127.0.0.1:$port/v1/chat/completions" >"$OUT/warmup.log"
callgrind_control -z "$gh_pid" >/dev/null
BENCH_KEY=$KEY BENCH_MODEL=mock/bench-model BENCH_MAX_REQUESTS="$N" \
  wrk -t1 -c1 -d"${RUN_SECS:-600}s" -s "${WRK_SCRIPT:-$here/wrk_chat.lua}" "http://127.0.0.1:$port/v1/chat/completions" >"$OUT/wrk.log"
grep -q "Non-2xx" "$OUT/wrk.log" && { echo "errors in the run:"; cat "$OUT/wrk.log"; exit 1; }
sleep 3 # the log writer's last batch
# SIGTERM: a graceful stop, after which callgrind writes one file per thread (shutdown included, a
# few million instructions at most).
kill -TERM "$gh_pid"
wait "$gh_pid" 2>/dev/null || true
served="$(awk '/requests in/ {print $1}' "$OUT/wrk.log")"
echo "requests: $served (out: $OUT)"
for f in "$OUT"/callgrind.out-[0-9]*; do
  [[ -s "$f" ]] || continue
  total="$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')"
  [[ -n "$total" && "$total" != 0 ]] || continue
  # The thread, by its outermost function of ours (the worker: ClientConnection; the writer: runWriter).
  what="$(callgrind_annotate --inclusive=yes "$f" 2>/dev/null | grep -m1 -o 'gh::[A-Za-z:]*' || echo '?')"
  printf '%s\t%-45s\tinstructions/request %d\n' "$(basename "$f")" "$what" "$((total / served))"
done
