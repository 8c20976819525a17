//! A single track's piano-roll: time steps × 128 pitches of velocities, plus note starts.
//!
//! A bare roll cannot tell a held note from the same pitch struck again on the next step. museroll
//! keeps an *onset plane* next to the velocities: a note begins wherever its pitch becomes active
//! or its onset bit is set. Rolls built from notes (MIDI, MusicXML) set the bit at every note start,
//! so repeated notes survive a round trip; rolls written cell by cell (a generator's output) leave
//! it clear and notes are the maximal runs of active steps, as in pypianoroll.

use crate::units::{Pitch, N_PITCHES};

/// What a roll's cells hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RollKind {
    /// Velocities 0–127, 0 = silent.
    Velocity,
    /// On/off only; an active cell holds 1.
    Binary,
}

/// One note of a roll: `start..end` in time steps (end exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Note {
    /// The pitch.
    pub pitch: Pitch,
    /// First step.
    pub start: usize,
    /// One past the last step; always greater than `start`.
    pub end: usize,
    /// Velocity 1–127 (1 for every note of a binary roll).
    pub velocity: u8,
}

impl Note {
    /// Length in time steps.
    pub fn duration(&self) -> usize {
        self.end - self.start
    }
}

/// A T × 128 piano-roll with an onset plane (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roll {
    kind: RollKind,
    cells: Vec<[u8; N_PITCHES]>,
    onsets: Vec<u128>,
}

impl Roll {
    /// A silent roll of `steps` time steps.
    pub fn new(kind: RollKind, steps: usize) -> Roll {
        Roll {
            kind,
            cells: vec![[0; N_PITCHES]; steps],
            onsets: vec![0; steps],
        }
    }

    /// A roll of `steps` steps holding `notes` (see [`Roll::add_note`]); notes past the end are cut.
    pub fn from_notes(kind: RollKind, steps: usize, notes: impl IntoIterator<Item = Note>) -> Roll {
        let mut roll = Roll::new(kind, steps);
        for note in notes {
            roll.add_note(note);
        }
        roll
    }

