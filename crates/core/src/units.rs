//! Small value types that make invalid states unrepresentable: pitches, programs, resolutions.

use crate::error::{Error, Result};
use std::fmt;
use std::num::NonZeroU16;

/// Number of MIDI pitches; every piano-roll has this many columns.
pub const N_PITCHES: usize = 128;

/// A MIDI pitch number, 0–127. MIDI 60 is middle C, named `C4`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Pitch(u8);

const NOTE_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

impl Pitch {
    /// The lowest MIDI pitch (C-1).
    pub const MIN: Pitch = Pitch(0);
    /// The highest MIDI pitch (G9).
    pub const MAX: Pitch = Pitch(127);
    /// Middle C, MIDI 60.
    pub const MIDDLE_C: Pitch = Pitch(60);

    /// A pitch from its MIDI number; `None` above 127.
    ///
    /// ```
    /// use museroll_core::Pitch;
    /// assert_eq!(Pitch::new(60).unwrap().name(), "C4");
    /// assert!(Pitch::new(128).is_none());
    /// ```
    pub const fn new(number: u8) -> Option<Pitch> {
        if number < 128 {
            Some(Pitch(number))
        } else {
            None
        }
    }

    /// The MIDI number.
    pub const fn number(self) -> u8 {
        self.0
    }

    /// The column of this pitch in a piano-roll.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// Pitch class 0–11 (C = 0), the true one: MIDI number mod 12.
    pub const fn pitch_class(self) -> u8 {
        self.0 % 12
    }

    /// Scientific pitch name with sharps, MIDI 60 = `C4` (the pretty_midi / music21 convention).
    pub fn name(self) -> String {
        format!(
            "{}{}",
            NOTE_NAMES[self.pitch_class() as usize],
            i32::from(self.0 / 12) - 1
        )
    }

    /// The pitch `semitones` away, if it is still a MIDI pitch.
    pub fn transposed(self, semitones: i32) -> Option<Pitch> {
        let n = i32::from(self.0) + semitones;
        u8::try_from(n).ok().and_then(Pitch::new)
    }
}

impl TryFrom<u8> for Pitch {
    type Error = Error;
    fn try_from(n: u8) -> Result<Pitch> {
        Pitch::new(n).ok_or_else(|| Error::Invalid(format!("pitch {n} is above 127")))
    }
}

impl From<Pitch> for u8 {
    fn from(p: Pitch) -> u8 {
        p.0
    }
}

impl fmt::Display for Pitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A General MIDI program number, 0–127 (0 = Acoustic Grand Piano).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Program(u8);

impl Program {
    /// A program from its number; `None` above 127.
    pub const fn new(number: u8) -> Option<Program> {
        if number < 128 {
            Some(Program(number))
        } else {
            None
        }
    }

    /// The program number.
    pub const fn number(self) -> u8 {
        self.0
    }

    /// The General MIDI instrument name, e.g. `"Acoustic Grand Piano"`.
    pub fn name(self) -> &'static str {
        crate::gm::PROGRAM_NAMES[self.0 as usize]
    }

    /// The General MIDI instrument family (the 16 groups of 8 programs).
    ///
    /// ```
    /// use museroll_core::{InstrumentFamily, Program};
    /// assert_eq!(Program::new(33).unwrap().family(), InstrumentFamily::Bass);
    /// ```
    pub fn family(self) -> crate::gm::InstrumentFamily {
        crate::gm::InstrumentFamily::ALL[(self.0 / 8) as usize]
    }
}

impl TryFrom<u8> for Program {
    type Error = Error;
    fn try_from(n: u8) -> Result<Program> {
        Program::new(n).ok_or_else(|| Error::Invalid(format!("program {n} is above 127")))
    }
}

impl From<Program> for u8 {
    fn from(p: Program) -> u8 {
        p.0
    }
}

/// Time steps per quarter note (pypianoroll's `resolution`, LPD's `beat_resolution`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct Resolution(NonZeroU16);

impl Resolution {
    /// The largest resolution accepted; far above any piano-roll in use, low enough that a
    /// hostile file cannot make a song of billions of steps.
    pub const MAX: u32 = 960;
    /// pypianoroll's and LPD's default, 24 steps per beat.
    pub const DEFAULT: Resolution = Resolution(NonZeroU16::new(24).unwrap());

    /// A resolution of `steps_per_beat`, 1 to [`Resolution::MAX`].
    ///
    /// ```
    /// use museroll_core::Resolution;
    /// assert_eq!(Resolution::new(12).unwrap().get(), 12);
    /// assert!(Resolution::new(0).is_err());
    /// ```
    pub fn new(steps_per_beat: u32) -> Result<Resolution> {
        if (1..=Self::MAX).contains(&steps_per_beat) {
            Ok(Resolution(
                NonZeroU16::new(steps_per_beat as u16).expect("checked above"),
            ))
        } else {
            Err(Error::Invalid(format!(
                "resolution {steps_per_beat} is outside 1..={} steps per beat",
                Self::MAX
            )))
        }
    }

    /// Steps per beat.
    pub const fn get(self) -> u32 {
        self.0.get() as u32
    }

    /// Steps per beat as a `usize`, for indexing.
    pub const fn steps(self) -> usize {
        self.0.get() as usize
    }
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution::DEFAULT
    }
}

impl TryFrom<u32> for Resolution {
    type Error = Error;
    fn try_from(n: u32) -> Result<Resolution> {
        Resolution::new(n)
    }
}

impl From<Resolution> for u32 {
    fn from(r: Resolution) -> u32 {
        r.get()
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitch_names_follow_middle_c_is_c4() {
        assert_eq!(Pitch::new(0).unwrap().name(), "C-1");
        assert_eq!(Pitch::new(61).unwrap().name(), "C#4");
        assert_eq!(Pitch::new(69).unwrap().name(), "A4");
        assert_eq!(Pitch::new(127).unwrap().name(), "G9");
    }

    #[test]
    fn transposition_stays_in_range() {
        let c4 = Pitch::MIDDLE_C;
        assert_eq!(c4.transposed(12), Pitch::new(72));
        assert_eq!(c4.transposed(-61), None);
        assert_eq!(Pitch::MAX.transposed(1), None);
    }

    #[test]
    fn resolution_bounds() {
        assert!(Resolution::new(Resolution::MAX).is_ok());
        assert!(Resolution::new(Resolution::MAX + 1).is_err());
    }

    #[test]
    fn program_family_groups_of_eight() {
        use crate::gm::InstrumentFamily as F;
        assert_eq!(Program::new(0).unwrap().family(), F::Piano);
        assert_eq!(Program::new(24).unwrap().family(), F::Guitar);
        assert_eq!(Program::new(48).unwrap().family(), F::Ensemble);
        assert_eq!(Program::new(127).unwrap().family(), F::SoundEffects);
        assert_eq!(Program::new(40).unwrap().name(), "Violin");
    }
}
