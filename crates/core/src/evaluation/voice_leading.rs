//! Rules of four-part (SATB) writing checked on chorale-like phrases: tracks 0–3 are soprano,
//! alto, tenor and bass, in that order.
//!
//! # Definitions
//!
//! Time is the phrase's steps, bars laid end to end. At each step a voice *sounds* when its
//! track has at least one active cell; its *pitch* is then the highest active pitch of its track
//! (a voice should sing one note at a time: steps where a voice has more than one are counted
//! in [`VoiceLeadingCounts::multi_pitch`], and the chord rules below still see every note).
//!
//! - **Move**: a pair of consecutive steps `t − 1, t` where at least one voice sounds at both
//!   steps with different pitches. Rates of parallels are per 100 moves.
//! - **Parallel fifths / octaves**: for a move and a pair of voices that both sound at both
//!   steps and both change pitch *in the same direction*, the interval between them (absolute,
//!   in semitones) reduced mod 12 is 7 at both steps (fifths, compound ones included) or 0 at
//!   both steps (unisons and octaves, by pitch class: octave to unison counts). Counted once per
//!   move and pair of voices, for all six pairs.
//! - **Antiparallel (contrary) fifths / octaves**: the same, but the two voices move in
//!   *opposite* directions (e.g. C3–G3 → G2–D4). Many textbooks forbid them too; they are
//!   counted apart ([`VoiceLeadingCounts::antiparallel`]) and *not* included in the parallel
//!   counts, so the parallel rate is comparable with the usual strict definition. Hidden
//!   (direct) fifths and octaves — similar motion into a perfect interval from another one — are
//!   not counted at all.
//! - **Crossing**: a step where two sounding voices are out of order, a higher voice (lower
//!   track index) strictly below a lower one (unisons do not cross). Counted once per step,
//!   over the steps where at least two voices sound.
//! - **Overlap**: for a move and an adjacent pair (S–A, A–T, T–B) sounding at both steps and
//!   crossed at neither (a crossing is counted as such, and undoing one is no overlap), the lower
//!   voice rises above the upper voice's previous pitch, or the upper voice falls below the lower
//!   voice's previous pitch. Counted per move and pair, over the moves and adjacent pairs
//!   sounding at both steps.
//! - **Spacing**: S–A or A–T sounding together more than an octave (12 semitones) apart.
//!   Counted per step and pair, over the steps where the pair sounds (T–B may be wider).
//! - **Range** ([`SATB_RANGES`]): soprano C4–G5 (MIDI 60–79), alto G3–D5 (55–74), tenor C3–G4
//!   (48–67), bass E2–C4 (40–60), inclusive. Every note of a track (each maximal run of one
//!   pitch) outside its voice's range counts once.
//! - **Chord tones**: at each step where all four voices sound, the pitch classes of every
//!   sounding note (all tracks) must be exactly those of a chord, root position or inverted: a
//!   major, minor, diminished or augmented triad, or a dominant, major, minor, half-diminished or
//!   diminished seventh chord, each complete or with its fifth omitted (so at least root and
//!   third sound; a bare fifth or octave is not a chord). The ratio is over the steps where all
//!   four voices sound; [`VoiceLeadingCounts::full_steps`] over all steps is reported too.
//! - **Key and in-scale ratio**: the key of each phrase (a generated phrase is a piece of its
//!   own) by Krumhansl–Schmuckler: the Pearson correlation of the phrase's duration-weighted
//!   pitch-class distribution (sounding cells per pitch class, all tracks) with the
//!   Krumhansl–Kessler profiles rotated to each of the 24 keys; the highest wins (ties: the
//!   first of C major, C minor, C♯ major, …). A note is in scale when its pitch class is in the
//!   key's major scale, or for a minor key in the natural minor scale or its raised seventh
//!   (harmonic minor's leading tone). A phrase without a key (no note, or all twelve pitch
//!   classes equally long) is counted in [`VoiceLeadingCounts::phrases_without_key`] and its
//!   notes are left out of the ratio.
//!
//! Everything is counted per phrase ([`PhraseVoiceLeading`]) and summed over a set with
//! [`VoiceLeadingCounts::total`]; rates are NaN when nothing was measured.
//!
//! ```
//! use museroll_core::evaluation::voice_leading::{voice_leading, VoiceLeadingCounts};
//! use museroll_core::metrics::{PhraseShape, PhraseView};
//! use museroll_core::{Pitch, Resolution};
//! // One bar of two steps, pitches from C2: tenor G3→A3 over bass C3→D3.
//! let shape = PhraseShape { samples: 1, tracks: 4, bars: 1, steps_per_bar: 2, pitches: 48,
//!     lowest_pitch: Pitch::new(36).unwrap(), resolution: Resolution::new(1).unwrap() };
//! let mut cells = vec![0u8; shape.cells().unwrap()];
//! let mut set = |track: usize, step: usize, midi: usize| cells[(track * 2 + step) * 48 + midi - 36] = 1;
//! set(2, 0, 55); set(2, 1, 57); set(3, 0, 48); set(3, 1, 50);
//! let view = PhraseView::new(&cells, shape, &[false; 4]).unwrap();
//! let phrases = voice_leading(&view).unwrap();
//! let total = VoiceLeadingCounts::total(phrases.iter().map(|p| &p.counts));
//! assert_eq!((total.moves, total.parallel_fifths), (1, 1));
//! assert_eq!(total.parallels_per_100_moves(), 100.0);
//! ```