    /// Velocity or binary.
    pub fn kind(&self) -> RollKind {
        self.kind
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True for a roll of zero steps (not the same as silent: see [`Roll::is_silent`]).
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// True when no cell is active.
    pub fn is_silent(&self) -> bool {
        self.cells.iter().all(|row| row.iter().all(|&v| v == 0))
    }

    /// The cells of step `t` (velocities, or 0/1 for a binary roll).
    pub fn step(&self, t: usize) -> &[u8; N_PITCHES] {
        &self.cells[t]
    }

    /// All steps, row by row.
    pub fn steps(&self) -> &[[u8; N_PITCHES]] {
        &self.cells
    }

    /// The value at step `t`, pitch `p`.
    pub fn get(&self, t: usize, p: Pitch) -> u8 {
        self.cells[t][p.index()]
    }

    /// True when pitch `p` sounds at step `t`.
    pub fn is_active(&self, t: usize, p: Pitch) -> bool {
        self.get(t, p) > 0
    }

    /// True when a note of pitch `p` begins at step `t`.
    pub fn is_onset(&self, t: usize, p: Pitch) -> bool {
        self.is_active(t, p)
            && (t == 0 || !self.is_active(t - 1, p) || self.onsets[t] & (1u128 << p.index()) != 0)
    }

    /// Sets one cell without marking a note start. Velocities above 127 are clamped; in a binary
    /// roll any nonzero value becomes 1. Silencing a cell clears its onset bit.
    pub fn set(&mut self, t: usize, p: Pitch, value: u8) {
        let v = self.normalize(value);
        self.cells[t][p.index()] = v;
        if v == 0 {
            self.onsets[t] &= !(1u128 << p.index());
        }
    }

    fn normalize(&self, value: u8) -> u8 {
        match self.kind {
            RollKind::Velocity => value.min(127),
            RollKind::Binary => u8::from(value > 0),
        }
    }

    /// Writes a note: its steps take its velocity and its start is marked, so a note that begins
    /// right where another of the same pitch ends stays a separate note. A later note overwrites
    /// the overlapping part of an earlier one. The part past the roll's end is cut.
    pub fn add_note(&mut self, note: Note) {
        let end = note.end.min(self.len());
        if note.start >= end || note.velocity == 0 {
            return;
        }
        let v = self.normalize(note.velocity);
        let p = note.pitch.index();
        for row in &mut self.cells[note.start..end] {
            row[p] = v;
        }
        for bits in &mut self.onsets[note.start + 1..end] {
            *bits &= !(1u128 << p);
        }
        self.onsets[note.start] |= 1u128 << p;
    }

    /// The notes, ordered by start then pitch. A note's velocity is that of its first step.
    ///
    /// One pass over the rows (cache-friendly), skipping rows where nothing starts or ends.
    pub fn notes(&self) -> Vec<Note> {
        let mut notes: Vec<Note> = Vec::new();
        // Index in `notes` of the note sounding at each pitch.
        let mut sounding: [Option<usize>; N_PITCHES] = [None; N_PITCHES];
        let mut previous = &[0u8; N_PITCHES];
        for (t, (row, &bits)) in self.cells.iter().zip(&self.onsets).enumerate() {
            if bits == 0 && row == previous {
                continue; // every note sounding goes on, none starts
            }
            for (p, (&v, open)) in row.iter().zip(&mut sounding).enumerate() {
                if let Some(i) = *open {
                    if v > 0 && bits & (1u128 << p) == 0 {
                        continue;
                    }
                    notes[i].end = t;
                    *open = None;
                }
                if v > 0 {
                    *open = Some(notes.len());
                    notes.push(Note {
                        pitch: Pitch::new(p as u8).expect("p < 128"),
                        start: t,
                        end: t + 1,
                        velocity: v,
                    });
                }
            }
            previous = row;
        }
        for i in sounding.into_iter().flatten() {
            notes[i].end = self.len();
        }
        notes
    }

    /// Number of notes.
    pub fn note_count(&self) -> usize {
        // Per step, a bit mask of the sounding pitches: a note starts where a pitch sounds and
        // either did not sound a step before or carries an onset bit.
        let mut previous = 0u128;
        let mut count = 0;
        for (row, &onsets) in self.cells.iter().zip(&self.onsets) {
            let active = row
                .iter()
                .enumerate()
                .fold(0u128, |mask, (p, &v)| mask | (u128::from(v > 0) << p));
            count += (active & (!previous | onsets)).count_ones() as usize;
            previous = active;
        }
        count
    }

    /// One past the last active step; 0 for a silent roll (pypianoroll returns T there).
    pub fn active_length(&self) -> usize {
        self.cells
            .iter()
            .rposition(|row| row.iter().any(|&v| v > 0))
            .map_or(0, |t| t + 1)
    }

    /// Lowest and highest active pitch, `None` for a silent roll.
    pub fn pitch_range(&self) -> Option<(Pitch, Pitch)> {
        let used = self.used_pitches();
        let lo = used.iter().position(|&u| u)?;
        let hi = used.iter().rposition(|&u| u)?;
        Some((Pitch::new(lo as u8)?, Pitch::new(hi as u8)?))
    }

    /// For each pitch, whether it is active anywhere.
    pub fn used_pitches(&self) -> [bool; N_PITCHES] {
        let mut used = [false; N_PITCHES];
        for row in &self.cells {
            for (u, &v) in used.iter_mut().zip(row) {
                *u |= v > 0;
            }
        }
        used
    }

    /// Turns the roll binary: cells above `threshold` become 1, the rest 0. Note starts are kept.
    pub fn binarize(&mut self, threshold: u8) {
        self.kind = RollKind::Binary;
        for (row, bits) in self.cells.iter_mut().zip(&mut self.onsets) {
            for (p, v) in row.iter_mut().enumerate() {
                *v = u8::from(*v > threshold);
                if *v == 0 {
                    *bits &= !(1u128 << p);
                }
            }
        }
    }

    /// Turns a binary roll into a velocity roll whose notes all have `velocity` (1–127).
    pub fn set_velocity(&mut self, velocity: u8) {
        let v = velocity.clamp(1, 127);
        self.kind = RollKind::Velocity;
        for row in &mut self.cells {
            for cell in row.iter_mut().filter(|c| **c > 0) {
                *cell = v;
            }
        }
    }

    /// Changes the length to `steps`, cutting or appending silence.
    pub fn resize(&mut self, steps: usize) {
        self.cells.resize(steps, [0; N_PITCHES]);
        self.onsets.resize(steps, 0);
    }

    /// Keeps steps `start..end` (clamped to the roll). A note cut at `start` begins at `start`.
    pub fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        let start = start.min(end);
        self.cells.truncate(end);
        self.onsets.truncate(end);
        self.cells.drain(..start);
        self.onsets.drain(..start);
    }

