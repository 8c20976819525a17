//! A track: one instrument's piano-roll with its name, program and drum flag.

use crate::roll::{Roll, RollKind};
use crate::units::Program;

/// One instrument of a [`crate::Multitrack`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// Display name (a MIDI track name, a MusicXML part name, an LPD track name…).
    pub name: String,
    /// General MIDI program; ignored for drums.
    pub program: Program,
    /// True for a percussion track (MIDI channel 10); its pitches are GM drum keys.
    pub is_drum: bool,
    /// The notes.
    pub roll: Roll,
}

impl Track {
    /// A silent velocity track of `steps` steps.
    pub fn new(name: impl Into<String>, program: Program, is_drum: bool, steps: usize) -> Track {
        Track {
            name: name.into(),
            program,
            is_drum,
            roll: Roll::new(RollKind::Velocity, steps),
        }
    }

    /// Transposes the track, except drums: a drum track's pitches are instruments, not notes
    /// (pypianoroll's `Track.transpose` moves them; its `Multitrack.transpose` does not).
    pub fn transpose(&mut self, semitones: i32) {
        if !self.is_drum {
            self.roll.transpose(semitones);
        }
    }
}
