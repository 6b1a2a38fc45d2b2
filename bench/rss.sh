#!/usr/bin/env bash
# The headless gateway's memory (issue 19): starts `gatehoused` in front of tests/mock's
# mock_upstream, reads its RSS when idle, sends REQUESTS 2 KB chat requests with wrk at 16
# connections, waits for the log writer to drain, and reads its RSS again.
#
#   bench/rss.sh [REQUESTS]          # default 1000000 (a few minutes)
#   RSS_SMAPS=1 bench/rss.sh 100000  # also the per-mapping table (smaps: by library and anonymous)
#
# Environment: BUILD (default ./build), GATEHOUSE_BIN (default $BUILD/gatehoused), BENCH_BODY_BYTES
# (default 2048), RSS_CONNS (default 16), WORKERS (default: the gateway's own choice),
# RSS_THREADS=1 (also CPU seconds per thread), RSS_SETTLE (seconds to wait after start and after the load, default 5), OUT (default a temp dir,
# removed at the end unless given).
# Prints VmRSS, RssAnon, RssFile and RssShmem from /proc/PID/status, idle and after; with RSS_SMAPS=1
# also Rss, Private_Dirty and Shared_Clean per library and for the anonymous mappings (heap, stacks,
# mimalloc's arenas), from /proc/PID/smaps.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
BUILD="${BUILD:-./build}"
GATEHOUSE_BIN="${GATEHOUSE_BIN:-$BUILD/gatehoused}"
MOCK_BIN="${MOCK_BIN:-$BUILD/tests/mock/mock_upstream}"
N="${1:-1000000}"
CONNS="${RSS_CONNS:-16}"
SETTLE="${RSS_SETTLE:-5}"
KEY="gk-bench-0123456789abcdef"

die() { echo "rss: $*" >&2; exit 1; }
[[ "$N" =~ ^[0-9]+$ ]] || die "REQUESTS must be a count, not '$N'"
for tool in wrk awk; do command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install wrk gawk)"; done
[[ -x "$GATEHOUSE_BIN" ]] || die "no gateway binary at $GATEHOUSE_BIN (build the gatehoused target, or set GATEHOUSE_BIN)"
[[ -x "$MOCK_BIN" ]] || die "no mock_upstream at $MOCK_BIN (build the mock_upstream target, or set MOCK_BIN)"

keep_out=1
if [[ -z "${OUT:-}" ]]; then
  OUT="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-rss.XXXXXX")"
  keep_out=0
fi
mkdir -p "$OUT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ((keep_out)) || rm -rf "$OUT"
}
trap cleanup EXIT

# --record 0: the mock keeps no request (it would grow by the load, and it is not what is measured).
bench_start_mock "$MOCK_BIN" --record 0
bench_write_config "$KEY"
workers=()
[[ -n "${WORKERS:-}" ]] && workers=(--workers "$WORKERS")
BENCH_UPSTREAM_KEY=sk-bench-upstream GATEHOUSE_NO_KEYCHAIN=1 "$GATEHOUSE_BIN" --headless --port 0 "${workers[@]}" \
  --data-dir "$OUT/data" --config "$OUT/config.json" >"$OUT/stdout.log" 2>"$OUT/stderr.log" &
gh_pid=$!
pids+=($gh_pid)
bench_wait_gateway "$gh_pid" 300

# kB of VmRSS, RssAnon, RssFile, RssShmem, printed as MB.
status_line() {
  awk -v what="$1" '
    /^VmRSS:/ {t=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} /^RssShmem:/ {s=$2}
    END { printf "%-30s RSS %6.1f MB   anon %6.1f MB   file %6.1f MB   shmem %4.1f MB\n", what, t/1024, a/1024, f/1024, s/1024 }' \
    "/proc/$gh_pid/status"
}
# Per mapping, summed by what it maps: a library's file name, or its kind for anonymous memory.
smaps_table() {
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / {
      name = ($6 == "") ? "[anon]" : $6
      n = split(name, parts, "/"); name = parts[n]
      sub(/\.so[.0-9]*$/, ".so", name)
      next
    }
    /^Rss:/ { rss[name] += $2 }
    /^Private_Dirty:/ { pd[name] += $2 }
    /^Shared_Clean:/ { sc[name] += $2 }
    /^Private_Clean:/ { pc[name] += $2 }
    END {
      printf "| mapping | Rss kB | Private_Dirty kB | Private_Clean kB | Shared_Clean kB |\n|---|---:|---:|---:|---:|\n"
      for (k in rss) if (rss[k] >= 64) printf "| %s | %d | %d | %d | %d |\n", k, rss[k], pd[k], pc[k], sc[k]
    }' "/proc/$gh_pid/smaps" | { read -r h1; read -r h2; echo "$h1"; echo "$h2"; sort -t'|' -k3 -nr; }
}

