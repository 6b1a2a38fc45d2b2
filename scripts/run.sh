#!/usr/bin/env bash
# One command for a new user: install what is missing, build, run Gatehouse.
# Arguments go to gatehouse, e.g.  scripts/run.sh --headless --port 8484 --config my.json
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec ./build/gatehouse "$@"
