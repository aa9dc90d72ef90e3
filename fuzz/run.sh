#!/usr/bin/env bash
# Builds and runs every fuzz target of picket-parsers for SECONDS each (default 30), one at a
# time (one fuzzer process), on the stable toolchain without a sanitizer (`-s none`). Seeds from
# seeds/<target>/ are copied into corpus/<target>/ first. Exits non-zero if any target crashed or
# broke a property; the inputs are in artifacts/<target>/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      e.g. fuzz/run.sh 60 line header
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -uo pipefail

cd "$(dirname "$0")"
secs="${1:-30}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

# Overflow checks on (-a), so arithmetic that would wrap in release is a finding too.
build=(-s none --debug-assertions)

cargo fuzz build "${build[@]}" || exit 2

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    if [ -d "seeds/$t" ]; then
        cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
    fi
    echo "=== $t: ${secs}s"
    # One in-process fuzzer (libFuzzer's default; -jobs would fork workers logging to files).
    if ! cargo fuzz run "${build[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -dict=dict -print_final_stats=1 \
        -max_len=4096 -timeout=10 -rss_limit_mb=2048; then
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "all ${#targets[@]} targets ran ${secs}s each without a finding"
