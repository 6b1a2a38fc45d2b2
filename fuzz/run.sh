#!/bin/sh
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each one for FUZZ_SECONDS
# (default 10) from its seed corpus in fuzz/corpus/<target>/ or, for an adapter's targets,
# fuzz/<format>/corpus/<target>/. Fails when any target finds a crash,
# a sanitizer error or a broken invariant (the reproducer is left in build-fuzz/artifacts/<target>/).
#   FUZZ_SECONDS=60 sh fuzz/run.sh          FUZZ_BUILD_DIR, FUZZ_CXX and FUZZ_JOBS override the defaults.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-10}
cxx=${FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$cxx" ]; then
    echo "fuzz/run.sh: clang++ not found" >&2
    exit 1
fi
generator=""
command -v ninja >/dev/null 2>&1 && generator="-G Ninja"
# shellcheck disable=SC2086
cmake -S "$here" -B "$build" $generator -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "${FUZZ_JOBS:-2}"

status=0
for seeds in "$here"/corpus/*/ "$here"/*/corpus/*/; do
    target=$(basename "$seeds")
    work="$build/corpus/$target"
    artifacts="$build/artifacts/$target/"
    mkdir -p "$work" "$artifacts"
    log="$build/fuzz_$target.log"
    # New inputs go to the work corpus (first directory); the seeds in the tree are only read.
    if ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$build/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "$seeds" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "ok    fuzz_$target ($runs runs in ${seconds}s)"
    else
        echo "FAIL  fuzz_$target: see $log and $artifacts"
        tail -n 60 "$log"
        status=1
    fi
done
exit $status
