//! The metrics on hand-worked bars (expected values worked out in the comments), their NaN and
//! aggregation rules, the Multitrack convenience, errors, and a cross-check against an
//! independent NumPy implementation (`fixtures/metrics/make_reference.py`).

use museroll_core::metrics::{
    evaluate, Chroma, Metric, MetricsConfig, MetricsReport, Mode, Phrase, PhraseShape, PhraseView,
    Scale, SilentBeats,
};
use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Track};

/// A phrase tensor under construction.
struct Builder {
    shape: PhraseShape,
    data: Vec<u8>,
    drums: Vec<bool>,
}

impl Builder {
    fn new(
        samples: usize,
        drums: &[bool],
        bars: usize,
        steps: usize,
        lowest: u8,
        pitches: usize,
        resolution: u32,
    ) -> Builder {
        let shape = PhraseShape {
            samples,
            tracks: drums.len(),
            bars,
            steps_per_bar: steps,
            pitches,
            lowest_pitch: Pitch::new(lowest).unwrap(),
            resolution: Resolution::new(resolution).unwrap(),
        };
        Builder {
            shape,
            data: vec![0; shape.cells().unwrap()],
            drums: drums.to_vec(),
        }
    }

    /// Sets MIDI `pitch` active on phrase steps `start..end` (counted across bars).
    fn note(
        &mut self,
        sample: usize,
        track: usize,
        pitch: u8,
        start: usize,
        end: usize,
    ) -> &mut Self {
        let s = self.shape;
        let column = usize::from(pitch) - s.lowest_pitch.index();
        assert!(column < s.pitches && end <= s.bars * s.steps_per_bar);
        for t in start..end {
            let row = (sample * s.tracks + track) * s.bars * s.steps_per_bar + t;
            self.data[row * s.pitches + column] = 1;
        }
        self
    }

    fn chord(
        &mut self,
        sample: usize,
        track: usize,
        pitches: &[u8],
        start: usize,
        end: usize,
    ) -> &mut Self {
        for &p in pitches {
            self.note(sample, track, p, start, end);
        }
        self
    }

    fn eval(&self, config: &MetricsConfig) -> MetricsReport {
        let view = PhraseView::new(&self.data, self.shape, &self.drums).unwrap();
        evaluate(&view, config).unwrap()
    }
}

const EPS: f64 = 1e-9;

/// Asserts the mean and count of `metric` on `track`; `None` = NaN.
fn check(report: &MetricsReport, metric: Metric, track: usize, mean: Option<f64>, count: u64) {
    let stat = report.get(metric).unwrap().per_track[track];
    match mean {
        Some(m) => assert!(
            (stat.mean - m).abs() < EPS,
            "{metric} track {track}: {} ≠ {m}",
            stat.mean
        ),
        None => assert!(
            stat.mean.is_nan(),
            "{metric} track {track}: {} ≠ NaN",
            stat.mean
        ),
    }
    assert_eq!(stat.count, count, "{metric} track {track} count");
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < EPS
}

/// A 16-step bar (4 steps per beat) from MIDI 60 with five notes:
///   C4 (60) steps 0..4, E4 (64) 0..4, G4 (67) 4..5 (one step), F#4 (66) 8..10, C5 (72) 12..16.
fn melodic_bar() -> Builder {
    let mut b = Builder::new(1, &[false], 1, 16, 60, 24, 4);
    b.note(0, 0, 60, 0, 4)
        .note(0, 0, 64, 0, 4)
        .note(0, 0, 67, 4, 5)
        .note(0, 0, 66, 8, 10)
        .note(0, 0, 72, 12, 16);
    b
}

