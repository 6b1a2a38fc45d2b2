#!/bin/sh
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service, so
# keychain tests touch neither the user's session bus nor the user's keyrings:
#   tests/support/with-keyring.sh ./tests/secrets_tst_secretstore
# The keyring files live in a temporary folder removed afterwards. GATEHOUSE_REQUIRE_KEYCHAIN=1 tells
# the test that a keychain must be available (fail rather than skip).
set -eu

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi
for tool in dbus-run-session gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool not found" >&2
        exit 2
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/run"
chmod 700 "$tmp/run"

export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export XDG_RUNTIME_DIR="$tmp/run" GATEHOUSE_REQUIRE_KEYCHAIN=1
# No desktop hints: QtKeychain must pick the Secret Service (libsecret), not KWallet.
unset XDG_CURRENT_DESKTOP DESKTOP_SESSION KDE_FULL_SESSION KDE_SESSION_VERSION GNOME_DESKTOP_SESSION_ID || true

status=0
dbus-run-session -- sh -c '
    printf %s gatehouse-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 3
    "$@"
    status=$?
    # The daemon would outlive the command otherwise; it is ours alone (private bus and folders).
    daemon_pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null \
        | awk "/uint32/ {print \$2}")
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
    exit $status
' sh "$@" || status=$?
exit "$status"
