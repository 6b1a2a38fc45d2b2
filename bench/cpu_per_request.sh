#!/usr/bin/env bash
# CPU time the headless gateway spends per request (user + system, from /proc/PID/stat), for a wrk
# script at one connection against tests/mock's mock_upstream: what a request costs, whatever the
# machine's load does to wall-clock figures. Same config as bench/callgrind_request.sh.
#
#   bench/cpu_per_request.sh [REQUESTS]        # default 20000
#
# Environment: BUILD (default ./build), WRK_SCRIPT (default bench/wrk_chat.lua; see
# bench/wrk_conversation.lua for BENCH_CONVERSATION=grow|nonce), BENCH_BODY_BYTES, ROUNDS (default 3:
# the median is printed), SECS (wrk's -d, default 60: wrk stops at the request count but waits -d out).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
BUILD="${BUILD:-./build}"
N="${1:-20000}"
ROUNDS="${ROUNDS:-3}"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-cpu.XXXXXX")"
KEY="gk-bench-0123456789abcdef"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$OUT"; }
trap cleanup EXIT

bench_start_mock "$BUILD/tests/mock/mock_upstream"
bench_write_config "$KEY"
BENCH_UPSTREAM_KEY=sk-bench-upstream GATEHOUSE_NO_KEYCHAIN=1 "$BUILD/gatehoused" --port 0 --workers 1 \
  --data-dir "$OUT/data" --config "$OUT/config.json" >"$OUT/stdout.log" 2>"$OUT/stderr.log" &
gh_pid=$!
pids+=($gh_pid)
bench_wait_gateway "$gh_pid" 300
# The secret scan's Hyperscan database is built (or read from the cache) on a thread after start.
for _ in $(seq 600); do
  grep -q "secret scanning on\|secret scanning stays on RE2" "$OUT/stderr.log" && break
  sleep 0.1
done
ticks() { awk '{print $14 + $15}' "/proc/$gh_pid/stat"; }
hz="$(getconf CLK_TCK)"
run() {
  BENCH_KEY=$KEY BENCH_MODEL=mock/bench-model BENCH_MAX_REQUESTS="$1" \
    wrk -t1 -c1 -d"${SECS:-60}s" -s "${WRK_SCRIPT:-$here/wrk_chat.lua}" "http://127.0.0.1:$port/v1/chat/completions" >"$OUT/wrk.log"
  ! grep -q "Non-2xx" "$OUT/wrk.log" || { echo "errors in the run:"; cat "$OUT/wrk.log"; exit 1; }
}
run 2000 # warm-up
results=()
for _ in $(seq "$ROUNDS"); do
  before="$(ticks)"
  run "$N"
  after="$(ticks)"
  served="$(awk '/requests in/ {print $1}' "$OUT/wrk.log")"
  results+=("$(awk -v t=$((after - before)) -v hz="$hz" -v n="$served" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')")
done
sorted="$(printf '%s\n' "${results[@]}" | sort -n | tr '\n' ' ')"
median="$(printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "CPU us/request: median $median (rounds: $sorted) script ${WRK_SCRIPT:-wrk_chat.lua} ${BENCH_CONVERSATION:-}"
