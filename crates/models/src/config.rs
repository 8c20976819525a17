//! The configuration of the BinaryMuseGAN networks (Dong & Yang, ISMIR 2018, Appendix Table 3).
//!
//! Policies:
//!
//! - **Shapes and strides are explicit.** Every layer of the paper uses kernel = stride along the
//!   axis it grows or shrinks, so a piano-roll shape is buildable only if it factors the way the
//!   layers do. Rather than guess a factorisation, the config names it: [`time_factors`] are the
//!   three time growths of the generator (the discriminator shrinks by the same factors in
//!   reverse) and [`PitchLayers`] the two pitch layers between one cell and the octave count.
//!   [`BinaryMuseGanConfig::validate`] checks that they multiply out to the data shape and says
//!   which rule fails, so an unbuildable shape is an [`Error::Config`] before any layer is made,
//!   never a libtorch panic.
//! - **Whole octaves starting on a C.** The pitch axis is `pitches = 12 × octaves` cells from
//!   `lowest_pitch`, which must be a C (a multiple of 12): the discriminator's chroma stream then
//!   reads pitch class `index mod 12` (0 = C), the true pitch class, and its pitch-wise layers
//!   (kernel 12) see one octave each.
//! - **Bounded sizes.** Every count is capped (see [`MAX_BARS`] and friends), so a hostile config
//!   file cannot ask libtorch for terabytes.
//! - Channel widths are the paper's and not configurable: parameter counts of the `bmusegan`
//!   preset are those of the paper (3.7 M for G + D).
//!
//! [`time_factors`]: BinaryMuseGanConfig::time_factors

use serde::{Deserialize, Serialize};

use crate::Error;

/// Largest number of bars per sample a config may ask for.
pub const MAX_BARS: u32 = 64;
/// Largest number of time steps per bar.
pub const MAX_STEPS_PER_BAR: u32 = 1024;
/// Largest number of tracks.
pub const MAX_TRACKS: u32 = 64;
/// Largest latent size.
pub const MAX_LATENT: u32 = 4096;
/// Largest kernel / stride factor of one layer.
pub const MAX_FACTOR: u32 = 96;

/// Which discriminator to build (the paper's Table 1 and Appendix Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscriminatorVariant {
    /// Private per-track streams, a shared network, the onset/offset and chroma streams
    /// (Table 3(b)–(d)).
    Proposed,
    /// "ablated-I": the proposed discriminator without the onset/offset and chroma streams.
    #[serde(rename = "ablated-i")]
    AblatedI,
    /// "ablated-II": one shared network over all tracks, no private or feature streams
    /// (Table 3(e)).
    #[serde(rename = "ablated-ii")]
    AblatedII,
}

/// The binary neurons at the refiner's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinaryNeuronKind {
    /// Deterministic binary neuron: `1[σ(slope·x) > 0.5]`.
    Dbn,
    /// Stochastic binary neuron: `1[σ(slope·x) > u]`, `u ~ U[0, 1)`.
    Sbn,
}

/// The generator's two shared pitch layers, which grow one cell into `octaves` cells (the last
/// pitch-wise layers then grow each cell into the 12 pitches of an octave); the discriminator
/// shrinks the octaves back to one cell with the same layers in reverse.
///
/// The first layer has kernel = stride = `first` (1 → `first` cells), the second kernel
/// `second_kernel` and stride `second_stride` (`first` → `(first − 1)·second_stride +
/// second_kernel` cells). The paper's `{3, 3, 2}` gives 1 → 3 → 7 octaves (84 pitches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PitchLayers {
    /// Kernel and stride of the first pitch layer.
    pub first: u32,
    /// Kernel of the second pitch layer.
    pub second_kernel: u32,
    /// Stride of the second pitch layer (at most its kernel, so no cell is left unreached).
    pub second_stride: u32,
}