#[test]
fn hand_worked_melodic_bar() {
    let r = melodic_bar().eval(&MetricsConfig::default());
    // EB: the bar has notes → 0, over 1 bar.
    check(&r, Metric::EmptyBars, 0, Some(0.0), 1);
    // NPU: pitches 60 64 66 67 72 → 5.
    check(&r, Metric::PitchesUsed, 0, Some(5.0), 1);
    // UPC: classes C E F# G C → {0, 4, 6, 7} → 4.
    check(&r, Metric::PitchClassesUsed, 0, Some(4.0), 1);
    // QN (≥ 2 steps): lengths 4 4 1 2 4 → 4 of 5 = 0.8.
    check(&r, Metric::QualifiedNotes, 0, Some(0.8), 1);
    // PP (≥ 2 pitches): steps 0..4 have two → 4 / 16 = 0.25.
    check(&r, Metric::PolyphonyRate, 0, Some(0.25), 1);
    // ISR (C major): cells 4+4+1+2+4 = 15, all but F#'s 2 in scale → 13/15.
    check(&r, Metric::InScale, 0, Some(13.0 / 15.0), 1);
    // PR: 72 − 60 = 12.
    check(&r, Metric::PitchRange, 0, Some(12.0), 1);
    // PE: five notes on five pitches → log2 5.
    check(&r, Metric::PitchEntropy, 0, Some(5f64.log2()), 1);
    // PCE: classes C C E F# G → p = .4 .2 .2 .2 → .4·log2(2.5) + 3·.2·log2 5 = 1.9219280949.
    let pce = 0.4 * 2.5f64.log2() + 0.6 * 5f64.log2();
    assert!(close(pce, 1.921_928_094_887_362), "{pce}");
    check(&r, Metric::PitchClassEntropy, 0, Some(pce), 1);
    // POLY: 15 cells over 11 sounding steps (0..5, 8..10, 12..16).
    check(&r, Metric::Polyphony, 0, Some(15.0 / 11.0), 1);
    // Drum-only and between-bar metrics have nothing to measure on one pitched bar.
    check(&r, Metric::DrumPattern, 0, None, 0);
    check(&r, Metric::GrooveConsistency, 0, None, 0);
    // Aggregates over the single non-drum track equal its values; DP has no drum track.
    assert!(close(r.get(Metric::QualifiedNotes).unwrap().aggregate, 0.8));
    assert!(r.get(Metric::DrumPattern).unwrap().aggregate.is_nan());
    assert!(r.tonal_distance.pairs.is_empty() && r.tonal_distance.aggregate.is_nan());
}

#[test]
fn thresholds_are_configurable() {
    let b = melodic_bar();
    let config = MetricsConfig {
        qn_threshold: 3,
        pp_threshold: 3,
        ..MetricsConfig::default()
    };
    let r = b.eval(&config);
    // QN ≥ 3: lengths 4 4 1 2 4 → 3 of 5.
    check(&r, Metric::QualifiedNotes, 0, Some(0.6), 1);
    // PP ≥ 3 pitches: never.
    check(&r, Metric::PolyphonyRate, 0, Some(0.0), 1);
    let config = MetricsConfig {
        qn_threshold: 1,
        pp_threshold: 1,
        ..MetricsConfig::default()
    };
    let r = b.eval(&config);
    // QN ≥ 1: every note; PP ≥ 1: the 11 sounding steps of 16.
    check(&r, Metric::QualifiedNotes, 0, Some(1.0), 1);
    check(&r, Metric::PolyphonyRate, 0, Some(11.0 / 16.0), 1);
    // A threshold longer than the bar: no note can qualify.
    let config = MetricsConfig {
        qn_threshold: 17,
        ..MetricsConfig::default()
    };
    check(&b.eval(&config), Metric::QualifiedNotes, 0, Some(0.0), 1);
}

#[test]
fn scale_root_and_mode() {
    let b = melodic_bar();
    // G major has F#: all 15 cells in scale.
    let g_major = MetricsConfig {
        scale: Scale {
            root: 7,
            mode: Mode::Major,
        },
        ..MetricsConfig::default()
    };
    check(&b.eval(&g_major), Metric::InScale, 0, Some(1.0), 1);
    // D Dorian = C major's notes: 13/15 as in C major.
    let d_dorian = MetricsConfig {
        scale: Scale {
            root: 2,
            mode: Mode::Dorian,
        },
        ..MetricsConfig::default()
    };
    check(&b.eval(&d_dorian), Metric::InScale, 0, Some(13.0 / 15.0), 1);
    // C minor (C D Eb F G Ab Bb): C (4+4 cells) and G (1) in, E and F# out → 9/15.
    let c_minor = MetricsConfig {
        scale: Scale {
            root: 0,
            mode: Mode::Minor,
        },
        ..MetricsConfig::default()
    };
    check(&b.eval(&c_minor), Metric::InScale, 0, Some(9.0 / 15.0), 1);
}