use super::{check_not_empty, pitch_class_set, run_notes, sample_rows};
use crate::error::{Error, Result};
use crate::metrics::{Cell, PhraseView};
use rayon::prelude::*;

/// The four voices, in track order.
pub const VOICES: [&str; 4] = ["soprano", "alto", "tenor", "bass"];

/// The usual ranges of the four voices in MIDI numbers, inclusive, in track order: soprano
/// C4–G5, alto G3–D5, tenor C3–G4, bass E2–C4.
pub const SATB_RANGES: [(u8, u8); 4] = [(60, 79), (55, 74), (48, 67), (40, 60)];

/// The Krumhansl–Kessler major-key profile, from the tonic up.
const MAJOR_PROFILE: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// The Krumhansl–Kessler minor-key profile, from the tonic up.
const MINOR_PROFILE: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];
/// The major scale from the tonic, as a pitch-class set.
const MAJOR_SCALE: u16 = bits(&[0, 2, 4, 5, 7, 9, 11]);
/// The natural minor scale and the raised seventh, from the tonic.
const MINOR_SCALE: u16 = bits(&[0, 2, 3, 5, 7, 8, 10, 11]);

/// Chord types as intervals above the root; the third entry is the fifth, which may be omitted.
const CHORDS: [&[u8]; 9] = [
    &[0, 4, 7],     // major
    &[0, 3, 7],     // minor
    &[0, 3, 6],     // diminished
    &[0, 4, 8],     // augmented
    &[0, 4, 7, 10], // dominant seventh
    &[0, 4, 7, 11], // major seventh
    &[0, 3, 7, 10], // minor seventh
    &[0, 3, 6, 10], // half-diminished seventh
    &[0, 3, 6, 9],  // diminished seventh
];

/// The pitch-class set of `classes`.
const fn bits(classes: &[u8]) -> u16 {
    let mut set = 0;
    let mut i = 0;
    while i < classes.len() {
        set |= 1 << classes[i];
        i += 1;
    }
    set
}

/// `set` transposed up by `semitones` pitch classes.
fn rotate(set: u16, semitones: u32) -> u16 {
    let s = semitones % 12;
    ((set << s) | (set >> (12 - s))) & 0xfff
}

/// Mode of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Major.
    Major,
    /// Minor.
    Minor,
}

/// A key: tonic pitch class (C = 0) and mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Key {
    /// Pitch class of the tonic, 0–11, C = 0.
    pub tonic: u8,
    /// Major or minor.
    pub mode: Mode,
}

impl Key {
    /// The pitch classes counted as in scale (see the module documentation).
    pub fn scale(self) -> u16 {
        let from_c = match self.mode {
            Mode::Major => MAJOR_SCALE,
            Mode::Minor => MINOR_SCALE,
        };
        rotate(from_c, u32::from(self.tonic))
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [&str; 12] = [
            "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
        ];
        let mode = match self.mode {
            Mode::Major => "major",
            Mode::Minor => "minor",
        };
        write!(f, "{} {mode}", NAMES[usize::from(self.tonic % 12)])
    }
}

