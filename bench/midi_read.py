#!/usr/bin/env python3
"""MIDI -> piano-roll: museroll vs pypianoroll.read, per file, same machine, one run.

Usage (from the repository root, after ./setup.sh --bench, which adds pypianoroll):
    .venv/bin/python bench/midi_read.py [--limit N] [--repeat K] [FILES...]

The inputs are the Bach chorales of music21's corpus written as MIDI by music21 (10080 ticks per
quarter, the realistic case); they are made once into bench/data/chorales-midi/. Both sides read
each file at 24 steps per beat, K times, and keep the best time; museroll's side runs the
`read_bench` example (release build), whose timing includes reading the file from disk, as
pypianoroll.read's does. Prints a per-file table, the totals and the speed-up.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "chorales-midi"


def make_inputs(limit):
    DATA.mkdir(parents=True, exist_ok=True)
    import music21
    from music21 import corpus

    bach = Path(music21.__file__).parent / "corpus" / "bach"
    sources = sorted(bach.glob("*.mxl"))[:limit]
    files = []
    for src in sources:
        dst = DATA / (src.stem + ".mid")
        if not dst.exists():
            try:
                corpus.parse(str(src)).write("midi", fp=str(dst))
            except Exception as e:  # a score music21 cannot write is simply not benchmarked
                print(f"skip {src.name}: {e}", file=sys.stderr)
                continue
        files.append(dst)
    return files


def time_pypianoroll(files, repeat):
    import pypianoroll

    out = {}
    for f in files:
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            pypianoroll.read(str(f), resolution=24)
            best = min(best, time.perf_counter() - t0)
        out[str(f)] = best
    return out


def time_museroll(files, repeat):
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "museroll-core", "--example", "read_bench"],
        cwd=ROOT, check=True)
    exe = ROOT / "target" / "release" / "examples" / "read_bench"
    proc = subprocess.run([str(exe), "--repeat", str(repeat)] + [str(f) for f in files],
                          capture_output=True, text=True, check=True)
    return {r["file"]: r["seconds"] for r in map(json.loads, proc.stdout.splitlines())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=100, help="number of chorales (default 100)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per file, best kept (default 3)")
    ap.add_argument("files", nargs="*", type=Path, help="MIDI files to time instead of the chorales")
    args = ap.parse_args()
    files = args.files or make_inputs(args.limit)
    ours = time_museroll(files, args.repeat)
    theirs = time_pypianoroll(files, args.repeat)
    rows = [(f.name, ours[str(f)], theirs[str(f)]) for f in files if str(f) in ours and str(f) in theirs]
    print(f"{'file':<20} {'museroll ms':>12} {'pypianoroll ms':>15} {'speed-up':>9}")
    for name, a, b in rows:
        print(f"{name:<20} {a * 1e3:>12.3f} {b * 1e3:>15.3f} {b / a:>8.1f}x")
    total_a = sum(r[1] for r in rows)
    total_b = sum(r[2] for r in rows)
    print(f"{len(rows)} files; total museroll {total_a * 1e3:.1f} ms, pypianoroll {total_b * 1e3:.1f} ms; "
          f"speed-up total {total_b / total_a:.1f}x, median per file "
          f"{statistics.median(b / a for _, a, b in rows):.1f}x; cpu: {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
