//! Voice-leading rules on hand-worked four-voice passages (expected counts worked out in the
//! comments).

use museroll_core::evaluation::voice_leading::{
    estimate_key, voice_leading, Key, Mode, PhraseVoiceLeading, VoiceLeadingCounts,
};
use museroll_core::metrics::{PhraseShape, PhraseView};
use museroll_core::{Pitch, Resolution};

const S: usize = 0;
const A: usize = 1;
const T: usize = 2;
const B: usize = 3;

/// Chorale phrases of one bar of 16 steps, 48 pitches from C2 (MIDI 36), as the dataset has.
struct Satb {
    shape: PhraseShape,
    cells: Vec<u8>,
}

impl Satb {
    fn new(samples: usize) -> Satb {
        let shape = PhraseShape {
            samples,
            tracks: 4,
            bars: 1,
            steps_per_bar: 16,
            pitches: 48,
            lowest_pitch: Pitch::new(36).unwrap(),
            resolution: Resolution::new(4).unwrap(),
        };
        Satb {
            shape,
            cells: vec![0; shape.cells().unwrap()],
        }
    }

    /// Voice `voice` of phrase `sample` sings MIDI `pitch` on steps `start..end`.
    fn note(&mut self, sample: usize, voice: usize, pitch: usize, start: usize, end: usize) {
        for t in start..end {
            let row = (sample * 4 + voice) * 16 + t;
            self.cells[row * 48 + pitch - 36] = 1;
        }
    }

    /// Chords of one beat (4 steps) each, voices S, A, T, B, from beat 0.
    fn chords(&mut self, sample: usize, chords: &[[usize; 4]]) {
        for (beat, chord) in chords.iter().enumerate() {
            for (voice, &pitch) in chord.iter().enumerate() {
                self.note(sample, voice, pitch, 4 * beat, 4 * beat + 4);
            }
        }
    }

    fn run(&self) -> Vec<PhraseVoiceLeading> {
        let view = PhraseView::new(&self.cells, self.shape, &[false; 4]).unwrap();
        voice_leading(&view).unwrap()
    }
}

/// I–IV–V–I in C, close to a textbook's: C5 E4 G3 C3 | C5 F4 A3 F3 | B4 D4 B3 G3 | C5 E4 G3 C3.
const CADENCE: [[usize; 4]; 4] = [
    [72, 64, 55, 48],
    [72, 65, 57, 53],
    [71, 62, 59, 55],
    [72, 64, 55, 48],
];

#[test]
fn a_correct_cadence_breaks_no_rule() {
    let mut satb = Satb::new(1);
    satb.chords(0, &CADENCE);
    let phrases = satb.run();
    let c = &phrases[0].counts;
    assert_eq!(
        phrases[0].key,
        Some(Key {
            tonic: 0,
            mode: Mode::Major
        })
    );
    // three chord changes; the bass's leap G3→C3 into the tenor's fifth is a hidden fifth (from
    // a third), and B4–B3 → C5–G3 leaves an octave by contrary motion: neither counts
    assert_eq!(c.moves, 3);
    assert_eq!(
        (c.parallel_fifths, c.parallel_octaves, c.antiparallel),
        (0, 0, 0)
    );
    assert_eq!(
        (c.crossing_steps, c.overlaps, c.spacing_violations),
        (0, 0, 0)
    );
    assert_eq!(
        (c.multi_voice_steps, c.overlap_checks, c.spacing_checks),
        (16, 9, 32)
    );
    assert_eq!(c.out_of_range, [0; 4]);
    // S: C5 (held across the first two chords) B4 C5; A, T, B: four notes each
    assert_eq!(c.notes, [3, 4, 4, 4]);
    assert_eq!((c.full_steps, c.chord_steps), (16, 16));
    assert_eq!((c.keyed_notes, c.in_scale_notes), (15, 15));
    assert_eq!(c.multi_pitch, 0);
    assert_eq!(c.phrases_all_voices, 1);
    assert_eq!(c.parallels_per_100_moves(), 0.0);
    assert_eq!(c.chord_tone_ratio(), 1.0);
    assert_eq!(c.in_scale_ratio(), 1.0);
}

#[test]
fn a_textbook_parallel_fifth_is_one_per_move() {
    // tenor G3→A3 over bass C3→D3, upper voices silent
    let mut satb = Satb::new(1);
    satb.note(0, T, 55, 0, 4);
    satb.note(0, T, 57, 4, 8);
    satb.note(0, B, 48, 0, 4);
    satb.note(0, B, 50, 4, 8);
    let c = &satb.run()[0].counts;
    assert_eq!((c.moves, c.parallel_fifths, c.parallel_octaves), (1, 1, 0));
    assert_eq!(c.parallels_per_100_moves(), 100.0);
    // no step has all four voices: no chord is judged, and not every voice sang
    assert_eq!((c.full_steps, c.phrases_all_voices), (0, 0));
    assert!(c.chord_tone_ratio().is_nan());
}

