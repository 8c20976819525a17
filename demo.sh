#!/usr/bin/env bash
# The main job: sets everything up (./setup.sh: venv, torch, data wheels, release build), then
# shows what museroll does today with Bach chorales from music21's corpus: reads MusicXML, prints
# what is in it, and writes MIDI, pypianoroll .npz and piano-roll PNGs into out/demo/.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
museroll=./target/release/museroll
bach=$(.venv/bin/python -c 'import music21, os; print(os.path.join(os.path.dirname(music21.__file__), "corpus", "bach"))')
out=out/demo
mkdir -p "$out"
for chorale in bwv66.6 bwv269 bwv347; do
    src="$bach/$chorale.mxl"
    echo "== $chorale"
    "$museroll" info "$src"
    "$museroll" convert "$src" "$out/$chorale.mid"
    "$museroll" convert "$src" "$out/$chorale.npz"
    "$museroll" plot "$src" "$out/$chorale.png"
    "$museroll" plot "$src" "$out/$chorale-phrase.png" --bars 4 --resolution 4
done

echo "== the chorale dataset (SATB, 4 bars × 16 steps × 48 pitches) and its objective metrics"
rm -rf "$out/chorales"
"$museroll" data build --out "$out/chorales"
"$museroll" data stats "$out/chorales" --json "$out/chorales-metrics.json" > "$out/chorales-metrics.md"
sed -n '1,18p' "$out/chorales-metrics.md"

echo "== the CPU model for it (BinaryMuseGAN layout, chorale preset)"
"$museroll" model --preset chorale | tail -n 3

echo
echo "Done. Open the files in $out/: MIDI (.mid), pypianoroll archives (.npz), piano-rolls (.png),"
echo "the dataset chorales/ with its metrics (chorales-metrics.md, .json)."
