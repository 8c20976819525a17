//! What `museroll info` shows: a multitrack's facts in one serialisable value.

use crate::multitrack::{Multitrack, Tempo, TimeSignature};
use std::fmt;

/// One track's facts.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TrackSummary {
    /// Position in the multitrack.
    pub index: usize,
    /// Track name.
    pub name: String,
    /// GM program number.
    pub program: u8,
    /// GM program name (`"Drums"` for drum tracks).
    pub instrument: String,
    /// Percussion track.
    pub is_drum: bool,
    /// `"velocity"` or `"binary"`.
    pub kind: crate::RollKind,
    /// Number of notes.
    pub notes: usize,
    /// Lowest and highest pitch names, absent for a silent track.
    pub pitch_range: Option<(String, String)>,
}

/// A multitrack's facts.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Title, if any.
    pub name: Option<String>,
    /// Steps per beat.
    pub resolution: u32,
    /// Length in steps.
    pub steps: usize,
    /// Length in beats (quarter notes).
    pub beats: f64,
    /// Number of bars begun.
    pub bars: usize,
    /// Duration in seconds at the file's tempi.
    pub seconds: f64,
    /// Tempo changes.
    pub tempos: Vec<Tempo>,
    /// Time-signature changes.
    pub time_signatures: Vec<TimeSignature>,
    /// The tracks.
    pub tracks: Vec<TrackSummary>,
}

impl Summary {
    /// Summarises `multitrack`.
    pub fn of(multitrack: &Multitrack) -> Summary {
        let tracks = multitrack
            .tracks
            .iter()
            .enumerate()
            .map(|(index, t)| TrackSummary {
                index,
                name: t.name.clone(),
                program: t.program.number(),
                instrument: if t.is_drum {
                    "Drums".to_string()
                } else {
                    t.program.name().to_string()
                },
                is_drum: t.is_drum,
                kind: t.roll.kind(),
                notes: t.roll.note_count(),
                pitch_range: t.roll.pitch_range().map(|(lo, hi)| (lo.name(), hi.name())),
            })
            .collect();
        Summary {
            name: multitrack.name.clone(),
            resolution: multitrack.resolution().get(),
            steps: multitrack.len(),
            beats: multitrack.beats(),
            bars: multitrack.bar_count(),
            seconds: multitrack.seconds_at(multitrack.len()),
            tempos: multitrack.tempos().to_vec(),
            time_signatures: multitrack.time_signatures().to_vec(),
            tracks,
        }
    }
}

/// How many tempo changes the text form lists before it summarises the rest.
const SHOWN_TEMPOS: usize = 6;

/// `x` with at most two decimals and no trailing zeros (`8`, `63.5`, `63.96`): a song ending a
/// step before a beat has a length like 63.958333333333336 beats, which nobody reads.
fn two_decimals(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.name {
            writeln!(f, "name:       {name}")?;
        }
        writeln!(f, "resolution: {} steps per beat", self.resolution)?;
        writeln!(
            f,
            "length:     {} steps = {} beats = {} bars, {:.1} s",
            self.steps,
            two_decimals(self.beats),
            self.bars,
            self.seconds
        )?;
        // A performed MIDI file can change tempo thousands of times: show the first few and the span.
        let tempos: Vec<String> = self
            .tempos
            .iter()
            .take(SHOWN_TEMPOS)
            .map(|t| format!("{:.2} qpm @{}", t.qpm, t.step))
            .collect();
        write!(f, "tempo:      {}", tempos.join(", "))?;
        if self.tempos.len() > SHOWN_TEMPOS {
            let (lo, hi) = self
                .tempos
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(lo, hi), t| {
                    (lo.min(t.qpm), hi.max(t.qpm))
                });
            write!(
                f,
                ", … ({} changes, {lo:.2}–{hi:.2} qpm)",
                self.tempos.len()
            )?;
        }
        writeln!(f)?;
        let meters: Vec<String> = self
            .time_signatures
            .iter()
            .map(|t| format!("{}/{} @{}", t.numerator, t.denominator, t.step))
            .collect();
        writeln!(f, "meter:      {}", meters.join(", "))?;
        writeln!(f, "tracks:     {}", self.tracks.len())?;
        for t in &self.tracks {
            let range = t
                .pitch_range
                .as_ref()
                .map_or("silent".to_string(), |(lo, hi)| format!("{lo}–{hi}"));
            writeln!(
                f,
                "  {:>2}  {:<24} {:>3} {:<26} {:>6} notes  {}",
                t.index, t.name, t.program, t.instrument, t.notes, range
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Note, Pitch, Program, Resolution, Roll, RollKind, Track};

    #[test]
    fn summary_of_a_small_song() {
        let mut m = Multitrack::new(Resolution::new(4).unwrap());
        let mut t = Track::new("Bass", Program::new(33).unwrap(), false, 32);
        t.roll = Roll::from_notes(
            RollKind::Velocity,
            32,
            [
                Note {
                    pitch: Pitch::new(36).unwrap(),
                    start: 0,
                    end: 4,
                    velocity: 90,
                },
                Note {
                    pitch: Pitch::new(43).unwrap(),
                    start: 4,
                    end: 8,
                    velocity: 90,
                },
            ],
        );
        m.tracks.push(t);
        let s = Summary::of(&m);
        assert_eq!((s.steps, s.beats, s.bars), (32, 8.0, 2));
        assert!((s.seconds - 4.0).abs() < 1e-12);
        assert_eq!(s.tracks[0].notes, 2);
        assert_eq!(s.tracks[0].instrument, "Electric Bass (finger)");
        assert_eq!(
            s.tracks[0].pitch_range,
            Some(("C2".to_string(), "G2".to_string()))
        );
        let text = s.to_string();
        assert!(text.contains("8 beats = 2 bars"), "{text}");
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["tracks"][0]["kind"], "velocity");
    }

    #[test]
    fn lengths_in_beats_are_rounded_for_people() {
        // 1535 steps at 24 per beat: the last note ends a step before the bar.
        let mut m = Multitrack::new(Resolution::new(24).unwrap());
        m.tracks
            .push(Track::new("Piano", Program::new(0).unwrap(), false, 1535));
        let s = Summary::of(&m);
        assert_eq!(s.beats, 1535.0 / 24.0);
        let text = s.to_string();
        assert!(text.contains("1535 steps = 63.96 beats = "), "{text}");
        assert_eq!(two_decimals(8.0), "8");
        assert_eq!(two_decimals(63.5), "63.5");
        assert_eq!(two_decimals(0.001), "0");
        assert_eq!(two_decimals(10.0), "10");
    }
}