#[test]
fn legacy_chroma_bins_reproduce_the_reference_bug() {
    let b = melodic_bar();
    // Columns (pitch − 60) 0 4 6 7 12. bins7: 0 0 0 1 1 → UPC 2. ISR on bins: bin 0 is "C"
    // (in scale) holding C4 4 + E4 4 + F#4 2 = 10 cells, bin 1 "C#" (out) holds G4 1 + C5 4.
    let r = b.eval(&MetricsConfig::legacy_musegan_v1());
    check(&r, Metric::PitchClassesUsed, 0, Some(2.0), 1);
    check(&r, Metric::InScale, 0, Some(10.0 / 15.0), 1);
    // bins8: 0 0 0 0 1 → UPC 2; bin 0 holds 11 cells, bin 1 (out) C5's 4 → 11/15.
    let r = b.eval(&MetricsConfig::legacy_bmusegan());
    check(&r, Metric::PitchClassesUsed, 0, Some(2.0), 1);
    check(&r, Metric::InScale, 0, Some(11.0 / 15.0), 1);
    // Pitch-class entropy always uses true classes.
    let pce = 0.4 * 2.5f64.log2() + 0.6 * 5f64.log2();
    check(&r, Metric::PitchClassEntropy, 0, Some(pce), 1);
}

#[test]
fn empty_bar_measures_nothing_but_eb() {
    let b = Builder::new(1, &[false, true], 1, 16, 60, 24, 4);
    let r = b.eval(&MetricsConfig::default());
    for track in 0..2 {
        check(&r, Metric::EmptyBars, track, Some(1.0), 1);
        for metric in Metric::ALL.into_iter().skip(1) {
            check(&r, metric, track, None, 0);
        }
    }
    assert!(close(r.get(Metric::EmptyBars).unwrap().aggregate, 1.0));
    assert!(r.get(Metric::QualifiedNotes).unwrap().aggregate.is_nan());
}

#[test]
fn full_bar() {
    // Every cell of a 16-step bar of 12 pitches (MIDI 60..72) on, in a pitched and a drum track.
    let mut b = Builder::new(1, &[false, true], 1, 16, 60, 12, 4);
    let all: Vec<u8> = (60..72).collect();
    b.chord(0, 0, &all, 0, 16).chord(0, 1, &all, 0, 16);
    let r = b.eval(&MetricsConfig::default());
    check(&r, Metric::EmptyBars, 0, Some(0.0), 1);
    check(&r, Metric::PitchesUsed, 0, Some(12.0), 1);
    check(&r, Metric::PitchClassesUsed, 0, Some(12.0), 1);
    // 12 notes of 16 steps, all qualified; every step has 12 ≥ 2 pitches.
    check(&r, Metric::QualifiedNotes, 0, Some(1.0), 1);
    check(&r, Metric::PolyphonyRate, 0, Some(1.0), 1);
    // C major holds 7 of the 12 classes, each with 16 cells → 7/12.
    check(&r, Metric::InScale, 0, Some(7.0 / 12.0), 1);
    check(&r, Metric::PitchRange, 0, Some(11.0), 1);
    // Uniform over 12 pitches and 12 classes → log2 12.
    check(&r, Metric::PitchEntropy, 0, Some(12f64.log2()), 1);
    check(&r, Metric::PitchClassEntropy, 0, Some(12f64.log2()), 1);
    check(&r, Metric::Polyphony, 0, Some(12.0), 1);
    // Drums: 12 pitches used; 12 onsets, all at step 0, on the grid → DP 1.
    check(&r, Metric::PitchesUsed, 1, Some(12.0), 1);
    check(&r, Metric::DrumPattern, 1, Some(1.0), 1);
    check(&r, Metric::QualifiedNotes, 1, None, 0);
}

#[test]
fn notes_crossing_bar_lines_are_split() {
    // Two 16-step bars. C4 (60) on steps 14..17 → bar 0: a 2-step note at 14, bar 1: a
    // 1-step note at 0. E4 (64) on 12..20 → a 4-step note in each bar.
    let mut b = Builder::new(1, &[false], 2, 16, 60, 12, 4);
    b.note(0, 0, 60, 14, 17).note(0, 0, 64, 12, 20);
    let r = b.eval(&MetricsConfig::default());
    // QN: bar 0 2/2 = 1, bar 1 1/2 → mean 0.75 over 2 bars.
    check(&r, Metric::QualifiedNotes, 0, Some(0.75), 2);
    // NPU 2 in both bars; PE 1 bit (two notes, two pitches) in both.
    check(&r, Metric::PitchesUsed, 0, Some(2.0), 2);
    check(&r, Metric::PitchEntropy, 0, Some(1.0), 2);
    // PP: bar 0 steps 14, 15 → 2/16; bar 1 step 0 → 1/16; mean 3/32.
    check(&r, Metric::PolyphonyRate, 0, Some(3.0 / 32.0), 2);
    // GC: bar 0 onsets at steps {12, 14}, bar 1 at {0} (both notes restart) → 3 of 16 steps
    // differ → 13/16, one pair.
    check(&r, Metric::GrooveConsistency, 0, Some(13.0 / 16.0), 1);
}

