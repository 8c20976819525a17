#!/usr/bin/env bash
# The main job: sets everything up (./setup.sh: venv, torch, data wheels, release build), then
# shows museroll end to end on Bach chorales from music21's corpus: reads MusicXML and writes
# MIDI / npz / pictures, builds the chorale training set with its metrics, and generates new
# four-bar chorale phrases (MIDI + WAV + PNG + metrics vs the data) with the small chorale model
# that museroll itself trained (models/chorale, see its report.md). Everything lands in out/demo/.
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
"$museroll" generate --run models/chorale --n 8 --seed 2026 --out "$out/generated" --audio --force \
    --threads 1 --device cpu

echo
echo "Done. In $out/: MIDI (.mid), pypianoroll archives (.npz) and piano-rolls (.png) of two"
echo "chorales; the dataset chorales/ and its metrics (chorales-metrics.md); generated/ holds"
echo "8 new phrases as sample-NN.mid / .wav / .png, samples.png, samples.npz and metrics.md."
echo "Train your own model (about 45 minutes on 2 cores, see models/chorale/report.md):"
echo "  $museroll train --data $out/chorales --preset chorale --out runs/my-chorales"
echo "  $museroll generate --run runs/my-chorales --n 8 --out out/my-samples --audio"
