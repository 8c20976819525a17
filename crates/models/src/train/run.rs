//! A training run and its directory.
//!
//! ```text
//! RUN/config.toml           everything that decides the run (written first, read by --resume)
//! RUN/data_metrics.json     the metrics of the training split, the yardstick of every evaluation
//! RUN/metrics.jsonl         one JSON object per line: {"kind":"train",…} losses every log_every
//!                           steps, {"kind":"eval",…} sample metrics every eval_every steps
//! RUN/train.log             what happened, in words
//! RUN/checkpoints/step-NNNNNNNN.safetensors   the latest keep_checkpoints checkpoints
//! RUN/checkpoints/best.safetensors            the checkpoint whose samples came closest to the data
//! RUN/samples/step-NNNNNNNN.{png,mid}         samples of fixed latents, as a grid and one MIDI file
//! RUN/curves.png            losses and metrics over the steps (redrawn at each evaluation)
//! RUN/model.safetensors     the final weights alone (no optimiser state)
//! RUN/report.md             the summary: steps, time, the metrics table vs the training data
//! ```
//!
//! Every file is written atomically (a temporary file renamed into place); `metrics.jsonl` is
//! appended line by line and, on resume, cut back to the checkpoint's step so that it reads as
//! one uninterrupted run.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use museroll_core::chart::{self, ChartOptions, Panel, Series};
use museroll_core::dataset::{self, phrase_multitrack, Dataset, Split, TrackInfo};
use museroll_core::io::write_atomic;
use museroll_core::metrics::{
    evaluate, markdown_table, Metric, MetricsConfig, MetricsReport, PhraseShape, PhraseView,
};
use serde_json::json;
use tch::{Device, Tensor};

use super::{mix, stage_at, Gan, Losses, OutputBias, Stage, Strategy, TrainConfig};
use crate::generate::{chained_midi, sheet_png};
use crate::Error;

/// The run's configuration file.
pub const CONFIG_FILE: &str = "config.toml";
/// The directory of checkpoints.
pub const CHECKPOINTS_DIR: &str = "checkpoints";
const METRICS_FILE: &str = "metrics.jsonl";
const LOG_FILE: &str = "train.log";
const SAMPLES_DIR: &str = "samples";
/// The metrics of the training split (a `MetricsReport` as JSON).
pub const DATA_METRICS_FILE: &str = "data_metrics.json";
const REPORT_FILE: &str = "report.md";
/// The final weights.
pub const WEIGHTS_FILE: &str = "model.safetensors";
const CURVES_FILE: &str = "curves.png";
/// The best checkpoint, in the checkpoints directory.
pub const BEST_FILE: &str = "best.safetensors";
/// Samples generated at once in evaluation mode.
const EVAL_CHUNK: i64 = 64;
/// The metrics logged at each evaluation and their weight in the "best" score.
const EVAL_METRICS: [Metric; 4] = [
    Metric::EmptyBars,
    Metric::PitchClassesUsed,
    Metric::QualifiedNotes,
    Metric::PolyphonyRate,
];

/// What a run reports after each generator step.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// Generator steps done.
    pub step: u64,
    /// Generator steps of the whole run.
    pub total: u64,
    /// The stage of the step.
    pub stage: Stage,
    /// Its losses.
    pub losses: Losses,
    /// The refiner's slope (1 without a refiner stage).
    pub slope: f64,
}

/// Follows a run: the CLI draws a progress bar from it.
pub trait Observer {
    /// The run starts (or resumes) at `done` of `total` generator steps.
    fn start(&mut self, done: u64, total: u64);
    /// A generator step is done.
    fn step(&mut self, report: &StepReport);
    /// Something worth telling (a checkpoint, a stage change, an evaluation).
    fn message(&mut self, text: &str);
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step is done.
    Finished,
    /// Stopped on request after this many steps, with a checkpoint written.
    Interrupted(u64),
}

