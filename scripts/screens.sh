#!/usr/bin/env bash
# Screenshots for before/after comparisons of the window (a reshaping of the QML must not change a
# pixel): every page at the default size (1280×820) and at the minimum size (920×600), light theme.
#
#   scripts/screens.sh capture BUILD_DIR OUT_DIR   # grabs OUT_DIR/PAGE[-920x600].png
#   scripts/screens.sh compare DIR_A DIR_B         # exit 1 when any pair differs past the tolerance
#
# Unlike docs/screenshots/capture.sh (real traffic, for the README), the data here is fixed so two
# runs can be compared: a request log written with sqlite3 (fixed rows, fixed timestamps), no traffic
# while the window is open, and the clock frozen by libfaketime at one start instant (it then runs
# on, so timers still fire; the monotonic clock is left alone). Needs xvfb-run, xdotool, sqlite3,
# faketime and ImageMagick (import, compare).
set -euo pipefail

# The tolerance: at most MAX_AE pixels further apart than FUZZ (ImageMagick's AE metric). Two runs
# of the same binary differed by up to 180 pixels, all in switch knobs caught mid-animation (the
# Providers and Settings pages); any other difference is a change. The diff images go to DIFF_DIR.
FUZZ=${FUZZ:-2%}
MAX_AE=${MAX_AE:-250}

