//! What the readers of every format share: their options, and the limits that keep hostile
//! files from exhausting memory. Re-exported by [`crate::io`], which is where users find them.

use crate::error::{Error, Result};
use crate::units::Resolution;

/// The most time steps a track read from a file may have: 2^20 steps is 12 hours at 24 steps
/// per beat and 120 qpm, and 144 MiB of roll.
pub const MAX_STEPS: usize = 1 << 20;

/// The most track-steps (tracks × steps) a file may expand to: about 1.2 GB of rolls.
pub const MAX_TRACK_STEPS: usize = 1 << 23;

/// Options shared by the readers of timed formats (MIDI, MusicXML).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Steps per beat of the resulting piano-roll. Formats that store a resolution of their own
    /// (pypianoroll `.npz`) keep theirs unless converted afterwards.
    pub resolution: Resolution,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            resolution: Resolution::DEFAULT,
        }
    }
}

/// Refuses a song of `steps` steps and `tracks` tracks that would exceed the memory limits.
pub fn check_size(steps: usize, tracks: usize) -> Result<()> {
    if steps > MAX_STEPS {
        return Err(Error::Invalid(format!(
            "{steps} time steps exceed the limit of {MAX_STEPS}"
        )));
    }
    if steps.saturating_mul(tracks) > MAX_TRACK_STEPS {
        return Err(Error::Invalid(format!(
            "{tracks} tracks × {steps} steps exceed the limit of {MAX_TRACK_STEPS} track-steps"
        )));
    }
    Ok(())
}

/// The largest file museroll reads (pypianoroll files of long songs with many tracks are the
/// biggest; MIDI and MusicXML files are far smaller).
pub const MAX_FILE_BYTES: u64 = 512 << 20;