/// The Krumhansl–Schmuckler key of a pitch-class distribution (`weights[pc]`, e.g. durations):
/// the key whose Krumhansl–Kessler profile correlates best with it. `None` when the weights do
/// not vary (no note, or every pitch class equally present) or are not finite, as the
/// correlation is then undefined.
///
/// ```
/// use museroll_core::evaluation::voice_leading::{estimate_key, Key, Mode};
/// // The C major triad, held
/// let key = estimate_key(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
/// assert_eq!(key, Some(Key { tonic: 0, mode: Mode::Major }));
/// ```
pub fn estimate_key(weights: &[f64; 12]) -> Option<Key> {
    let mean = weights.iter().sum::<f64>() / 12.0;
    let spread: f64 = weights.iter().map(|w| (w - mean).powi(2)).sum();
    if !(spread.is_finite() && spread > 0.0) {
        return None;
    }
    let mut best: Option<(f64, Key)> = None;
    for tonic in 0..12u8 {
        for (mode, profile) in [(Mode::Major, MAJOR_PROFILE), (Mode::Minor, MINOR_PROFILE)] {
            let r = correlation(weights, |pc| profile[(pc + 12 - usize::from(tonic)) % 12]);
            if best.is_none_or(|(b, _)| r > b) {
                best = Some((r, Key { tonic, mode }));
            }
        }
    }
    best.map(|(_, key)| key)
}

