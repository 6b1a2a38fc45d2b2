#!/usr/bin/env bash
# Makes docs/screenshots/*.png: every page of the window, light and dark, with real traffic.
#
#   docs/screenshots/capture.sh BUILD_DIR
#
# Starts the mock upstream (tests/mock), then for each theme runs `gatehouse` under Xvfb with a
# config whose providers all point at the mock, sends real requests through the gateway with curl
# (keys, models, streams, errors; some while the window is open so the live chart moves), walks the
# pages with Ctrl+1..9 and grabs the window, at 1360×860 and at the minimum size, 920×600. Needs xvfb-run, xdotool, curl and ImageMagick's import.
set -euo pipefail

build=$(realpath "${1:?usage: capture.sh BUILD_DIR}")
out=$(cd "$(dirname "$0")" && pwd)
gatehouse="$build/gatehouse"
mock="$build/tests/mock/mock_upstream"
for tool in xvfb-run xdotool curl import; do
  command -v "$tool" >/dev/null || { echo "capture.sh: $tool is missing" >&2; exit 1; }
done
[[ -x $gatehouse && -x $mock ]] || { echo "capture.sh: build gatehouse and mock_upstream first" >&2; exit 1; }

work=$(mktemp -d)
cleanup() {
  [[ -n ${mock_pid:-} ]] && kill "$mock_pid" 2>/dev/null || true
  [[ -n ${ollama_pid:-} ]] && kill "$ollama_pid" 2>/dev/null || true
  if [[ -n ${KEEP_WORK:-} ]]; then echo "capture.sh: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

mock_port=18911
gate_port=18787
"$mock" --port "$mock_port" --record 0 >"$work/mock.log" 2>&1 &
mock_pid=$!
# A stand-in Ollama on its usual port, for the Providers page's "Found on this machine" (skipped
# when the port is taken, e.g. by a real Ollama, which is then the one found).
"$mock" --port 11434 --record 0 --as ollama --models "llama3.2:3b,qwen2.5-coder:7b" >"$work/ollama.log" 2>&1 &
ollama_pid=$!
sleep 0.5

cat >"$work/gatehouse.json" <<EOF
{
  "providers": [
    {"id": "openai", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/openai/v1",
     "api_key_env": "OPENAI_API_KEY"},
    {"id": "openrouter", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/openrouter/api/v1",
     "api_key_env": "OPENROUTER_API_KEY"},
    {"id": "deepseek", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/deepseek/v1",
     "api_key_env": "DEEPSEEK_API_KEY"},
    {"id": "groq", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/groq/openai/v1"}
  ],
  "models": [
    {"id": "openai/gpt-4.1", "provider": "openai", "upstream_model": "gpt-4.1@c=650",
     "pricing": {"input": 2.0, "output": 8.0, "cache_read": 0.5}},
    {"id": "openai/gpt-4.1-mini", "provider": "openai", "upstream_model": "gpt-4.1-mini@c=400",
     "pricing": {"input": 0.4, "output": 1.6, "cache_read": 0.1}},
    {"id": "openrouter/anthropic/claude-sonnet-4", "provider": "openrouter",
     "upstream_model": "anthropic/claude-sonnet-4@c=900,cached=1200,chunks=12,delay=120",
     "pricing": {"input": 3.0, "output": 15.0, "cache_read": 0.3}},
    {"id": "deepseek/deepseek-chat", "provider": "deepseek", "upstream_model": "deepseek-chat@c=700",
     "pricing": {"input": 0.27, "output": 1.1, "cache_read": 0.07}},
    {"id": "groq/llama-3.3-70b", "provider": "groq", "upstream_model": "llama-3.3-70b@c=500",
     "pricing": {"input": 0.59, "output": 0.79}},
    {"id": "openai/flaky", "provider": "openai", "upstream_model": "fail-429@retry_after=0",
     "pricing": {"input": 1.0, "output": 1.0}}
  ],
  "keys": [
    {"name": "Claude Code", "secret": "gk-shot-claude-code-0001",
     "limits": {"day_usd": 10, "week_usd": 50, "month_usd": 150}},
    {"name": "Cursor", "secret": "gk-shot-cursor-000000002", "allow_models": ["openai/*", "openrouter/*"],
     "limits": {"day_usd": 3, "month_usd": 60}},
    {"name": "scripts", "secret": "gk-shot-scripts-00000003", "allow_models": ["*mini*", "deepseek/*", "groq/*"],
     "limits": {"day_usd": 0.3, "week_usd": 1.5, "month_usd": 5}},
    {"name": "CI bot", "secret": "gk-shot-ci-bot-000000004", "allow_models": ["groq/*"]},
    {"name": "evals", "secret": "gk-shot-evals-0000000005", "allow_models": ["openai/*"],
     "response_cache": {"ttl_s": 86400}}
  ],
  "routes": [
    {"id": "smart", "strategy": "ordered",
     "targets": [{"model": "openrouter/anthropic/claude-sonnet-4"}, {"model": "openai/gpt-4.1"}]}
  ],
  "aliases": [
    {"match": "claude-opus-*", "to": "smart"},
    {"match": "claude-haiku-*", "to": "deepseek/deepseek-chat"},
    {"match": "gpt-4o*", "to": "openai/gpt-4.1-mini"}
  ]
}
EOF

# Functions shared by this script and the Xvfb session (exported functions do not survive xvfb-run).
cat >"$work/lib.sh" <<'LIB'
# One chat request through the gateway; prints nothing, never fails the script.
send() { # key model [stream]
  local stream=${3:-false}
  local prompt
  prompt=$(head -c $((600 + RANDOM % 6000)) /dev/zero | tr '\0' 'x')
  curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$gate_port/v1/chat/completions" \
    -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    -d "{\"model\":\"$2\",\"stream\":$stream,\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}]}" || true
}

# An evaluation script re-running its cases (temperature 0): the response cache answers the repeats.
evals() { # cases
  local i
  for i in $(seq "$1"); do
    curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$gate_port/v1/chat/completions" \
      -H "Authorization: Bearer gk-shot-evals-0000000005" -H 'Content-Type: application/json' \
      -d "{\"model\":\"openai/gpt-4.1\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"eval case $((i % 12))\"}]}" || true
  done
}

# Traffic while the window is open: a few requests per second for `seconds`.
traffic() { # seconds
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    send gk-shot-claude-code-0001 openrouter/anthropic/claude-sonnet-4 true &
    send gk-shot-cursor-000000002 openai/gpt-4.1 &
    ((RANDOM % 2)) && send gk-shot-scripts-00000003 deepseek/deepseek-chat &
    ((RANDOM % 3 == 0)) && send gk-shot-ci-bot-000000004 groq/llama-3.3-70b &
    ((RANDOM % 5 == 0)) && send gk-shot-scripts-00000003 openai/gpt-4.1-mini &
    ((RANDOM % 9 == 0)) && send gk-shot-cursor-000000002 openai/flaky &
    sleep 0.$((2 + (SECONDS / 20) % 4 * 2 + RANDOM % 3))  # busier and quieter stretches
  done
  sleep 10 # let the last requests finish (curl gives up after 10 s)
}

LIB
# shellcheck source=/dev/null
source "$work/lib.sh"
export gate_port work
# The mock ignores API keys; these only show where Gatehouse reads them from.
export OPENAI_API_KEY=sk-mock-openai OPENROUTER_API_KEY=sk-or-mock DEEPSEEK_API_KEY=sk-mock-deepseek
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work/runtime}
mkdir -p -m 700 "$XDG_RUNTIME_DIR"

cat >"$work/session.sh" <<'EOF'
#!/usr/bin/env bash
# Runs inside Xvfb: the window, traffic, the page walk and the grabs for one theme.
set -uo pipefail
theme=$1 work=$2 out=$3 gatehouse=$4
source "$work/lib.sh"
export GATEHOUSE_THEME=$theme
${GATEHOUSE_WRAP:-} "$gatehouse" --data-dir "$work/data" --config "$work/gatehouse.json" --port "$gate_port" >"$work/app-$theme.log" 2>&1 &
app=$!
for _ in $(seq 50); do
  win=$(xdotool search --name '^Gatehouse' 2>/dev/null | head -1)
  [[ -n $win ]] && break
  sleep 0.2
done
[[ -n ${win:-} ]] || { echo "no window" >&2; cat "$work/app-$theme.log" >&2; kill $app; exit 1; }
xdotool windowsize "$win" 1360 860 windowmove "$win" 0 0 windowfocus "$win"
traffic "${SHOT_TRAFFIC:-170}" &
sleep "${SHOT_WAIT:-130}"
suffix=""
grab() { # page-number name [click x,y ...]: show the page, click where asked, grab the window
  xdotool windowfocus "$win" key --window "$win" Escape # a dialog left open would cover every page
  xdotool key --window "$win" "ctrl+$1"
  sleep 1.5
  local page=$1 name=$2
  shift 2
  for xy in "$@"; do
    xdotool mousemove --window "$win" "${xy%,*}" "${xy#*,}" click 1
    sleep 1
  done
  xdotool mousemove --window "$win" 1 1 # no hover highlight
  sleep 1
  import -window "$win" "$out/$name-$theme$suffix.png"
}
grab 1 dashboard
grab 2 keys
grab 3 providers 1015,119 1015,457   # Test connection: DeepSeek, OpenAI
grab 4 routes
grab 5 activity 600,400              # a request's details
grab 6 compare
grab 7 rankings
grab 8 cache
grab 9 settings
# The minimum size (every control must stay reachable there).
xdotool windowsize "$win" 920 600
sleep 1.5
suffix="-920x600"
grab 1 dashboard
grab 2 keys
grab 3 providers
grab 4 routes
grab 5 activity 500,300              # a request's details
grab 6 compare
grab 7 rankings
grab 8 cache
grab 9 settings
kill $app
wait $app 2>/dev/null
EOF
chmod +x "$work/session.sh"

# History: real requests before the window opens (the dashboard's figures, the log).
mkdir -p "$work/data"
"$gatehouse" --headless --data-dir "$work/data" --config "$work/gatehouse.json" --port "$gate_port" >"$work/headless.log" 2>&1 &
head_pid=$!
sleep 1
for i in $(seq 40); do
  pids=()
  send gk-shot-claude-code-0001 openrouter/anthropic/claude-sonnet-4 & pids+=($!)
  send gk-shot-cursor-000000002 openai/gpt-4.1 & pids+=($!)
  send gk-shot-scripts-00000003 openai/gpt-4.1-mini & pids+=($!)
  send gk-shot-scripts-00000003 deepseek/deepseek-chat & pids+=($!)
  wait "${pids[@]}"
done
evals 60
kill "$head_pid"; wait "$head_pid" 2>/dev/null || true

# The log now holds today's real requests only. So that the 30-day chart has something to show, copy a
# varying share of them to each of the previous 29 days (same rows, timestamps moved back by whole
# days, new ids). Needs the sqlite3 shell.
if command -v sqlite3 >/dev/null; then
  sql=""
  for d in $(seq 1 29); do
    share=$(( (d * 37) % 70 + 20 ))          # 20..89 % of the rows
    (( ($(date -d "-$d day" +%u) >= 6) )) && share=$((share / 4))   # quieter weekends
    sql+="INSERT INTO requests (id, started_at_ms, key_id, key_name, endpoint, requested_model, provider,
      upstream_model, status, error, latency_ms, ttft_ms, input_tokens, cache_read_tokens, cache_write_tokens,
      cache_write_1h_tokens, output_tokens, reasoning_tokens, usage_reported, estimated, cost_nano_usd, stream, attempts)
      SELECT id || '-d$d', started_at_ms - $d * 86400000, key_id, key_name, endpoint, requested_model, provider,
      upstream_model, status, error, latency_ms, ttft_ms, input_tokens, cache_read_tokens, cache_write_tokens,
      cache_write_1h_tokens, output_tokens, reasoning_tokens, usage_reported, estimated, cost_nano_usd, stream, attempts
      FROM requests WHERE id NOT LIKE '%-d%' AND abs(random()) % 100 < $share
      AND NOT (requested_model LIKE 'openrouter/%' AND $d > 20);"
  done
  sqlite3 "$work/data/gatehouse.db" "$sql"
fi

# The window with a Secret Service to talk to (as on a desktop), when one can be started.
for theme in ${THEMES:-light dark}; do
  if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- bash -c \
      'echo -n shot | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$0" "$@"' \
      "$work/session.sh" "$theme" "$work" "$out" "$gatehouse"
  else
    xvfb-run -a -s "-screen 0 1440x900x24" "$work/session.sh" "$theme" "$work" "$out" "$gatehouse"
  fi
done
ls -l "$out"/*.png