    /// Shifts every note by `semitones`; notes pushed outside 0–127 are dropped.
    pub fn transpose(&mut self, semitones: i32) {
        if semitones == 0 {
            return;
        }
        let shift = |p: usize| -> Option<usize> {
            let q = p as i64 + i64::from(semitones);
            (0..N_PITCHES as i64).contains(&q).then_some(q as usize)
        };
        for (row, bits) in self.cells.iter_mut().zip(&mut self.onsets) {
            let mut new_row = [0u8; N_PITCHES];
            let mut new_bits = 0u128;
            for (p, &value) in row.iter().enumerate() {
                if let Some(q) = shift(p) {
                    new_row[q] = value;
                    new_bits |= ((*bits >> p) & 1) << q;
                }
            }
            *row = new_row;
            *bits = new_bits;
        }
    }

    /// Overlays `other` (same length or shorter) keeping the louder value in every cell, as LPD
    /// merges instruments (`max` mode, saturating, never wrapping). Note starts of both are kept.
    /// The result is binary only if both rolls are.
    pub fn merge_max(&mut self, other: &Roll) {
        if other.len() > self.len() {
            self.resize(other.len());
        }
        // Mixing binary with velocities keeps velocities, reading binary cells as the default velocity.
        if self.kind == RollKind::Binary && other.kind == RollKind::Velocity {
            self.set_velocity(crate::DEFAULT_VELOCITY);
        }
        let binary_as_velocity = self.kind == RollKind::Velocity && other.kind == RollKind::Binary;
        for (row, o) in self.cells.iter_mut().zip(&other.cells) {
            for (cell, &v) in row.iter_mut().zip(o) {
                let v = if binary_as_velocity && v > 0 {
                    crate::DEFAULT_VELOCITY
                } else {
                    v
                };
                *cell = (*cell).max(v);
            }
        }
        for (bits, o) in self.onsets.iter_mut().zip(&other.onsets) {
            *bits |= o;
        }
    }

    /// Re-times the roll from `from` to `to` steps per beat, note by note: both ends of every note
    /// are rounded to the nearest new step and a note keeps at least one step, so no note vanishes
    /// and repeated notes stay distinct (pypianoroll moves cells and loses short notes). The length
    /// is rounded the same way, so trailing silence is kept.
    pub fn resample(&mut self, from: u32, to: u32) {
        if from == to {
            return;
        }
        let map = |t: usize| rescale(t, from, to);
        let steps = map(self.len());
        let notes: Vec<Note> = self
            .notes()
            .into_iter()
            .map(|n| {
                let start = map(n.start);
                Note {
                    start,
                    end: map(n.end).max(start + 1),
                    ..n
                }
            })
            .collect();
        *self = Roll::from_notes(self.kind, steps, notes);
    }
}

