//! Runs written before the family layout (museroll ≤ 2026-11): one flat `config.toml` holding
//! the GAN settings beside the generic ones, no `[music]`, and weights without their inference
//! state. [`migrate`] rewrites such a run in place so that it generates exactly as before.
//!
//! What the old code worked out at generation time is worked out once here, the old way:
//! the music from the dataset's manifest (or "Track i" fallbacks when it is gone), and the
//! refiner's stage and slope by replaying the training schedule up to the weights' last step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use museroll_core::dataset::{Manifest, TrackInfo};
use museroll_core::metrics::{MetricsReport, PhraseShape};
use museroll_core::{Pitch, Program, Resolution};
use serde::Deserialize;
use tch::Tensor;

use super::config::BinaryMuseGanConfig;
use super::settings::{stage_at, Loss, OutputBias, Settings, Stage, Strategy, Warmup};
use crate::engine::optim::AdamConfig;
use crate::engine::{checkpoint, Music, RunConfig, CHECKPOINTS_DIR, CONFIG_FILE};
use crate::engine::{DATA_METRICS_FILE, WEIGHTS_FILE};
use crate::Error;

/// The old `config.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyConfig {
    seed: u64,
    data: PathBuf,
    strategy: Strategy,
    loss: Loss,
    gp_weight: f64,
    batch: u32,
    n_critic: u32,
    warmup: Option<Warmup>,
    steps: u64,
    refiner_steps: u64,
    generator_optimizer: AdamConfig,
    discriminator_optimizer: AdamConfig,
    slope_start: f64,
    slope_factor: f64,
    slope_every: u64,
    log_every: u64,
    eval_every: u64,
    eval_samples: u32,
    sample_every: u64,
    sample_count: u32,
    checkpoint_every: u64,
    keep_checkpoints: u32,
    tempo: f64,
    #[serde(default = "OutputBias::before_the_setting")]
    output_bias: OutputBias,
    model: BinaryMuseGanConfig,
}

impl LegacyConfig {
    fn settings(&self) -> Settings {
        Settings {
            strategy: self.strategy,
            loss: self.loss,
            gp_weight: self.gp_weight,
            n_critic: self.n_critic,
            warmup: self.warmup,
            refiner_steps: self.refiner_steps,
            generator_optimizer: self.generator_optimizer,
            discriminator_optimizer: self.discriminator_optimizer,
            slope_start: self.slope_start,
            slope_factor: self.slope_factor,
            slope_every: self.slope_every,
            output_bias: self.output_bias,
            networks: self.model.clone(),
        }
    }
}

/// The run's music as the old generator found it: the manifest's tracks and resolution when the
/// dataset is still there and fits, else tracks "Track i" (program 0, the model's drums) at
/// `steps_per_bar / beats_per_bar` steps per beat — with a line saying which.
fn music(config: &LegacyConfig, notes: &mut Vec<String>) -> Result<Music, Error> {
    let model = &config.model;
    let steps_per_beat = model.steps_per_bar / model.beats_per_bar.max(1);
    let lowest_pitch = Pitch::new(model.lowest_pitch)
        .ok_or_else(|| Error::Config(format!("lowest pitch {}", model.lowest_pitch)))?;
    let resolution = Resolution::new(steps_per_beat).map_err(|e| Error::Config(e.to_string()))?;
    let tracks = match Manifest::read(&config.data) {
        Ok(m)
            if m.tracks.len() == model.tracks as usize
                && m.resolution.steps() == steps_per_beat as usize =>
        {
            notes.push(format!("music: the tracks of {}", config.data.display()));
            m.tracks
        }
        _ => {
            notes.push(format!(
                "music: {} cannot be read or does not fit: tracks named \"Track i\" (program 0)",
                config.data.display()
            ));
            (0..model.tracks)
                .map(|i| TrackInfo {
                    name: format!("Track {i}"),
                    program: Program::default(),
                    is_drum: model.drum_tracks.contains(&i),
                })
                .collect()
        }
    };
    Ok(Music {
        phrase: PhraseShape {
            samples: 1,
            tracks: model.tracks as usize,
            bars: model.bars as usize,
            steps_per_bar: model.steps_per_bar as usize,
            pitches: model.pitches as usize,
            lowest_pitch,
            resolution,
        },
        tempo: config.tempo,
        tracks,
    })
}

