//! Judging sets of generated phrases the way a reviewer would, beyond the metric means of
//! [`crate::metrics`]: a model can match every mean and still break the rules of four-part
//! writing, sit outside the data's distribution, copy its training set or lack variety.
//!
//! - [`voice_leading`]: rule checks for four-voice (SATB) chorale-like phrases — parallel fifths
//!   and octaves, crossing, overlap, spacing, ranges, chord tones, a key-aware in-scale ratio;
//! - [`yang_lerch`]: Yang & Lerch's (2020) features, intra- and inter-set distance
//!   distributions, and their overlapping area and KL divergence on one common grid;
//! - [`memorization`]: nearest training phrase by Hamming distance (up to transposition),
//!   near-copies, and the diversity of a set;
//! - [`bootstrap`]: percentile-bootstrap confidence intervals for means.
//!
//! Everything here reads the phrase tensors of [`crate::metrics::PhraseView`], bars laid end to
//! end: a note is a maximal run of sounding steps of one pitch in one track across the whole
//! phrase, bar lines included (a tensor has no onset plane, so a pitch struck again without a
//! gap is one note).

pub mod bootstrap;
pub mod memorization;
pub mod voice_leading;
pub mod yang_lerch;

use crate::error::{Error, Result};
use crate::metrics::{Cell, PhraseView};

/// One note of a phrase: a maximal run of sounding steps of one pitch in one track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RunNote {
    /// MIDI pitch.
    pub pitch: u8,
    /// First step, counted from the start of the phrase.
    pub start: usize,
    /// One past the last step.
    pub end: usize,
}

/// The sounding pitches of one sample of `view`, one `u128` per track and step (bit = MIDI
/// pitch), bars laid end to end: `rows[track * steps + t]` with `steps = bars × steps_per_bar`.
pub(crate) fn sample_rows<C: Cell>(view: &PhraseView<'_, C>, sample: usize, rows: &mut Vec<u128>) {
    let shape = view.shape();
    let pitches = shape.pitches;
    let per_sample = shape.tracks * shape.bars * shape.steps_per_bar * pitches;
    let low = shape.lowest_pitch.index();
    rows.clear();
    let cells = view
        .data()
        .get(sample * per_sample..(sample + 1) * per_sample)
        .unwrap_or(&[]);
    rows.extend(cells.chunks_exact(pitches).map(|row| {
        row.iter()
            .enumerate()
            .filter(|(_, c)| c.is_on())
            .fold(0u128, |bits, (p, _)| bits | 1u128 << (low + p))
    }));
}

/// The notes of one track given its rows (one per step), sorted by start, then pitch.
pub(crate) fn run_notes(rows: &[u128]) -> Vec<RunNote> {
    let mut notes = Vec::new();
    for (t, &row) in rows.iter().enumerate() {
        let previous = t.checked_sub(1).map_or(0, |p| rows[p]);
        let mut starts = row & !previous;
        while starts != 0 {
            let pitch = starts.trailing_zeros();
            let bit = 1u128 << pitch;
            let end = rows[t..]
                .iter()
                .position(|r| r & bit == 0)
                .map_or(rows.len(), |k| t + k);
            notes.push(RunNote {
                pitch: pitch as u8,
                start: t,
                end,
            });
            starts &= starts - 1;
        }
    }
    notes
}

/// The 12-bit set of pitch classes (bit = pitch class, C = 0) sounding in `row`.
pub(crate) fn pitch_class_set(row: u128) -> u16 {
    (0..11).fold(0u16, |set, octave| {
        set | ((row >> (12 * octave)) & 0xfff) as u16
    })
}

/// The error for an evaluation given no phrase at all.
pub(crate) fn no_phrases(what: &str) -> Error {
    Error::Invalid(format!("{what}: the set of phrases is empty"))
}

/// Checks that `view` holds at least one sample.
pub(crate) fn check_not_empty<C: Cell>(view: &PhraseView<'_, C>, what: &str) -> Result<()> {
    if view.shape().samples == 0 {
        Err(no_phrases(what))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_split_by_silence_and_sorted() {
        // pitch 3 on steps 0–1 and 3, pitch 1 on steps 1–3
        let rows = [1 << 3, 1 << 3 | 1 << 1, 1 << 1, 1 << 1 | 1 << 3];
        let notes = run_notes(&rows);
        let got: Vec<_> = notes.iter().map(|n| (n.pitch, n.start, n.end)).collect();
        assert_eq!(got, [(3, 0, 2), (1, 1, 4), (3, 3, 4)]);
    }

    #[test]
    fn pitch_classes_fold_octaves() {
        let row = 1u128 << 60 | 1u128 << 64 | 1u128 << 127 | 1u128 << 7;
        assert_eq!(pitch_class_set(row), 1 << 0 | 1 << 4 | 1 << 7);
    }
}