/// Pearson correlation of `x` with `y(0..12)` (x has already been checked to vary; every
/// rotation of a profile varies).
fn correlation(x: &[f64; 12], y: impl Fn(usize) -> f64) -> f64 {
    let mx = x.iter().sum::<f64>() / 12.0;
    let my = (0..12).map(&y).sum::<f64>() / 12.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (pc, &xv) in x.iter().enumerate() {
        let (dx, dy) = (xv - mx, y(pc) - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    sxy / (sxx * syy).sqrt()
}

/// For each of the 4096 pitch-class sets, whether it is a chord (see the module documentation).
fn chord_table() -> Vec<bool> {
    let mut table = vec![false; 1 << 12];
    for chord in CHORDS {
        let full = chord.iter().fold(0u16, |s, &i| s | 1 << i);
        let without_fifth = full & !(1 << chord[2]);
        for root in 0..12 {
            table[usize::from(rotate(full, root))] = true;
            table[usize::from(rotate(without_fifth, root))] = true;
        }
    }
    table
}

/// Counts of one phrase or, summed, of a set of phrases (see the module documentation for
/// every definition).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VoiceLeadingCounts {
    /// Phrases counted.
    pub phrases: usize,
    /// Phrases in which every one of the four voices sounds at some step.
    pub phrases_all_voices: usize,
    /// Steps.
    pub steps: usize,
    /// Steps where all four voices sound.
    pub full_steps: usize,
    /// Of those, steps whose pitch classes form a chord.
    pub chord_steps: usize,
    /// Steps (per voice) where a voice has more than one active pitch.
    pub multi_pitch: usize,
    /// Voice-leading moves.
    pub moves: usize,
    /// Parallel fifths (compound included), per move and pair of voices.
    pub parallel_fifths: usize,
    /// Parallel unisons and octaves (by pitch class), per move and pair of voices.
    pub parallel_octaves: usize,
    /// Fifths or octaves by contrary motion, per move and pair of voices (not in the parallels).
    pub antiparallel: usize,
    /// Steps where at least two voices sound.
    pub multi_voice_steps: usize,
    /// Of those, steps with a voice crossing.
    pub crossing_steps: usize,
    /// Moves × adjacent pairs sounding at both steps of the move.
    pub overlap_checks: usize,
    /// Of those, overlaps.
    pub overlaps: usize,
    /// Steps × upper adjacent pairs (S–A, A–T) sounding together.
    pub spacing_checks: usize,
    /// Of those, pairs more than an octave apart.
    pub spacing_violations: usize,
    /// Notes per voice.
    pub notes: [usize; 4],
    /// Notes per voice outside [`SATB_RANGES`].
    pub out_of_range: [usize; 4],
    /// Phrases whose key is undefined (their notes are not in the in-scale ratio).
    pub phrases_without_key: usize,
    /// Notes of phrases with a key.
    pub keyed_notes: usize,
    /// Of those, notes in the key's scale.
    pub in_scale_notes: usize,
}

/// `part / whole`, NaN when `whole` is 0.
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

impl VoiceLeadingCounts {
    /// The sum of `counts` (all zero for none).
    pub fn total<'a>(counts: impl IntoIterator<Item = &'a VoiceLeadingCounts>) -> Self {
        let mut sum = VoiceLeadingCounts::default();
        for c in counts {
            sum.add(c);
        }
        sum
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &VoiceLeadingCounts) {
        let scalars = [
            (&mut self.phrases, other.phrases),
            (&mut self.phrases_all_voices, other.phrases_all_voices),
            (&mut self.steps, other.steps),
            (&mut self.full_steps, other.full_steps),
            (&mut self.chord_steps, other.chord_steps),
            (&mut self.multi_pitch, other.multi_pitch),
            (&mut self.moves, other.moves),
            (&mut self.parallel_fifths, other.parallel_fifths),
            (&mut self.parallel_octaves, other.parallel_octaves),
            (&mut self.antiparallel, other.antiparallel),
            (&mut self.multi_voice_steps, other.multi_voice_steps),
            (&mut self.crossing_steps, other.crossing_steps),
            (&mut self.overlap_checks, other.overlap_checks),
            (&mut self.overlaps, other.overlaps),
            (&mut self.spacing_checks, other.spacing_checks),
            (&mut self.spacing_violations, other.spacing_violations),
            (&mut self.phrases_without_key, other.phrases_without_key),
            (&mut self.keyed_notes, other.keyed_notes),
            (&mut self.in_scale_notes, other.in_scale_notes),
        ];
        for (mine, theirs) in scalars {
            *mine += theirs;
        }
        for v in 0..4 {
            self.notes[v] += other.notes[v];
            self.out_of_range[v] += other.out_of_range[v];
        }
    }

    /// Parallel fifths and octaves per 100 moves.
    pub fn parallels_per_100_moves(&self) -> f64 {
        100.0 * ratio(self.parallel_fifths + self.parallel_octaves, self.moves)
    }

    /// Share of the steps where all four voices sound whose pitch classes form a chord.
    pub fn chord_tone_ratio(&self) -> f64 {
        ratio(self.chord_steps, self.full_steps)
    }

    /// Share of the steps where all four voices sound.
    pub fn all_voices_ratio(&self) -> f64 {
        ratio(self.full_steps, self.steps)
    }

    /// Share of the phrases in which every voice sounds somewhere.
    pub fn phrases_all_voices_ratio(&self) -> f64 {
        ratio(self.phrases_all_voices, self.phrases)
    }

    /// Share of the steps with two or more voices where voices cross.
    pub fn crossing_ratio(&self) -> f64 {
        ratio(self.crossing_steps, self.multi_voice_steps)
    }

    /// Share of the checked moves of adjacent voices that overlap.
    pub fn overlap_ratio(&self) -> f64 {
        ratio(self.overlaps, self.overlap_checks)
    }

    /// Share of the checked S–A and A–T sonorities more than an octave apart.
    pub fn spacing_ratio(&self) -> f64 {
        ratio(self.spacing_violations, self.spacing_checks)
    }

    /// Share of the notes of each voice outside its range.
    pub fn out_of_range_ratio(&self) -> [f64; 4] {
        std::array::from_fn(|v| ratio(self.out_of_range[v], self.notes[v]))
    }

    /// Share of the notes (of phrases with a key) in their phrase's key.
    pub fn in_scale_ratio(&self) -> f64 {
        ratio(self.in_scale_notes, self.keyed_notes)
    }

    /// Every rate at once, for a report.
    pub fn rates(&self) -> VoiceLeadingRates {
        VoiceLeadingRates {
            parallels_per_100_moves: self.parallels_per_100_moves(),
            antiparallels_per_100_moves: 100.0 * ratio(self.antiparallel, self.moves),
            chord_tone_ratio: self.chord_tone_ratio(),
            all_voices_ratio: self.all_voices_ratio(),
            phrases_all_voices_ratio: self.phrases_all_voices_ratio(),
            crossing_ratio: self.crossing_ratio(),
            overlap_ratio: self.overlap_ratio(),
            spacing_ratio: self.spacing_ratio(),
            out_of_range_ratio: self.out_of_range_ratio(),
            in_scale_ratio: self.in_scale_ratio(),
        }
    }
}