compare_dirs() {
  local a=$1 b=$2 failed=0 n=0
  for img in "$a"/*.png; do
    local name
    name=$(basename "$img")
    n=$((n + 1))
    if [[ ! -f $b/$name ]]; then
      echo "missing: $b/$name"; failed=1; continue
    fi
    local ae
    ae=$(compare -metric AE -fuzz "$FUZZ" "$img" "$b/$name" "${DIFF_DIR:-/tmp}/diff-$name" 2>&1 >/dev/null || true)
    ae=${ae%% *}
    if [[ ! $ae =~ ^[0-9.e+]+$ ]] || (( $(printf '%.0f' "$ae") > MAX_AE )); then
      echo "DIFFERS: $name ($ae pixels past $FUZZ)"; failed=1
    else
      echo "same:    $name ($ae)"
    fi
  done
  ((n > 0)) || { echo "no screenshots in $a"; return 1; }
  return $failed
}

if [[ ${1:-} == compare ]]; then
  compare_dirs "${2:?DIR_A}" "${3:?DIR_B}"
  exit $?
fi
[[ ${1:-} == capture ]] || { echo "usage: screens.sh capture BUILD_DIR OUT_DIR | compare DIR_A DIR_B" >&2; exit 2; }

build=$(realpath "${2:?BUILD_DIR}")
mkdir -p "${3:?OUT_DIR}"
out=$(realpath "$3")
gatehouse="$build/gatehouse"
for tool in xvfb-run xdotool sqlite3 import compare; do
  command -v "$tool" >/dev/null || { echo "screens.sh: $tool is missing" >&2; exit 1; }
done
[[ -x $gatehouse ]] || { echo "screens.sh: build gatehouse first" >&2; exit 1; }

# A fixed folder: its path is on the Settings page.
work=/tmp/gatehouse-screens
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
export TZ=UTC LC_ALL=C.UTF-8 LANG=C.UTF-8
export XDG_RUNTIME_DIR=$work/runtime XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/share XDG_CACHE_HOME=$work/cache
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
start="2026-12-01 10:00:00"
start_ms=$(( $(date -u -d "$start" +%s) * 1000 ))
# libfaketime preloaded through env (which execs: the pid is gatehouse's, so kill reaches it).
faketime_lib=$(find /usr/lib /usr/local/lib -name 'libfaketimeMT.so.1' 2>/dev/null | head -1)
[[ -n $faketime_lib ]] || { echo "screens.sh: libfaketimeMT.so.1 is missing (Debian: faketime)" >&2; exit 1; }
clock=(env LD_PRELOAD="$faketime_lib" FAKETIME="@$start" FAKETIME_DONT_FAKE_MONOTONIC=1)

# Providers point at a closed loopback port: nothing on the screen depends on an answer.
cat >"$work/gatehouse.json" <<'EOF'
{
  "providers": [
    {"id": "openai", "format": "openai", "base_url": "http://127.0.0.1:9/openai/v1", "api_key_env": "OPENAI_API_KEY"},
    {"id": "openrouter", "format": "openai", "base_url": "http://127.0.0.1:9/openrouter/api/v1"},
    {"id": "deepseek", "format": "openai", "base_url": "http://127.0.0.1:9/deepseek/v1"}
  ],
  "models": [
    {"id": "openai/gpt-4.1", "provider": "openai", "upstream_model": "gpt-4.1", "pricing": {"input": 2.0, "output": 8.0, "cache_read": 0.5}},
    {"id": "openai/gpt-4.1-mini", "provider": "openai", "upstream_model": "gpt-4.1-mini", "pricing": {"input": 0.4, "output": 1.6, "cache_read": 0.1}},
    {"id": "openrouter/anthropic/claude-sonnet-4", "provider": "openrouter", "upstream_model": "anthropic/claude-sonnet-4", "pricing": {"input": 3.0, "output": 15.0, "cache_read": 0.3}},
    {"id": "deepseek/deepseek-chat", "provider": "deepseek", "upstream_model": "deepseek-chat", "pricing": {"input": 0.27, "output": 1.1, "cache_read": 0.07}}
  ],
  "keys": [
    {"name": "Claude Code", "secret": "gk-shot-claude-code-0001", "limits": {"day_usd": 10, "week_usd": 50, "month_usd": 150}},
    {"name": "Cursor", "secret": "gk-shot-cursor-000000002", "allow_models": ["openai/*", "openrouter/*"], "limits": {"day_usd": 3, "month_usd": 60}},
    {"name": "scripts", "secret": "gk-shot-scripts-00000003", "allow_models": ["*mini*", "deepseek/*"], "limits": {"day_usd": 0.3, "month_usd": 5}}
  ],
  "routes": [
    {"id": "smart", "strategy": "ordered", "targets": [{"model": "openrouter/anthropic/claude-sonnet-4"}, {"model": "openai/gpt-4.1"}]}
  ],
  "aliases": [
    {"match": "claude-opus-*", "to": "smart"},
    {"match": "gpt-4o*", "to": "openai/gpt-4.1-mini"}
  ]
}
EOF
export OPENAI_API_KEY=sk-fixed-openai

# The schema and the keys: one headless start, then the log written directly, 900 rows over 30 days.
mkdir -p "$work/data"
"${clock[@]}" "$gatehouse" --headless --data-dir "$work/data" --config "$work/gatehouse.json" --port 18797 >"$work/headless.log" 2>&1 &
pid=$!
for _ in $(seq 50); do [[ -f $work/data/gatehouse.db ]] && break; sleep 0.2; done
sleep 1
kill "$pid"; wait "$pid" 2>/dev/null || true
sqlite3 "$work/data/gatehouse.db" <<EOF
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 899),
r AS (SELECT i, $start_ms - 60000 - i * 2873000 AS t, 1 + i % 3 AS k,
        CASE i % 4 WHEN 0 THEN 'openai/gpt-4.1' WHEN 1 THEN 'openai/gpt-4.1-mini'
                   WHEN 2 THEN 'openrouter/anthropic/claude-sonnet-4' ELSE 'deepseek/deepseek-chat' END AS m,
        CASE WHEN i % 23 = 0 THEN 502 WHEN i % 31 = 0 THEN 429 ELSE 200 END AS s,
        400 + (i * 7919) % 6000 AS inp, 50 + (i * 104729) % 900 AS outp, (i * 31) % 3 * 512 AS cr FROM n)
INSERT INTO requests (id, started_at_ms, key_id, key_name, endpoint, requested_model, provider, upstream_model,
  status, error, latency_ms, ttft_ms, input_tokens, cache_read_tokens, output_tokens, usage_reported,
  cost_nano_usd, stream, attempts, model_id, session_id)
SELECT printf('req-%04d', i), t, k, (SELECT name FROM keys WHERE id = k), '/v1/chat/completions', m,
  substr(m, 1, instr(m, '/') - 1), substr(m, instr(m, '/') + 1), s,
  CASE s WHEN 200 THEN '' ELSE 'upstream answered ' || s END, 300 + (i * 37) % 2500, 80 + (i * 13) % 600,
  inp, cr, CASE s WHEN 200 THEN outp ELSE 0 END, 1,
  CASE s WHEN 200 THEN (inp * 2000 + outp * 8000) / (1 + i % 4) ELSE 0 END, i % 2, 1 + (s != 200), m,
  CASE WHEN i % 5 = 0 THEN 'session-' || (i / 50) ELSE '' END
FROM r;
EOF

cat >"$work/session.sh" <<'EOF'
#!/usr/bin/env bash
set -uo pipefail
work=$1 out=$2
shift 2
"$@" >"$work/app.log" 2>&1 &
app=$!
for _ in $(seq 100); do
  win=$(xdotool search --name '^Gatehouse' 2>/dev/null | head -1)
  [[ -n $win ]] && break
  sleep 0.2
done
[[ -n ${win:-} ]] || { echo "no window" >&2; cat "$work/app.log" >&2; kill $app; exit 1; }
xdotool windowmove "$win" 0 0
sleep "${SHOT_SETTLE:-10}" # the first frame takes long on a busy machine
pages=(dashboard keys providers routes activity compare rankings cache settings whatif guardrails)
grab_all() { # suffix
  for i in "${!pages[@]}"; do
    xdotool windowfocus "$win" key --window "$win" Escape
    if ((i < 9)); then
      xdotool key --window "$win" "ctrl+$((i + 1))"
    else # Ctrl+1..9 reach the first nine; Ctrl+PgDown steps on from the ninth
      xdotool key --window "$win" ctrl+9
      for _ in $(seq $((i - 8))); do xdotool key --window "$win" ctrl+Next; done
    fi
    xdotool mousemove --window "$win" 1 1 # no hover highlight
    sleep 2.5
    import -window "$win" "$out/${pages[$i]}$1.png"
  done
}
grab_all ""
xdotool windowsize "$win" 920 600
sleep 2
grab_all "-920x600"
kill $app
wait $app 2>/dev/null
exit 0
EOF
chmod +x "$work/session.sh"
GATEHOUSE_THEME=light xvfb-run -a -s "-screen 0 1440x900x24" "$work/session.sh" "$work" "$out" \
  "${clock[@]}" "$gatehouse" --data-dir "$work/data" --config "$work/gatehouse.json" --port 18797
ls "$out"/*.png | wc -l
