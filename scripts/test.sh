#!/usr/bin/env bash
# One command for a developer (and CI): install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
if command -v npm >/dev/null 2>&1 && [[ -f tests/sdk/package-lock.json ]]; then
  # The real tools in there are large (Claude Code's and Codex's native binaries, about 500 MB):
  # npm's cache (~/.npm, kept between CI runs) serves them without asking the registry again.
  npm ci --prefix tests/sdk --prefer-offline --no-audit --no-fund --loglevel=error
fi
# Seconds, not minutes (a parse of the source text): before the build, so a long function fails fast.
python3 scripts/longfunctions.py
scripts/build.sh
ctest --test-dir build -j 2 --output-on-failure --timeout 600
