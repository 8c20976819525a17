//! The reverb applied once over each mixed piece.

/// The reverb send of every note: the General MIDI default of channels (40 of 127).
const REVERB_SEND: f32 = 40.0 / 127.0;

/// A Schroeder–Moorer reverb as Jezar's Freeverb lays it out, at its default settings (room size
/// 0.5, damping 0.5, full width), which are rustysynth's: per channel eight low-passed feedback
/// comb filters in parallel, then four all-pass filters in series. It is linear and time
/// invariant, so reverberating the mix equals mixing each note's reverberation.
pub(super) struct Reverb {
    /// Per channel (left, right): the combs (delay line, position, low-pass state).
    combs: [Vec<(Vec<f32>, usize, f32)>; 2],
    /// Per channel: the all-passes (delay line, position).
    allpasses: [Vec<(Vec<f32>, usize)>; 2],
}

impl Reverb {
    /// Comb and all-pass delays at 44.1 kHz, in frames; the right channel's are 23 longer.
    const COMBS: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
    const ALLPASSES: [usize; 4] = [556, 441, 341, 225];
    const SPREAD: usize = 23;
    /// Input gain, comb feedback (room size 0.5) and low-pass damping (0.5) of the defaults.
    const INPUT_GAIN: f32 = 0.015;
    const FEEDBACK: f32 = 0.84;
    const DAMP: f32 = 0.2;

    pub(super) fn new(sample_rate: u32) -> Reverb {
        let scale = |frames: usize| {
            ((frames as f64 * f64::from(sample_rate) / 44_100.0).round() as usize).max(1)
        };
        let channel = |spread: usize| {
            (
                Self::COMBS
                    .iter()
                    .map(|&d| (vec![0.0; scale(d + spread)], 0, 0.0))
                    .collect(),
                Self::ALLPASSES
                    .iter()
                    .map(|&d| (vec![0.0; scale(d + spread)], 0))
                    .collect(),
            )
        };
        let (left, right) = (channel(0), channel(Self::SPREAD));
        Reverb {
            combs: [left.0, right.0],
            allpasses: [left.1, right.1],
        }
    }

    /// Adds the reverberation of the mix (`left` + `right`, sent at [`REVERB_SEND`]) to it.
    pub(super) fn apply(mut self, left: &mut [f32], right: &mut [f32]) {
        let gain = Self::INPUT_GAIN * REVERB_SEND;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let input = (*l + *r) * gain;
            for (side, out) in [l, r].into_iter().enumerate() {
                let mut wet = 0.0;
                for (line, at, low) in &mut self.combs[side] {
                    let delayed = line[*at];
                    *low = delayed * (1.0 - Self::DAMP) + *low * Self::DAMP;
                    line[*at] = input + *low * Self::FEEDBACK;
                    *at = if *at + 1 == line.len() { 0 } else { *at + 1 };
                    wet += delayed;
                }
                for (line, at) in &mut self.allpasses[side] {
                    let delayed = line[*at];
                    line[*at] = wet + delayed * 0.5;
                    *at = if *at + 1 == line.len() { 0 } else { *at + 1 };
                    wet = delayed - wet;
                }
                *out += wet;
            }
        }
    }
}