#[test]
fn compound_fifths_and_unison_octaves_count_hidden_and_contrary_do_not() {
    let mut satb = Satb::new(4);
    // 0: soprano D5→E5 over bass G2→A2: a compound fifth (31 semitones), parallel
    satb.note(0, S, 74, 0, 4);
    satb.note(0, S, 76, 4, 8);
    satb.note(0, B, 43, 0, 4);
    satb.note(0, B, 45, 4, 8);
    // 1: alto and tenor in unison C4→D4, then the alto to E4 while the tenor goes to E3:
    // unison → unison (parallel octave), then unison → octave by contrary motion (antiparallel)
    satb.note(1, A, 60, 0, 4);
    satb.note(1, A, 62, 4, 8);
    satb.note(1, A, 64, 8, 12);
    satb.note(1, T, 60, 0, 4);
    satb.note(1, T, 62, 4, 8);
    satb.note(1, T, 52, 8, 12);
    // 2: hidden fifth: bass C3→D3 under tenor E3→A3 (a third into a fifth, same direction)
    satb.note(2, T, 52, 0, 4);
    satb.note(2, T, 57, 4, 8);
    satb.note(2, B, 48, 0, 4);
    satb.note(2, B, 50, 4, 8);
    // 3: contrary fifths: C3–G3 → G2–D4 (a fifth to a twelfth, bass down, tenor up)
    satb.note(3, T, 55, 0, 4);
    satb.note(3, T, 62, 4, 8);
    satb.note(3, B, 48, 0, 4);
    satb.note(3, B, 43, 4, 8);
    let phrases = satb.run();
    let got: Vec<_> = phrases
        .iter()
        .map(|p| {
            let c = &p.counts;
            (
                c.moves,
                c.parallel_fifths,
                c.parallel_octaves,
                c.antiparallel,
            )
        })
        .collect();
    assert_eq!(
        got,
        [(1, 1, 0, 0), (2, 0, 1, 1), (1, 0, 0, 0), (1, 0, 0, 1)]
    );
    let total = VoiceLeadingCounts::total(phrases.iter().map(|p| &p.counts));
    assert_eq!((total.phrases, total.moves), (4, 5));
    // 2 parallels and 2 antiparallels in 5 moves
    let rates = total.rates();
    assert!((rates.parallels_per_100_moves - 40.0).abs() < 1e-12);
    assert!((rates.antiparallels_per_100_moves - 40.0).abs() < 1e-12);
    let json = serde_json::to_value(rates).unwrap();
    assert!(json["chord_tone_ratio"].is_null()); // no step with four voices
}

#[test]
fn a_held_voice_does_not_move_in_parallel() {
    // the soprano holds G4 while the bass moves C3→D3: one move, no parallel (one voice held)
    let mut satb = Satb::new(1);
    satb.note(0, S, 67, 0, 8);
    satb.note(0, B, 48, 0, 4);
    satb.note(0, B, 50, 4, 8);
    let c = &satb.run()[0].counts;
    assert_eq!((c.moves, c.parallel_fifths, c.parallel_octaves), (1, 0, 0));
}

#[test]
fn crossing_overlap_spacing_and_range() {
    let mut satb = Satb::new(3);
    // 0: alto E3 below tenor G3 for one beat (a crossing), then the alto back to E4 (no cross)
    satb.note(0, A, 52, 0, 4);
    satb.note(0, A, 64, 4, 8);
    satb.note(0, T, 55, 0, 8);
    // 1: soprano C5 over alto A4; the alto rises to D5, above the soprano's C5 of the step
    // before while the soprano rises to E5 (no crossing at the new step): an overlap
    satb.note(1, S, 72, 0, 4);
    satb.note(1, S, 76, 4, 8);
    satb.note(1, A, 69, 0, 4);
    satb.note(1, A, 74, 4, 8);
    // 2: soprano B5 (out of range) over alto B3: 24 semitones apart for 4 steps; bass C2 (out)
    satb.note(2, S, 83, 0, 4);
    satb.note(2, A, 59, 0, 4);
    satb.note(2, B, 36, 0, 4);
    let phrases = satb.run();
    let c0 = &phrases[0].counts;
    assert_eq!((c0.multi_voice_steps, c0.crossing_steps), (8, 4));
    assert_eq!(c0.crossing_ratio(), 0.5);
    // the move E3→E4 against the held G3 is checked; the alto is above the tenor after it and
    // was below before, so "upper falls below / lower rises above the other's previous pitch"
    // does not apply (it is the crossing being undone)
    assert_eq!((c0.overlap_checks, c0.overlaps), (1, 0));
    let c1 = &phrases[1].counts;
    assert_eq!(
        (c1.crossing_steps, c1.overlap_checks, c1.overlaps),
        (0, 1, 1)
    );
    assert_eq!(c1.spacing_violations, 0);
    let c2 = &phrases[2].counts;
    assert_eq!((c2.spacing_checks, c2.spacing_violations), (4, 4));
    assert_eq!(c2.notes, [1, 1, 0, 1]);
    assert_eq!(c2.out_of_range, [1, 0, 0, 1]);
    let ratios = c2.out_of_range_ratio();
    assert_eq!((ratios[0], ratios[1], ratios[3]), (1.0, 0.0, 1.0));
    assert!(ratios[2].is_nan());
}