/// Batches of training phrases: each epoch a fresh permutation seeded by (seed, epoch), the
/// last incomplete batch dropped. Batch `k` depends only on `k`, so a resumed run draws the same.
#[derive(Debug)]
struct Batches {
    indices: Vec<u32>,
    batch: usize,
    seed: u64,
    epoch: Option<u64>,
    order: Vec<u32>,
}

impl Batches {
    fn per_epoch(&self) -> u64 {
        (self.indices.len() / self.batch).max(1) as u64
    }

    /// The phrase indices of batch `k`.
    fn get(&mut self, k: u64) -> &[u32] {
        let epoch = k / self.per_epoch();
        if self.epoch != Some(epoch) {
            self.order.clone_from(&self.indices);
            let mut state = mix(self.seed ^ 0x0DA7_A5E7_u64) ^ epoch;
            for i in (1..self.order.len()).rev() {
                state = mix(state);
                let j = (state % (i as u64 + 1)) as usize;
                self.order.swap(i, j);
            }
            self.epoch = Some(epoch);
        }
        let start = (k % self.per_epoch()) as usize * self.batch;
        &self.order[start..start + self.batch]
    }
}

/// A training run: the [`Gan`], its data and its directory.
pub struct Trainer {
    config: TrainConfig,
    dir: PathBuf,
    gan: Gan,
    data: Dataset,
    batches: Batches,
    /// Real batches drawn so far.
    drawn: u64,
    /// Generator steps done.
    step: u64,
    /// Lowest evaluation score so far.
    best: f64,
    fixed_z: Tensor,
    data_report: MetricsReport,
    last_eval: Option<MetricsReport>,
    started: Instant,
    window: Vec<Losses>,
}

/// The error for a file of the run.
fn file_error(path: &Path, problem: impl std::fmt::Display) -> Error {
    Error::File {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    }
}

/// Writes `bytes` to `path` atomically, naming `path` on failure.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic(path, bytes).map_err(|e| file_error(path, e))
}