#[test]
fn single_step_notes_and_repeated_strikes() {
    // One bar: C4 struck on every step 0..8 is a single 8-step run (a tensor has no onsets);
    // D4 (62) on steps 0, 2, 4, 6 is four single-step notes.
    let mut b = Builder::new(1, &[false], 1, 16, 60, 12, 4);
    b.note(0, 0, 60, 0, 8);
    for t in [0, 2, 4, 6] {
        b.note(0, 0, 62, t, t + 1);
    }
    let r = b.eval(&MetricsConfig::default());
    // Notes: C4 ×1 (8 steps, qualified), D4 ×4 (1 step each) → QN 1/5.
    check(&r, Metric::QualifiedNotes, 0, Some(0.2), 1);
    // PE: p = 1/5, 4/5 → .2·log2 5 + .8·log2 1.25 = 0.7219280949.
    check(
        &r,
        Metric::PitchEntropy,
        0,
        Some(0.2 * 5f64.log2() + 0.8 * 1.25f64.log2()),
        1,
    );
    // POLY: 12 cells over 8 sounding steps.
    check(&r, Metric::Polyphony, 0, Some(1.5), 1);
}

#[test]
fn groove_consistency_skips_pairs_of_empty_bars() {
    // Four 16-step bars of C4. Bar 0 onsets {0, 4, 8, 12} (2-step notes), bar 1 {0, 4, 8, 10}
    // (1-step notes), bars 2 and 3 empty.
    let mut b = Builder::new(1, &[false], 4, 16, 60, 12, 4);
    for t in [0, 4, 8, 12] {
        b.note(0, 0, 60, t, t + 2);
    }
    for t in [0, 4, 8, 10] {
        b.note(0, 0, 60, 16 + t, 16 + t + 1);
    }
    let r = b.eval(&MetricsConfig::default());
    // Pairs: (0,1) differ at 10 and 12 → 14/16; (1,2) differ at bar 1's 4 onsets → 12/16;
    // (2,3) both empty → skipped. Mean (0.875 + 0.75) / 2 = 0.8125 over 2 pairs.
    check(&r, Metric::GrooveConsistency, 0, Some(0.8125), 2);
    // EB: 2 of 4 bars empty.
    check(&r, Metric::EmptyBars, 0, Some(0.5), 4);
}

#[test]
fn drum_pattern_hand_worked() {
    // 24 steps per beat, 96-step bar → 16th note = 6 steps. Kick (36) at 0..4 (held: one onset),
    // 24, 48, 72; hi-hat (42) at 24, 7 (grid + 1) and 15 (3 steps from the grid).
    // Onsets: t0 1, t7 1, t15 1, t24 2, t48 1, t72 1 → 7.
    // Phase 0: grid 0 24 48 72 → 5, t7 at +1 → 0.1, t15 → 0: 5.1/7.
    // Phase 1: t7 → 1, t ≡ 0 at −1 → 0.5: 1.5/7; phase 3: t15 → 1/7. Best 5.1/7 = 0.728571.
    let build = |shift: usize| {
        let mut b = Builder::new(1, &[true], 1, 96, 24, 84, 24);
        b.note(0, 0, 36, shift, shift + 4);
        for t in [24, 48, 72] {
            b.note(0, 0, 36, t + shift, t + shift + 1);
        }
        for t in [24, 7, 15] {
            b.note(0, 0, 42, t + shift, t + shift + 1);
        }
        b
    };
    let r = build(0).eval(&MetricsConfig::default());
    check(&r, Metric::DrumPattern, 0, Some(5.1 / 7.0), 1);
    check(&r, Metric::PitchesUsed, 0, Some(2.0), 1);
    check(&r, Metric::QualifiedNotes, 0, None, 0);
    assert!(close(
        r.get(Metric::DrumPattern).unwrap().aggregate,
        5.1 / 7.0
    ));
    // Phase-invariant: the same pattern 2 steps late scores the same.
    check(
        &build(2).eval(&MetricsConfig::default()),
        Metric::DrumPattern,
        0,
        Some(5.1 / 7.0),
        1,
    );
    // MuseGAN v1's tolerance 0.3: (5 + 0.3)/7.
    let r = build(0).eval(&MetricsConfig::legacy_musegan_v1());
    check(&r, Metric::DrumPattern, 0, Some(5.3 / 7.0), 1);
}

