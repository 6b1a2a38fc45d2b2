#!/bin/sh
# Runs a command inside a private X server (Xvfb) with a system tray host (trayer: the XEmbed
# system tray protocol, which Qt 6.4's QSystemTrayIcon uses on X11 when no StatusNotifierWatcher is
# on the session bus), as a desktop session has one. Exits 77 (skipped) when Xvfb or trayer is
# missing (scripts/deps.sh --test installs both), else with the command's exit code.
#   with_tray.sh COMMAND [ARGS...]
set -u
for tool in Xvfb trayer xwininfo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "with_tray.sh: $tool is not installed; skipped" >&2
        exit 77
    fi
done
work=$(mktemp -d)
xvfb=
tray=
cleanup() {
    [ -n "$tray" ] && kill "$tray" 2>/dev/null
    [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
# -displayfd: the server picks a free display number and writes it once it accepts clients.
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb=$!
i=0
while [ ! -s "$work/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s "$work/display" ]; then
    echo "with_tray.sh: Xvfb did not start:" >&2
    cat "$work/xvfb.log" >&2
    exit 1
fi
DISPLAY=":$(cat "$work/display")"
export DISPLAY
trayer --edge top --align right --widthtype request --height 24 >"$work/trayer.log" 2>&1 &
tray=$!
# The tray is there once trayer mapped its panel (it owns _NET_SYSTEM_TRAY_S0 by then).
i=0
until xwininfo -root -tree 2>/dev/null | grep -q '"panel": ("panel" "trayer")'; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then
        echo "with_tray.sh: trayer did not start:" >&2
        cat "$work/trayer.log" >&2
        exit 1
    fi
    sleep 0.1
done
# No StatusNotifierWatcher: Qt must take the XEmbed tray, not look for one on a session bus.
env -u DBUS_SESSION_BUS_ADDRESS QT_QPA_PLATFORM=xcb "$@"
rc=$?
exit $rc
