//! Training runs (`museroll train`, the studio's Training panel): a new run from a preset or a
//! config file, or an interrupted run continued, with settings changed by name.

use std::path::{Path, PathBuf};

use museroll_core::dataset::Manifest;
use museroll_models::engine::{RunConfig, Trainer};
use museroll_models::families;
use museroll_models::families::bmusegan::{Loss, Strategy};
use museroll_models::Error as ModelError;
use tch::Device;

use crate::Error;

/// Where a run starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// A new run of a preset on a dataset.
    Preset {
        /// The preset's name (see [`families::presets`]).
        preset: String,
        /// The dataset.
        data: PathBuf,
    },
    /// A new run of a whole config file (a run's `config.toml`), optionally on another dataset.
    Config {
        /// The config file.
        path: PathBuf,
        /// Another dataset than the config's.
        data: Option<PathBuf>,
    },
    /// The run in the output directory, continued from its latest checkpoint.
    Resume,
}

/// A setting by its dotted name in a run's `config.toml` (`batch`, `model.n_critic`, …) and its
/// value in TOML (a bare word is a string).
pub type Setting = (String, String);

/// The settings people change most, by name (each becomes a [`Setting`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Steps of stage 1 (of the whole run for one-stage training).
    pub steps: Option<u64>,
    /// Steps of a GAN family's refiner stage.
    pub refiner_steps: Option<u64>,
    /// A GAN family's strategy.
    pub strategy: Option<Strategy>,
    /// A GAN family's loss.
    pub loss: Option<Loss>,
    /// Phrases per batch.
    pub batch: Option<u32>,
    /// A GAN family's critic updates per generator update.
    pub n_critic: Option<u32>,
    /// The learning rate of a GAN family's two optimisers.
    pub lr: Option<f64>,
    /// The run's seed.
    pub seed: Option<u64>,
}

impl Overrides {
    /// The settings these overrides stand for, in a fixed order.
    pub fn settings(&self) -> Vec<Setting> {
        let mut out = Vec::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                out.push((key.to_owned(), value));
            }
        };
        put("steps", self.steps.map(|v| v.to_string()));
        put(
            "model.refiner_steps",
            self.refiner_steps.map(|v| v.to_string()),
        );
        put(
            "model.strategy",
            self.strategy.map(|v| format!("{:?}", v.name())),
        );
        put("model.loss", self.loss.map(|v| format!("{:?}", v.name())));
        put("batch", self.batch.map(|v| v.to_string()));
        put("model.n_critic", self.n_critic.map(|v| v.to_string()));
        let lr = self.lr.map(|v| format!("{v:?}"));
        put("model.generator_optimizer.lr", lr.clone());
        put("model.discriminator_optimizer.lr", lr);
        put("seed", self.seed.map(|v| v.to_string()));
        out
    }
}

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainRequest {
    /// The run directory (created for a new run; the run to continue for [`Start::Resume`]).
    pub out: PathBuf,
    /// Where the run starts from.
    pub start: Start,
    /// Settings changed by name, after the overrides.
    pub settings: Vec<Setting>,
    /// The settings people change most.
    pub overrides: Overrides,
}

/// Applies `settings` to `config` in order.
fn apply(config: &mut RunConfig, settings: &[Setting]) -> Result<(), ModelError> {
    for (key, value) in settings {
        config.set(key, value)?;
    }
    config.validate()
}

/// Prepares the run `request` asks for on `device`: a new run's directory is created with its
/// config; a resumed run is restored from its latest checkpoint. Training starts with
/// [`Trainer::run`].
///
/// # Errors
/// [`Error::Model`] for an unknown preset, a bad setting, a dataset that does not fit, an output
/// directory that holds files (new run) or no run (resume).
pub fn prepare(request: &TrainRequest, device: Device) -> Result<Trainer, Error> {
    let mut settings = request.overrides.settings();
    settings.extend(request.settings.iter().cloned());
    let trainer = match &request.start {
        Start::Resume => {
            families::resume_run(&request.out, device, |config| apply(config, &settings))?
        }
        Start::Preset { preset, data } => {
            let manifest = Manifest::read(data)?;
            let mut config =
                RunConfig::new(families::preset_table(preset)?, data.clone(), &manifest);
            apply(&mut config, &settings)?;
            families::create_run(config, &request.out, device)?
        }
        Start::Config { path, data } => {
            let mut config = RunConfig::read(path)?;
            if let Some(data) = data {
                let manifest = Manifest::read(data)?;
                config.data = data.clone();
                config.music = museroll_models::engine::Music::of(&manifest, config.music.tempo);
            }
            apply(&mut config, &settings).map_err(|e| ModelError::file(path, e))?;
            families::create_run(config, &request.out, device)?
        }
    };
    Ok(trainer)
}

/// Brings a run written by an older museroll to the current layout; returns what was done.
///
/// # Errors
/// [`Error::Model`] naming the file that cannot be read or written.
pub fn migrate(dir: &Path) -> Result<Vec<String>, Error> {
    Ok(families::migrate_run(dir)?)
}