/// C major triad, A minor triad.
const C_MAJOR: [u8; 3] = [60, 64, 67];
const A_MINOR: [u8; 3] = [69, 72, 76];

/// Tonal distance between the C major and A minor triads' centroids. Centroid components
/// (rows sin/cos 7πl/6, sin/cos 3πl/2, ½ sin/cos 2πl/3 averaged over the triad):
///   C = ((1+√3)/6, (1+√3)/6, 1/3, 2/3, √3/6, 0), Am = ((2+√3)/6, 1/6, −1/3, 2/3, √3/12, 1/4);
///   difference (−1/6, √3/6, 2/3, 0, √3/12, −1/4) → squared sum 92/144 → √92/12 = 0.79930525.
fn td_c_am() -> f64 {
    92f64.sqrt() / 12.0
}

#[test]
fn tonal_distance_hand_worked() {
    // 16-step bars, 4 steps per beat, MIDI 48..84. Track 0 holds the C triad throughout.
    // Bar 0: track 1 plays C, Am, C, C on beats 0-3 → distances 0, d, 0, 0 → d/4.
    // Bar 1: track 1 plays C, Am, C and rests on beat 3 → skipped by default; with
    //        SkipBeat the mean over three beats, d/3.
    let mut b = Builder::new(1, &[false, false], 2, 16, 48, 36, 4);
    b.chord(0, 0, &C_MAJOR, 0, 32);
    b.chord(0, 1, &C_MAJOR, 0, 4)
        .chord(0, 1, &A_MINOR, 4, 8)
        .chord(0, 1, &C_MAJOR, 8, 16);
    b.chord(0, 1, &C_MAJOR, 16, 20)
        .chord(0, 1, &A_MINOR, 20, 24)
        .chord(0, 1, &C_MAJOR, 24, 28);
    let d = td_c_am();
    assert!((d - 0.799_305_25).abs() < 1e-8);
    let r = b.eval(&MetricsConfig::default());
    assert_eq!(r.tonal_distance.pairs.len(), 1);
    let pair = r.tonal_distance.pairs[0];
    assert_eq!(pair.tracks, [0, 1]);
    assert_eq!(pair.count, 1);
    assert!(close(pair.mean, d / 4.0), "{}", pair.mean);
    assert!(close(r.tonal_distance.aggregate, d / 4.0));
    let lenient = MetricsConfig {
        td_silent_beats: SilentBeats::SkipBeat,
        ..MetricsConfig::default()
    };
    let pair = b.eval(&lenient).tonal_distance.pairs[0];
    assert_eq!(pair.count, 2);
    assert!(close(pair.mean, (d / 4.0 + d / 3.0) / 2.0), "{}", pair.mean);
}

#[test]
fn tonal_distance_of_a_full_bar_and_chroma_choice() {
    // Every pitch of MIDI 48..84 on: the chroma is uniform and its centroid is 0 (each row of Φ
    // sums to 0 over the 12 classes), so TD to the C triad is the length of C's centroid:
    // √(2·((1+√3)/6)² + 1/9 + 4/9 + 3/36) = √((31 + 4√3)/36) = 1.0264313.
    let mut b = Builder::new(1, &[false, false], 1, 16, 48, 36, 4);
    let all: Vec<u8> = (48..84).collect();
    b.chord(0, 0, &all, 0, 16).chord(0, 1, &C_MAJOR, 0, 16);
    let expected = ((31.0 + 4.0 * 3f64.sqrt()) / 36.0).sqrt();
    assert!((expected - 1.026_431_3).abs() < 1e-7);
    let pair = b.eval(&MetricsConfig::default()).tonal_distance.pairs[0];
    assert!(close(pair.mean, expected), "{}", pair.mean);
    // With the legacy bins8 chroma the "triad" 60 64 67 (columns 12 16 19) fills bins 1 and 2
    // (1/3, 2/3 of the cells) and the full 36 columns fill bins 0..=4 with 8 8 8 8 4 columns
    // (not uniform over 12 bins), so the distance differs from the canonical one.
    let legacy = b
        .eval(&MetricsConfig::legacy_bmusegan())
        .tonal_distance
        .pairs[0];
    assert!(legacy.count == 1 && !close(legacy.mean, expected));
}