/// `t * to / from`, rounded half up, in integers.
pub(crate) fn rescale(t: usize, from: u32, to: u32) -> usize {
    let num = t as u128 * u128::from(to) * 2 + u128::from(from);
    (num / (u128::from(from) * 2)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u8) -> Pitch {
        Pitch::new(n).unwrap()
    }

    fn note(pitch: u8, start: usize, end: usize, velocity: u8) -> Note {
        Note {
            pitch: p(pitch),
            start,
            end,
            velocity,
        }
    }

    #[test]
    fn repeated_notes_stay_distinct() {
        let notes = vec![note(60, 0, 4, 100), note(60, 4, 8, 80), note(64, 2, 3, 90)];
        let roll = Roll::from_notes(RollKind::Velocity, 8, notes.clone());
        let mut expected = notes;
        expected.sort_by_key(|n| (n.start, n.pitch));
        assert_eq!(roll.notes(), expected);
        assert_eq!(roll.note_count(), 3);
    }

    #[test]
    fn cells_without_onsets_form_maximal_runs() {
        let mut roll = Roll::new(RollKind::Binary, 6);
        for t in 1..5 {
            roll.set(t, p(40), 1);
        }
        assert_eq!(roll.notes(), vec![note(40, 1, 5, 1)]);
    }

    #[test]
    fn later_note_overwrites_overlap() {
        let roll = Roll::from_notes(
            RollKind::Velocity,
            10,
            [note(60, 0, 6, 100), note(60, 3, 8, 50)],
        );
        assert_eq!(roll.notes(), vec![note(60, 0, 3, 100), note(60, 3, 8, 50)]);
    }

    #[test]
    fn notes_past_the_end_are_cut() {
        let roll = Roll::from_notes(
            RollKind::Velocity,
            4,
            [note(60, 2, 9, 100), note(61, 5, 9, 100)],
        );
        assert_eq!(roll.notes(), vec![note(60, 2, 4, 100)]);
    }

    #[test]
    fn active_length_of_silence_is_zero() {
        let mut roll = Roll::new(RollKind::Velocity, 10);
        assert_eq!(roll.active_length(), 0);
        roll.set(6, p(1), 5);
        assert_eq!(roll.active_length(), 7);
    }

    #[test]
    fn binarize_threshold_and_set_velocity() {
        let mut roll = Roll::from_notes(
            RollKind::Velocity,
            4,
            [note(60, 0, 2, 10), note(62, 0, 2, 90)],
        );
        roll.binarize(50);
        assert_eq!(roll.kind(), RollKind::Binary);
        assert_eq!(roll.notes(), vec![note(62, 0, 2, 1)]);
        roll.set_velocity(64);
        assert_eq!(roll.notes(), vec![note(62, 0, 2, 64)]);
    }

    #[test]
    fn transpose_drops_out_of_range() {
        let mut roll = Roll::from_notes(
            RollKind::Velocity,
            4,
            [note(120, 0, 2, 10), note(60, 1, 3, 20)],
        );
        roll.transpose(10);
        assert_eq!(roll.notes(), vec![note(70, 1, 3, 20)]);
        roll.transpose(-70);
        assert_eq!(roll.notes(), vec![note(0, 1, 3, 20)]);
    }

    #[test]
    fn transpose_keeps_repeated_notes() {
        let mut roll = Roll::from_notes(
            RollKind::Velocity,
            4,
            [note(60, 0, 2, 10), note(60, 2, 4, 20)],
        );
        roll.transpose(-1);
        assert_eq!(roll.notes(), vec![note(59, 0, 2, 10), note(59, 2, 4, 20)]);
    }

    #[test]
    fn trim_starts_cut_notes_at_zero() {
        let mut roll = Roll::from_notes(
            RollKind::Velocity,
            10,
            [note(60, 0, 6, 100), note(61, 7, 9, 1)],
        );
        roll.trim(3, 8);
        assert_eq!(roll.len(), 5);
        assert_eq!(roll.notes(), vec![note(60, 0, 3, 100), note(61, 4, 5, 1)]);
    }

    #[test]
    fn merge_max_saturates_not_wraps() {
        let mut a = Roll::from_notes(RollKind::Velocity, 4, [note(60, 0, 4, 100)]);
        let b = Roll::from_notes(
            RollKind::Velocity,
            6,
            [note(60, 0, 2, 120), note(62, 5, 6, 7)],
        );
        a.merge_max(&b);
        assert_eq!(a.len(), 6);
        assert_eq!(a.get(0, p(60)), 120);
        assert_eq!(a.get(3, p(60)), 100);
        assert_eq!(a.get(5, p(62)), 7);
    }

    #[test]
    fn merge_binary_into_velocity_uses_default_velocity() {
        let mut a = Roll::from_notes(RollKind::Velocity, 4, [note(60, 0, 4, 100)]);
        let b = Roll::from_notes(RollKind::Binary, 4, [note(50, 0, 2, 1)]);
        a.merge_max(&b);
        assert_eq!(a.get(0, p(50)), crate::DEFAULT_VELOCITY);
    }

    #[test]
    fn resample_keeps_short_and_repeated_notes() {
        // At 24 steps per beat: a 32nd-note (3 steps), then the same pitch again right after.
        let mut roll = Roll::from_notes(
            RollKind::Velocity,
            48,
            [note(60, 0, 3, 90), note(60, 3, 6, 80)],
        );
        roll.resample(24, 4);
        assert_eq!(roll.len(), 8);
        // 0..3 → 0..0.5 → 0..1 (round half up, min one step); 3..6 → 1..1 → 1..2.
        assert_eq!(roll.notes(), vec![note(60, 0, 1, 90), note(60, 1, 2, 80)]);
    }

    #[test]
    fn rescale_rounds_half_up() {
        assert_eq!(rescale(3, 24, 4), 1); // 0.5
        assert_eq!(rescale(2, 24, 4), 0); // 0.33
        assert_eq!(rescale(5, 4, 24), 30);
    }
}
