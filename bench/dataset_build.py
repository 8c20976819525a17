#!/usr/bin/env python3
"""Dataset build throughput: `museroll data build` vs the same job done with pypianoroll.

Usage (from the repository root, after ./setup.sh --bench and one run of bench/midi_read.py,
which writes the chorales as MIDI into bench/data/chorales-midi/):
    .venv/bin/python bench/dataset_build.py

The job, on both sides: read every MIDI file, keep songs of exactly 4 tracks (SATB), take every
4-bar window of 4/4 at 4 steps per beat, keep pitches C2–B5 (48), drop silent windows, and
write the phrases bit-packed. The Python side is what a pypianoroll user writes:
`pypianoroll.read(resolution=4)`, `stack()`, slicing and `np.packbits`. One process each, one run,
same machine; the time includes process start-up (museroll's is about 0.5 s, loading libtorch).
"""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "chorales-midi"
OUT = ROOT / "bench" / "data" / "dataset-bench"


def python_build(files):
    import pypianoroll

    phrases = []
    bars, steps_per_bar, low, n_pitches = 4, 16, 36, 48
    for f in files:
        try:
            m = pypianoroll.read(str(f), resolution=4)
        except Exception:
            continue
        if len(m.tracks) != 4:
            continue
        roll = m.stack() > 0  # (tracks, T, 128)
        roll = roll[:, :, low:low + n_pitches]
        n_bars = roll.shape[1] // steps_per_bar
        for b in range(0, n_bars - bars + 1):
            w = roll[:, b * steps_per_bar:(b + bars) * steps_per_bar]
            if w.any():
                phrases.append(np.packbits(w))
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "python.npy", np.stack(phrases))
    return len(phrases)


def main():
    files = sorted(DATA.glob("*.mid"))
    if not files:
        sys.exit("no MIDI chorales in bench/data/chorales-midi: run bench/midi_read.py first")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "museroll-cli"], cwd=ROOT, check=True)
    target = OUT / "museroll"
    shutil.rmtree(target, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([str(ROOT / "target" / "release" / "museroll"), "data", "build", str(DATA),
                    "--out", str(target), "--tracks", "satb", "--bars", "4", "--steps-per-beat", "4",
                    "--lowest-pitch", "36", "--pitches", "48", "--hop", "1"],
                   check=True, capture_output=True)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = python_build(files)
    theirs = time.perf_counter() - t0
    print(f"{len(files)} files: museroll {ours:.2f} s ({len(files) / ours:.0f} files/s), "
          f"pypianoroll {theirs:.2f} s ({len(files) / theirs:.0f} files/s, {n} phrases); "
          f"speed-up {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
