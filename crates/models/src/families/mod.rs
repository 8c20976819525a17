//! Model families behind one contract, and the registry: the only list of families.
//!
//! A [`Family`] names itself, lists its [`Preset`]s, summarises a model layer by layer, builds
//! a [`TrainStep`] for a run (the engine's [`Trainer`] drives it) and loads a [`Sampler`] from a
//! run's config and weights. Adding a family is one folder under `families/`, one line in
//! [`FAMILIES`] and its tests; the CLI and the web studio reach it through the functions here.

pub mod bmusegan;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use museroll_core::dataset::Dataset;
use museroll_core::metrics::MetricsReport;
use tch::{Device, Tensor};

use crate::engine::{checkpoint, RunConfig, TrainStep, Trainer, Weights, CONFIG_FILE};
use crate::engine::{Music, DATA_METRICS_FILE};
use crate::names::one_of;
use crate::nn::ModelSummary;
use crate::sample::Sampler;
use crate::Error;

/// A named configuration of a family: the `[model]` section a new run of it starts from.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// Its name, unique over all families (`--preset NAME`).
    pub name: &'static str,
    /// One line: what it is for, its shape.
    pub about: &'static str,
    /// The family's section of a new run (without the `family` key).
    pub section: fn() -> Result<toml::Table, Error>,
}

/// What every model family provides.
pub trait Family: Sync {
    /// The name a run's `[model] family` key gives.
    fn name(&self) -> &'static str;

    /// One line: the papers and models of the family.
    fn about(&self) -> &'static str;

    /// The family's presets.
    fn presets(&self) -> &'static [Preset];

    /// The layers, shapes and parameter counts of the model of `section` (a run's `[model]`
    /// section without its `family` key), built without training.
    ///
    /// # Errors
    /// [`Error::Config`] for a section that does not describe a buildable model.
    fn summary(&self, section: &toml::Table) -> Result<ModelSummary, Error>;

    /// The training step of a new or resumed run of `config` on `data`, on `device`.
    ///
    /// # Errors
    /// [`Error::Config`] for a section that is not the family's or does not fit the run's
    /// music; errors of libtorch.
    fn train_step(
        &self,
        config: &RunConfig,
        data: &Dataset,
        device: Device,
    ) -> Result<Box<dyn TrainStep>, Error>;

    /// A sampler of the run of `config` with the `weights` (a weights or checkpoint file's
    /// tensors), on `device`.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the first tensor that does not fit; [`Error::Config`] for a bad
    /// section.
    fn sampler(
        &self,
        config: &RunConfig,
        weights: &HashMap<String, Tensor>,
        device: Device,
    ) -> Result<Box<dyn Sampler>, Error>;
}

/// Every family museroll has.
pub static FAMILIES: &[&dyn Family] = &[&bmusegan::BinaryMuseGan];

/// The family called `name`.
///
/// # Errors
/// [`Error::Usage`] listing the families for an unknown name.
pub fn family(name: &str) -> Result<&'static dyn Family, Error> {
    FAMILIES
        .iter()
        .copied()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = FAMILIES.iter().map(|f| f.name()).collect();
            Error::Usage(format!(
                "unknown model family '{name}' (expected {})",
                one_of(&names)
            ))
        })
}

/// The preset called `name` and its family.
///
/// # Errors
/// [`Error::Usage`] listing every preset for an unknown name.
pub fn preset(name: &str) -> Result<(&'static dyn Family, &'static Preset), Error> {
    FAMILIES
        .iter()
        .flat_map(|f| f.presets().iter().map(move |p| (*f, p)))
        .find(|(_, p)| p.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = presets().map(|(_, p)| p.name).collect();
            Error::Usage(format!(
                "unknown preset '{name}' (expected {})",
                one_of(&names)
            ))
        })
}

/// Every preset of every family, family by family.
pub fn presets() -> impl Iterator<Item = (&'static dyn Family, &'static Preset)> {
    FAMILIES
        .iter()
        .flat_map(|f| f.presets().iter().map(move |p| (*f, p)))
}

/// The `[model]` table of `preset`: `family = "NAME"` and the preset's section.
///
/// # Errors
/// As [`preset`].
pub fn preset_table(name: &str) -> Result<toml::Table, Error> {
    let (family, preset) = preset(name)?;
    let mut table = (preset.section)()?;
    table.insert("family".into(), family.name().into());
    Ok(table)
}

/// The summary of the model of `preset`.
///
/// # Errors
/// As [`preset`] and [`Family::summary`].
pub fn summary(name: &str) -> Result<ModelSummary, Error> {
    let (family, preset) = preset(name)?;
    family.summary(&(preset.section)()?)
}

