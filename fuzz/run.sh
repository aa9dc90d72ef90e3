#!/usr/bin/env bash
# Builds and runs every fuzz target (picket-parsers, framing, RELP, DNS, whois, e-mail, the
# evidence bundle, the query protocol's request decoder `query_request`, the config loader
# `config`) for SECONDS each (default 30), one at a time (one fuzzer process), on the stable
# toolchain without a sanitizer (`-s none`). Seeds from seeds/<target>/ are copied into
# corpus/<target>/ first. Prints a summary table per target (executions, cov/ft from
# libFuzzer's final stats, corpus size, crashes) and exits non-zero if any target crashed or
# broke a property; the inputs are in artifacts/<target>/, each target's full libFuzzer output
# in logs/<target>.log.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      e.g. fuzz/run.sh 60 line header
#   fuzz/run.sh seeds [TARGET...]          each target over its seeds only (CI: none rots)
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
# The seeds alone need no optimiser: a dev build (overflow checks on too) cost 134 CPU-s cold
# against 217 for the release one (27 targets, 2-core machine), and CI does it every run.
[ "$secs" = seeds ] && build=(-s none --dev)

cargo fuzz build "${build[@]}" || exit 2

failed=()
rows=()
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="logs/$t.log"
    if [ "$secs" = seeds ]; then
        # -runs=0: load and execute every seed once, then stop (no mutation, no new corpus).
        echo "=== $t: seeds"
        mkdir -p "seeds/$t"
        cargo fuzz run "${build[@]}" "$t" "seeds/$t" -- \
            -runs=0 -print_final_stats=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
            >"$log" 2>&1
        rc=$?
    else
        if [ -d "seeds/$t" ]; then
            cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
        fi
        echo "=== $t: ${secs}s"
        # One in-process fuzzer (libFuzzer's default; -jobs would fork workers logging to files).
        cargo fuzz run "${build[@]}" "$t" "corpus/$t" "seeds/$t" -- \
            -max_total_time="$secs" -dict=dict -print_final_stats=1 \
            -max_len=4096 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1
        rc=$?
    fi
    [ "$rc" -eq 0 ] || { failed+=("$t"); tail -n 30 "$log"; }
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # The last status line (#N INITED/pulse/DONE/NEW ... cov: C ft: F corp: ...). -a: the
    # log holds raw bytes (the recommended dictionary), and grep prints nothing of a binary file.
    status=$(grep -aE '^#[0-9]+' "$log" | grep -a ' cov: ' | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
    corp=$(find "corpus/$t" -type f | wc -l)
    [ "$secs" = seeds ] && corp=$(find "seeds/$t" -type f | wc -l)
    crashes=$(find "artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' \
        -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    rows+=("$(printf '%-20s %12s %6s %7s %7s %8s %s' "$t" "${execs:-?}" "${cov:-?}" \
        "${ft:-?}" "$corp" "$crashes" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)")")
done

echo
printf '%-20s %12s %6s %7s %7s %8s %s\n' target executions cov ft corpus crashes result
printf '%s\n' "${rows[@]}"
echo

if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]} (inputs under fuzz/artifacts/, output under fuzz/logs/)" >&2
    exit 1
fi
echo "all ${#targets[@]} targets ran ${secs}$([ "$secs" = seeds ] || echo s) each without a finding"
