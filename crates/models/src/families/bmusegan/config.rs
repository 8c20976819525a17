//! The configuration of the BinaryMuseGAN networks (Dong & Yang, ISMIR 2018, Appendix Table 3),
//! whose generator may be MuseGAN's temporal one instead ([`GeneratorKind`]; Dong et al.,
//! AAAI 2018, in the 3-D form of its v2 code).
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
//! - Channel widths of the phrase generator, the refiner and the discriminator are the paper's
//!   and not configurable: parameter counts of the `bmusegan` preset are those of the paper
//!   (3.7 M for G + D). The temporal generator ([`GeneratorKind::Temporal`]) names its two
//!   widths, so that a small one exists for tests; its presets use MuseGAN's.
//! - **One latent size.** [`latent`] is always the size of the flat vector the generator
//!   takes. A temporal generator's is the sum of its four latents, which the config also
//!   names; [`BinaryMuseGanConfig::validate`] checks that the two agree, so a config file
//!   states its z size whatever the generator and code that reads `latent` stays right.
//!
//! [`time_factors`]: BinaryMuseGanConfig::time_factors
//! [`latent`]: BinaryMuseGanConfig::latent

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
/// Largest `bar_channels` of a temporal generator.
pub const MAX_BAR_CHANNELS: u32 = 2048;
/// Largest `temporal_channels` of a temporal generator.
pub const MAX_TEMPORAL_CHANNELS: u32 = 1024;

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

choice!(DiscriminatorVariant, "discriminator", {
    Proposed => "proposed",
    AblatedI => "ablated-i",
    AblatedII => "ablated-ii",
});

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

/// How a temporal generator shares its latents between the tracks (MuseGAN, Dong et al.,
/// AAAI 2018, §3; the v2 code's `composer`, `jamming` and `hybrid` presets).
///
/// MuseGAN names four latents: inter-track time-independent (`shared`), inter-track
/// time-dependent (`temporal_shared`), intra-track time-independent (`private`, one per track)
/// and intra-track time-dependent (`temporal_private`, one per track).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatentStructure {
    /// One bar generator for all tracks (one output channel per track), driven by the
    /// inter-track latents only: `shared` and `temporal_shared`.
    Composer,
    /// One bar generator per track, each driven by its own intra-track latents only:
    /// `private` and `temporal_private`.
    Jamming,
    /// One bar generator per track, each driven by all four latents (the shared ones are the
    /// same for every track).
    Hybrid,
}

/// Which generator a config builds.
///
/// In TOML (the run directory's `config.toml`) a temporal generator reads
///
/// ```toml
/// [generator]
/// kind = "temporal"
/// structure = "hybrid"
/// shared = 32
/// private = 32
/// temporal_shared = 32
/// temporal_private = 32
/// bar_channels = 512
/// temporal_channels = 256
/// ```
///
/// and the phrase generator `kind = "phrase"` (nothing else: unknown keys are refused in
/// either kind), the default when the table is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GeneratorKind {
    /// BinaryMuseGAN's phrase generator (Table 3(a)): one latent of size `latent`, a shared
    /// 3-D network over the whole phrase, private per-track networks. (A variant with no
    /// fields rather than a unit variant: serde then refuses unknown keys beside `kind`.)
    Phrase {},
    /// MuseGAN's temporal model in the 3-D form of its v2 code: temporal generators turn the
    /// time-dependent latents of a phrase into one latent per bar, and bar generators turn
    /// each bar's latent and the time-independent ones into that bar, independently of the
    /// other bars; so a piece can be continued phrase by phrase, each with new time-dependent
    /// latents ([`crate::Generator::forward_long_t`]).
    Temporal {
        /// Which latents drive which bar generators.
        structure: LatentStructure,
        /// Size of the inter-track time-independent latent (0 for jamming).
        shared: u32,
        /// Size of each track's intra-track time-independent latent (0 for composer).
        private: u32,
        /// Size of the inter-track time-dependent latent, and of the per-bar latent the
        /// shared temporal generator makes from it (0 for jamming).
        temporal_shared: u32,
        /// Size of each track's intra-track time-dependent latent and of its per-bar latents
        /// (0 for composer).
        temporal_private: u32,
        /// Channels of a bar generator's first layer, a multiple of 32: the next layers have
        /// 1/2, 1/4, 1/8, the pitch-time and time-pitch streams 1/16 then 1/32 (MuseGAN: 512
        /// per track for jamming and hybrid, 1024 for the composer's one generator).
        bar_channels: u32,
        /// Width of a temporal generator's dense layer per bar (MuseGAN: 256).
        temporal_channels: u32,
    },
}