/// The rates of [`VoiceLeadingCounts`] (NaN, `null` in JSON, where nothing was measured).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct VoiceLeadingRates {
    /// [`VoiceLeadingCounts::parallels_per_100_moves`].
    pub parallels_per_100_moves: f64,
    /// Fifths and octaves by contrary motion per 100 moves.
    pub antiparallels_per_100_moves: f64,
    /// [`VoiceLeadingCounts::chord_tone_ratio`].
    pub chord_tone_ratio: f64,
    /// [`VoiceLeadingCounts::all_voices_ratio`].
    pub all_voices_ratio: f64,
    /// [`VoiceLeadingCounts::phrases_all_voices_ratio`].
    pub phrases_all_voices_ratio: f64,
    /// [`VoiceLeadingCounts::crossing_ratio`].
    pub crossing_ratio: f64,
    /// [`VoiceLeadingCounts::overlap_ratio`].
    pub overlap_ratio: f64,
    /// [`VoiceLeadingCounts::spacing_ratio`].
    pub spacing_ratio: f64,
    /// [`VoiceLeadingCounts::out_of_range_ratio`], per voice.
    pub out_of_range_ratio: [f64; 4],
    /// [`VoiceLeadingCounts::in_scale_ratio`].
    pub in_scale_ratio: f64,
}

/// The voice-leading counts of one phrase and its estimated key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PhraseVoiceLeading {
    /// The Krumhansl–Schmuckler key, if defined.
    pub key: Option<Key>,
    /// The counts.
    pub counts: VoiceLeadingCounts,
}

/// Checks every phrase of `view` (four non-drum tracks: soprano, alto, tenor, bass), in parallel.
///
/// # Errors
/// [`Error::Invalid`] when `view` holds no phrase, does not have exactly four tracks, or has a
/// drum track.
pub fn voice_leading<C: Cell>(view: &PhraseView<'_, C>) -> Result<Vec<PhraseVoiceLeading>> {
    check_not_empty(view, "voice leading")?;
    let shape = view.shape();
    if shape.tracks != 4 {
        return Err(Error::Invalid(format!(
            "voice leading needs four voices (soprano, alto, tenor, bass); the phrases have {} \
             tracks",
            shape.tracks
        )));
    }
    if view.is_drum().iter().any(|&d| d) {
        return Err(Error::Invalid(
            "voice leading needs four pitched voices; the phrases have a drum track".into(),
        ));
    }
    let chords = chord_table();
    Ok((0..shape.samples)
        .into_par_iter()
        .map_init(Vec::new, |rows, sample| {
            sample_rows(view, sample, rows);
            phrase(rows, shape.bars * shape.steps_per_bar, &chords)
        })
        .collect())
}

/// The highest pitch of `row`, if any.
fn top(row: u128) -> Option<i32> {
    (row != 0).then(|| 127 - row.leading_zeros() as i32)
}

