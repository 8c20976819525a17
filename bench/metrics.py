#!/usr/bin/env python3
"""Metrics speed: `museroll_core::metrics::evaluate` vs the same formulas in vectorised NumPy.

Usage (from the repository root):
    .venv/bin/python bench/metrics.py [--repeat 5] [--compare OLD/metrics_bench]

The input: 800 random but musical phrases of BinaryMuseGAN's shape (8 tracks, track 0 drums,
4 bars of 96 steps, 84 pitches from C1, 24 steps per beat), generated once from a fixed seed into
bench/data/ as raw bytes (0/1, [sample][track][bar][step][pitch]). Both sides compute every metric
of MetricsConfig::default() (EB, NPU, UPC, QN, PP, DP, ISR, PR, PE, PCE, POLY, GC and TD over all
non-drum pairs, true pitch classes) on the tensor held in memory; reading the file is not timed.
The NumPy side follows the formulas of crates/core/tests/fixtures/metrics/make_reference.py, but
on all bars at once, as a NumPy user would write it. The aggregates must agree to 1e-6.
museroll runs with rayon on every core, then with RAYON_NUM_THREADS=1; NumPy runs on one thread
(OPENBLAS_NUM_THREADS=1 for its few small matmuls; two BLAS threads made no difference).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # NumPy on one thread (its matmuls use BLAS)
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES, TRACKS, BARS, STEPS, PITCHES = 800, 8, 4, 96, 84
LOWEST, RES = 24, 24
IS_DRUM = np.array([True] + [False] * (TRACKS - 1))
DATA = ROOT / "bench" / "data" / f"metrics-{SAMPLES}x{TRACKS}x{BARS}x{STEPS}x{PITCHES}.u8"
MAJOR = [0, 2, 4, 5, 7, 9, 11]
CHORDS = [[0], [0], [0, 4, 7], [0, 3, 7], [0, 7]]
NAMES = ["EB", "NPU", "UPC", "QN", "PP", "DP", "ISR", "PR", "PE", "PCE", "POLY", "GC"]
DRUM_COLUMNS = [36, 38, 42, 46, 49, 45, 48]  # kick, snare, hats, crash, toms (MIDI)


def generate(rng):
    """Notes of 1–24 steps, a register and 2–8 notes (some as chords) per pitched track, about
    5–15% of its steps active; a drum track of kick/snare/hat onsets on the 16th grid, a tenth of them
    off it."""
    T = BARS * STEPS
    x = np.zeros((SAMPLES, TRACKS, T, PITCHES), dtype=np.uint8)
    for s in range(SAMPLES):
        for k in range(TRACKS):
            if IS_DRUM[k]:
                grid = np.arange(0, T, RES // 4)
                for col, p in zip([c - LOWEST for c in DRUM_COLUMNS], [0.3, 0.2, 0.5, 0.2, 0.05,
                                                                          0.05, 0.05]):
                    hits = grid[rng.random(len(grid)) < p]
                    hits = hits + (rng.random(len(hits)) < 0.1) * rng.choice([-1, 1, 2], len(hits))
                    hits = hits[hits >= 0]  # a few hits off the grid: flams, swing
                    for h in hits:
                        x[s, k, h:h + rng.integers(1, 3), col] = 1
                continue
            if rng.random() < 0.1:
                continue  # a silent track
            centre = rng.integers(12, PITCHES - 12)
            for _ in range(rng.integers(2, 9)):
                start = rng.integers(0, T)
                length = rng.integers(1, 25)
                chord = CHORDS[rng.integers(len(CHORDS))]
                root = centre + rng.integers(-12, 12)
                for i in chord:
                    if 0 <= root + i < PITCHES:
                        x[s, k, start:start + length, root + i] = 1
    return x.reshape(SAMPLES, TRACKS, BARS, STEPS, PITCHES)


def phi():
    l = np.arange(12)
    rows = []
    for r, a in [(1, 7 * math.pi / 6), (1, 3 * math.pi / 2), (0.5, 2 * math.pi / 3)]:
        rows += [r * np.sin(a * l), r * np.cos(a * l)]
    return np.array(rows)  # (6, 12)


def entropy(counts):
    total = counts.sum(-1, keepdims=True)
    p = counts / np.where(total == 0, 1, total)
    return -(p * np.log2(np.where(p > 0, p, 1))).sum(-1)


def evaluate(x, qn=2, pp=2, tol=0.1):
    """Every metric of MetricsConfig::default() on x: bool (N, K, B, S, P). Returns
    {name: aggregate}, the aggregate being the mean over non-drum tracks (drums for DP) of each
    track's mean over its valid bars."""
    n, k, b, s, p = x.shape
    drum = IS_DRUM[None, :, None]
    chroma = np.zeros((p, 12))
    chroma[np.arange(p), (LOWEST + np.arange(p)) % 12] = 1
    onsets = x.copy()
    onsets[..., 1:, :] &= ~x[..., :-1, :]  # a note restarts at each bar's first step
    cells = x.sum(axis=3, dtype=np.int32)  # (N, K, B, P)
    used = cells > 0
    nonempty = used.any(-1)
    pitched = nonempty & ~drum
    ch = cells @ chroma  # (N, K, B, 12)
    notes_per_pitch = onsets.sum(axis=3, dtype=np.int32)
    n_notes = notes_per_pitch.sum(-1)
    long_notes = (onsets[..., : s - qn + 1, :] & x[..., qn - 1:, :])
    for d in range(1, qn - 1):
        long_notes &= x[..., d: s - qn + 1 + d, :]
    per_step = x.sum(axis=4, dtype=np.int32)  # (N, K, B, S)
    drum_onsets = onsets.sum(axis=4, dtype=np.int32).astype(float)
    q = RES // 4
    base = np.zeros(q)
    base[0] = 1.0
    if q > 1:
        base[1] = tol
        base[q - 1] = tol
    filt = np.stack([np.roll(np.tile(base, s // q), j) for j in range(q)])  # (q, S)
    scale = np.zeros(12)
    scale[MAJOR] = 1
    first = used.argmax(-1)
    last = p - 1 - used[..., ::-1].argmax(-1)
    grid = onsets.any(axis=4)  # (N, K, B, S)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = {
            "EB": ((~nonempty).astype(float), np.ones_like(nonempty)),
            "NPU": (used.sum(-1).astype(float), nonempty),
            "UPC": ((ch > 0).sum(-1).astype(float), pitched),
            "QN": (long_notes.sum(axis=(3, 4)) / n_notes, pitched),
            "PP": ((per_step >= pp).sum(-1) / s, pitched),
            "DP": ((drum_onsets @ filt.T).max(-1) / drum_onsets.sum(-1), nonempty & drum),
            "ISR": ((ch @ scale) / ch.sum(-1), pitched),
            "PR": ((last - first).astype(float), pitched),
            "PE": (entropy(notes_per_pitch.astype(float)), pitched),
            "PCE": (entropy(notes_per_pitch @ chroma), pitched),
            "POLY": (cells.sum(-1) / (per_step > 0).sum(-1), pitched),
            "GC": (1 - (grid[:, :, 1:] != grid[:, :, :-1]).sum(-1) / s,
                   nonempty[:, :, 1:] | nonempty[:, :, :-1]),
        }
        out = {}
        for name, (v, valid) in values.items():
            valid = np.broadcast_to(valid, v.shape)
            count = valid.sum(axis=(0, 2))
            means = np.where(valid, v, 0).sum(axis=(0, 2)) / count  # NaN where count is 0
            chosen = means[IS_DRUM if name == "DP" else ~IS_DRUM]
            chosen = chosen[~np.isnan(chosen)]
            out[name] = float(chosen.mean()) if len(chosen) else None
        # TD: per beat, chroma normalised and projected on the tonal centroid.
        beats = x.reshape(n, k, b, s // RES, RES, p).sum(axis=4, dtype=np.int32)
        bc = beats @ chroma  # (N, K, B, beats, 12)
        total = bc.sum(-1)
        centroid = (bc / total[..., None]) @ phi().T  # (N, K, B, beats, 6)
        silent = total == 0
        tracks = np.flatnonzero(~IS_DRUM)
        pair_means = []
        for i, a in enumerate(tracks):
            for c in tracks[i + 1:]:
                dist = np.linalg.norm(centroid[:, a] - centroid[:, c], axis=-1).mean(-1)
                valid = ~(silent[:, a] | silent[:, c]).any(-1)
                if valid.any():
                    pair_means.append(dist[valid].mean())
        out["TD"] = float(np.mean(pair_means)) if pair_means else None
    return out


def best_of(repeat, fn):
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def museroll(repeat, threads=None, exe=ROOT / "target" / "release" / "examples" / "metrics_bench"):
    env = dict(os.environ)
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    args = [str(exe), "--repeat", str(repeat), str(DATA),
            *map(str, [SAMPLES, TRACKS, BARS, STEPS, PITCHES])]
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compare", metavar="EXE", type=Path,
                        help="also time this metrics_bench executable (say, built from an older "
                             "commit) in the same run, for a before/after under the same load")
    options = parser.parse_args()
    repeat = options.repeat
    if not DATA.exists():
        DATA.parent.mkdir(parents=True, exist_ok=True)
        generate(np.random.default_rng(20261123)).tofile(DATA)
    x = np.fromfile(DATA, dtype=np.uint8).reshape(SAMPLES, TRACKS, BARS, STEPS, PITCHES) != 0
    pitched = x[:, ~IS_DRUM]
    active_steps = pitched.any(axis=4).mean()
    print(f"input: {DATA.relative_to(ROOT)}, {x.sum()} active cells, "
          f"{100 * active_steps:.1f}% of pitched tracks' steps active")

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "museroll-core",
                    "--example", "metrics_bench"], cwd=ROOT, check=True)
    rust = museroll(repeat)
    rust1 = museroll(repeat, threads=1)
    if options.compare:
        other, other1 = museroll(repeat, exe=options.compare), museroll(repeat, 1, options.compare)
    t_np, ours = best_of(repeat, lambda: evaluate(x))

    bad = []
    for name in NAMES + ["TD"]:
        a, b = rust["aggregate"].get(name), ours[name]
        same = (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-6)
        print(f"  {name:5} museroll {a!s:>22}  numpy {b!s:>22}  {'ok' if same else 'MISMATCH'}")
        if not same:
            bad.append(name)
    if rust["aggregate"] != rust1["aggregate"]:
        bad.append("museroll's 1-thread aggregates differ from its multi-thread ones")
    print(f"museroll ({rust['threads']} threads): best of {repeat} {1e3 * rust['seconds']:.1f} ms")
    print(f"museroll (1 thread):   best of {repeat} {1e3 * rust1['seconds']:.1f} ms")
    print(f"numpy {np.__version__} (1 thread): best of {repeat} {1e3 * t_np:.1f} ms")
    print(f"speed-up: {t_np / rust['seconds']:.1f}x ({rust['threads']} threads), "
          f"{t_np / rust1['seconds']:.1f}x (1 thread)")
    if options.compare:
        print(f"{options.compare}: {1e3 * other['seconds']:.1f} ms ({other['threads']} threads, "
              f"{t_np / other['seconds']:.1f}x), {1e3 * other1['seconds']:.1f} ms (1 thread, "
              f"{t_np / other1['seconds']:.1f}x)")
    if bad:
        sys.exit(f"MISMATCH between museroll and NumPy: {', '.join(bad)}")


if __name__ == "__main__":
    main()
