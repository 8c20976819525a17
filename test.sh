#!/usr/bin/env bash
# Every check, as CI runs it (.ci/run calls this script): formatting first (seconds, so a slip fails
# before the long install), setup (venv, torch, release build), clippy with warnings as errors, and
# the whole workspace's tests. Exits non-zero on the first failure; ends with cargo test's summary
# lines and the time of each phase.
#
# Profiles: the libtorch crates (models, app-models, cli) are checked and tested in the release
# profile that setup.sh has just built, because torch-sys compiles libtorch's C++ bindings once
# per profile (minutes). museroll-core and museroll-app, which do not link libtorch, are tested in the dev
# profile: they build quickly and keep integer-overflow checks on, so the hostile-input tests catch
# overflows.
set -euo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
timings=()
current=""

# At the end, passed or not: cargo test's result line per test binary (named by its crate or file),
# the time of each phase, and the phase that failed.
finish() {
    local status=$?
    echo
    echo "==> test: summary"
    awk '/^ +Running /  { n = $0; sub(/.*\//, "", n); sub(/-[0-9a-f]+\)$/, "", n)
                         name = ($2 == "unittests" ? "unit " : "test ") n }
         /^ +Doc-tests / { name = "doc " $2 }
         /^test result:/ { printf "%-40s %s\n", name, $0 }' "$log"
    if [ "${#timings[@]}" -gt 0 ]; then printf '%s\n' "${timings[@]}"; fi
    if [ "$status" -eq 0 ]; then
        echo "all checks passed"
    else
        echo "FAILED in phase '$current' (exit status $status)"
    fi
    # Last, the plain count over every test binary (CI reads the closing line).
    awk '/^test result:/ { for (i = 1; i < NF; i++) {
                               if ($(i + 1) ~ /^passed;?$/) passed += $i
                               if ($(i + 1) ~ /^failed;?$/) failed += $i } }
         END { if (passed + failed > 0) printf "total: %d passed, %d failed\n", passed, failed }' "$log"
    rm -f "$log"
}
trap finish EXIT

# phase NAME COMMAND...: runs COMMAND with its output on the terminal and in $log, and times it.
phase() {
    local start=$SECONDS
    current=$1
    shift
    echo "==> test: $current"
    "$@" 2>&1 | tee -a "$log"
    timings+=("$(printf '%-28s %4ds' "$current" $((SECONDS - start)))")
}

phase "fmt" cargo fmt --all --check
phase "setup" ./setup.sh
phase "clippy" cargo clippy --release --locked --workspace --all-targets -- -D warnings
phase "test core, app (dev)" cargo test --locked --workspace --exclude museroll-models \
    --exclude museroll-app-models --exclude museroll-cli
phase "test models, app-models, cli (release)" cargo test --release --locked -p museroll-models \
    -p museroll-app-models -p museroll-cli
