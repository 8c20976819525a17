//! A run directory: its files, its config, and which weights to load from it.
//!
//! ```text
//! RUN/config.toml           everything that decides the run: the generic settings, [music] (what
//!                           the samples are: phrase shape, tracks, tempo) and [model] (the
//!                           family's name and its own settings); --resume reads it
//! RUN/data_metrics.json     the metrics of the training split, the yardstick of every evaluation
//! RUN/metrics.jsonl         one JSON object per line: {"kind":"train",…} losses every log_every
//!                           steps, {"kind":"eval",…} sample metrics every eval_every steps
//! RUN/train.log             what happened, in words
//! RUN/checkpoints/step-NNNNNNNN.safetensors   the latest keep_checkpoints checkpoints
//! RUN/checkpoints/best.safetensors            the checkpoint whose samples came closest to the data
//! RUN/samples/step-NNNNNNNN.{png,mid}         samples of fixed latents, as a grid and one MIDI file
//! RUN/curves.png            losses and metrics over the steps (redrawn at each evaluation)
//! RUN/model.safetensors     the final weights and the inference state (no optimiser state)
//! RUN/report.md             the summary: steps, time, the metrics table vs the training data
//! ```
//!
//! A run is self-contained: generating from it needs its config and a weights file, never the
//! dataset it was trained on (which may have moved or been deleted) nor the training schedule.

use std::path::{Path, PathBuf};

use museroll_core::dataset::{Manifest, TrackInfo};
use museroll_core::metrics::PhraseShape;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The run's configuration file.
pub const CONFIG_FILE: &str = "config.toml";
/// The directory of checkpoints.
pub const CHECKPOINTS_DIR: &str = "checkpoints";
/// The training records, one JSON object per line.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// The log in words.
pub const LOG_FILE: &str = "train.log";
/// The sample sheets written during training.
pub const SAMPLES_DIR: &str = "samples";
/// The metrics of the training split (a `MetricsReport` as JSON).
pub const DATA_METRICS_FILE: &str = "data_metrics.json";
/// The run's summary.
pub const REPORT_FILE: &str = "report.md";
/// The final weights.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The picture of the training curves.
pub const CURVES_FILE: &str = "curves.png";
/// The best checkpoint, in the checkpoints directory.
pub const BEST_FILE: &str = "best.safetensors";

/// Which weights of a run to load.
///
/// Parsed from `final`, `latest`, `best` or a path; a file whose name is one of the three words
/// is chosen by writing a path to it (`./best`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Weights {
    /// `model.safetensors` when the run has finished, else its latest checkpoint (so an
    /// interrupted run generates too).
    #[default]
    Final,
    /// The latest `checkpoints/step-N.safetensors`.
    Latest,
    /// `checkpoints/best.safetensors`, whose samples came closest to the data.
    Best,
    /// A weights or checkpoint file.
    Path(PathBuf),
}

impl std::str::FromStr for Weights {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "final" => Self::Final,
            "latest" => Self::Latest,
            "best" => Self::Best,
            "" => return Err(Error::Usage("an empty weights name".into())),
            path => Self::Path(PathBuf::from(path)),
        })
    }
}

impl Weights {
    /// The file these weights are in, for the run in `dir`.
    ///
    /// # Errors
    /// [`Error::File`] naming the run (or its checkpoints directory) when it has no such weights.
    pub fn resolve(&self, dir: &Path) -> Result<PathBuf, Error> {
        match self {
            Self::Final if dir.join(WEIGHTS_FILE).is_file() => Ok(dir.join(WEIGHTS_FILE)),
            Self::Final => latest_checkpoint(dir).ok_or_else(|| {
                Error::file(
                    dir,
                    "has no weights yet (no model.safetensors, no checkpoints/step-*.safetensors)",
                )
            }),
            Self::Latest => latest_checkpoint(dir).ok_or_else(|| {
                Error::file(
                    &dir.join(CHECKPOINTS_DIR),
                    "holds no step-*.safetensors checkpoint",
                )
            }),
            Self::Best => Ok(dir.join(CHECKPOINTS_DIR).join(BEST_FILE)),
            Self::Path(path) => Ok(path.clone()),
        }
    }
}

