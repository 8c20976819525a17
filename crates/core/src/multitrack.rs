//! The multitrack piano-roll: tracks sharing one symbolic time grid, with tempo and meter.
//!
//! Time is symbolic: every beat (quarter note) has [`Resolution`] steps whatever the tempo, so a
//! roll is the score, not a performance. Tempo changes are kept as metadata (they decide how long a
//! step lasts when the music is played) and written back to MIDI. Bars come from the time
//! signatures: a bar of n/d lasts `n · 4/d` beats.

use crate::error::{Error, Result};
use crate::roll::{rescale, RollKind};
use crate::track::Track;
use crate::units::Resolution;

/// The tempo used where a file sets none, in quarter notes per minute.
pub const DEFAULT_QPM: f64 = 120.0;

/// A tempo change at a step.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tempo {
    /// The step where the tempo takes effect.
    pub step: usize,
    /// Quarter notes per minute, finite and positive.
    pub qpm: f64,
}

/// A time-signature change at a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimeSignature {
    /// The step where the meter takes effect; a bar starts here.
    pub step: usize,
    /// Beats per bar, 1–255.
    pub numerator: u8,
    /// The beat's note value: 1, 2, 4, … 128.
    pub denominator: u8,
}

impl TimeSignature {
    /// 4/4 from step 0, the meter assumed where a file gives none (as MIDI does).
    pub const COMMON: TimeSignature = TimeSignature {
        step: 0,
        numerator: 4,
        denominator: 4,
    };

    /// Bar length in quarter notes as a fraction `(numerator·4, denominator)`.
    fn bar_quarters(&self) -> (u64, u64) {
        (u64::from(self.numerator) * 4, u64::from(self.denominator))
    }
}

/// A song or phrase: tracks of equal resolution with tempo and time-signature changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Multitrack {
    /// Title, if the file has one.
    pub name: Option<String>,
    resolution: Resolution,
    tempos: Vec<Tempo>,
    time_signatures: Vec<TimeSignature>,
    /// The tracks, in order. They may differ in length; [`Multitrack::pad_to_same`] evens them.
    pub tracks: Vec<Track>,
}

impl Multitrack {
    /// An empty multitrack at `resolution`, 120 qpm, 4/4.
    pub fn new(resolution: Resolution) -> Multitrack {
        Multitrack {
            name: None,
            resolution,
            tempos: vec![Tempo {
                step: 0,
                qpm: DEFAULT_QPM,
            }],
            time_signatures: vec![TimeSignature::COMMON],
            tracks: Vec::new(),
        }
    }

    /// Steps per beat.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Tempo changes, sorted by step, the first at step 0.
    pub fn tempos(&self) -> &[Tempo] {
        &self.tempos
    }

    /// Replaces the tempo changes. They are sorted; of two at the same step the later in the list
    /// wins; when none is at step 0 the first one's tempo (or 120 qpm) applies from step 0.
    pub fn set_tempos(&mut self, tempos: impl IntoIterator<Item = Tempo>) -> Result<()> {
        let mut list: Vec<Tempo> = tempos.into_iter().collect();
        if let Some(bad) = list.iter().find(|t| !(t.qpm.is_finite() && t.qpm > 0.0)) {
            return Err(Error::Invalid(format!(
                "tempo {} qpm at step {}",
                bad.qpm, bad.step
            )));
        }
        list.sort_by_key(|t| t.step); // stable: equal steps keep list order
        let mut out: Vec<Tempo> = Vec::with_capacity(list.len() + 1);
        for t in list {
            match out.last_mut() {
                Some(last) if last.step == t.step => *last = t,
                _ => out.push(t),
            }
        }
        // After the replacements: a change to the tempo already in force is no change.
        out.dedup_by(|later, earlier| later.qpm == earlier.qpm);
        match out.first_mut() {
            None => out.push(Tempo {
                step: 0,
                qpm: DEFAULT_QPM,
            }),
            Some(first) => first.step = 0,
        }
        self.tempos = out;
        Ok(())
    }

    /// The tempo in effect at `step`.
    pub fn tempo_at(&self, step: usize) -> f64 {
        self.tempos
            .iter()
            .rev()
            .find(|t| t.step <= step)
            .map_or(DEFAULT_QPM, |t| t.qpm)
    }

    /// Time-signature changes, sorted by step, the first at step 0.
    pub fn time_signatures(&self) -> &[TimeSignature] {
        &self.time_signatures
    }

