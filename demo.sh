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
echo
echo "Done. Open the files in $out/: MIDI (.mid), pypianoroll archives (.npz), piano-rolls (.png)."
