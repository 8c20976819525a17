//! Rendered audio: two channels of samples at a sample rate.

/// Stereo audio: two channels of equal length, samples in −1..=1.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    pub(super) sample_rate: u32,
    pub(super) left: Vec<f32>,
    pub(super) right: Vec<f32>,
}

impl Audio {
    /// Frames per second.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The left channel.
    pub fn left(&self) -> &[f32] {
        &self.left
    }

    /// The right channel.
    pub fn right(&self) -> &[f32] {
        &self.right
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.left.len()
    }

    /// Duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }

    /// The largest absolute sample of either channel (0 for silence).
    pub fn peak(&self) -> f32 {
        peak(&self.left).max(peak(&self.right))
    }
}

pub(super) fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0, |m, x| m.max(x.abs()))
}
