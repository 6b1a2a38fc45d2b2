#!/bin/bash
# The "Desktop app" numbers of BENCHMARKS.md: launches the window (under Xvfb :77) on a log filled by
# build/bench/ui_fill_log (ui_fill_log /tmp/ghbench/data 1000000 first) and drives it through the
# test-only probe (ui/uiprobe.h): first frame, dashboard ready, RSS, frame intervals while scrolling.
set -u
D=/tmp/ghbench
Xvfb :77 -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 & XP=$!
sleep 1
rm -f $D/probe.json $D/probe.json.cmd
start=$(date +%s%3N)
DISPLAY=:77 QT_QPA_PLATFORM=xcb GATEHOUSE_NO_KEYCHAIN=1 GATEHOUSE_THEME=light GATEHOUSE_UI_PROBE=$D/probe.json GATEHOUSE_UI_PROBE_INTERVAL=200 XDG_CONFIG_HOME=$D/xdg \
  ${GATEHOUSE_BIN:-./build/gatehouse} --port 0 --data-dir $D/data > $D/app.out 2>&1 & AP=$!
for i in $(seq 1 100); do sleep 0.1; grep -q '"firstFrameMs": [0-9]' $D/probe.json 2>/dev/null && break; done
python3 -c "import json;s=json.load(open('$D/probe.json'));print('firstFrameMs',s['firstFrameMs'],'launch->frame',s['firstFrameEpochMs']-$start)"
for i in $(seq 1 150); do sleep 0.2; python3 -c "import json,sys;s=json.load(open('$D/probe.json'));sys.exit(0 if s['summary'] and s['summary']['ready'] else 1)" 2>/dev/null && break; done
echo "dashboard ready after $(( $(date +%s%3N) - start )) ms"
python3 -c "import json;s=json.load(open('$D/probe.json'));print('summary',s['summary']);print('rssKb',s['rssKb'])"
echo "page 3" > $D/probe.json.cmd; sleep 3
python3 -c "import json;s=json.load(open('$D/probe.json'));a=s['activity'];print('activity total',a and a['totalCount'],'rows',a and len(a['rows']))"
for spec in "scroll 300 12" "jump 0.5" "scroll 300 36" "scroll 120 400"; do
  echo "$spec" > $D/probe.json.cmd; sleep 1; [ "${spec%% *}" = scroll ] && sleep 12
  python3 -c "import json;s=json.load(open('$D/probe.json'));print('$spec', s['scroll'], 'rss', s['rssKb'])"
done
grep -i "warn\|error" $D/app.out | head -5
kill $AP; wait $AP; kill $XP