/// The shape and variants of a BinaryMuseGAN (generator, optional refiner, discriminator).
///
/// Tensors are `[batch, tracks, bars, steps_per_bar, pitches]`, the order of the dataset and
/// metrics code (`[sample][track][bar][step][pitch]`) and libtorch's `NCDHW` with the tracks as
/// channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryMuseGanConfig {
    /// Bars per sample, at least 2 (the bar-axis layers have kernel 2).
    pub bars: u32,
    /// Beats per bar: the chroma stream sums each beat.
    pub beats_per_bar: u32,
    /// Time steps per bar, `time_factors[0] · time_factors[1] · time_factors[2]`.
    pub steps_per_bar: u32,
    /// Pitch cells, a whole number of octaves.
    pub pitches: u32,
    /// MIDI pitch of pitch index 0, a C (a multiple of 12).
    pub lowest_pitch: u8,
    /// Number of tracks.
    pub tracks: u32,
    /// Indices of the drum tracks: the onset stream reads them raw (drums are onsets), the other
    /// tracks as within-bar differences `x[t] − x[t−1]`.
    pub drum_tracks: Vec<u32>,
    /// Size of the generator's latent vector.
    pub latent: u32,
    /// The generator's time growths: shared layer 1, shared layer 2, private layer (kernel =
    /// stride). The paper's `[4, 4, 6]` grows 1 → 4 → 16 → 96 steps.
    pub time_factors: [u32; 3],
    /// The generator's shared pitch layers.
    pub pitch_layers: PitchLayers,
    /// Which discriminator to build.
    pub discriminator: DiscriminatorVariant,
    /// Whether the model has a refiner after the generator (the paper's two-stage model).
    pub refiner: bool,
    /// The refiner's binary neurons.
    pub binary_neuron: BinaryNeuronKind,
}

/// The names [`BinaryMuseGanConfig::preset`] knows.
pub const PRESETS: [&str; 3] = ["bmusegan", "chorale", "tiny"];

impl BinaryMuseGanConfig {
    /// The paper's model: 4 bars × 96 steps (24 per beat) × 84 pitches (C1–B7, MIDI 24–107) ×
    /// 8 tracks (drums first), latent 128, proposed discriminator, refiner with DBNs.
    pub fn bmusegan() -> Self {
        Self {
            bars: 4,
            beats_per_bar: 4,
            steps_per_bar: 96,
            pitches: 84,
            lowest_pitch: 24,
            tracks: 8,
            drum_tracks: vec![0],
            latent: 128,
            time_factors: [4, 4, 6],
            pitch_layers: PitchLayers {
                first: 3,
                second_kernel: 3,
                second_stride: 2,
            },
            discriminator: DiscriminatorVariant::Proposed,
            refiner: true,
            binary_neuron: BinaryNeuronKind::Dbn,
        }
    }

    /// The CPU default for four-part chorales: 4 bars × 16 steps (4 per beat, sixteenth notes) ×
    /// 48 pitches (C2–B5, MIDI 36–83, which holds the SATB ranges) × 4 tracks, no drums.
    /// Time grows 1 → 4 → 8 → 16, pitch 1 → 2 → 4 octaves.
    pub fn chorale() -> Self {
        Self {
            bars: 4,
            beats_per_bar: 4,
            steps_per_bar: 16,
            pitches: 48,
            lowest_pitch: 36,
            tracks: 4,
            drum_tracks: Vec::new(),
            latent: 128,
            time_factors: [4, 2, 2],
            pitch_layers: PitchLayers {
                first: 2,
                second_kernel: 2,
                second_stride: 2,
            },
            discriminator: DiscriminatorVariant::Proposed,
            refiner: true,
            binary_neuron: BinaryNeuronKind::Dbn,
        }
    }

    /// A small model for tests: 2 bars × 8 steps (4 beats of 2, so 4/4 datasets at 2 steps per
    /// beat fit it) × 24 pitches (C4–B5) × 2 tracks (track 0 drums), latent 16. Time grows
    /// 1 → 2 → 4 → 8, pitch 1 → 2 → 2 octaves.
    pub fn tiny() -> Self {
        Self {
            bars: 2,
            beats_per_bar: 4,
            steps_per_bar: 8,
            pitches: 24,
            lowest_pitch: 60,
            tracks: 2,
            drum_tracks: vec![0],
            latent: 16,
            time_factors: [2, 2, 2],
            pitch_layers: PitchLayers {
                first: 2,
                second_kernel: 1,
                second_stride: 1,
            },
            discriminator: DiscriminatorVariant::Proposed,
            refiner: true,
            binary_neuron: BinaryNeuronKind::Dbn,
        }
    }