/// Starts a new run of `config` in `dir` (empty or absent) on `device`.
///
/// # Errors
/// As [`Family::train_step`] and [`Trainer::create`]; [`Error::File`] naming the dataset if it
/// cannot be opened.
pub fn create_run(config: RunConfig, dir: &Path, device: Device) -> Result<Trainer, Error> {
    config.validate()?;
    let family = family(config.family()?)?;
    let data = Dataset::open(&config.data)?;
    let step = family.train_step(&config, &data, device)?;
    Trainer::create(config, dir, data, step, device)
}

/// Continues the run in `dir` from its latest checkpoint on `device`, after `edit` has changed
/// its config (e.g. more steps). The config is rewritten only if `edit` changed it.
///
/// # Errors
/// [`Error::File`] if `dir` holds no run, the edited config does not validate, or the
/// checkpoint does not fit.
pub fn resume_run(
    dir: &Path,
    device: Device,
    edit: impl FnOnce(&mut RunConfig) -> Result<(), Error>,
) -> Result<Trainer, Error> {
    let path = config_path(dir)?;
    let mut config = RunConfig::read(&path)?;
    let before = config.clone();
    edit(&mut config)?;
    config.validate().map_err(|e| Error::file(&path, e))?;
    let family = family(config.family()?)?;
    let data = Dataset::open(&config.data)?;
    let step = family
        .train_step(&config, &data, device)
        .map_err(|e| Error::file(&path, e))?;
    if config != before {
        museroll_core::io::write_atomic(&path, config.to_toml()?.as_bytes())
            .map_err(|e| Error::file(&path, e))?;
    }
    Trainer::resume(config, dir, data, step, device)
}

/// `RUN/config.toml`, or an error saying `dir` is not a run.
fn config_path(dir: &Path) -> Result<PathBuf, Error> {
    let path = dir.join(CONFIG_FILE);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::file(
            dir,
            "is not a training run (it has no config.toml)",
        ))
    }
}

/// A run opened for generation: its config, the weights file chosen, the sampler and the
/// training data's metrics (if the run has them).
pub struct OpenRun {
    /// The run's directory.
    pub dir: PathBuf,
    /// The run's config.
    pub config: RunConfig,
    /// The weights file loaded.
    pub weights: PathBuf,
    /// The model, ready to generate.
    pub sampler: Box<dyn Sampler>,
    /// The training split's metrics (`RUN/data_metrics.json`), if it can be read.
    pub data_report: Option<MetricsReport>,
}

impl OpenRun {
    /// What the samples are.
    pub fn music(&self) -> &Music {
        &self.config.music
    }
}

/// Opens the run in `dir` with its `weights` on `device`, for generating: the config and one
/// weights file, never the dataset.
///
/// # Errors
/// [`Error::File`] naming the run if it is not one or has no weights, naming the weights file
/// if it is missing, corrupt or of another model (with the first tensor that does not fit).
pub fn open_run(dir: &Path, weights: &Weights, device: Device) -> Result<OpenRun, Error> {
    let config = RunConfig::read(&config_path(dir)?)?;
    let family = family(config.family()?)?;
    let path = weights.resolve(dir)?;
    let tensors = checkpoint::load(&path)?;
    let sampler = family
        .sampler(&config, &tensors, device)
        .map_err(|e| Error::file(&path, e))?;
    let data_report = std::fs::read(dir.join(DATA_METRICS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    Ok(OpenRun {
        dir: dir.to_path_buf(),
        config,
        weights: path,
        sampler,
        data_report,
    })
}

/// Brings the run in `dir`, written by an older museroll, to the current layout (see
/// [`bmusegan::migrate`], the one family that had runs before the layout). Returns what was
/// done, one line per change; a current run is left as it is.
///
/// # Errors
/// [`Error::File`] naming the file that cannot be read, understood or written.
pub fn migrate_run(dir: &Path) -> Result<Vec<String>, Error> {
    let path = config_path(dir)?;
    if RunConfig::read(&path).is_ok() {
        return Ok(Vec::new());
    }
    bmusegan::migrate(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_names_are_unique_and_every_preset_builds() {
        let mut names: Vec<&str> = presets().map(|(_, p)| p.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a preset name is used twice");
        for name in names {
            let table = preset_table(name).unwrap();
            assert_eq!(
                table["family"].as_str(),
                Some(preset(name).unwrap().0.name())
            );
        }
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = preset("huge").err().unwrap().to_string();
        assert!(
            err.starts_with("unknown preset 'huge' (expected bmusegan, "),
            "{err}"
        );
        let err = family("gan").err().unwrap().to_string();
        assert_eq!(err, "unknown model family 'gan' (expected bmusegan)");
    }
}
