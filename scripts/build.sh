#!/usr/bin/env bash
# Configures and builds Gatehouse into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
[[ -f build/CMakeCache.txt ]] || generator=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
cmake -S . -B build "${generator[@]}" >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