#[test]
fn aggregates_are_means_of_track_means() {
    // Tracks: 0 drums, 1 and 2 pitched; 2 samples of one 16-step bar.
    // Sample 0: kick at step 0; track 1 C4 0..4; track 2 silent.
    // Sample 1: drums silent; track 1 C4 0..1 (one step); track 2 E4 0..16.
    let mut b = Builder::new(2, &[true, false, false], 1, 16, 36, 48, 4);
    b.note(0, 0, 36, 0, 1).note(0, 1, 60, 0, 4);
    b.note(1, 1, 60, 0, 1).note(1, 2, 64, 0, 16);
    let r = b.eval(&MetricsConfig::default());
    // QN: track 1 (1 + 0)/2 over 2 bars, track 2 1 over 1 bar; aggregate (0.5 + 1)/2.
    check(&r, Metric::QualifiedNotes, 1, Some(0.5), 2);
    check(&r, Metric::QualifiedNotes, 2, Some(1.0), 1);
    check(&r, Metric::QualifiedNotes, 0, None, 0);
    assert!(close(
        r.get(Metric::QualifiedNotes).unwrap().aggregate,
        0.75
    ));
    // EB: drums 1/2, track 1 0, track 2 1/2; aggregate over pitched tracks (0 + 0.5)/2.
    check(&r, Metric::EmptyBars, 0, Some(0.5), 2);
    check(&r, Metric::EmptyBars, 2, Some(0.5), 2);
    assert!(close(r.get(Metric::EmptyBars).unwrap().aggregate, 0.25));
    // DP over the drum track only (4 steps per beat: every step is on the 16th grid).
    check(&r, Metric::DrumPattern, 0, Some(1.0), 1);
    assert!(close(r.get(Metric::DrumPattern).unwrap().aggregate, 1.0));
    // TD pairs default to the pitched tracks: [1, 2]. Sample 0: track 2 silent; sample 1:
    // track 1 sounds in beat 0 only → skipped by default.
    assert_eq!(r.tonal_distance.pairs.len(), 1);
    assert_eq!(r.tonal_distance.pairs[0].tracks, [1, 2]);
    assert_eq!(r.tonal_distance.pairs[0].count, 0);
    assert!(r.tonal_distance.pairs[0].mean.is_nan());
    // SkipBeat: beat 0 of sample 1, pure C against pure E: centroids (0, 1, 0, 1, 0, ½) and
    // (√3/2, −½, 0, 1, √3/4, −¼) → squared difference ¾ + 9/4 + 3/16 + 9/16 = 15/4 → √3.75.
    let lenient = MetricsConfig {
        td_silent_beats: SilentBeats::SkipBeat,
        ..MetricsConfig::default()
    };
    let pair = b.eval(&lenient).tonal_distance.pairs[0];
    assert_eq!(pair.count, 1);
    assert!(close(pair.mean, 3.75f64.sqrt()), "{}", pair.mean);
    // Explicit pairs, drums included if asked for.
    let explicit = MetricsConfig {
        td_pairs: Some(vec![[2, 1], [0, 1]]),
        ..MetricsConfig::default()
    };
    let td = b.eval(&explicit).tonal_distance;
    assert_eq!(
        td.pairs.iter().map(|p| p.tracks).collect::<Vec<_>>(),
        [[2, 1], [0, 1]]
    );
}

#[test]
fn bool_and_u8_cells_agree_and_report_is_deterministic() {
    let mut b = Builder::new(20, &[true, false, false], 2, 16, 36, 48, 4);
    // A deterministic scatter of notes over 20 samples.
    let mut x = 12345u32;
    for _ in 0..400 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let (s, tr, p, t, len) = (
            (x >> 8) as usize % 20,
            (x >> 13) as usize % 3,
            36 + (x >> 16) as u8 % 48,
            (x >> 22) as usize % 32,
            1 + (x >> 27) as usize % 4,
        );
        b.note(s, tr, p, t, (t + len).min(32));
    }
    let config = MetricsConfig::default();
    let from_u8 = serde_json::to_string(&b.eval(&config)).unwrap();
    let bools: Vec<bool> = b.data.iter().map(|&v| v != 0).collect();
    let view = PhraseView::new(&bools, b.shape, &b.drums).unwrap();
    let from_bool = serde_json::to_string(&evaluate(&view, &config).unwrap()).unwrap();
    assert_eq!(from_u8, from_bool);
    let single_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| serde_json::to_string(&b.eval(&config)).unwrap());
    assert_eq!(from_u8, single_thread);
}