    /// The preset called `name` (one of [`PRESETS`]).
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown name.
    pub fn preset(name: &str) -> Result<Self, Error> {
        match name {
            "bmusegan" => Ok(Self::bmusegan()),
            "chorale" => Ok(Self::chorale()),
            "tiny" => Ok(Self::tiny()),
            other => Err(Error::Config(format!(
                "unknown preset '{other}' (expected one of {})",
                PRESETS.join(", ")
            ))),
        }
    }

    /// Checks that every network of this config can be built: sizes in range, the time factors
    /// multiply to `steps_per_bar`, beats divide the bar, whole octaves from a C, the pitch
    /// layers reach the octave count, drum tracks exist.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first rule that fails.
    ///
    /// # Example
    /// ```
    /// use museroll_models::BinaryMuseGanConfig;
    ///
    /// let mut cfg = BinaryMuseGanConfig::bmusegan();
    /// assert!(cfg.validate().is_ok());
    /// cfg.steps_per_bar = 48;
    /// assert_eq!(
    ///     cfg.validate().unwrap_err().to_string(),
    ///     "invalid model configuration: steps_per_bar 48 is not the product of \
    ///      time_factors [4, 4, 6] (96)"
    /// );
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::Config(msg));
        if !(2..=MAX_BARS).contains(&self.bars) {
            return bad(format!("bars {} is not in 2..={MAX_BARS}", self.bars));
        }
        if !(1..=MAX_TRACKS).contains(&self.tracks) {
            return bad(format!("tracks {} is not in 1..={MAX_TRACKS}", self.tracks));
        }
        if !(1..=MAX_LATENT).contains(&self.latent) {
            return bad(format!("latent {} is not in 1..={MAX_LATENT}", self.latent));
        }
        if !(1..=MAX_STEPS_PER_BAR).contains(&self.steps_per_bar) {
            return bad(format!(
                "steps_per_bar {} is not in 1..={MAX_STEPS_PER_BAR}",
                self.steps_per_bar
            ));
        }
        let pitch = [
            self.pitch_layers.first,
            self.pitch_layers.second_kernel,
            self.pitch_layers.second_stride,
        ];
        for &f in self.time_factors.iter().chain(&pitch) {
            if !(1..=MAX_FACTOR).contains(&f) {
                return bad(format!(
                    "layer factor {f} is not in 1..={MAX_FACTOR} (time_factors {:?}, \
                     pitch_layers {:?})",
                    self.time_factors, self.pitch_layers
                ));
            }
        }
        // Each factor is at most 96, so the product fits easily in u64.
        let product: u64 = self.time_factors.iter().map(|&f| u64::from(f)).product();
        if product != u64::from(self.steps_per_bar) {
            return bad(format!(
                "steps_per_bar {} is not the product of time_factors {:?} ({product})",
                self.steps_per_bar, self.time_factors
            ));
        }
        if self.beats_per_bar == 0 || !self.steps_per_bar.is_multiple_of(self.beats_per_bar) {
            return bad(format!(
                "beats_per_bar {} does not divide steps_per_bar {}",
                self.beats_per_bar, self.steps_per_bar
            ));
        }
        if self.pitches == 0 || !self.pitches.is_multiple_of(12) {
            return bad(format!(
                "pitches {} is not a whole number of octaves (a positive multiple of 12)",
                self.pitches
            ));
        }
        if !self.lowest_pitch.is_multiple_of(12) {
            return bad(format!(
                "lowest_pitch {} is not a C (a multiple of 12)",
                self.lowest_pitch
            ));
        }
        if u32::from(self.lowest_pitch).saturating_add(self.pitches) > 128 {
            return bad(format!(
                "pitches {} from lowest_pitch {} pass MIDI pitch 127",
                self.pitches, self.lowest_pitch
            ));
        }
        let PitchLayers {
            first,
            second_kernel,
            second_stride,
        } = self.pitch_layers;
        if second_stride > second_kernel {
            return bad(format!(
                "pitch_layers second_stride {second_stride} exceeds second_kernel \
                 {second_kernel} (the layer would skip cells)"
            ));
        }
        // first ≤ 96 and second_stride ≤ 96: no overflow.
        let octaves = (first - 1) * second_stride + second_kernel;
        if octaves * 12 != self.pitches {
            return bad(format!(
                "pitch_layers {:?} build {octaves} octaves ({} pitches), not {}",
                self.pitch_layers,
                octaves * 12,
                self.pitches
            ));
        }
        let mut seen = vec![false; self.tracks as usize];
        for &d in &self.drum_tracks {
            match seen.get_mut(d as usize) {
                None => {
                    return bad(format!(
                        "drum track {d} does not exist ({} tracks)",
                        self.tracks
                    ))
                }
                Some(true) => return bad(format!("drum track {d} is listed twice")),
                Some(s) => *s = true,
            }
        }
        Ok(())
    }

    /// The shape of one sample, `[tracks, bars, steps_per_bar, pitches]`.
    pub fn sample_shape(&self) -> [i64; 4] {
        [
            i64::from(self.tracks),
            i64::from(self.bars),
            i64::from(self.steps_per_bar),
            i64::from(self.pitches),
        ]
    }

    /// The number of octaves on the pitch axis.
    pub fn octaves(&self) -> u32 {
        self.pitches / 12
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_unknown_names_are_refused() {
        for name in PRESETS {
            BinaryMuseGanConfig::preset(name)
                .unwrap()
                .validate()
                .unwrap();
        }
        assert_eq!(
            BinaryMuseGanConfig::preset("musegan")
                .unwrap_err()
                .to_string(),
            "invalid model configuration: unknown preset 'musegan' (expected one of \
             bmusegan, chorale, tiny)"
        );
    }

    #[test]
    fn each_rule_names_what_is_wrong() {
        let check = |edit: &dyn Fn(&mut BinaryMuseGanConfig), want: &str| {
            let mut cfg = BinaryMuseGanConfig::tiny();
            edit(&mut cfg);
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} lacks {want:?}");
        };
        check(&|c| c.bars = 1, "bars 1 is not in 2..=64");
        check(&|c| c.tracks = 0, "tracks 0");
        check(&|c| c.latent = 100_000, "latent 100000");
        check(&|c| c.steps_per_bar = 12, "not the product of time_factors");
        check(&|c| c.time_factors = [0, 2, 2], "layer factor 0");
        check(&|c| c.beats_per_bar = 3, "beats_per_bar 3 does not divide");
        check(&|c| c.pitches = 30, "not a whole number of octaves");
        check(&|c| c.lowest_pitch = 61, "lowest_pitch 61 is not a C");
        check(&|c| c.lowest_pitch = 108, "pass MIDI pitch 127");
        check(&|c| c.pitches = 36, "build 2 octaves (24 pitches), not 36");
        check(
            &|c| {
                c.pitch_layers = PitchLayers {
                    first: 2,
                    second_kernel: 1,
                    second_stride: 2,
                }
            },
            "exceeds second_kernel",
        );
        check(&|c| c.drum_tracks = vec![2], "drum track 2 does not exist");
        check(&|c| c.drum_tracks = vec![1, 1], "listed twice");
    }

    #[test]
    fn config_round_trips_through_json_with_kebab_case_variants() {
        let mut cfg = BinaryMuseGanConfig::bmusegan();
        cfg.discriminator = DiscriminatorVariant::AblatedII;
        cfg.binary_neuron = BinaryNeuronKind::Sbn;
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(json.contains("\"discriminator\":\"ablated-ii\""), "{json}");
        assert!(json.contains("\"binary_neuron\":\"sbn\""), "{json}");
        let back: BinaryMuseGanConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
        let typo = json.replace("\"latent\"", "\"latents\"");
        assert!(serde_json::from_str::<BinaryMuseGanConfig>(&typo).is_err());
    }
}
