#!/bin/bash
# The Compare numbers of BENCHMARKS.md: the window (under Xvfb) runs one Compare round with four
# panes streaming at once from the mock upstream (each answer 300 content events, 15 ms apart: about
# 4.5 s of streaming per pane, Markdown re-rendered as it grows), driven through the test-only probe
# (ui/uiprobe.h, command "compare"). Reports the frame intervals while the answers stream and how
# late a 4 ms timer on the UI thread fired (a stall of the UI thread is jank).
#   bench/compare_window.sh [BUILD_DIR]
set -euo pipefail
build="${1:-build}"
D="$(mktemp -d /tmp/ghcompare.XXXXXX)"
trap 'kill ${AP:-} ${MP:-} ${XP:-} 2>/dev/null; [[ -n ${BENCH_KEEP:-} ]] || rm -rf "$D"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port="$(free_port)"
"$build/tests/mock/mock_upstream" --port "$mock_port" --record 0 >"$D/mock.log" 2>&1 & MP=$!
model() { # id upstream
  echo "{\"id\": \"$1\", \"provider\": \"mock\", \"upstream_model\": \"$2\", \"pricing\": {\"input\": 1.0, \"output\": 4.0}}"
}
cat >"$D/gatehouse.json" <<EOF
{
  "providers": [{"id": "mock", "format": "openai", "base_url": "http://127.0.0.1:$mock_port/v1", "api_key_env": "MOCK_KEY"}],
  "models": [$(model mock/a "stream-slow@delay=15,chunks=300,tag=a"), $(model mock/b "stream-slow@delay=15,chunks=300,tag=b"),
             $(model mock/c "stream-slow@delay=15,chunks=300,tag=c"), $(model mock/d "stream-slow@delay=15,chunks=300,tag=d")]
}
EOF
# A free display: Xvfb writes the number it took to the file descriptor given with -displayfd.
exec 5>"$D/display"
Xvfb -displayfd 5 -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 & XP=$!
for _ in $(seq 50); do [[ -s "$D/display" ]] && break; sleep 0.1; done
display=":$(cat "$D/display")"
DISPLAY=$display QT_QPA_PLATFORM=xcb MOCK_KEY=x GATEHOUSE_NO_KEYCHAIN=1 GATEHOUSE_THEME=light GATEHOUSE_UI_PROBE="$D/probe.json" \
  GATEHOUSE_UI_PROBE_INTERVAL=200 XDG_CONFIG_HOME="$D/xdg" XDG_RUNTIME_DIR="$D" \
  "$build/gatehouse" --port 0 --data-dir "$D/data" --config "$D/gatehouse.json" >"$D/app.out" 2>&1 & AP=$!
for _ in $(seq 100); do sleep 0.1; grep -q '"firstFrameMs": [0-9]' "$D/probe.json" 2>/dev/null && break; done
echo "page 5" >"$D/probe.json.cmd"; sleep 2
echo "compare mock/a,mock/b,mock/c,mock/d Write a long answer, with a code block." >"$D/probe.json.cmd"
for _ in $(seq 150); do
  sleep 0.2
  python3 -c "import json,sys; s=json.load(open('$D/probe.json')); sys.exit(0 if s.get('compare') else 1)" 2>/dev/null && break
done
python3 -c "import json; s=json.load(open('$D/probe.json')); print('compare', json.dumps(s.get('compare')), 'rssKb', s['rssKb'], 'errors', s.get('errors'))"
grep -i "warn\|error" "$D/app.out" | grep -v "probe" | head -5 || true