#[test]
fn report_json_round_trip_keeps_nan_as_null() {
    let r = Builder::new(1, &[false, true], 1, 16, 60, 24, 4).eval(&MetricsConfig::default());
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        json.contains(r#""QN":{"per_track":[{"mean":null,"count":0}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""EB":{"per_track":[{"mean":1.0,"count":1}"#),
        "{json}"
    );
    let back: MetricsReport = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert!(back.get(Metric::QualifiedNotes).unwrap().per_track[0]
        .mean
        .is_nan());
}

#[test]
fn multitrack_convenience_matches_the_tensor() {
    // A 4-steps-per-beat song of 20 steps → two 16-step bars (the second padded). Piano: C4
    // struck twice back to back (0..2, 2..4: one run in a tensor), E4 14..18 across the bar
    // line, and MIDI 110, above the kept range 24..108, which is dropped.
    let res = Resolution::new(4).unwrap();
    let mut song = Multitrack::new(res);
    let note = |pitch: u8, start, end| Note {
        pitch: Pitch::new(pitch).unwrap(),
        start,
        end,
        velocity: 90,
    };
    let mut piano = Track::new("Piano", Program::default(), false, 20);
    piano.roll = Roll::from_notes(
        RollKind::Velocity,
        20,
        [
            note(60, 0, 2),
            note(60, 2, 4),
            note(64, 14, 18),
            note(110, 0, 16),
        ],
    );
    let mut drums = Track::new("Drums", Program::default(), true, 12);
    drums.roll = Roll::from_notes(RollKind::Velocity, 12, [note(36, 0, 1), note(38, 4, 5)]);
    song.tracks = vec![piano, drums];
    let phrase = Phrase::from_multitrack(&song, Pitch::new(24).unwrap(), 84).unwrap();
    let shape = phrase.shape();
    assert_eq!(
        (shape.samples, shape.tracks, shape.bars, shape.steps_per_bar),
        (1, 2, 2, 16)
    );
    let mut b = Builder::new(1, &[false, true], 2, 16, 24, 84, 4);
    b.note(0, 0, 60, 0, 4).note(0, 0, 64, 14, 18);
    b.note(0, 1, 36, 0, 1).note(0, 1, 38, 4, 5);
    assert_eq!(
        phrase
            .data()
            .iter()
            .map(|&v| u8::from(v != 0))
            .collect::<Vec<_>>(),
        b.data
    );
    let config = MetricsConfig::default();
    let from_song = evaluate(&phrase.view(), &config).unwrap();
    assert_eq!(
        serde_json::to_string(&from_song).unwrap(),
        serde_json::to_string(&b.eval(&config)).unwrap()
    );
    // Bar 0 of the piano: C4 one 4-step run, E4 2 steps → QN 1; bar 1: E4 2 steps → QN 1.
    check(&from_song, Metric::QualifiedNotes, 0, Some(1.0), 2);
    // Drums: bar 1 is empty.
    check(&from_song, Metric::EmptyBars, 1, Some(0.5), 2);
}