/// The checkpoints `step-N.safetensors` in `dir`, by step.
pub(crate) fn checkpoints(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let step = name.strip_prefix("step-")?.strip_suffix(".safetensors")?;
            Some((step.parse().ok()?, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// The latest checkpoint of the run in `run`, if any.
pub fn latest_checkpoint(run: &Path) -> Option<PathBuf> {
    checkpoints(&run.join(CHECKPOINTS_DIR))
        .pop()
        .map(|(_, p)| p)
}

/// What a run's samples are, recorded when the run is created from its dataset: generation
/// needs nothing else to turn a model's output into music.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Music {
    /// The shape of one phrase (`samples` is 1): tracks, bars, steps per bar, pitches, lowest
    /// pitch and resolution.
    pub phrase: PhraseShape,
    /// Tempo of the samples' MIDI files, quarter notes per minute.
    pub tempo: f64,
    /// Each track's name, GM program and drum flag, in the phrase's track order.
    pub tracks: Vec<TrackInfo>,
}

impl Music {
    /// The music of `manifest`'s phrases at `tempo`.
    pub fn of(manifest: &Manifest, tempo: f64) -> Self {
        Self {
            phrase: PhraseShape {
                samples: 1,
                tracks: manifest.shape.tracks,
                bars: manifest.shape.bars,
                steps_per_bar: manifest.shape.steps_per_bar,
                pitches: manifest.shape.pitches,
                lowest_pitch: manifest.lowest_pitch,
                resolution: manifest.resolution,
            },
            tempo,
            tracks: manifest.tracks.clone(),
        }
    }

    /// The shape of `n` pieces of `bars` bars.
    pub fn shape(&self, n: usize, bars: usize) -> PhraseShape {
        PhraseShape {
            samples: n,
            bars,
            ..self.phrase
        }
    }

    /// Which tracks are drums.
    pub fn is_drum(&self) -> Vec<bool> {
        self.tracks.iter().map(|t| t.is_drum).collect()
    }

    /// The tracks' names.
    pub fn track_names(&self) -> Vec<String> {
        self.tracks.iter().map(|t| t.name.clone()).collect()
    }

    /// Checks the values a hand-edited config could break.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first bad value.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.tempo.is_finite() && (1.0..=1000.0).contains(&self.tempo)) {
            return Err(Error::Config(format!(
                "music.tempo {} is not in 1..=1000 qpm",
                self.tempo
            )));
        }
        if self.tracks.len() != self.phrase.tracks {
            return Err(Error::Config(format!(
                "music.tracks lists {} tracks, music.phrase has {}",
                self.tracks.len(),
                self.phrase.tracks
            )));
        }
        self.phrase
            .cells()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(())
    }
}

/// Everything that decides a run: the settings every family shares, the run's [`Music`], and
/// the family's own section (`[model]`, whose `family` key names the family).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Seed of every random draw.
    pub seed: u64,
    /// The dataset directory (`museroll data build`); training reads it, generation never does.
    pub data: PathBuf,
    /// Phrases per batch.
    pub batch: u32,
    /// Training steps (for families with several stages, of the first; see the family's
    /// section).
    pub steps: u64,
    /// Steps between two lines of training losses in `metrics.jsonl`.
    pub log_every: u64,
    /// Steps between evaluations (metrics of `eval_samples` samples vs the training data, the
    /// curves picture).
    pub eval_every: u64,
    /// Samples evaluated at each evaluation.
    pub eval_samples: u32,
    /// Steps between sample sheets (PNG grid and MIDI of the first `sample_count` samples).
    pub sample_every: u64,
    /// Samples on each sample sheet.
    pub sample_count: u32,
    /// Steps between checkpoints (one is also written at the end and on Ctrl-C).
    pub checkpoint_every: u64,
    /// How many of the latest checkpoints to keep (the best one is kept apart).
    pub keep_checkpoints: u32,
    /// What the samples are (from the dataset when the run was created).
    pub music: Music,
    /// The family's section: `family = "NAME"` and the family's own settings.
    pub model: toml::Table,
}

/// The largest batch and number of steps a config may ask for.
const MAX_BATCH: u32 = 4096;
/// The most steps of a stage.
pub const MAX_STEPS: u64 = 100_000_000;

