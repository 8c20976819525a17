#!/usr/bin/env bash
# Sets the project up, from a fresh clone or again at any time (a run that finds everything in place
# takes seconds). Everything goes into the project directory:
#   .venv/      Python venv with torch (it carries the libtorch that tch links) and the data carriers
#               music21 (its corpus has the Bach chorales) and pretty_midi (it ships TimGM6mb.sf2);
#   .libtorch   a link to the venv's torch package; .cargo/config.toml points LIBTORCH at it and the
#               build writes it into the binaries' RUNPATH, so nothing needs to be exported later;
#   target/release/museroll   the release build, with museroll-torch next to it (the neural
#                             commands; museroll itself links no libtorch and hands them over).
#
# Usage: ./setup.sh [--bench]
#   --bench   also install pypianoroll, which only the Python reference scripts in bench/ need.
# Environment: PYTHON picks the interpreter for a new venv (default: python3; 3.11 is tested).
set -euo pipefail
cd "$(dirname "$0")"

# tch =0.26.0 is generated for PyTorch 2.13.0; with LIBTORCH set, torch-sys does not check the
# version itself, so this script does (below).
TORCH_VERSION=2.13.0
PINS=("torch==$TORCH_VERSION" "music21==10.5.1" "pretty_midi==0.2.11.post0")

for arg in "$@"; do
    case "$arg" in
        --bench) PINS+=("pypianoroll==1.0.4") ;;
        *) echo "setup.sh: unknown option '$arg' (usage: ./setup.sh [--bench])" >&2; exit 2 ;;
    esac
done

step() { echo "==> setup: $*"; }
pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }
need() { command -v "$1" >/dev/null || { echo "setup.sh: $1 not found: $2" >&2; exit 1; }; }

# Fail before the long download if the build could not run anyway.
need cargo "install a Rust toolchain (1.89 or newer), e.g. with rustup"
need "${CXX:-c++}" "install a C++ compiler (torch-sys compiles libtorch's C bindings)"

if [ ! -x .venv/bin/python ]; then
    step "creating the Python venv .venv (${PYTHON:-python3})"
    "${PYTHON:-python3}" -m venv .venv
fi

# Pins that are missing or at another version (installed metadata only: no import, so it is fast).
missing=$(.venv/bin/python - "${PINS[@]}" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name).split("+")[0]
    except PackageNotFoundError:
        have = None
    if have != want:
        print(pin)
EOF
)

if [ -n "$missing" ]; then
    mapfile -t missing <<<"$missing"
    step "installing ${missing[*]} into .venv (torch is a ~3 GB download: minutes on a first run)"
    # A CI machine starts empty and throws everything away: a wheel cache would only double the disk.
    pip install --quiet ${CI:+--no-cache-dir} "${missing[@]}"
    if [[ " ${missing[*]} " == *" torch==$TORCH_VERSION "* ]]; then
        # torch pulls triton (0.7 GB) for torch.compile's GPU kernels. libtorch never loads it and
        # `import torch` does not need it, so it goes, but only right after this script installed
        # torch: a venv that already had the right torch is left as it is.
        step "removing triton (torch.compile only; libtorch does not use it)"
        pip uninstall --quiet --yes triton
    fi
else
    step "venv up to date (${PINS[*]})"
fi

torch_dir=$(.venv/bin/python -c '
import importlib.util, os
print(os.path.relpath(importlib.util.find_spec("torch").submodule_search_locations[0]))')
if [ "$(readlink .libtorch 2>/dev/null)" != "$torch_dir" ]; then
    step "linking .libtorch -> $torch_dir"
    ln -sfn "$torch_dir" .libtorch
fi

# The version of the libtorch that is linked, read from the package itself (not pip's records).
linked=$(.venv/bin/python -c '
import runpy
print(runpy.run_path(".libtorch/version.py")["__version__"].split("+")[0])')
if [ "$linked" != "$TORCH_VERSION" ] || [ ! -e .libtorch/lib/libtorch_cpu.so ]; then
    echo "setup.sh: .libtorch holds torch $linked, but tch 0.26 needs $TORCH_VERSION" \
         "(or lib/libtorch_cpu.so is missing); remove .venv and run ./setup.sh again" >&2
    exit 1
fi

step "cargo build --release (a first build compiles libtorch's C++ bindings: minutes)"
cargo build --release --locked
step "done: ./target/release/museroll"