#[test]
fn chords_are_judged_where_all_four_voices_sound() {
    let mut satb = Satb::new(1);
    // beat 0: C E G C; beat 1: C D E G (a cluster); beat 2: G3 B3 D4 F4 (G7);
    // beat 3: C-G-C-G (bare fifths)
    satb.chords(
        0,
        &[
            [72, 64, 55, 48],
            [67, 64, 62, 48],
            [65, 62, 59, 55],
            [67, 60, 55, 48],
        ],
    );
    let c = &satb.run()[0].counts;
    assert_eq!((c.full_steps, c.chord_steps), (16, 8));
    assert_eq!(c.chord_tone_ratio(), 0.5);
    assert_eq!(c.all_voices_ratio(), 1.0);
}

#[test]
fn out_of_key_notes_lower_the_in_scale_ratio() {
    // the cadence with a C#5 in place of the last soprano C5: C major still, 1 note of 15 out
    let mut satb = Satb::new(1);
    let mut chords = CADENCE;
    chords[3][S] = 73;
    satb.chords(0, &chords);
    let phrase = &satb.run()[0];
    assert_eq!(phrase.key.unwrap().to_string(), "C major");
    assert_eq!(
        (phrase.counts.keyed_notes, phrase.counts.in_scale_notes),
        (15, 14)
    );
}

#[test]
fn krumhansl_schmuckler_finds_c_major_and_a_minor() {
    let weights = |classes: &[usize]| {
        let mut w = [0.0; 12];
        for &pc in classes {
            w[pc] += 1.0;
        }
        w
    };
    let c_major = estimate_key(&weights(&[0, 2, 4, 5, 7, 9, 11, 0]));
    assert_eq!(c_major.unwrap().to_string(), "C major");
    let a_harmonic_minor = estimate_key(&weights(&[9, 11, 0, 2, 4, 5, 8, 9]));
    assert_eq!(
        a_harmonic_minor,
        Some(Key {
            tonic: 9,
            mode: Mode::Minor
        })
    );
    // G# is then in scale, as the raised seventh
    assert_eq!(a_harmonic_minor.unwrap().scale() >> 8 & 1, 1);
    assert_eq!(estimate_key(&[0.0; 12]), None);
    assert_eq!(estimate_key(&[2.0; 12]), None);
    assert_eq!(estimate_key(&[f64::NAN; 12]), None);
}

#[test]
fn a_silent_phrase_has_no_key_and_bad_inputs_are_refused() {
    let satb = Satb::new(1);
    let phrase = &satb.run()[0];
    assert_eq!(phrase.key, None);
    assert_eq!(phrase.counts.phrases_without_key, 1);
    assert!(phrase.counts.in_scale_ratio().is_nan());

    let empty = Satb::new(0);
    let view = PhraseView::new(&empty.cells, empty.shape, &[false; 4]).unwrap();
    let e = voice_leading(&view).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value: voice leading: the set of phrases is empty"
    );

    let three = PhraseShape {
        tracks: 3,
        ..Satb::new(1).shape
    };
    let cells = vec![0u8; three.cells().unwrap()];
    let view = PhraseView::new(&cells, three, &[false; 3]).unwrap();
    let e = voice_leading(&view).unwrap_err().to_string();
    assert!(e.contains("the phrases have 3 tracks"), "{e}");

    let satb = Satb::new(1);
    let view = PhraseView::new(&satb.cells, satb.shape, &[false, false, false, true]).unwrap();
    assert!(voice_leading(&view)
        .unwrap_err()
        .to_string()
        .contains("drum"));
}

#[test]
fn matches_the_numpy_reference() {
    // random four-voice phrases and their counts by an independent NumPy implementation
    // (fixtures/voice_leading/make_reference.py)
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/voice_leading/reference.json"
    );
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let sh = &reference["shape"];
    let n = |key: &str| sh[key].as_u64().unwrap() as usize;
    let shape = PhraseShape {
        samples: n("samples"),
        tracks: n("tracks"),
        bars: n("bars"),
        steps_per_bar: n("steps_per_bar"),
        pitches: n("pitches"),
        lowest_pitch: Pitch::new(n("lowest_pitch") as u8).unwrap(),
        resolution: Resolution::new(n("resolution") as u32).unwrap(),
    };
    let mut cells = vec![0u8; shape.cells().unwrap()];
    for i in reference["active"].as_array().unwrap() {
        cells[i.as_u64().unwrap() as usize] = 1;
    }
    let view = PhraseView::new(&cells, shape, &[false; 4]).unwrap();
    let phrases = voice_leading(&view).unwrap();
    let want = reference["phrases"].as_array().unwrap();
    assert_eq!(phrases.len(), want.len());
    for (i, (got, want)) in phrases.iter().zip(want).enumerate() {
        assert_eq!(
            serde_json::to_value(got.key).unwrap(),
            want["key"],
            "phrase {i}"
        );
        assert_eq!(
            serde_json::to_value(&got.counts).unwrap(),
            want["counts"],
            "phrase {i}"
        );
    }
}
