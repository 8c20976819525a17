#!/usr/bin/env bash
# The main job: sets everything up (./setup.sh: venv, torch, data wheels, release build), then
# shows museroll end to end on Bach chorales from music21's corpus: reads MusicXML and writes
# MIDI / npz / pictures, builds the chorale training set with its metrics, and generates new
# four-bar chorale phrases (MIDI + WAV + PNG + metrics vs the data) with the small chorale model
# that museroll itself trained (models/chorale, see its report.md), and 16-bar pieces with the
# temporal model it trained (models/chorale-hybrid). Everything lands in out/demo/.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
museroll=./target/release/museroll
bach=$(.venv/bin/python -c 'import music21, os; print(os.path.join(os.path.dirname(music21.__file__), "corpus", "bach"))')
out=out/demo
mkdir -p "$out"
for chorale in bwv66.6 bwv269; do
    src="$bach/$chorale.mxl"
    echo "== $chorale"
    "$museroll" info "$src"
    "$museroll" convert "$src" "$out/$chorale.mid"
    "$museroll" convert "$src" "$out/$chorale.npz"
    "$museroll" plot "$src" "$out/$chorale.png"
done

echo "== the chorale dataset (SATB, 4 bars × 16 steps × 48 pitches) and its objective metrics"
rm -rf "$out/chorales"
"$museroll" data build --out "$out/chorales"
"$museroll" data stats "$out/chorales" --json "$out/chorales-metrics.json" > "$out/chorales-metrics.md"

echo "== new phrases from the committed chorale model (models/chorale), with audio"
"$museroll" model --preset chorale | tail -n 1
# ht: this model's refiner had only 100 steps and makes the phrases worse (see README).
"$museroll" generate --run models/chorale --n 8 --seed 2026 --out "$out/generated" --audio --force \
    --binarize ht --threads 1 --device cpu

echo "== a longer piece: 16 bars from the committed temporal model (models/chorale-hybrid)"
"$museroll" generate --run models/chorale-hybrid --n 2 --bars 16 --continuity 0.5 --seed 2026 \
    --out "$out/long" --audio --force --threads 1 --device cpu

echo
echo "Done. In $out/: MIDI (.mid), pypianoroll archives (.npz) and piano-rolls (.png) of two"
echo "chorales; the dataset chorales/ and its metrics (chorales-metrics.md); generated/ holds"
echo "8 new phrases as sample-NN.mid / .wav / .png, samples.png, samples.npz and metrics.md;"
echo "long/ holds two 16-bar pieces the same way (see README: longer pieces and their limits)."
echo "Train your own model in about five minutes (500 steps at 1 thread on an idle 2-core machine;"
echo "see README for longer runs and the temporal model):"
echo "  $museroll train --data $out/chorales --preset chorale --out runs/my-chorales --steps 500 --refiner-steps 0 --threads 1"
echo "  $museroll generate --run runs/my-chorales --n 8 --out out/my-samples --audio"
