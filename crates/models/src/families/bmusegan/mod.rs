//! The BinaryMuseGAN / MuseGAN family (Dong & Yang, ISMIR 2018; Dong et al., AAAI 2018).
//!
//! One family for both papers because they share their networks: the discriminator (proposed,
//! ablated-I, ablated-II), the refiner with binary neurons, and the phrase generator; MuseGAN's
//! temporal generator (composer, jamming, hybrid) is a [`GeneratorKind`] of the same model, and
//! trains with the same critic and schedule.
//!
//! - [`config`]: the networks' shapes ([`BinaryMuseGanConfig`]) and its presets;
//! - [`nets`] and `temporal`: the networks;
//! - [`settings`]: the run's `[model]` section (networks + adversarial training);
//! - [`train`]: the adversarial updates and the family's [`crate::engine::TrainStep`];
//! - [`sample`]: the family's [`crate::sample::Sampler`] (binarizations, pieces, latent walks);
//! - `legacy`: migration of runs written before the family layout.

mod blocks;
pub mod config;
mod legacy;
pub mod nets;
pub mod sample;
pub mod settings;
mod temporal;
pub mod train;

use std::collections::HashMap;

use museroll_core::dataset::Dataset;
use tch::{nn, Device, Tensor};

pub use config::{
    BinaryMuseGanConfig, BinaryNeuronKind, DiscriminatorVariant, GeneratorKind, LatentStructure,
    PitchLayers,
};
pub use legacy::migrate;
pub use nets::{binary_neuron, chroma_feature, onset_feature, Discriminator, Generator, Refiner};
pub use sample::GanSampler;
pub use settings::{stage_at, Loss, OutputBias, Settings, Stage, Strategy, Warmup};
pub use train::{Gan, GanStep, Losses};

use super::{Family, Preset};
use crate::engine::{Music, RunConfig, TrainStep};
use crate::nn::ModelSummary;
use crate::sample::Sampler;
use crate::Error;

/// The family's name in a run's config.
pub const FAMILY: &str = "bmusegan";

/// The family (see the module documentation).
pub struct BinaryMuseGan;

/// The section of a preset's networks with the default training settings.
fn section(networks: BinaryMuseGanConfig) -> Result<toml::Table, Error> {
    let mut table = Settings::new(networks).to_table()?;
    table.remove("family");
    Ok(table)
}

static PRESETS: [Preset; 6] = [
    Preset {
        name: "bmusegan",
        about: "the BinaryMuseGAN paper: 8 tracks × 4 bars × 96 steps × 84 pitches",
        section: || section(BinaryMuseGanConfig::bmusegan()),
    },
    Preset {
        name: "chorale",
        about: "CPU-sized phrase model for the SATB chorales: 4 × 4 × 16 × 48",
        section: || section(BinaryMuseGanConfig::chorale()),
    },
    Preset {
        name: "tiny",
        about: "tests: 2 tracks × 2 bars × 16 steps × 24 pitches",
        section: || section(BinaryMuseGanConfig::tiny()),
    },
    Preset {
        name: "musegan",
        about: "MuseGAN's temporal hybrid generator: 5 tracks × 4 bars × 48 steps × 84 pitches",
        section: || section(BinaryMuseGanConfig::musegan()),
    },
    Preset {
        name: "chorale-hybrid",
        about: "CPU-sized temporal hybrid for the chorales (pieces longer than a phrase)",
        section: || section(BinaryMuseGanConfig::chorale_hybrid()),
    },
    Preset {
        name: "tiny-hybrid",
        about: "tests: the tiny shape with a temporal hybrid generator",
        section: || section(BinaryMuseGanConfig::tiny_hybrid()),
    },
];