#[test]
fn shape_and_config_errors() {
    let b = melodic_bar();
    let err = |e: museroll_core::Error| e.to_string();
    let short = PhraseView::new(&b.data[1..], b.shape, &b.drums).unwrap_err();
    assert!(err(short).contains("has 383 cells but shape 1×1×1×16×24 needs 384"));
    let flags = PhraseView::new(&b.data, b.shape, &[false, true]).unwrap_err();
    assert!(err(flags).contains("2 drum flags for 1 tracks"));
    let view = PhraseView::new(&b.data, b.shape, &b.drums).unwrap();
    let bad = |config: MetricsConfig| err(evaluate(&view, &config).unwrap_err());
    let base = MetricsConfig::default;
    assert!(bad(MetricsConfig {
        qn_threshold: 0,
        ..base()
    })
    .contains("QN threshold"));
    assert!(bad(MetricsConfig {
        pp_threshold: 0,
        ..base()
    })
    .contains("PP threshold"));
    assert!(bad(MetricsConfig {
        dp_tolerance: f64::NAN,
        ..base()
    })
    .contains("DP tolerance"));
    assert!(bad(MetricsConfig {
        dp_tolerance: 1.5,
        ..base()
    })
    .contains("DP tolerance"));
    let root = MetricsConfig {
        scale: Scale {
            root: 12,
            mode: Mode::Major,
        },
        ..base()
    };
    assert!(bad(root).contains("scale root 12"));
    let pair = MetricsConfig {
        td_pairs: Some(vec![[0, 1]]),
        ..base()
    };
    assert!(bad(pair).contains("TD pair [0, 1]"));
    let same = MetricsConfig {
        td_pairs: Some(vec![[0, 0]]),
        ..base()
    };
    assert!(bad(same).contains("TD pair [0, 0]"));
    // Legacy bins need the reference's 84 (bins7) or 96 (bins8) columns at most.
    let wide = Builder::new(1, &[false], 1, 4, 0, 128, 1);
    let view = PhraseView::new(&wide.data, wide.shape, &wide.drums).unwrap();
    let e = evaluate(
        &view,
        &MetricsConfig {
            chroma: Chroma::Bins7,
            ..base()
        },
    )
    .unwrap_err();
    assert!(err(e).contains("at most 84 pitch columns"));
    // An empty multitrack has no bars.
    let song = Multitrack::new(Resolution::new(4).unwrap());
    assert!(Phrase::from_multitrack(&song, Pitch::MIN, 128).is_err());
    // Zero samples: allowed, everything NaN.
    let none = Builder::new(0, &[false], 1, 16, 60, 12, 4);
    let r = none.eval(&MetricsConfig::default());
    check(&r, Metric::EmptyBars, 0, None, 0);
}

/// Compares with `fixtures/metrics/reference.json`, written by an independent NumPy
/// implementation (`make_reference.py`) from random phrases, for five configurations (canonical,
/// both legacy chromas, other thresholds / scale / TD settings).
#[test]
fn matches_independent_numpy_implementation() {
    use serde_json::Value;
    let text = include_str!("fixtures/metrics/reference.json");
    let fixture: Value = serde_json::from_str(text).unwrap();
    let shape: PhraseShape = serde_json::from_value(fixture["shape"].clone()).unwrap();
    let is_drum: Vec<bool> = serde_json::from_value(fixture["is_drum"].clone()).unwrap();
    let mut data = vec![false; shape.cells().unwrap()];
    for index in fixture["active"].as_array().unwrap() {
        data[index.as_u64().unwrap() as usize] = true;
    }
    let view = PhraseView::new(&data, shape, &is_drum).unwrap();
    let same = |rust: f64, numpy: &Value, what: &str| match numpy.as_f64() {
        Some(x) => assert!((rust - x).abs() < 1e-9, "{what}: {rust} ≠ {x}"),
        None => assert!(rust.is_nan(), "{what}: {rust} ≠ NaN"),
    };
    for case in fixture["cases"].as_array().unwrap() {
        let config: MetricsConfig = serde_json::from_value(case["config"].clone()).unwrap();
        let report = evaluate(&view, &config).unwrap();
        let expected = &case["expected"];
        for metric in Metric::ALL {
            let summary = report.get(metric).unwrap();
            let numpy = &expected[metric.abbreviation()];
            for (track, stat) in summary.per_track.iter().enumerate() {
                let what = format!("{config:?} {metric} track {track}");
                same(stat.mean, &numpy["per_track"][track][0], &what);
                assert_eq!(
                    Some(stat.count),
                    numpy["per_track"][track][1].as_u64(),
                    "{what}"
                );
            }
            same(
                summary.aggregate,
                &numpy["aggregate"],
                &format!("{metric} aggregate"),
            );
        }
        let pairs = expected["TD"].as_array().unwrap();
        assert_eq!(report.tonal_distance.pairs.len(), pairs.len());
        for (pair, numpy) in report.tonal_distance.pairs.iter().zip(pairs) {
            let tracks = [
                numpy[0].as_u64().unwrap() as usize,
                numpy[1].as_u64().unwrap() as usize,
            ];
            assert_eq!(pair.tracks, tracks);
            same(pair.mean, &numpy[2], &format!("{config:?} TD {tracks:?}"));
            assert_eq!(Some(pair.count), numpy[3].as_u64());
        }
    }
}