/// The training phrases of the run (an epoch of the slope schedule): from its data metrics, else
/// the dataset's manifest, else 0 (the old fallback: one step per epoch).
fn train_phrases(dir: &Path, config: &LegacyConfig) -> usize {
    std::fs::read(dir.join(DATA_METRICS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<MetricsReport>(&bytes).ok())
        .map(|r| r.samples)
        .or_else(|| {
            Manifest::read(&config.data)
                .ok()
                .map(|m| m.split.train_phrases)
        })
        .unwrap_or(0)
}

/// Adds `state.stage` and `state.slope` to the weights file `path` (unless it has them): the
/// stage and slope of the last step its weights were trained with.
fn add_inference_state(
    path: &Path,
    config: &LegacyConfig,
    settings: &Settings,
    phrases: usize,
) -> Result<bool, Error> {
    let mut tensors: HashMap<String, Tensor> = checkpoint::load(path)?;
    if tensors.contains_key("state.stage") {
        return Ok(false);
    }
    let done = match tensors.get("state.step") {
        Some(t) => u64::try_from(t.f_int64_value(&[])?)
            .map_err(|_| Error::file(path, "its step is negative"))?,
        None => settings.total_steps(config.steps),
    };
    let (stage, in_stage) = match done.checked_sub(1) {
        Some(last) => stage_at(settings, config.steps, last),
        None => (Stage::Pretrain, 0),
    };
    let slope = match stage {
        Stage::Pretrain => 1.0,
        _ => settings.slope(in_stage, config.batch, phrases),
    };
    tensors.insert("state.stage".into(), Tensor::from(stage.index()));
    tensors.insert("state.slope".into(), Tensor::from(slope));
    let mut named: Vec<(String, Tensor)> = tensors.into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    checkpoint::save(path, &named)?;
    Ok(true)
}

/// Rewrites the old run in `dir` in the current layout: each weights file gains its inference
/// state, then `config.toml` is rewritten (so an interrupted migration can be run again).
/// Returns what was done, one line each.
///
/// # Errors
/// [`Error::File`] naming the file that cannot be read, understood or written.
pub fn migrate(dir: &Path) -> Result<Vec<String>, Error> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::file(&path, e))?;
    let legacy: LegacyConfig = toml::from_str(&text).map_err(|e| {
        Error::file(
            &path,
            format!(
                "neither a current nor an older run config ({})",
                e.message().replace('\n', " ")
            ),
        )
    })?;
    let settings = legacy.settings();
    settings.validate().map_err(|e| Error::file(&path, e))?;
    let mut notes = Vec::new();
    let phrases = train_phrases(dir, &legacy);
    let mut files = vec![dir.join(WEIGHTS_FILE)];
    if let Ok(entries) = std::fs::read_dir(dir.join(CHECKPOINTS_DIR)) {
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
            .collect();
        found.sort();
        files.extend(found);
    }
    for file in files.iter().filter(|f| f.is_file()) {
        if add_inference_state(file, &legacy, &settings, phrases)? {
            notes.push(format!("{}: stage and slope added", file.display()));
        }
    }
    let music = music(&legacy, &mut notes)?;
    let config = RunConfig {
        seed: legacy.seed,
        data: legacy.data.clone(),
        batch: legacy.batch,
        steps: legacy.steps,
        log_every: legacy.log_every,
        eval_every: legacy.eval_every,
        eval_samples: legacy.eval_samples,
        sample_every: legacy.sample_every,
        sample_count: legacy.sample_count,
        checkpoint_every: legacy.checkpoint_every,
        keep_checkpoints: legacy.keep_checkpoints,
        music,
        model: settings.to_table()?,
    };
    config.validate().map_err(|e| Error::file(&path, e))?;
    museroll_core::io::write_atomic(&path, config.to_toml()?.as_bytes())
        .map_err(|e| Error::file(&path, e))?;
    notes.push(format!(
        "{}: rewritten in the family layout",
        path.display()
    ));
    Ok(notes)
}
