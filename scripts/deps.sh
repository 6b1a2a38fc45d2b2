#!/usr/bin/env bash
# Installs Gatehouse's build and test dependencies on Debian/Ubuntu, only the ones missing.
# Usage: scripts/deps.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-declarative-dev qt6-declarative-dev-tools qt6-charts-dev
  qml6-module-qtquick-controls qml6-module-qtquick-layouts qml6-module-qtquick-templates
  qml6-module-qtquick-window qml6-module-qtqml-workerscript qml6-module-qtcharts
  qml6-module-qtquick qml6-module-qtqml qml6-module-qtqml-models qml6-module-qtquick-dialogs
  qml6-module-qt-labs-folderlistmodel libqt6svg6
  qtkeychain-qt6-dev libsqlite3-dev node-llhttp libsimdjson-dev libxxhash-dev libzstd-dev libre2-dev libmimalloc-dev libgl-dev libpq-dev
)
# Hyperscan, the secret scanner's fast path, is packaged for amd64 only; Vectorscan (same API) elsewhere.
# Without either the build falls back to RE2 alone.
case "$(dpkg --print-architecture 2>/dev/null || true)" in
  amd64) packages+=(libhyperscan-dev) ;;
  arm64) packages+=(libvectorscan-dev) ;;
esac
if [[ "${1:-}" == "--test" ]]; then
  # xvfb, trayer and x11-utils: the walkthrough's close-to-tray step under a real X tray host.
  packages+=(dbus gnome-keyring sqlite3 xvfb trayer x11-utils qml6-module-qttest)
  # prometheus: its promtool checks GET /metrics (tests/integration/tst_telemetry.cpp).
  packages+=(prometheus)
  # The store tests run every case against a PostgreSQL server they start (initdb, pg_ctl).
  packages+=(postgresql)
  # scripts/screens.sh: the window's pages grabbed from fixed data at a fixed clock, and compared.
  packages+=(xdotool imagemagick faketime)
  # scripts/longfunctions.py: no function in app/ over 80 lines without a reason beside it.
  packages+=(python3)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: not a Debian/Ubuntu system; see README.md for Fedora, macOS and Windows." >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