sleep "$SETTLE"
idle="$(status_line "idle ($SETTLE s after start)")"
[[ "${RSS_SMAPS:-0}" == 1 ]] && { echo "idle, per mapping (64 kB and more):"; smaps_table; echo; }

# wrk stops each of its threads after its share of N responses (BENCH_MAX_REQUESTS is per thread).
threads=2
((CONNS < threads)) && threads="$CONNS"
per_thread=$(((N + threads - 1) / threads))
# CPU time (user + system, clock ticks) of the gateway, to see what a setting costs per request.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$gh_pid/stat"; }
cpu_before="$(cpu_ticks)"
started=$(date +%s)
if ((N > 0)); then
  # Memory is measured here, not latency: --timeout 30s, so that slow answers on a loaded machine are
  # not counted as failures. wrk's main thread sleeps for the whole -d whatever its threads do: once every load thread has
  # stopped at its count (only the main thread is left), SIGINT makes it print its summary and exit.
  BENCH_KEY=$KEY BENCH_MODEL=mock/bench-model BENCH_MAX_REQUESTS="$per_thread" \
    wrk -t"$threads" -c"$CONNS" -d3600s --timeout 30s -s "$here/wrk_chat.lua" "http://127.0.0.1:$port/v1/chat/completions" >"$OUT/wrk.log" &
  wrk_pid=$!
  sleep 1
  while kill -0 "$wrk_pid" 2>/dev/null; do
    if (($(ls "/proc/$wrk_pid/task" 2>/dev/null | wc -l) <= 1)); then
      kill -INT "$wrk_pid" 2>/dev/null || true
      break
    fi
    kill -0 "$gh_pid" 2>/dev/null || { kill -INT "$wrk_pid"; die "the gateway exited during the load: $(tail -5 "$OUT/stderr.log")"; }
    sleep 0.5
  done
  wait "$wrk_pid" || die "wrk failed: $(cat "$OUT/wrk.log")"
fi
elapsed=$(($(date +%s) - started))
cpu_used=$(($(cpu_ticks) - cpu_before))
served="$(awk '/^BENCH / { for (i = 2; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == "requests") print kv[2] } }' "$OUT/wrk.log" 2>/dev/null)"
errors="$(awk '/^BENCH / { s = 0; for (i = 2; i <= NF; ++i) { split($i, kv, "="); if (kv[1] ~ /^err_/) s += kv[2] } print s }' "$OUT/wrk.log" 2>/dev/null)"
sleep "$SETTLE" # the log writer's last batches
kill -0 "$gh_pid" 2>/dev/null || die "the gateway exited during the load: $(tail -5 "$OUT/stderr.log")"
after="$(status_line "after ${served:-0} requests")"
# RSS_THREADS=1: CPU seconds per thread (the workers, the log writer, ...), to see which one a setting costs.
if [[ "${RSS_THREADS:-0}" == 1 ]]; then
  for t in /proc/$gh_pid/task/*; do
    awk -v name="$(cat "$t/comm")" -v hz="$(getconf CLK_TCK)" '{ printf "thread %-18s %7.2f s CPU\n", name, ($14 + $15) / hz }' "$t/stat"
  done
fi
[[ "${RSS_SMAPS:-0}" == 1 ]] && { echo "after ${served:-0} requests, per mapping (64 kB and more):"; smaps_table; echo; }

echo "gateway: $GATEHOUSE_BIN (pid $gh_pid, $(ls /proc/$gh_pid/task | wc -l) threads), $CONNS connections, ${BENCH_BODY_BYTES:-2048}-byte bodies"
echo "$idle"
echo "$after"
echo "requests: ${served:-0} in ${elapsed} s, errors: ${errors:-0}, gateway CPU $(awk -v t="$cpu_used" -v hz="$(getconf CLK_TCK)" -v n="${served:-0}" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else printf "-" }') us/request"
((keep_out)) && echo "out: $OUT"
if [[ -n "${errors:-}" && "$errors" != 0 ]]; then
  die "$errors requests failed (see $OUT/wrk.log with OUT set)"
fi