/// The checkpoints `step-N.safetensors` in `dir`, by step.
fn checkpoints(dir: &Path) -> Vec<(u64, PathBuf)> {
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

/// Each track's share of active cells over the training split.
fn track_densities(data: &Dataset) -> Result<Vec<f64>, Error> {
    let shape = data.shape();
    let per_track = shape.bars * shape.steps_per_bar * shape.pitches;
    let cells = data.phrase_cells();
    let mut on = vec![0u64; shape.tracks];
    let indices = data.split(Split::Train);
    let mut buffer = Vec::new();
    for chunk in indices.chunks(256) {
        buffer.resize(chunk.len() * cells, 0u8);
        data.read_batch(chunk, &mut buffer)?;
        for phrase in buffer.chunks_exact(cells) {
            for (count, track) in on.iter_mut().zip(phrase.chunks_exact(per_track)) {
                *count += track.iter().map(|&c| u64::from(c)).sum::<u64>();
            }
        }
    }
    let total = (indices.len() * per_track).max(1) as f64;
    Ok(on.iter().map(|&n| n as f64 / total).collect())
}

/// Checks that the dataset's phrases are what the model makes.
fn check_data(config: &TrainConfig, data: &Dataset) -> Result<(), Error> {
    let m = data.manifest();
    let model = &config.model;
    let wanted = [
        model.tracks as usize,
        model.bars as usize,
        model.steps_per_bar as usize,
        model.pitches as usize,
    ];
    let have = [
        m.shape.tracks,
        m.shape.bars,
        m.shape.steps_per_bar,
        m.shape.pitches,
    ];
    let mismatch = |what: String| {
        Err(file_error(
            data.dir(),
            format!("the dataset does not fit the model: {what}"),
        ))
    };
    if have != wanted {
        return mismatch(format!(
            "its phrases are tracks × bars × steps × pitches {have:?}, the model makes {wanted:?}"
        ));
    }
    if m.lowest_pitch.number() != model.lowest_pitch {
        return mismatch(format!(
            "its lowest pitch is MIDI {}, the model's {}",
            m.lowest_pitch.number(),
            model.lowest_pitch
        ));
    }
    let steps_per_beat = model.steps_per_bar / model.beats_per_bar;
    if m.resolution.steps() != steps_per_beat as usize {
        return mismatch(format!(
            "it has {} steps per beat, the model {steps_per_beat}",
            m.resolution.steps()
        ));
    }
    let drums: Vec<u32> = (0u32..)
        .zip(data.is_drum())
        .filter(|(_, &d)| d)
        .map(|(i, _)| i)
        .collect();
    let mut model_drums = model.drum_tracks.clone();
    model_drums.sort_unstable();
    if drums != model_drums {
        return mismatch(format!(
            "its drum tracks are {drums:?}, the model's {model_drums:?}"
        ));
    }
    let train = data.split(Split::Train).len();
    if train < config.batch as usize {
        return mismatch(format!(
            "it has {train} training phrases, fewer than a batch of {}",
            config.batch
        ));
    }
    Ok(())
}

impl Trainer {
    /// Starts a new run of `config` in `dir`, which must not exist or be empty.
    ///
    /// # Errors
    /// [`Error::File`] if `dir` holds something, the dataset cannot be opened or does not fit the
    /// model; [`Error::Config`] for a bad config.
    pub fn create(config: TrainConfig, dir: &Path, device: Device) -> Result<Self, Error> {
        config.validate()?;
        if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(file_error(
                dir,
                "already holds files: continue that run with --resume or choose another --out",
            ));
        }
        let data = Dataset::open(&config.data)?;
        check_data(&config, &data)?;
        for sub in [CHECKPOINTS_DIR, SAMPLES_DIR] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| file_error(&dir.join(sub), e))?;
        }
        write_file(&dir.join(CONFIG_FILE), config.to_toml()?.as_bytes())?;
        write_file(&dir.join(METRICS_FILE), b"")?;
        let trainer = Self::open(config, dir, device, data)?;
        trainer.log(&format!(
            "new run: {} generator steps ({} strategy, {} loss), data {} ({} training phrases)",
            trainer.config.total_steps(),
            strategy_name(trainer.config.strategy),
            loss_name(&trainer.config),
            trainer.config.data.display(),
            trainer.batches.indices.len()
        ))?;
        Ok(trainer)
    }

    /// Continues the run in `dir` from its latest checkpoint (from the start if it has none),
    /// after `edit` has changed its config (e.g. more steps). Finished work is kept: the
    /// config is re-validated and rewritten only if `edit` changed it.
    ///
    /// # Errors
    /// [`Error::File`] if `dir` holds no run or its checkpoint does not fit its config.
    pub fn resume(
        dir: &Path,
        device: Device,
        edit: impl FnOnce(&mut TrainConfig),
    ) -> Result<Self, Error> {
        let config_path = dir.join(CONFIG_FILE);
        if !config_path.is_file() {
            return Err(file_error(
                dir,
                "is not a training run (it has no config.toml)",
            ));
        }
        let mut config = TrainConfig::read(&config_path)?;
        let before = config.clone();
        edit(&mut config);
        config.validate().map_err(|e| file_error(&config_path, e))?;
        if config != before {
            write_file(&config_path, config.to_toml()?.as_bytes())?;
        }
        let data = Dataset::open(&config.data)?;
        check_data(&config, &data)?;
        let mut trainer = Self::open(config, dir, device, data)?;
        if let Some(path) = latest_checkpoint(dir) {
            let checkpoint = crate::checkpoint::load(&path)?;
            trainer
                .restore(&checkpoint)
                .map_err(|e| file_error(&path, e))?;
            trainer.log(&format!(
                "resumed from {} at step {}",
                path.display(),
                trainer.step
            ))?;
        }
        trainer.cut_metrics()?;
        Ok(trainer)
    }

    /// The common part of [`Trainer::create`] and [`Trainer::resume`] (a resumed run then
    /// restores its checkpoint over the fresh networks).
    fn open(config: TrainConfig, dir: &Path, device: Device, data: Dataset) -> Result<Self, Error> {
        let mut gan = Gan::new(&config, device, stage_at(&config, 0).0)?;
        if config.output_bias == OutputBias::DataDensity {
            let logits: Vec<f64> = track_densities(&data)?
                .iter()
                // An empty (or full) track would ask for an infinite bias.
                .map(|&d| {
                    let d = d.clamp(1e-4, 1.0 - 1e-4);
                    (d / (1.0 - d)).ln()
                })
                .collect();
            gan.set_output_bias(&logits)?;
        }
        // The fixed latents of evaluations and sample sheets, from their own seed.
        tch::manual_seed(super::seed_of(config.seed, u64::MAX, 1));
        let n = i64::from(config.eval_samples.max(config.sample_count));
        let fixed_z = gan.latents(n)?;
        let data_report =
            dataset::dataset_metrics(&data, Some(Split::Train), &MetricsConfig::default())?;
        let json =
            serde_json::to_vec_pretty(&data_report).map_err(|e| Error::Config(e.to_string()))?;
        write_file(&dir.join(DATA_METRICS_FILE), &json)?;
        let batches = Batches {
            indices: data.split(Split::Train).to_vec(),
            batch: config.batch as usize,
            seed: config.seed,
            epoch: None,
            order: Vec::new(),
        };
        Ok(Self {
            config,
            dir: dir.to_path_buf(),
            gan,
            data,
            batches,
            drawn: 0,
            step: 0,
            best: f64::INFINITY,
            fixed_z,
            data_report,
            last_eval: None,
            started: Instant::now(),
            window: Vec::new(),
        })
    }

    /// Generator steps done.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Appends a line to `train.log`.
    fn log(&self, text: &str) -> Result<(), Error> {
        let path = self.dir.join(LOG_FILE);
        let seconds = self.started.elapsed().as_secs_f64();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| file_error(&path, e))?;
        writeln!(file, "[{seconds:9.1} s] step {}: {text}", self.step)
            .map_err(|e| file_error(&path, e))
    }

    /// Appends one record to `metrics.jsonl`.
    fn record(&self, value: &serde_json::Value) -> Result<(), Error> {
        let path = self.dir.join(METRICS_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| file_error(&path, e))?;
        writeln!(file, "{value}").map_err(|e| file_error(&path, e))
    }

    /// Drops the records of `metrics.jsonl` after the current step (work lost by an
    /// interruption, redone by this run).
    fn cut_metrics(&self) -> Result<(), Error> {
        let path = self.dir.join(METRICS_FILE);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let kept: String = text
            .lines()
            .filter(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("step")?.as_u64())
                    .is_some_and(|s| s <= self.step)
            })
            .flat_map(|line| [line, "\n"])
            .collect();
        write_file(&path, kept.as_bytes())
    }

    /// Restores networks, optimisers and counters from a checkpoint.
    fn restore(&mut self, checkpoint: &HashMap<String, Tensor>) -> Result<(), Error> {
        let scalar = |name: &str| -> Result<&Tensor, Error> {
            checkpoint
                .get(name)
                .ok_or_else(|| Error::Shape(format!("the checkpoint has no '{name}'")))
        };
        let step = scalar("state.step")?.f_int64_value(&[])?;
        let drawn = scalar("state.drawn")?.f_int64_value(&[])?;
        let best = scalar("state.best")?.f_double_value(&[])?;
        let step = u64::try_from(step).map_err(|_| Error::Shape(format!("step {step} < 0")))?;
        let drawn = u64::try_from(drawn).map_err(|_| Error::Shape(format!("drawn {drawn} < 0")))?;
        self.gan.set_stage(stage_at(&self.config, step).0)?;
        self.gan.load(checkpoint, true)?;
        self.step = step;
        self.drawn = drawn;
        self.best = best;
        Ok(())
    }

    /// Writes a checkpoint of the current step, keeping the latest `keep_checkpoints`.
    fn checkpoint(&self, best: bool) -> Result<PathBuf, Error> {
        let dir = self.dir.join(CHECKPOINTS_DIR);
        let mut state = self.gan.state();
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        state.push(("state.step".into(), Tensor::from(to_i64(self.step))));
        state.push(("state.drawn".into(), Tensor::from(to_i64(self.drawn))));
        state.push(("state.best".into(), Tensor::from(self.best)));
        let path = dir.join(format!("step-{:08}.safetensors", self.step));
        crate::checkpoint::save(&path, &state)?;
        if best {
            crate::checkpoint::save(&dir.join(BEST_FILE), &state)?;
        }
        let all = checkpoints(&dir);
        let excess = all
            .len()
            .saturating_sub(self.config.keep_checkpoints as usize);
        for (_, old) in all.into_iter().take(excess) {
            std::fs::remove_file(&old).map_err(|e| file_error(&old, e))?;
        }
        Ok(path)
    }

    /// The shape of `n` samples.
    fn shape(&self, n: usize) -> PhraseShape {
        PhraseShape {
            samples: n,
            ..self.data.shape()
        }
    }

    /// The binary samples of the first `n` fixed latents, flattened.
    fn fixed_samples(&self, n: i64) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < n {
            let len = EVAL_CHUNK.min(n - start);
            let z = self.fixed_z.f_narrow(0, start, len)?;
            let x = self.gan.samples(&z)?.f_flatten(0, -1)?;
            out.extend(Vec::<u8>::try_from(&x)?);
            start += len;
        }
        Ok(out)
    }

    /// Evaluates the fixed latents' samples against the training data; returns whether they
    /// are the best so far.
    fn evaluate(&mut self) -> Result<bool, Error> {
        let n = self.config.eval_samples as usize;
        let cells = self.fixed_samples(n as i64)?;
        let view = PhraseView::new(&cells, self.shape(n), self.data.is_drum())?;
        let report = evaluate(&view, &MetricsConfig::default())?;
        let mut record =
            json!({"kind": "eval", "step": self.step, "stage": self.gan.stage().name()});
        let mut score = 0.0;
        let mut pairs = Vec::new();
        for metric in EVAL_METRICS {
            let value = report.get(metric).map_or(f64::NAN, |s| s.aggregate);
            let target = self
                .data_report
                .get(metric)
                .map_or(f64::NAN, |s| s.aggregate);
            pairs.push((metric.abbreviation().to_string(), value, target));
            score += (value - target).abs() / target.abs().max(0.05);
        }
        let td = (
            report.tonal_distance.aggregate,
            self.data_report.tonal_distance.aggregate,
        );
        pairs.push(("TD".into(), td.0, td.1));
        for (name, value, _) in &pairs {
            record[name.as_str()] = finite_or_null(*value);
        }
        // NaN (a metric with nothing to measure) is never the best.
        let score = if score.is_finite() {
            score
        } else {
            f64::INFINITY
        };
        record["score"] = finite_or_null(score);
        self.record(&record)?;
        let text: Vec<String> = pairs
            .iter()
            .map(|(name, v, t)| format!("{name} {v:.3} (data {t:.3})"))
            .collect();
        self.log(&format!("eval: {}; score {score:.3}", text.join(", ")))?;
        self.last_eval = Some(report);
        self.curves()?;
        let best = score < self.best;
        if best {
            self.best = score;
        }
        Ok(best)
    }

    /// Draws `curves.png` from `metrics.jsonl`: the losses, the gradient penalty, the Wasserstein
    /// estimate, and each evaluated metric with the training data's value as a dashed line.
    fn curves(&self) -> Result<(), Error> {
        let records: Vec<serde_json::Value> = std::fs::read_to_string(self.dir.join(METRICS_FILE))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let series = |kind: &str, key: &str, name: &str| Series {
            name: name.into(),
            points: records
                .iter()
                .filter(|r| r["kind"] == kind)
                .filter_map(|r| {
                    let x = r["step"].as_u64()? as f64;
                    Some((x, r[key].as_f64().unwrap_or(f64::NAN)))
                })
                .collect(),
        };
        let panel = |title: &str, series: Vec<Series>, reference: Option<(String, f64)>| Panel {
            title: title.into(),
            y_label: String::new(),
            series,
            reference,
        };
        let mut panels = vec![
            panel(
                "losses",
                vec![
                    series("train", "d_loss", "critic"),
                    series("train", "g_loss", "generator"),
                ],
                None,
            ),
            panel(
                "Wasserstein estimate",
                vec![series("train", "wasserstein", "D(real) − D(fake)")],
                None,
            ),
            panel("gradient penalty", vec![series("train", "gp", "GP")], None),
        ];
        for metric in EVAL_METRICS {
            let name = metric.abbreviation();
            let target = self
                .data_report
                .get(metric)
                .map_or(f64::NAN, |s| s.aggregate);
            panels.push(panel(
                name,
                vec![series("eval", name, "samples")],
                Some(("training data".into(), target)),
            ));
        }
        let td = self.data_report.tonal_distance.aggregate;
        panels.push(panel(
            "TD",
            vec![series("eval", "TD", "samples")],
            Some(("training data".into(), td)),
        ));
        let options = ChartOptions {
            width: 1200,
            panel_height: 260,
            columns: 2,
        };
        chart::write_png(
            &self.dir.join(CURVES_FILE),
            &panels,
            "generator step",
            &options,
        )?;
        Ok(())
    }

    /// The track descriptions of the data.
    fn tracks(&self) -> &[TrackInfo] {
        &self.data.manifest().tracks
    }

    /// Writes the sample sheet of the current step: a PNG grid and one MIDI file playing the
    /// samples one after another, a bar of rest between them.
    fn samples(&self) -> Result<(), Error> {
        let n = self.config.sample_count as usize;
        let cells = self.fixed_samples(n as i64)?;
        let shape = self.shape(n);
        let items = (0..n)
            .map(|i| {
                let song = phrase_multitrack(&cells, shape, i, self.tracks(), self.config.tempo)?;
                Ok((format!("#{i}"), song))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let columns = (n as f64).sqrt().ceil() as usize;
        let stem = self
            .dir
            .join(SAMPLES_DIR)
            .join(format!("step-{:08}", self.step));
        write_file(
            &stem.with_extension("png"),
            &sheet_png(&items, columns, shape.bars)?,
        )?;
        let midi = chained_midi(&cells, shape, self.tracks(), self.config.tempo, 1)?;
        write_file(&stem.with_extension("mid"), &midi)
    }

    /// Writes `report.md`.
    fn report(&self, outcome: Outcome) -> Result<(), Error> {
        let c = &self.config;
        let mut text = format!(
            "# Training run\n\n- Model: {} tracks × {} bars × {} steps × {} pitches, {} \
             discriminator, refiner: {}\n- Strategy: {}, loss: {}, batch {}, {} critic steps per \
             generator step\n- Data: `{}` ({} training phrases)\n- Steps: {} of {} ({})\n- Time \
             this session: {:.0} s\n\n",
            c.model.tracks,
            c.model.bars,
            c.model.steps_per_bar,
            c.model.pitches,
            match c.model.discriminator {
                crate::DiscriminatorVariant::Proposed => "proposed",
                crate::DiscriminatorVariant::AblatedI => "ablated-I",
                crate::DiscriminatorVariant::AblatedII => "ablated-II",
            },
            c.model.refiner,
            strategy_name(c.strategy),
            loss_name(c),
            c.batch,
            c.n_critic,
            c.data.display(),
            self.batches.indices.len(),
            self.step,
            c.total_steps(),
            match outcome {
                Outcome::Finished => "finished",
                Outcome::Interrupted(_) => "interrupted; continue with --resume",
            },
            self.started.elapsed().as_secs_f64(),
        );
        if let Some(eval) = &self.last_eval {
            let names: Vec<String> = self.tracks().iter().map(|t| t.name.clone()).collect();
            let samples = format!("samples (step {})", self.step);
            text.push_str(&format!(
                "## Metrics of {} samples from fixed latents vs the training data\n\n{}\n",
                c.eval_samples,
                markdown_table(
                    &[("training data", &self.data_report), (&samples, eval)],
                    &names
                )
            ));
        }
        text.push_str(&format!(
            "![curves](curves.png)\n\n![samples](samples/step-{:08}.png)\n\nFiles: `config.toml`, `metrics.jsonl`, \
             `train.log`, `checkpoints/`, `samples/`, `{WEIGHTS_FILE}`.\n",
            self.step
        ));
        write_file(&self.dir.join(REPORT_FILE), text.as_bytes())
    }

    /// Critic updates of generator step `in_stage` of `stage`.
    fn critic_steps(&self, stage: Stage, in_stage: u64) -> u32 {
        match self.config.warmup {
            Some(w)
                if (stage != Stage::Refine && in_stage < w.first)
                    || (w.every > 0 && in_stage.is_multiple_of(w.every)) =>
            {
                w.critic_steps
            }
            _ => self.config.n_critic,
        }
    }

    /// The refiner's slope after `in_stage` generator steps of refiner training.
    fn slope(&self, in_stage: u64) -> f64 {
        self.config.slope(in_stage, self.batches.indices.len())
    }

    /// Reads real batch number `self.drawn` onto the device.
    fn next_real(
        data: &Dataset,
        batches: &mut Batches,
        drawn: &mut u64,
        device: Device,
    ) -> Result<Tensor, Error> {
        let indices = batches.get(*drawn);
        let shape = data.shape();
        let mut cells = vec![0f32; indices.len() * data.phrase_cells()];
        data.read_batch(indices, &mut cells)?;
        *drawn += 1;
        let dims = [
            indices.len() as i64,
            shape.tracks as i64,
            shape.bars as i64,
            shape.steps_per_bar as i64,
            shape.pitches as i64,
        ];
        Ok(Tensor::f_from_slice(&cells)?
            .f_view(dims)?
            .f_to_device(device)?)
    }

    /// Trains until every step is done or `stop` is raised (then a checkpoint is written first).
    ///
    /// # Errors
    /// Any error of training or of writing the run's files; a non-finite loss stops the run with
    /// an error naming the step (the latest checkpoint stays).
    pub fn run(
        &mut self,
        observer: &mut dyn Observer,
        stop: &AtomicBool,
    ) -> Result<Outcome, Error> {
        let total = self.config.total_steps();
        observer.start(self.step, total);
        while self.step < total {
            if stop.load(Ordering::Relaxed) {
                let path = self.checkpoint(false)?;
                self.log(&format!("interrupted; checkpoint {}", path.display()))?;
                observer.message(&format!("interrupted: checkpoint {}", path.display()));
                self.report(Outcome::Interrupted(self.step))?;
                return Ok(Outcome::Interrupted(self.step));
            }
            let (stage, in_stage) = stage_at(&self.config, self.step);
            if stage != self.gan.stage() {
                self.gan.set_stage(stage)?;
                self.log(&format!("stage {}", stage.name()))?;
                observer.message(&format!("stage {}", stage.name()));
            }
            let slope = if stage == Stage::Pretrain {
                1.0
            } else {
                self.slope(in_stage)
            };
            self.gan.set_slope(slope)?;
            let critic_steps = self.critic_steps(stage, in_stage);
            let (data, batches, drawn, device) = (
                &self.data,
                &mut self.batches,
                &mut self.drawn,
                self.gan.device(),
            );
            let losses = self.gan.train_step(self.step, critic_steps, || {
                Self::next_real(data, batches, drawn, device)
            })?;
            self.step += 1;
            if !(losses.d_loss.is_finite() && losses.g_loss.is_finite()) {
                let message = format!(
                    "training diverged at step {} (critic loss {}, generator loss {}); the \
                     latest checkpoint is kept: lower the learning rates and --resume",
                    self.step, losses.d_loss, losses.g_loss
                );
                self.log(&message)?;
                return Err(Error::Config(message));
            }
            self.window.push(losses);
            let report = StepReport {
                step: self.step,
                total,
                stage,
                losses,
                slope,
            };
            observer.step(&report);
            let end = self.step == total;
            if self.step.is_multiple_of(self.config.log_every) || end {
                self.log_losses(stage, slope)?;
            }
            let mut best = false;
            if self.step.is_multiple_of(self.config.eval_every) || end {
                best = self.evaluate()?;
            }
            if self.step.is_multiple_of(self.config.sample_every) || end {
                self.samples()?;
            }
            if self.step.is_multiple_of(self.config.checkpoint_every) || end || best {
                let path = self.checkpoint(best)?;
                observer.message(&format!("checkpoint {}", path.display()));
            }
        }
        self.gan.save_weights(&self.dir.join(WEIGHTS_FILE))?;
        self.log("finished")?;
        self.report(Outcome::Finished)?;
        Ok(Outcome::Finished)
    }

    /// Writes the mean losses of the steps since the last line.
    fn log_losses(&mut self, stage: Stage, slope: f64) -> Result<(), Error> {
        let n = self.window.len().max(1) as f64;
        let mean = |f: fn(&Losses) -> f64| self.window.iter().map(f).sum::<f64>() / n;
        let record = json!({
            "kind": "train",
            "step": self.step,
            "stage": stage.name(),
            "d_loss": mean(|l| l.d_loss),
            "g_loss": mean(|l| l.g_loss),
            "gp": mean(|l| l.gp),
            "wasserstein": mean(|l| l.wasserstein),
            "slope": slope,
            "seconds": self.started.elapsed().as_secs_f64(),
        });
        self.window.clear();
        self.record(&record)
    }
}

/// JSON `null` for a non-finite number (JSON has no NaN).
fn finite_or_null(v: f64) -> serde_json::Value {
    if v.is_finite() {
        json!(v)
    } else {
        serde_json::Value::Null
    }
}

fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::TwoStage => "two-stage",
        Strategy::Joint => "joint",
        Strategy::EndToEnd => "end-to-end",
    }
}

fn loss_name(c: &TrainConfig) -> String {
    match c.loss {
        super::Loss::WganGp => format!("WGAN-GP (λ {})", c.gp_weight),
        super::Loss::NonSaturating if c.gp_weight > 0.0 => {
            format!("non-saturating + GP (λ {})", c.gp_weight)
        }
        super::Loss::NonSaturating => "non-saturating".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_permutations_per_epoch_and_depend_only_on_their_number() {
        let make = || Batches {
            indices: (10..20).collect(),
            batch: 3,
            seed: 5,
            epoch: None,
            order: Vec::new(),
        };
        let mut a = make();
        assert_eq!(a.per_epoch(), 3);
        let mut epoch0: Vec<u32> = (0..3).flat_map(|k| a.get(k).to_vec()).collect();
        assert_ne!(epoch0, (10..19).collect::<Vec<_>>(), "not shuffled");
        epoch0.sort_unstable();
        epoch0.dedup();
        assert_eq!(epoch0.len(), 9, "a batch repeats a phrase within the epoch");
        let later = a.get(7).to_vec();
        let mut b = make();
        assert_eq!(b.get(7), later.as_slice());
        let fourth = b.get(4).to_vec();
        assert_ne!(b.get(1), fourth.as_slice());
    }
}