/// Counts one phrase given its rows (`rows[voice * steps + t]`).
fn phrase(rows: &[u128], steps: usize, chords: &[bool]) -> PhraseVoiceLeading {
    let mut c = VoiceLeadingCounts {
        phrases: 1,
        steps,
        ..Default::default()
    };
    let voice_rows = |v: usize| &rows[v * steps..(v + 1) * steps];
    let pitch = |v: usize, t: usize| top(rows[v * steps + t]);
    for t in 0..steps {
        let now: [Option<i32>; 4] = std::array::from_fn(|v| pitch(v, t));
        c.multi_pitch += (0..4)
            .filter(|&v| rows[v * steps + t].count_ones() > 1)
            .count();
        let sounding = now.iter().flatten().count();
        if sounding >= 2 {
            c.multi_voice_steps += 1;
            let crossed = (0..4).any(|i| {
                (i + 1..4).any(|j| matches!((now[i], now[j]), (Some(a), Some(b)) if a < b))
            });
            c.crossing_steps += usize::from(crossed);
        }
        for v in 0..2 {
            if let (Some(upper), Some(lower)) = (now[v], now[v + 1]) {
                c.spacing_checks += 1;
                c.spacing_violations += usize::from(upper - lower > 12);
            }
        }
        if sounding == 4 {
            c.full_steps += 1;
            let all = (0..4).fold(0u128, |all, v| all | rows[v * steps + t]);
            c.chord_steps += usize::from(chords[usize::from(pitch_class_set(all))]);
        }
        if t > 0 {
            let before: [Option<i32>; 4] = std::array::from_fn(|v| pitch(v, t - 1));
            moves(&before, &now, &mut c);
        }
    }
    c.phrases_all_voices = usize::from((0..4).all(|v| voice_rows(v).iter().any(|&r| r != 0)));

    let mut weights = [0.0; 12];
    for &row in rows {
        let mut bits = row;
        while bits != 0 {
            weights[bits.trailing_zeros() as usize % 12] += 1.0;
            bits &= bits - 1;
        }
    }
    let key = estimate_key(&weights);
    let scale = key.map(Key::scale);
    for (v, &(low, high)) in SATB_RANGES.iter().enumerate() {
        for note in run_notes(voice_rows(v)) {
            c.notes[v] += 1;
            c.out_of_range[v] += usize::from(!(low..=high).contains(&note.pitch));
            if let Some(scale) = scale {
                c.keyed_notes += 1;
                c.in_scale_notes += usize::from(scale >> (note.pitch % 12) & 1 == 1);
            }
        }
    }
    c.phrases_without_key = usize::from(key.is_none());
    PhraseVoiceLeading { key, counts: c }
}

/// Counts the move from `before` to `now`, if it is one: parallels, antiparallels, overlaps.
fn moves(before: &[Option<i32>; 4], now: &[Option<i32>; 4], c: &mut VoiceLeadingCounts) {
    let both: [Option<(i32, i32)>; 4] = std::array::from_fn(|v| before[v].zip(now[v]));
    if !both.iter().flatten().any(|(a, b)| a != b) {
        return;
    }
    c.moves += 1;
    for i in 0..4 {
        for j in i + 1..4 {
            let (Some((a0, a1)), Some((b0, b1))) = (both[i], both[j]) else {
                continue;
            };
            let (da, db) = ((a1 - a0).signum(), (b1 - b0).signum());
            let class = ((a0 - b0).abs() % 12, (a1 - b1).abs() % 12);
            if da == 0 || db == 0 || class.0 != class.1 || !matches!(class.0, 0 | 7) {
                continue;
            }
            match (da == db, class.0) {
                (true, 7) => c.parallel_fifths += 1,
                (true, _) => c.parallel_octaves += 1,
                (false, _) => c.antiparallel += 1,
            }
        }
        if i < 3 {
            if let (Some((u0, u1)), Some((l0, l1))) = (both[i], both[i + 1]) {
                c.overlap_checks += 1;
                let uncrossed = u0 >= l0 && u1 >= l1;
                c.overlaps += usize::from(uncrossed && (l1 > u0 || u1 < l0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chord_table_knows_inversions_and_omitted_fifths() {
        let table = chord_table();
        let is = |classes: &[u8]| table[usize::from(bits(classes))];
        assert!(is(&[0, 4, 7])); // C major
        assert!(is(&[4, 7, 0])); // same set
        assert!(is(&[2, 5, 7, 11])); // G7
        assert!(is(&[7, 11, 5])); // G7 without its fifth
        assert!(is(&[11, 2, 5, 8])); // B°7
        assert!(is(&[0, 4])); // a third: a triad without its fifth
        assert!(!is(&[0, 7])); // a bare fifth
        assert!(!is(&[0])); // unisons and octaves
        assert!(!is(&[0, 2, 4])); // a cluster
        assert!(!is(&[0, 4, 7, 9, 11])); // too many
    }

    #[test]
    fn rotation_wraps_around() {
        assert_eq!(rotate(bits(&[0, 11]), 1), bits(&[1, 0]));
        assert_eq!(rotate(bits(&[5]), 12), bits(&[5]));
    }

    #[test]
    fn keys_print_their_names() {
        let key = Key {
            tonic: 9,
            mode: Mode::Minor,
        };
        assert_eq!(key.to_string(), "A minor");
        assert_eq!(key.scale(), bits(&[9, 11, 0, 2, 4, 5, 7, 8]));
    }
}