/// Checks that the networks make the run's music: its phrase shape, lowest pitch, beats and
/// drum tracks; the problem in words otherwise (the caller names the dataset or the run).
pub(crate) fn check_music(networks: &BinaryMuseGanConfig, music: &Music) -> Result<(), String> {
    let p = &music.phrase;
    let wanted = [
        networks.tracks as usize,
        networks.bars as usize,
        networks.steps_per_bar as usize,
        networks.pitches as usize,
    ];
    let have = [p.tracks, p.bars, p.steps_per_bar, p.pitches];
    if have != wanted {
        return Err(format!(
            "its phrases are tracks × bars × steps × pitches {have:?}, the networks make \
             {wanted:?}"
        ));
    }
    if p.lowest_pitch.number() != networks.lowest_pitch {
        return Err(format!(
            "its lowest pitch is MIDI {}, the networks' {}",
            p.lowest_pitch.number(),
            networks.lowest_pitch
        ));
    }
    let steps_per_beat = (networks.steps_per_bar / networks.beats_per_bar.max(1)) as usize;
    if p.resolution.steps() != steps_per_beat {
        return Err(format!(
            "it has {} steps per beat, the networks {steps_per_beat}",
            p.resolution.steps()
        ));
    }
    let drums: Vec<u32> = (0u32..)
        .zip(&music.tracks)
        .filter(|(_, t)| t.is_drum)
        .map(|(i, _)| i)
        .collect();
    let mut model_drums = networks.drum_tracks.clone();
    model_drums.sort_unstable();
    if drums != model_drums {
        return Err(format!(
            "its drum tracks are {drums:?}, the networks' {model_drums:?}"
        ));
    }
    Ok(())
}

/// Builds every network of `cfg` on the CPU (weights are initialised, nothing runs) and
/// summarises them: generator, refiner (if the config has one) and discriminator.
///
/// # Errors
/// [`Error::Config`] if `cfg` does not validate; [`Error::Torch`] if libtorch fails to allocate.
///
/// # Example
/// ```
/// use museroll_models::families::bmusegan::{summary, BinaryMuseGanConfig};
///
/// let s = summary(&BinaryMuseGanConfig::tiny())?;
/// let names: Vec<_> = s.networks.iter().map(|n| n.network.as_str()).collect();
/// assert_eq!(names, ["generator", "refiner", "discriminator"]);
/// assert_eq!(s.params, s.networks.iter().map(|n| n.params).sum::<i64>());
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn summary(cfg: &BinaryMuseGanConfig) -> Result<ModelSummary, Error> {
    cfg.validate()?;
    let _no_grad = tch::no_grad_guard();
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let mut networks = vec![Generator::new(&(&root / "generator"), cfg)?.summary()];
    if cfg.refiner {
        networks.push(Refiner::new(&(&root / "refiner"), cfg)?.summary());
    }
    networks.push(Discriminator::new(&(&root / "discriminator"), cfg)?.summary());
    let config = serde_json::to_value(cfg).map_err(|e| Error::Config(e.to_string()))?;
    Ok(ModelSummary::new(FAMILY, config, networks))
}

impl Family for BinaryMuseGan {
    fn name(&self) -> &'static str {
        FAMILY
    }

    fn about(&self) -> &'static str {
        "BinaryMuseGAN (refiner, binary neurons) and MuseGAN (temporal generators), WGAN-GP"
    }

    fn presets(&self) -> &'static [Preset] {
        &PRESETS
    }

    fn summary(&self, section: &toml::Table) -> Result<ModelSummary, Error> {
        summary(&Settings::from_table(section.clone())?.networks)
    }

    fn train_step(
        &self,
        config: &RunConfig,
        data: &Dataset,
        device: Device,
    ) -> Result<Box<dyn TrainStep>, Error> {
        let settings = Settings::from_table(config.family_section())?;
        Ok(Box::new(GanStep::new(config, &settings, data, device)?))
    }

    fn sampler(
        &self,
        config: &RunConfig,
        weights: &HashMap<String, Tensor>,
        device: Device,
    ) -> Result<Box<dyn Sampler>, Error> {
        let settings = Settings::from_table(config.family_section())?;
        Ok(Box::new(GanSampler::load(
            &settings.networks,
            config.music.clone(),
            weights,
            device,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_summarised_with_its_networks() {
        let _rng = crate::torch_rng();
        for preset in &PRESETS {
            let s = BinaryMuseGan.summary(&(preset.section)().unwrap()).unwrap();
            let names: Vec<_> = s.networks.iter().map(|n| n.network.as_str()).collect();
            assert_eq!(names.first(), Some(&"generator"), "{}", preset.name);
            assert_eq!(names.last(), Some(&"discriminator"), "{}", preset.name);
            assert_eq!(s.params, s.networks.iter().map(|n| n.params).sum::<i64>());
        }
    }
}
