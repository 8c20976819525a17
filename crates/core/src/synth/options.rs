//! The settings of a rendering, and their ranges.

use crate::error::{Error, Result};

/// The lowest sample rate rendered (rustysynth's lower limit), in Hz.
pub const MIN_SAMPLE_RATE: u32 = 16_000;

/// The highest sample rate rendered (rustysynth's upper limit), in Hz.
pub const MAX_SAMPLE_RATE: u32 = 192_000;

/// The longest release tail [`RenderOptions::max_tail`] may ask for, in seconds.
pub(super) const MAX_TAIL_SECONDS: f64 = 10.0;

/// The quietest peak [`RenderOptions::peak_dbfs`] may ask for, in dBFS.
const MIN_PEAK_DBFS: f64 = -60.0;

/// Options of [`super::render()`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderOptions {
    /// Frames per second, [`MIN_SAMPLE_RATE`]–[`MAX_SAMPLE_RATE`]. Default 44 100.
    pub sample_rate: u32,
    /// The output's peak level in dBFS, −60 to 0. Default −1.
    pub peak_dbfs: f64,
    /// The longest release tail after the last step, in seconds, 0 to 10 (see the module
    /// documentation). Default 2.
    pub max_tail: f64,
    /// A light reverb over the mix (see the module documentation). Default on.
    pub reverb: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            sample_rate: 44_100,
            peak_dbfs: -1.0,
            max_tail: 2.0,
            reverb: true,
        }
    }
}

impl RenderOptions {
    /// [`Error::Invalid`] naming the first option out of its range.
    ///
    /// ```
    /// use museroll_core::synth::RenderOptions;
    /// assert!(RenderOptions::default().check().is_ok());
    /// let slow = RenderOptions { sample_rate: 8000, ..RenderOptions::default() };
    /// assert_eq!(
    ///     slow.check().unwrap_err().to_string(),
    ///     "invalid value: sample rate 8000 Hz is outside 16000–192000 Hz"
    /// );
    /// ```
    pub fn check(&self) -> Result<()> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&self.sample_rate) {
            return Err(Error::Invalid(format!(
                "sample rate {} Hz is outside {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz",
                self.sample_rate
            )));
        }
        if !(MIN_PEAK_DBFS..=0.0).contains(&self.peak_dbfs) {
            return Err(Error::Invalid(format!(
                "peak level {} dBFS is outside {MIN_PEAK_DBFS}–0 dBFS",
                self.peak_dbfs
            )));
        }
        if !(0.0..=MAX_TAIL_SECONDS).contains(&self.max_tail) {
            return Err(Error::Invalid(format!(
                "release tail {} s is outside 0–{MAX_TAIL_SECONDS} s",
                self.max_tail
            )));
        }
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        assert!(RenderOptions::default().check().is_ok());
        let bad = |o: RenderOptions| o.check().unwrap_err().to_string();
        let d = RenderOptions::default();
        assert_eq!(
            bad(RenderOptions {
                sample_rate: 0,
                ..d
            }),
            "invalid value: sample rate 0 Hz is outside 16000–192000 Hz"
        );
        assert!(RenderOptions {
            sample_rate: 16_000,
            ..d
        }
        .check()
        .is_ok());
        assert!(RenderOptions {
            sample_rate: 192_000,
            ..d
        }
        .check()
        .is_ok());
        assert!(bad(RenderOptions {
            sample_rate: 192_001,
            ..d
        })
        .contains("192001 Hz"));
        assert!(bad(RenderOptions {
            peak_dbfs: 0.5,
            ..d
        })
        .contains("peak level 0.5 dBFS"));
        assert!(bad(RenderOptions {
            peak_dbfs: -61.0,
            ..d
        })
        .contains("peak level"));
        assert!(bad(RenderOptions {
            max_tail: 11.0,
            ..d
        })
        .contains("release tail 11 s"));
        assert!(bad(RenderOptions {
            max_tail: f64::NAN,
            ..d
        })
        .contains("release tail"));
    }
}