impl Default for GeneratorKind {
    /// The phrase generator, so that configs written before generators had kinds keep theirs.
    fn default() -> Self {
        Self::Phrase {}
    }
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
    /// Size of the generator's flat latent vector ([`crate::Generator::latent_size`]). For a
    /// temporal generator it must be the sum of its latents, `shared + temporal_shared +
    /// tracks × (private + temporal_private)`.
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
    /// Divides the channel count of every hidden layer of the phrase generator, the refiner and
    /// the discriminator (at least one channel each): 1 keeps the paper's widths; the CPU
    /// presets use 4, which makes a training step about 10× cheaper on their small phrases.
    #[serde(default = "one")]
    pub width_divisor: u32,
    /// Which generator to build; BinaryMuseGAN's phrase generator when left out.
    #[serde(default)]
    pub generator: GeneratorKind,
}

/// The default of [`BinaryMuseGanConfig::width_divisor`].
fn one() -> u32 {
    1
}

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
            width_divisor: 1,
            generator: GeneratorKind::Phrase {},
        }
    }

    /// The CPU default for four-part chorales: 4 bars × 16 steps (4 per beat, sixteenth notes) ×
    /// 48 pitches (C2–B5, MIDI 36–83, which holds the SATB ranges) × 4 tracks, no drums.
    /// Time grows 1 → 4 → 8 → 16, pitch 1 → 2 → 4 octaves. Hidden layers have a quarter of the
    /// paper's channels (`width_divisor` 4), so a training step takes about a second on a CPU.
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
            width_divisor: 4,
            generator: GeneratorKind::Phrase {},
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
            width_divisor: 1,
            generator: GeneratorKind::Phrase {},
        }
    }

    /// MuseGAN (the v3 data shape with the v2 temporal hybrid generator): 4 bars × 48 steps
    /// (12 per beat) × 84 pitches (C1–B7, MIDI 24–107) × 5 tracks in LPD-5 order (Drums, Piano,
    /// Guitar, Bass, Strings; drums = track 0). Latents 32 shared + 32 temporal shared + 32
    /// private + 32 temporal private per track (flat size 32 + 32 + 5 × 64 = 384), bar
    /// generators 512 wide, temporal generators 256. Time grows 1 → 4 → 16 → 48, pitch
    /// 1 → 3 → 7 octaves; proposed discriminator; no refiner (MuseGAN has none; setting
    /// `refiner` adds one with DBNs).
    pub fn musegan() -> Self {
        Self {
            bars: 4,
            beats_per_bar: 4,
            steps_per_bar: 48,
            pitches: 84,
            lowest_pitch: 24,
            tracks: 5,
            drum_tracks: vec![0],
            latent: 384,
            time_factors: [4, 4, 3],
            pitch_layers: PitchLayers {
                first: 3,
                second_kernel: 3,
                second_stride: 2,
            },
            discriminator: DiscriminatorVariant::Proposed,
            refiner: false,
            binary_neuron: BinaryNeuronKind::Dbn,
            width_divisor: 1,
            generator: GeneratorKind::Temporal {
                structure: LatentStructure::Hybrid,
                shared: 32,
                private: 32,
                temporal_shared: 32,
                temporal_private: 32,
                bar_channels: 512,
                temporal_channels: 256,
            },
        }
    }

    /// The [`chorale`](Self::chorale) shape (4 × 16 × 48 × 4, lowest pitch 36, no drums) with
    /// MuseGAN's temporal hybrid generator (latents 32 each, flat size 32 + 32 + 4 × 64 = 320)
    /// and a refiner with DBNs: the CPU model for pieces longer than a phrase
    /// ([`crate::Generator::forward_long_t`]).
    pub fn chorale_hybrid() -> Self {
        Self {
            latent: 320,
            generator: GeneratorKind::Temporal {
                structure: LatentStructure::Hybrid,
                shared: 32,
                private: 32,
                temporal_shared: 32,
                temporal_private: 32,
                bar_channels: 128,
                temporal_channels: 64,
            },
            ..Self::chorale()
        }
    }

    /// The [`tiny`](Self::tiny) shape with a small temporal hybrid generator, for tests:
    /// latents 8 each (flat size 8 + 8 + 2 × 16 = 48), bar generators 64 wide, temporal
    /// generators 16.
    pub fn tiny_hybrid() -> Self {
        Self {
            latent: 48,
            generator: GeneratorKind::Temporal {
                structure: LatentStructure::Hybrid,
                shared: 8,
                private: 8,
                temporal_shared: 8,
                temporal_private: 8,
                bar_channels: 64,
                temporal_channels: 16,
            },
            ..Self::tiny()
        }
    }

    /// Checks that every network of this config can be built: sizes in range, the time factors
    /// multiply to `steps_per_bar`, beats divide the bar, whole octaves from a C, the pitch
    /// layers reach the octave count, drum tracks exist; for a temporal generator, that its
    /// structure's latents are positive and the others 0, its widths are in range and their
    /// sum is `latent`.
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
        if !(1..=64).contains(&self.width_divisor) {
            return bad(format!(
                "width_divisor {} is not in 1..=64",
                self.width_divisor
            ));
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
        self.validate_generator()
    }

    /// The generator rules of [`validate`](Self::validate).
    fn validate_generator(&self) -> Result<(), Error> {
        let GeneratorKind::Temporal {
            structure,
            shared,
            private,
            temporal_shared,
            temporal_private,
            bar_channels,
            temporal_channels,
        } = self.generator
        else {
            return Ok(());
        };
        let bad = |msg: String| Err(Error::Config(format!("generator: {msg}")));
        let latents = [
            ("shared", shared),
            ("temporal_shared", temporal_shared),
            ("private", private),
            ("temporal_private", temporal_private),
        ];
        // Inter-track latents first, then intra-track ones.
        let (name, drives) = match structure {
            LatentStructure::Composer => ("composer", [true, true, false, false]),
            LatentStructure::Jamming => ("jamming", [false, false, true, true]),
            LatentStructure::Hybrid => ("hybrid", [true; 4]),
        };
        let why = match structure {
            LatentStructure::Composer => {
                "has one bar generator for all tracks and no per-track latents"
            }
            LatentStructure::Jamming => "has no inter-track latents",
            LatentStructure::Hybrid => "is driven by all four latents",
        };
        for ((latent, size), used) in latents.into_iter().zip(drives) {
            if used && size == 0 {
                return bad(format!(
                    "the {name} structure is driven by {latent}, so it must be positive (got 0)"
                ));
            }
            if !used && size != 0 {
                return bad(format!(
                    "the {name} structure {why}, so {latent} must be 0 (got {size})"
                ));
            }
        }
        if !(32..=MAX_BAR_CHANNELS).contains(&bar_channels) || !bar_channels.is_multiple_of(32) {
            return bad(format!(
                "bar_channels {bar_channels} is not a multiple of 32 in 32..={MAX_BAR_CHANNELS} \
                 (the last layers of a bar generator have 1/32 of it)"
            ));
        }
        if !(1..=MAX_TEMPORAL_CHANNELS).contains(&temporal_channels) {
            return bad(format!(
                "temporal_channels {temporal_channels} is not in 1..={MAX_TEMPORAL_CHANNELS}"
            ));
        }
        // u32 sizes and tracks ≤ 64: no overflow in u64. Each latent is at most this sum, which
        // must be `latent` ≤ MAX_LATENT, so the sizes are bounded too.
        let total = u64::from(shared)
            + u64::from(temporal_shared)
            + u64::from(self.tracks) * (u64::from(private) + u64::from(temporal_private));
        if total != u64::from(self.latent) {
            return bad(format!(
                "latent {} is not the sum of the temporal generator's latents, {total} (shared \
                 {shared} + temporal_shared {temporal_shared} + {} tracks × (private {private} \
                 + temporal_private {temporal_private}))",
                self.latent, self.tracks
            ));
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

    /// The phrase presets keep BinaryMuseGAN's generator; the MuseGAN ones are temporal
    /// hybrids of the documented shapes.
    #[test]
    fn presets_choose_their_generators() {
        for cfg in [
            BinaryMuseGanConfig::bmusegan(),
            BinaryMuseGanConfig::chorale(),
            BinaryMuseGanConfig::tiny(),
        ] {
            cfg.validate().unwrap();
            assert_eq!(cfg.generator, GeneratorKind::Phrase {});
        }
        let m = BinaryMuseGanConfig::musegan();
        assert_eq!(m.sample_shape(), [5, 4, 48, 84]);
        assert_eq!((m.lowest_pitch, m.drum_tracks.as_slice()), (24, &[0][..]));
        assert!(!m.refiner);
        let c = BinaryMuseGanConfig::chorale_hybrid();
        let chorale = BinaryMuseGanConfig::chorale();
        assert_eq!(c.sample_shape(), chorale.sample_shape());
        assert_eq!((c.lowest_pitch, c.refiner), (36, true));
        assert!(c.drum_tracks.is_empty());
        assert_eq!(
            BinaryMuseGanConfig::tiny_hybrid().sample_shape(),
            BinaryMuseGanConfig::tiny().sample_shape()
        );
        for cfg in [m, c, BinaryMuseGanConfig::tiny_hybrid()] {
            assert!(matches!(
                cfg.generator,
                GeneratorKind::Temporal {
                    structure: LatentStructure::Hybrid,
                    ..
                }
            ));
        }
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

    /// A temporal generator of `structure` with latents `[shared, private, temporal_shared,
    /// temporal_private]` on the tiny shape (2 tracks), `latent` set to their sum.
    fn temporal(structure: LatentStructure, sizes: [u32; 4]) -> BinaryMuseGanConfig {
        let [shared, private, temporal_shared, temporal_private] = sizes;
        BinaryMuseGanConfig {
            latent: shared + temporal_shared + 2 * (private + temporal_private),
            generator: GeneratorKind::Temporal {
                structure,
                shared,
                private,
                temporal_shared,
                temporal_private,
                bar_channels: 64,
                temporal_channels: 16,
            },
            ..BinaryMuseGanConfig::tiny()
        }
    }

    #[test]
    fn temporal_generator_rules_name_what_is_wrong() {
        use LatentStructure::{Composer, Hybrid, Jamming};
        let msg = |cfg: BinaryMuseGanConfig| cfg.validate().unwrap_err().to_string();
        for (structure, sizes) in [
            (Composer, [8, 0, 8, 0]),
            (Jamming, [0, 8, 0, 8]),
            (Hybrid, [8, 8, 8, 8]),
        ] {
            temporal(structure, sizes).validate().unwrap();
        }
        assert_eq!(
            msg(temporal(Composer, [0, 0, 8, 0])),
            "invalid model configuration: generator: the composer structure is driven by \
             shared, so it must be positive (got 0)"
        );
        assert_eq!(
            msg(temporal(Composer, [8, 0, 8, 4])),
            "invalid model configuration: generator: the composer structure has one bar \
             generator for all tracks and no per-track latents, so temporal_private must be 0 \
             (got 4)"
        );
        assert_eq!(
            msg(temporal(Jamming, [8, 8, 0, 8])),
            "invalid model configuration: generator: the jamming structure has no \
             inter-track latents, so shared must be 0 (got 8)"
        );
        assert_eq!(
            msg(temporal(Hybrid, [8, 8, 8, 0])),
            "invalid model configuration: generator: the hybrid structure is driven by \
             temporal_private, so it must be positive (got 0)"
        );
        assert!(msg(temporal(Hybrid, [8, 5000, 8, 8])).contains("latent 10032 is not in 1..=4096"));
        let mut cfg = temporal(Hybrid, [8, 8, 8, 8]);
        cfg.latent = 40;
        assert_eq!(
            msg(cfg),
            "invalid model configuration: generator: latent 40 is not the sum of the temporal \
             generator's latents, 48 (shared 8 + temporal_shared 8 + 2 tracks × (private 8 + \
             temporal_private 8))"
        );
        let widths = |bar_channels, temporal_channels| {
            let mut cfg = temporal(Hybrid, [8, 8, 8, 8]);
            if let GeneratorKind::Temporal {
                bar_channels: b,
                temporal_channels: t,
                ..
            } = &mut cfg.generator
            {
                (*b, *t) = (bar_channels, temporal_channels);
            }
            cfg
        };
        for bad in [0, 48, 4096] {
            assert!(
                msg(widths(bad, 16)).contains(&format!(
                    "bar_channels {bad} is not a multiple of 32 in 32..=2048"
                )),
                "{bad}"
            );
        }
        assert!(msg(widths(64, 0)).contains("temporal_channels 0 is not in 1..=1024"));
        widths(32, 1).validate().unwrap();
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
        // A config written before generators had kinds reads as the phrase generator.
        let old = json.replace(",\"generator\":{\"kind\":\"phrase\"}", "");
        assert_ne!(old, json);
        let back: BinaryMuseGanConfig = serde_json::from_str(&old).unwrap();
        assert_eq!(back, cfg);
    }

    /// The run directory writes the config as TOML: every preset round-trips, and the
    /// temporal generator reads as the table documented on [`GeneratorKind`].
    #[test]
    fn config_round_trips_through_toml() {
        for cfg in [
            BinaryMuseGanConfig::bmusegan(),
            BinaryMuseGanConfig::chorale(),
            BinaryMuseGanConfig::tiny(),
            BinaryMuseGanConfig::musegan(),
            BinaryMuseGanConfig::chorale_hybrid(),
            BinaryMuseGanConfig::tiny_hybrid(),
        ] {
            let text = toml::to_string(&cfg).unwrap();
            let back: BinaryMuseGanConfig = toml::from_str(&text).unwrap();
            assert_eq!(back, cfg, "{text}");
        }
        let text = toml::to_string(&BinaryMuseGanConfig::musegan()).unwrap();
        let table = "[generator]\nkind = \"temporal\"\nstructure = \"hybrid\"\nshared = 32\n\
                     private = 32\ntemporal_shared = 32\ntemporal_private = 32\n\
                     bar_channels = 512\ntemporal_channels = 256\n";
        assert!(text.ends_with(table), "{text}");
        let text = toml::to_string(&BinaryMuseGanConfig::tiny()).unwrap();
        assert!(text.ends_with("[generator]\nkind = \"phrase\"\n"), "{text}");

        // Unknown keys are refused inside the generator table too, for either kind.
        let musegan = toml::to_string(&BinaryMuseGanConfig::musegan()).unwrap();
        for (from, to) in [
            ("bar_channels", "bar_channel"),
            (
                "structure = \"hybrid\"",
                "structure = \"hybrid\"\nlayers = 3",
            ),
            ("kind = \"temporal\"", "kind = \"temporl\""),
            ("structure = \"hybrid\"", "structure = \"Hybrid\""),
        ] {
            let bad = musegan.replace(from, to);
            assert_ne!(bad, musegan);
            assert!(
                toml::from_str::<BinaryMuseGanConfig>(&bad).is_err(),
                "{bad}"
            );
        }
        let tiny = toml::to_string(&BinaryMuseGanConfig::tiny()).unwrap();
        let bad = tiny.replace("kind = \"phrase\"", "kind = \"phrase\"\nshared = 8");
        assert!(
            toml::from_str::<BinaryMuseGanConfig>(&bad).is_err(),
            "{bad}"
        );
    }
}
