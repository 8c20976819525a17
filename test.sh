#!/usr/bin/env bash
# Every check, as CI runs it (.ci/run calls this script): setup (venv, torch, release build), then
# formatting, clippy with warnings as errors, and the whole workspace's tests. Exits non-zero on the
# first failure; ends with cargo test's summary lines and the time of each phase.
#
# Profiles: the libtorch crates (models, cli) are checked and tested in the release profile that
# setup.sh has just built, because torch-sys compiles libtorch's C++ bindings once per profile
# (minutes). museroll-core, which does not link libtorch, is tested in the dev profile: it builds in
# seconds and keeps integer-overflow checks on, so its hostile-input tests catch overflows.
set -euo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
timings=()

# phase NAME COMMAND...: runs COMMAND with its output on the terminal and in $log, and times it.
phase() {
    local name=$1 start=$SECONDS
    shift
    echo "==> test: $name"
    "$@" 2>&1 | tee -a "$log"
    timings+=("$(printf '%-28s %4ds' "$name" $((SECONDS - start)))")
}

phase "setup" ./setup.sh
phase "fmt" cargo fmt --all --check
phase "clippy" cargo clippy --release --locked --workspace --all-targets -- -D warnings
phase "test core (dev)" cargo test --locked --workspace --exclude museroll-models --exclude museroll-cli
phase "test models, cli (release)" cargo test --release --locked -p museroll-models -p museroll-cli

echo
echo "==> test: summary"
# One line per test binary: which one (unit tests name their crate), then cargo's result line.
awk '/^ +Running /  { n = $0; sub(/.*\//, "", n); sub(/-[0-9a-f]+\)$/, "", n); name = ($2 == "unittests" ? "unit " : "test ") n }
     /^ +Doc-tests / { name = "doc " $2 }
     /^test result:/ { printf "%-40s %s\n", name, $0 }' "$log"
printf '%s\n' "${timings[@]}"
echo "all checks passed"