    /// Replaces the time signatures, with the same ordering rules as [`Multitrack::set_tempos`].
    pub fn set_time_signatures(
        &mut self,
        signatures: impl IntoIterator<Item = TimeSignature>,
    ) -> Result<()> {
        let mut list: Vec<TimeSignature> = signatures.into_iter().collect();
        if let Some(bad) = list.iter().find(|ts| {
            ts.numerator == 0 || !ts.denominator.is_power_of_two() || ts.denominator > 128
        }) {
            return Err(Error::Invalid(format!(
                "time signature {}/{} at step {}",
                bad.numerator, bad.denominator, bad.step
            )));
        }
        list.sort_by_key(|t| t.step);
        let mut out: Vec<TimeSignature> = Vec::with_capacity(list.len() + 1);
        for ts in list {
            match out.last_mut() {
                Some(last) if last.step == ts.step => *last = ts,
                _ => out.push(ts),
            }
        }
        // After the replacements (a later entry at one step may restore the meter in force).
        out.dedup_by(|later, earlier| {
            (later.numerator, later.denominator) == (earlier.numerator, earlier.denominator)
        });
        match out.first_mut() {
            None => out.push(TimeSignature::COMMON),
            Some(first) => first.step = 0,
        }
        self.time_signatures = out;
        Ok(())
    }

    /// Number of steps: the longest track's length (0 without tracks).
    pub fn len(&self) -> usize {
        self.tracks.iter().map(|t| t.roll.len()).max().unwrap_or(0)
    }

    /// True when there are no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One past the last step where any track sounds; 0 when all are silent.
    pub fn active_length(&self) -> usize {
        self.tracks
            .iter()
            .map(|t| t.roll.active_length())
            .max()
            .unwrap_or(0)
    }

    /// Length in beats (quarter notes), fractional when the last beat is incomplete.
    pub fn beats(&self) -> f64 {
        self.len() as f64 / f64::from(self.resolution.get())
    }

    /// Steps where a bar starts, below [`Multitrack::len`].
    pub fn downbeat_steps(&self) -> Vec<usize> {
        self.downbeats_until(self.len())
    }

    /// Steps where a bar starts, below `end`.
    pub fn downbeats_until(&self, end: usize) -> Vec<usize> {
        let res = u64::from(self.resolution.get());
        let mut out = Vec::new();
        for (i, ts) in self.time_signatures.iter().enumerate() {
            let segment_end = self
                .time_signatures
                .get(i + 1)
                .map_or(end, |next| next.step.min(end));
            let (num, den) = ts.bar_quarters();
            let mut k = 0u64;
            loop {
                // Bar k of this segment starts round(k · num/den · res) steps in.
                let offset = (2 * k * num * res + den) / (2 * den);
                let step = ts.step + offset as usize;
                if step >= segment_end {
                    break;
                }
                // Bars shorter than a step (1/128 at one step per beat) share steps: list each once.
                if out.last() != Some(&step) {
                    out.push(step);
                }
                k += 1;
            }
        }
        out
    }

    /// Number of bars begun within the song.
    pub fn bar_count(&self) -> usize {
        self.downbeat_steps().len()
    }

    /// Seconds from the start to `step`, following the tempo changes.
    pub fn seconds_at(&self, step: usize) -> f64 {
        let res = f64::from(self.resolution.get());
        let mut seconds = 0.0;
        for (i, tempo) in self.tempos.iter().enumerate() {
            if tempo.step >= step {
                break;
            }
            let until = self
                .tempos
                .get(i + 1)
                .map_or(step, |next| next.step.min(step));
            seconds += (until - tempo.step) as f64 * 60.0 / (tempo.qpm * res);
        }
        seconds
    }

    /// Turns every track binary (cells above `threshold` are on).
    pub fn binarize(&mut self, threshold: u8) {
        for track in &mut self.tracks {
            track.roll.binarize(threshold);
        }
    }