impl RunConfig {
    /// The defaults of a new run of the family section `model` on `data` (whose manifest gives
    /// the music): seed 0, batch 16, 1000 steps, losses every 10 steps, evaluations of 64 samples
    /// and sheets of 16 every 100, checkpoints every 250 (keep 3), 100 qpm.
    pub fn new(model: toml::Table, data: PathBuf, manifest: &Manifest) -> Self {
        Self {
            seed: 0,
            data,
            batch: 16,
            steps: 1000,
            log_every: 10,
            eval_every: 100,
            eval_samples: 64,
            sample_every: 100,
            sample_count: 16,
            checkpoint_every: 250,
            keep_checkpoints: 3,
            music: Music::of(manifest, 100.0),
            model,
        }
    }

    /// The family's name (`model.family`).
    ///
    /// # Errors
    /// [`Error::Config`] if the section names none.
    pub fn family(&self) -> Result<&str, Error> {
        self.model
            .get("family")
            .and_then(toml::Value::as_str)
            .ok_or_else(|| Error::Config("the [model] section has no family = \"NAME\"".into()))
    }

    /// The family's section without its `family` key, for the family to read.
    pub fn family_section(&self) -> toml::Table {
        let mut table = self.model.clone();
        table.remove("family");
        table
    }

    /// Checks the generic values (the family checks its section).
    ///
    /// # Errors
    /// [`Error::Config`] naming the first bad value.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::Config(msg));
        self.family()?;
        self.music.validate()?;
        if !(2..=MAX_BATCH).contains(&self.batch) {
            return bad(format!("batch {} is not in 2..={MAX_BATCH}", self.batch));
        }
        if self.steps > MAX_STEPS {
            return bad(format!("steps are limited to {MAX_STEPS}"));
        }
        if self.steps == 0 {
            return bad("steps is 0: nothing to train".into());
        }
        for (name, every) in [
            ("log_every", self.log_every),
            ("eval_every", self.eval_every),
            ("sample_every", self.sample_every),
            ("checkpoint_every", self.checkpoint_every),
        ] {
            if every == 0 {
                return bad(format!("{name} is 0 (it counts steps, at least 1)"));
            }
        }
        if !(1..=1024).contains(&self.eval_samples) || !(1..=256).contains(&self.sample_count) {
            return bad(format!(
                "eval_samples {} must be in 1..=1024 and sample_count {} in 1..=256",
                self.eval_samples, self.sample_count
            ));
        }
        if self.keep_checkpoints == 0 {
            return bad("keep_checkpoints is 0: a run must keep its latest checkpoint".into());
        }
        Ok(())
    }

    /// Sets the dotted `key` (e.g. `batch`, `model.n_critic`, `model.networks.refiner`) to
    /// `value`, written in TOML (a bare word is taken as a string), and checks the result's
    /// generic part (the family checks its section when it builds the run).
    ///
    /// # Errors
    /// [`Error::Usage`] naming the setting if the key is empty, crosses a value that is not a
    /// table, or the result is not a config.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let usage = |problem: String| Error::Usage(format!("setting {key}={value}: {problem}"));
        let parsed: toml::Value = match format!("v = {value}").parse::<toml::Table>() {
            Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(value.into())),
            Err(_) => toml::Value::String(value.to_owned()),
        };
        let mut table = toml::Table::try_from(&*self).map_err(|e| usage(e.to_string()))?;
        let mut parts: Vec<&str> = key.split('.').collect();
        let Some(last) = parts.pop().filter(|k| !k.is_empty()) else {
            return Err(usage("empty key".into()));
        };
        let mut current = &mut table;
        for part in parts {
            let entry = current
                .entry(part.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            current = match entry {
                toml::Value::Table(t) => t,
                _ => return Err(usage(format!("'{part}' is not a table of the config"))),
            };
        }
        current.insert(last.to_owned(), parsed);
        *self = table
            .try_into()
            .map_err(|e: toml::de::Error| usage(e.message().replace('\n', " ")))?;
        Ok(())
    }

    /// The config as TOML.
    ///
    /// # Errors
    /// [`Error::Config`] if a value cannot be written as TOML.
    pub fn to_toml(&self) -> Result<String, Error> {
        toml::to_string_pretty(self).map_err(|e| Error::Config(e.to_string()))
    }

    /// Reads and checks a config file (its generic part).
    ///
    /// # Errors
    /// [`Error::File`] naming `path` if it cannot be read, is not a run config (a run written
    /// by an older museroll says to migrate it), or does not validate.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
        let config: Self = toml::from_str(&text).map_err(|e| {
            let table = text.parse::<toml::Table>().ok();
            if table.is_some_and(|t| t.get("model").is_some() && t.get("music").is_none()) {
                Error::file(
                    path,
                    "a run of an older museroll: migrate it with `museroll migrate RUN`",
                )
            } else {
                Error::file(path, e.message().replace('\n', " "))
            }
        })?;
        config.validate().map_err(|e| Error::file(path, e))?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use museroll_core::{Pitch, Program, Resolution};

    fn music() -> Music {
        Music {
            phrase: PhraseShape {
                samples: 1,
                tracks: 2,
                bars: 4,
                steps_per_bar: 16,
                pitches: 48,
                lowest_pitch: Pitch::new(36).unwrap(),
                resolution: Resolution::new(4).unwrap(),
            },
            tempo: 100.0,
            tracks: ["S", "B"]
                .map(|name| TrackInfo {
                    name: name.into(),
                    program: Program::new(52).unwrap(),
                    is_drum: false,
                })
                .to_vec(),
        }
    }

    fn config() -> RunConfig {
        let mut model = toml::Table::new();
        model.insert("family".into(), "some-family".into());
        model.insert("n_critic".into(), 5.into());
        RunConfig {
            seed: 1,
            data: "data".into(),
            batch: 8,
            steps: 10,
            log_every: 1,
            eval_every: 5,
            eval_samples: 4,
            sample_every: 5,
            sample_count: 4,
            checkpoint_every: 5,
            keep_checkpoints: 2,
            music: music(),
            model,
        }
    }

    #[test]
    fn the_config_round_trips_through_toml_and_names_its_family() {
        let c = config();
        let back: RunConfig = toml::from_str(&c.to_toml().unwrap()).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.family().unwrap(), "some-family");
        assert!(!back.family_section().contains_key("family"));
    }

    #[test]
    fn settings_reach_generic_and_family_values_and_bad_ones_are_named() {
        let mut c = config();
        c.set("batch", "32").unwrap();
        c.set("model.n_critic", "2").unwrap();
        c.set("model.networks.refiner", "false").unwrap();
        assert_eq!(c.batch, 32);
        assert_eq!(c.model["n_critic"].as_integer(), Some(2));
        assert_eq!(c.model["networks"]["refiner"].as_bool(), Some(false));
        let err = c.set("batch", "many").unwrap_err().to_string();
        assert!(err.starts_with("setting batch=many: "), "{err}");
        let err = c.set("seed.x", "1").unwrap_err().to_string();
        assert_eq!(err, "setting seed.x=1: 'seed' is not a table of the config");
        assert!(c.set("", "1").is_err());
    }

    #[test]
    fn bad_values_name_themselves() {
        let mut c = config();
        c.batch = 1;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "invalid model configuration: batch 1 is not in 2..=4096"
        );
        let mut c = config();
        c.music.tracks.pop();
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("music.tracks"));
        let mut c = config();
        c.model.remove("family");
        assert!(c.validate().unwrap_err().to_string().contains("family"));
    }

    #[test]
    fn weights_parse_words_and_paths() {
        assert_eq!("final".parse::<Weights>().unwrap(), Weights::Final);
        assert_eq!("latest".parse::<Weights>().unwrap(), Weights::Latest);
        assert_eq!("best".parse::<Weights>().unwrap(), Weights::Best);
        assert_eq!(
            "./best".parse::<Weights>().unwrap(),
            Weights::Path("./best".into())
        );
        let dir = Path::new("/nonexistent-run");
        assert_eq!(
            Weights::Best.resolve(dir).unwrap(),
            dir.join("checkpoints/best.safetensors")
        );
        assert!(Weights::Final.resolve(dir).is_err());
    }
}
