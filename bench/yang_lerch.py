#!/usr/bin/env python3
"""Yang & Lerch speed: `museroll_core::evaluation::yang_lerch` vs the same procedure in NumPy/SciPy.

Usage (from the repository root; needs numpy and scipy, e.g. in a scratch venv):
    python3 bench/yang_lerch.py --dataset DIR [--phrases 1000] [--threads N]

The input: a museroll dataset (e.g. the Bach chorales, `BuildOptions::chorales`), its first
2N training phrases, set A = phrases 0..N and set B = N..2N. Both sides compute the 12 features of
every phrase on all tracks, the intra- and inter-set distances (exhaustive), Scott-bandwidth
Gaussian KDEs, and OA and KL divergence on one common grid of 1000 points, as documented in
crates/core/src/evaluation/yang_lerch.rs; reading the dataset is not timed on either side, and
each side runs once. The NumPy side follows crates/core/tests/fixtures/yang_lerch/make_reference.py
(features per phrase with NumPy, distances with scipy.spatial.distance's pdist/cdist,
scipy.stats.gaussian_kde). OA and KL must agree to 1e-6.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.stats
from scipy.spatial.distance import cdist, pdist

ROOT = Path(__file__).resolve().parent.parent
GRID_POINTS, TAIL, FLOOR = 1000, 6.0, 1e-12
LENGTH_CLASSES = np.array([96, 48, 24, 12, 6, 72, 36, 18, 9, 32, 16, 8], dtype=float)
FEATURES = [
    "pitch_count", "pitch_count_per_bar", "pitch_class_histogram",
    "pitch_class_histogram_per_bar", "pitch_class_transitions", "pitch_range",
    "pitch_interval", "note_count", "note_count_per_bar", "inter_onset_interval",
    "note_length_histogram", "note_length_transitions",
]


def read(dataset, n):
    manifest = json.loads((dataset / "manifest.json").read_text())
    shape = manifest["shape"]
    train, index = [], 0
    for song in manifest["songs"]:
        for _ in song["phrases"]:
            if song["split"] == "train":
                train.append(index)
            index += 1
    if len(train) < 2 * n:
        sys.exit(f"{len(train)} training phrases, fewer than 2 x {n}")
    size = manifest["phrase_bytes"]
    raw = np.fromfile(dataset / "phrases.bin", dtype=np.uint8).reshape(-1, size)[train[:2 * n]]
    cells = shape["tracks"] * shape["bars"] * shape["steps_per_bar"] * shape["pitches"]
    bits = np.unpackbits(raw, axis=1, bitorder="little")[:, :cells].astype(bool)
    rolls = bits.reshape(2 * n, shape["tracks"], shape["bars"] * shape["steps_per_bar"],
                         shape["pitches"])
    return rolls[:n], rolls[n:], shape, manifest["lowest_pitch"], manifest["resolution"]


class Extractor:
    def __init__(self, shape, lowest, resolution):
        self.bars, self.steps = shape["bars"], shape["steps_per_bar"]
        self.lowest, self.resolution = lowest, resolution
        self.classes = (lowest + np.arange(shape["pitches"])) % 12

    def notes_of(self, track):
        """(pitch, start, end) runs, sorted by start then pitch."""
        padded = np.zeros((track.shape[0] + 2, track.shape[1]), dtype=np.int8)
        padded[1:-1] = track
        d = np.diff(padded, axis=0)
        starts, ends = np.nonzero(d.T == 1), np.nonzero(d.T == -1)
        notes = [(self.lowest + p, s, e) for p, s, e in zip(starts[0], starts[1], ends[1])]
        return sorted(notes, key=lambda x: (x[1], x[0]))

    def length_class(self, steps):
        return int(np.argmin(np.abs(LENGTH_CLASSES - steps * 96 / self.steps)))

    def pc_hist(self, roll):
        h = np.bincount(self.classes, weights=roll.sum(axis=(0, 1)), minlength=12)
        s = h.sum()
        return h / s if s > 0 else h

    def features(self, roll):
        tracks = [self.notes_of(t) for t in roll]
        used = np.flatnonzero(roll.any(axis=(0, 1)))
        bars = [roll[:, b * self.steps:(b + 1) * self.steps] for b in range(self.bars)]
        pctm, nltm, nlh = np.zeros((12, 12)), np.zeros((12, 12)), np.zeros(12)
        intervals = []
        for notes in tracks:
            for a in notes:
                for b in notes:
                    if b[1] == a[2]:
                        pctm[a[0] % 12, b[0] % 12] += 1
                nlh[self.length_class(a[2] - a[1])] += 1
            for a, b in zip(notes, notes[1:]):
                intervals.append(abs(a[0] - b[0]))
                nltm[self.length_class(a[2] - a[1]), self.length_class(b[2] - b[1])] += 1
        norm = lambda x: x / x.sum() if x.sum() > 0 else x  # noqa: E731
        all_notes = [n for notes in tracks for n in notes]
        onsets = sorted({n[1] for n in all_notes})
        return [
            [len(used)],
            [int(bar.any(axis=(0, 1)).sum()) for bar in bars],
            self.pc_hist(roll),
            np.concatenate([self.pc_hist(bar) for bar in bars]),
            norm(pctm).ravel(),
            [int(used.max() - used.min()) if len(used) else 0],
            [float(np.mean(intervals)) if intervals else 0.0],
            [len(all_notes)],
            np.bincount([n[1] // self.steps for n in all_notes], minlength=self.bars),
            [float(np.mean(np.diff(onsets))) / self.resolution if len(onsets) > 1 else 0.0],
            norm(nlh),
            norm(nltm).ravel(),
        ]


def evaluate(a, b, extractor):
    fa = [extractor.features(p) for p in a]
    fb = [extractor.features(p) for p in b]
    out = {}
    for k, name in enumerate(FEATURES):
        xa = np.array([np.asarray(f[k], dtype=float) for f in fa])
        xb = np.array([np.asarray(f[k], dtype=float) for f in fb])
        sets = [pdist(xa), pdist(xb), cdist(xa, xb).ravel()]
        kdes = [scipy.stats.gaussian_kde(d) for d in sets]
        widest = max(np.sqrt(kde.covariance[0, 0]) for kde in kdes)
        lo = min(d.min() for d in sets) - TAIL * widest
        hi = max(d.max() for d in sets) + TAIL * widest
        grid = np.linspace(lo, hi, GRID_POINTS)
        pa, pb, pi = (kde(grid) for kde in kdes)
        oa = lambda p, q: float(np.trapezoid(np.minimum(p, q), grid))  # noqa: E731
        kl = lambda p, q: float(scipy.stats.entropy(np.maximum(p, FLOOR), np.maximum(q, FLOOR)))  # noqa: E731
        out[name] = {"overlap_area_a": oa(pa, pi), "kl_divergence_a": kl(pa, pi),
                     "overlap_area_b": oa(pb, pi), "kl_divergence_b": kl(pb, pi)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--phrases", type=int, default=1000)
    parser.add_argument("--threads", type=int, help="RAYON_NUM_THREADS for museroll")
    options = parser.parse_args()
    a, b, shape, lowest, resolution = read(options.dataset, options.phrases)

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "museroll-core",
                    "--example", "yang_lerch_bench"], cwd=ROOT, check=True)
    env = dict(os.environ)
    if options.threads:
        env["RAYON_NUM_THREADS"] = str(options.threads)
    exe = ROOT / "target" / "release" / "examples" / "yang_lerch_bench"
    rust = json.loads(subprocess.run([str(exe), str(options.dataset), str(options.phrases)],
                                     env=env, check=True, capture_output=True, text=True).stdout)

    t0 = time.perf_counter()
    ours = evaluate(a, b, Extractor(shape, lowest, resolution))
    t_np = time.perf_counter() - t0

    worst = 0.0
    for entry in rust["comparison"]:
        name = entry["feature"]
        diffs = [abs(entry[k] - ours[name][k]) for k in ours[name]]
        worst = max(worst, *diffs)
        print(f"  {name:30} OA {entry['overlap_area_a']:.6f} / numpy {ours[name]['overlap_area_a']:.6f}"
              f"  KL {entry['kl_divergence_a']:.6f} / numpy {ours[name]['kl_divergence_a']:.6f}")
    print(f"largest |difference| of OA/KL: {worst:.2e}")
    print(f"museroll ({rust['threads']} threads): {rust['seconds']:.2f} s")
    print(f"numpy {np.__version__} / scipy {scipy.__version__}: {t_np:.2f} s")
    print(f"speed-up: {t_np / rust['seconds']:.1f}x")
    if worst > 1e-6:
        sys.exit("MISMATCH between museroll and NumPy/SciPy")


if __name__ == "__main__":
    main()