    /// Keeps steps `start..end` of every track. Tempo and meter in effect at `start` move to step 0.
    pub fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        let start = start.min(end);
        for track in &mut self.tracks {
            track.roll.trim(start, end);
        }
        let shift_tempos = self.tempos.iter().map(|t| Tempo {
            step: t.step.saturating_sub(start),
            ..*t
        });
        let kept: Vec<Tempo> = shift_tempos
            .filter(|t| t.step < end - start || t.step == 0)
            .collect();
        let first_tempo = Tempo {
            step: 0,
            qpm: self.tempo_at(start),
        };
        let shift_ts = self.time_signatures.iter().map(|t| TimeSignature {
            step: t.step.saturating_sub(start),
            ..*t
        });
        let kept_ts: Vec<TimeSignature> = shift_ts
            .filter(|t| t.step < end - start || t.step == 0)
            .collect();
        let first_ts = self
            .time_signatures
            .iter()
            .rev()
            .find(|t| t.step <= start)
            .copied()
            .unwrap_or(TimeSignature::COMMON);
        self.tempos = std::iter::once(first_tempo)
            .chain(kept.into_iter().filter(|t| t.step > 0))
            .collect();
        self.time_signatures = std::iter::once(TimeSignature {
            step: 0,
            ..first_ts
        })
        .chain(kept_ts.into_iter().filter(|t| t.step > 0))
        .collect();
    }

    /// Appends `steps` silent steps to every track.
    pub fn pad(&mut self, steps: usize) {
        for track in &mut self.tracks {
            let len = track.roll.len();
            track.roll.resize(len + steps);
        }
    }

    /// Pads every track with silence to `steps` (tracks already longer are left alone).
    pub fn pad_to(&mut self, steps: usize) {
        for track in &mut self.tracks {
            if track.roll.len() < steps {
                track.roll.resize(steps);
            }
        }
    }

    /// Pads every track to the next multiple of `factor` steps (of its own length).
    pub fn pad_to_multiple(&mut self, factor: usize) {
        if factor == 0 {
            return;
        }
        for track in &mut self.tracks {
            let len = track.roll.len();
            track.roll.resize(len.div_ceil(factor) * factor);
        }
    }

    /// Pads every track to the longest one.
    pub fn pad_to_same(&mut self) {
        self.pad_to(self.len());
    }

    /// Transposes every non-drum track by `semitones`; notes leaving 0–127 are dropped.
    pub fn transpose(&mut self, semitones: i32) {
        for track in &mut self.tracks {
            track.transpose(semitones);
        }
    }

    /// Re-times everything to `resolution` (see [`crate::Roll::resample`]); tempo and meter
    /// changes move to the matching steps.
    pub fn set_resolution(&mut self, resolution: Resolution) {
        let (from, to) = (self.resolution.get(), resolution.get());
        if from == to {
            return;
        }
        for track in &mut self.tracks {
            track.roll.resample(from, to);
        }
        let tempos: Vec<Tempo> = self
            .tempos
            .iter()
            .map(|t| Tempo {
                step: rescale(t.step, from, to),
                ..*t
            })
            .collect();
        let signatures: Vec<TimeSignature> = self
            .time_signatures
            .iter()
            .map(|t| TimeSignature {
                step: rescale(t.step, from, to),
                ..*t
            })
            .collect();
        self.resolution = resolution;
        self.set_tempos(tempos).expect("tempos were valid");
        self.set_time_signatures(signatures)
            .expect("signatures were valid");
    }

    /// Merges the tracks at `indices` into one (cell-wise maximum, as LPD merges instruments),
    /// put where the first of them was. Fails on an empty list or an index out of range.
    pub fn merge_tracks(
        &mut self,
        indices: &[usize],
        name: impl Into<String>,
        program: crate::Program,
        is_drum: bool,
    ) -> Result<()> {
        let first = *indices
            .iter()
            .min()
            .ok_or_else(|| Error::Invalid("no tracks to merge".into()))?;
        self.check_indices(indices)?;
        let mut merged = Track::new(name, program, is_drum, self.len());
        merged.roll = crate::Roll::new(
            if indices
                .iter()
                .all(|&i| self.tracks[i].roll.kind() == RollKind::Binary)
            {
                RollKind::Binary
            } else {
                RollKind::Velocity
            },
            self.len(),
        );
        for &i in indices {
            merged.roll.merge_max(&self.tracks[i].roll);
        }
        let mut index = 0;
        self.tracks.retain(|_| {
            let keep = !indices.contains(&index);
            index += 1;
            keep
        });
        let position = first - indices.iter().filter(|&&i| i < first).count();
        self.tracks.insert(position, merged);
        Ok(())
    }

    /// Keeps only the tracks at `indices`, in that order (an index may repeat).
    pub fn select_tracks(&mut self, indices: &[usize]) -> Result<()> {
        self.check_indices(indices)?;
        self.tracks = indices.iter().map(|&i| self.tracks[i].clone()).collect();
        Ok(())
    }

    /// Removes the tracks at `indices`.
    pub fn remove_tracks(&mut self, indices: &[usize]) -> Result<()> {
        self.check_indices(indices)?;
        let mut index = 0;
        self.tracks.retain(|_| {
            let keep = !indices.contains(&index);
            index += 1;
            keep
        });
        Ok(())
    }

    /// Removes the silent tracks (pypianoroll 1.0.4's `remove_empty` keeps them instead).
    pub fn remove_empty(&mut self) {
        self.tracks.retain(|t| !t.roll.is_silent());
    }

    fn check_indices(&self, indices: &[usize]) -> Result<()> {
        match indices.iter().find(|&&i| i >= self.tracks.len()) {
            Some(i) => Err(Error::Invalid(format!(
                "track {i} does not exist ({} tracks)",
                self.tracks.len()
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Note, Pitch, Program, Roll};

    fn song(res: u32, steps: usize) -> Multitrack {
        let mut m = Multitrack::new(Resolution::new(res).unwrap());
        let mut piano = Track::new("Piano", Program::default(), false, steps);
        piano.roll = Roll::from_notes(
            RollKind::Velocity,
            steps,
            [Note {
                pitch: Pitch::MIDDLE_C,
                start: 0,
                end: 4,
                velocity: 100,
            }],
        );
        let drums = Track::new("Drums", Program::default(), true, steps);
        m.tracks = vec![piano, drums];
        m
    }

    #[test]
    fn downbeats_follow_meter_changes() {
        let mut m = song(4, 48);
        // 4/4 for two bars (32 steps), then 3/4 (12-step bars).
        m.set_time_signatures([
            TimeSignature::COMMON,
            TimeSignature {
                step: 32,
                numerator: 3,
                denominator: 4,
            },
        ])
        .unwrap();
        assert_eq!(m.downbeat_steps(), vec![0, 16, 32, 44]);
        // 6/8 at res 4: bars of 3 quarter notes = 12 steps.
        m.set_time_signatures([TimeSignature {
            step: 0,
            numerator: 6,
            denominator: 8,
        }])
        .unwrap();
        assert_eq!(m.downbeat_steps(), vec![0, 12, 24, 36]);
    }

    #[test]
    fn fractional_bars_round_to_nearest_step() {
        // 7/16 at 2 steps per beat: 1.75 beats = 3.5 steps per bar.
        let mut m = song(2, 14);
        m.set_time_signatures([TimeSignature {
            step: 0,
            numerator: 7,
            denominator: 16,
        }])
        .unwrap();
        assert_eq!(m.downbeat_steps(), vec![0, 4, 7, 11]);
        // 1/128 at one step per beat: 32 bars per step, each step listed once.
        let mut m = song(1, 3);
        m.set_time_signatures([TimeSignature {
            step: 0,
            numerator: 1,
            denominator: 128,
        }])
        .unwrap();
        assert_eq!(m.downbeat_steps(), vec![0, 1, 2]);
    }

    #[test]
    fn tempo_changes_set_real_time() {
        let mut m = song(4, 16);
        m.set_tempos([
            Tempo {
                step: 0,
                qpm: 120.0,
            },
            Tempo { step: 8, qpm: 60.0 },
        ])
        .unwrap();
        // Two beats at 120 (1 s) then one beat at 60 (1 s).
        assert!((m.seconds_at(12) - 2.0).abs() < 1e-12);
        assert_eq!(m.tempo_at(7), 120.0);
        assert_eq!(m.tempo_at(8), 60.0);
    }

    #[test]
    fn bad_tempo_and_meter_are_refused() {
        let mut m = song(4, 16);
        assert!(m.set_tempos([Tempo { step: 0, qpm: 0.0 }]).is_err());
        assert!(m
            .set_tempos([Tempo {
                step: 0,
                qpm: f64::NAN
            }])
            .is_err());
        assert!(m
            .set_time_signatures([TimeSignature {
                step: 0,
                numerator: 3,
                denominator: 3
            }])
            .is_err());
    }

    #[test]
    fn tempo_list_normalised() {
        let mut m = song(4, 16);
        m.set_tempos([
            Tempo { step: 4, qpm: 90.0 },
            Tempo { step: 8, qpm: 90.0 },
            Tempo {
                step: 12,
                qpm: 100.0,
            },
        ])
        .unwrap();
        assert_eq!(
            m.tempos(),
            &[
                Tempo { step: 0, qpm: 90.0 },
                Tempo {
                    step: 12,
                    qpm: 100.0
                }
            ]
        );
    }

    /// A later entry at one step that restores the value in force is no change at all (found by
    /// the MIDI round-trip property test: 9/8, then 3/4 and 9/8 both at step 47).
    #[test]
    fn a_replaced_change_back_to_the_value_in_force_vanishes() {
        let mut m = song(4, 64);
        let meter = |step, numerator, denominator| TimeSignature {
            step,
            numerator,
            denominator,
        };
        m.set_time_signatures([meter(0, 9, 8), meter(47, 3, 4), meter(47, 9, 8)])
            .unwrap();
        assert_eq!(m.time_signatures(), &[meter(0, 9, 8)]);
        let tempo = |step, qpm| Tempo { step, qpm };
        m.set_tempos([
            tempo(0, 90.0),
            tempo(8, 60.0),
            tempo(8, 90.0),
            tempo(12, 100.0),
        ])
        .unwrap();
        assert_eq!(m.tempos(), &[tempo(0, 90.0), tempo(12, 100.0)]);
    }

    #[test]
    fn trim_moves_tempo_and_meter() {
        let mut m = song(4, 48);
        m.set_tempos([
            Tempo {
                step: 0,
                qpm: 100.0,
            },
            Tempo {
                step: 10,
                qpm: 80.0,
            },
            Tempo {
                step: 40,
                qpm: 70.0,
            },
        ])
        .unwrap();
        m.set_time_signatures([
            TimeSignature::COMMON,
            TimeSignature {
                step: 16,
                numerator: 3,
                denominator: 4,
            },
        ])
        .unwrap();
        m.trim(16, 40);
        assert_eq!(m.len(), 24);
        assert_eq!(m.tempos(), &[Tempo { step: 0, qpm: 80.0 }]);
        assert_eq!(
            m.time_signatures(),
            &[TimeSignature {
                step: 0,
                numerator: 3,
                denominator: 4
            }]
        );
    }

    #[test]
    fn transpose_skips_drums() {
        let mut m = song(4, 8);
        m.tracks[1].roll.set(0, Pitch::new(36).unwrap(), 100);
        m.transpose(2);
        assert_eq!(m.tracks[0].roll.notes()[0].pitch, Pitch::new(62).unwrap());
        assert!(m.tracks[1].roll.is_active(0, Pitch::new(36).unwrap()));
    }

    #[test]
    fn set_resolution_moves_meta() {
        let mut m = song(24, 96);
        m.set_tempos([
            Tempo {
                step: 0,
                qpm: 100.0,
            },
            Tempo {
                step: 48,
                qpm: 80.0,
            },
        ])
        .unwrap();
        m.set_resolution(Resolution::new(4).unwrap());
        assert_eq!(m.len(), 16);
        assert_eq!(m.tempos()[1].step, 8);
        assert_eq!(m.tracks[0].roll.notes()[0].end, 1);
    }

    #[test]
    fn merge_remove_select() {
        let mut m = song(4, 8);
        m.tracks
            .push(Track::new("Bass", Program::new(33).unwrap(), false, 8));
        m.merge_tracks(&[0, 2], "Pitched", Program::default(), false)
            .unwrap();
        assert_eq!(
            m.tracks.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["Pitched", "Drums"]
        );
        assert_eq!(m.tracks[0].roll.note_count(), 1);
        m.remove_empty();
        assert_eq!(m.tracks.len(), 1);
        assert!(m.select_tracks(&[3]).is_err());
        m.select_tracks(&[0, 0]).unwrap();
        assert_eq!(m.tracks.len(), 2);
        m.remove_tracks(&[1]).unwrap();
        assert_eq!(m.tracks.len(), 1);
    }

    #[test]
    fn padding() {
        let mut m = song(4, 10);
        m.tracks[1].roll.resize(3);
        m.pad_to_same();
        assert!(m.tracks.iter().all(|t| t.roll.len() == 10));
        m.pad_to_multiple(16);
        assert_eq!(m.len(), 16);
        m.pad(2);
        assert_eq!(m.len(), 18);
        assert_eq!(m.active_length(), 4);
    }
}
