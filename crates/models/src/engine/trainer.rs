//! The training loop every family runs in: data, cadence, files, checkpoints, resume.
//!
//! Policies:
//!
//! - **The run directory** (see [`super::run`]) is written as training goes: every file
//!   atomically (a temporary file renamed into place); `metrics.jsonl` is appended line by line
//!   and, on resume, cut back to the checkpoint's step so that it reads as one uninterrupted run.
//! - **Batches** come from a per-epoch permutation of the training split seeded by (seed,
//!   epoch), the last incomplete batch dropped: batch `k` depends only on `k`, so a resumed run
//!   draws the same batches. The family's step seeds its own draws from (seed, step), which
//!   makes an interrupted and resumed run equal the uninterrupted one bit for bit on the CPU.
//! - **Cadence.** Every `log_every` steps the mean losses since the last line; every
//!   `eval_every` steps the metrics of the fixed samples vs the training data (and the curves);
//!   every `sample_every` steps a sample sheet; every `checkpoint_every` steps, at the end, on
//!   Ctrl-C and whenever the samples are the closest to the data so far, a checkpoint.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use museroll_core::chart::{self, ChartOptions, Panel, Series};
use museroll_core::dataset::{self, Dataset, Split};
use museroll_core::io::write_atomic;
use museroll_core::metrics::{
    evaluate, markdown_table, Metric, MetricsConfig, MetricsReport, PhraseView,
};
use museroll_core::phrase::{chained_midi, phrase_songs, sheet_png};
use museroll_core::rng::{mix, Rng};
use serde_json::json;
use tch::{Device, Tensor};

use super::checkpoint;
use super::run::{
    checkpoints, latest_checkpoint, RunConfig, CHECKPOINTS_DIR, CONFIG_FILE, CURVES_FILE,
    DATA_METRICS_FILE, LOG_FILE, METRICS_FILE, REPORT_FILE, SAMPLES_DIR, WEIGHTS_FILE,
};
use super::step::{StepLosses, TrainStep};
use super::BEST_FILE;
use crate::Error;

/// The metrics logged at each evaluation and their weight in the "best" score.
const EVAL_METRICS: [Metric; 4] = [
    Metric::EmptyBars,
    Metric::PitchClassesUsed,
    Metric::QualifiedNotes,
    Metric::PolyphonyRate,
];

/// What a run reports after each step.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// Steps done.
    pub step: u64,
    /// Steps of the whole run.
    pub total: u64,
    /// The step's losses and phase.
    pub losses: StepLosses,
}

/// Follows a run: the CLI draws a progress bar from it, the web studio a live view.
pub trait Observer {
    /// The run starts (or resumes) at `done` of `total` steps.
    fn start(&mut self, done: u64, total: u64);
    /// A step is done.
    fn step(&mut self, report: &StepReport);
    /// Something worth telling (a checkpoint, a phase change, an evaluation).
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

/// The stream tag of the batch order.
const BATCH_TAG: u64 = 0x0DA7_A5E7;

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
            Rng::new(mix(self.seed ^ BATCH_TAG) ^ epoch).shuffle(&mut self.order);
            self.epoch = Some(epoch);
        }
        let start = (k % self.per_epoch()) as usize * self.batch;
        &self.order[start..start + self.batch]
    }
}

/// A training run: a family's [`TrainStep`], its data and its directory.
pub struct Trainer {
    config: RunConfig,
    dir: PathBuf,
    step_impl: Box<dyn TrainStep>,
    device: Device,
    data: Dataset,
    batches: Batches,
    /// Real batches drawn so far.
    drawn: u64,
    /// Steps done.
    step: u64,
    /// Lowest evaluation score so far.
    best: f64,
    data_report: MetricsReport,
    last_eval: Option<MetricsReport>,
    started: Instant,
    window: Vec<StepLosses>,
}

/// Writes `bytes` to `path` atomically, naming `path` on failure.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic(path, bytes).map_err(|e| Error::file(path, e))
}

/// Checks that the dataset's phrases are what the run's music says.
///
/// # Errors
/// [`Error::File`] naming the dataset and the first thing that differs.
pub fn check_data(config: &RunConfig, data: &Dataset) -> Result<(), Error> {
    let m = data.manifest();
    let music = &config.music.phrase;
    let mismatch = |what: String| {
        Err(Error::file(
            data.dir(),
            format!("the dataset does not fit the model: {what}"),
        ))
    };
    let have = [
        m.shape.tracks,
        m.shape.bars,
        m.shape.steps_per_bar,
        m.shape.pitches,
    ];
    let wanted = [music.tracks, music.bars, music.steps_per_bar, music.pitches];
    if have != wanted {
        return mismatch(format!(
            "its phrases are tracks × bars × steps × pitches {have:?}, the model makes {wanted:?}"
        ));
    }
    if m.lowest_pitch != music.lowest_pitch {
        return mismatch(format!(
            "its lowest pitch is MIDI {}, the model's {}",
            m.lowest_pitch.number(),
            music.lowest_pitch.number()
        ));
    }
    if m.resolution != music.resolution {
        return mismatch(format!(
            "it has {} steps per beat, the model {}",
            m.resolution.steps(),
            music.resolution.steps()
        ));
    }
    if data.is_drum() != config.music.is_drum().as_slice() {
        return mismatch(format!(
            "its drum tracks are {:?}, the model's {:?}",
            drum_indices(data.is_drum()),
            drum_indices(&config.music.is_drum())
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

/// The indices of the drum tracks.
fn drum_indices(is_drum: &[bool]) -> Vec<usize> {
    (0..)
        .zip(is_drum)
        .filter(|(_, &d)| d)
        .map(|(i, _)| i)
        .collect()
}

impl Trainer {
    /// Starts a new run of `config` in `dir`, which must not exist or be empty, with the
    /// family's `step` built for it on `device`.
    ///
    /// # Errors
    /// [`Error::File`] if `dir` holds something or the dataset does not fit the run;
    /// [`Error::Config`] for a bad config.
    pub fn create(
        config: RunConfig,
        dir: &Path,
        data: Dataset,
        step: Box<dyn TrainStep>,
        device: Device,
    ) -> Result<Self, Error> {
        config.validate()?;
        if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(Error::file(
                dir,
                "already holds files: continue that run with --resume or choose another --out",
            ));
        }
        check_data(&config, &data)?;
        for sub in [CHECKPOINTS_DIR, SAMPLES_DIR] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| Error::file(&dir.join(sub), e))?;
        }
        write_file(&dir.join(CONFIG_FILE), config.to_toml()?.as_bytes())?;
        write_file(&dir.join(METRICS_FILE), b"")?;
        let trainer = Self::open(config, dir, data, step, device)?;
        trainer.log(&format!(
            "new run: {} steps, {}, data {} ({} training phrases)",
            trainer.step_impl.total_steps(),
            trainer.step_impl.describe(),
            trainer.config.data.display(),
            trainer.batches.indices.len()
        ))?;
        Ok(trainer)
    }

    /// Continues the run of `config` in `dir` from its latest checkpoint (from the start if it
    /// has none), with the family's `step` built for it.
    ///
    /// # Errors
    /// [`Error::File`] if the dataset does not fit or the checkpoint does not fit the config.
    pub fn resume(
        config: RunConfig,
        dir: &Path,
        data: Dataset,
        step: Box<dyn TrainStep>,
        device: Device,
    ) -> Result<Self, Error> {
        check_data(&config, &data)?;
        let mut trainer = Self::open(config, dir, data, step, device)?;
        if let Some(path) = latest_checkpoint(dir) {
            let checkpoint = checkpoint::load(&path)?;
            trainer
                .restore(&checkpoint)
                .map_err(|e| Error::file(&path, e))?;
            trainer.log(&format!(
                "resumed from {} at step {}",
                path.display(),
                trainer.step
            ))?;
        }
        trainer.cut_metrics()?;
        Ok(trainer)
    }

    /// The common part of [`Trainer::create`] and [`Trainer::resume`].
    fn open(
        config: RunConfig,
        dir: &Path,
        data: Dataset,
        step_impl: Box<dyn TrainStep>,
        device: Device,
    ) -> Result<Self, Error> {
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
            step_impl,
            device,
            data,
            batches,
            drawn: 0,
            step: 0,
            best: f64::INFINITY,
            data_report,
            last_eval: None,
            started: Instant::now(),
            window: Vec::new(),
        })
    }

    /// Steps done.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Steps of the whole run.
    pub fn total_steps(&self) -> u64 {
        self.step_impl.total_steps()
    }

    /// The run's configuration.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The family's description of the model and its training.
    pub fn describe(&self) -> String {
        self.step_impl.describe()
    }

    /// Appends a line to `train.log`.
    fn log(&self, text: &str) -> Result<(), Error> {
        let path = self.dir.join(LOG_FILE);
        let seconds = self.started.elapsed().as_secs_f64();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::file(&path, e))?;
        writeln!(file, "[{seconds:9.1} s] step {}: {text}", self.step)
            .map_err(|e| Error::file(&path, e))
    }

    /// Appends one record to `metrics.jsonl`.
    fn record(&self, value: &serde_json::Value) -> Result<(), Error> {
        let path = self.dir.join(METRICS_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::file(&path, e))?;
        writeln!(file, "{value}").map_err(|e| Error::file(&path, e))
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

    /// Restores the family's state and the counters from a checkpoint.
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
        self.step_impl.restore(checkpoint, step)?;
        self.step = step;
        self.drawn = drawn;
        self.best = best;
        Ok(())
    }

    /// Writes a checkpoint of the current step, keeping the latest `keep_checkpoints`.
    fn checkpoint(&self, best: bool) -> Result<PathBuf, Error> {
        let dir = self.dir.join(CHECKPOINTS_DIR);
        let mut state = self.step_impl.state();
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        state.push(("state.step".into(), Tensor::from(to_i64(self.step))));
        state.push(("state.drawn".into(), Tensor::from(to_i64(self.drawn))));
        state.push(("state.best".into(), Tensor::from(self.best)));
        let path = dir.join(format!("step-{:08}.safetensors", self.step));
        checkpoint::save(&path, &state)?;
        if best {
            checkpoint::save(&dir.join(BEST_FILE), &state)?;
        }
        let all = checkpoints(&dir);
        let excess = all
            .len()
            .saturating_sub(self.config.keep_checkpoints as usize);
        for (_, old) in all.into_iter().take(excess) {
            std::fs::remove_file(&old).map_err(|e| Error::file(&old, e))?;
        }
        Ok(path)
    }

    /// Evaluates the fixed samples against the training data; returns whether they are the
    /// best so far.
    fn evaluate(&mut self) -> Result<bool, Error> {
        let n = self.config.eval_samples as usize;
        let cells = self.step_impl.fixed_samples(n)?;
        let shape = self.config.music.shape(n, self.config.music.phrase.bars);
        let is_drum = self.config.music.is_drum();
        let report = evaluate(
            &PhraseView::new(&cells, shape, &is_drum)?,
            &MetricsConfig::default(),
        )?;
        let mut record =
            json!({"kind": "eval", "step": self.step, "stage": self.step_impl.phase()});
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

    /// Draws `curves.png` from `metrics.jsonl`: the family's loss panels, and each evaluated
    /// metric with the training data's value as a dashed line.
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
        let mut panels: Vec<Panel> = self
            .step_impl
            .loss_panels()
            .into_iter()
            .map(|p| {
                let curves = p
                    .curves
                    .iter()
                    .map(|(key, legend)| series("train", key, legend))
                    .collect();
                panel(p.title, curves, None)
            })
            .collect();
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
        chart::write_png(&self.dir.join(CURVES_FILE), &panels, "step", &options)?;
        Ok(())
    }

    /// Writes the sample sheet of the current step: a PNG grid and one MIDI file playing the
    /// samples one after another, a bar of rest between them.
    fn samples(&self) -> Result<(), Error> {
        let n = self.config.sample_count as usize;
        let cells = self.step_impl.fixed_samples(n)?;
        let music = &self.config.music;
        let shape = music.shape(n, music.phrase.bars);
        let items: Vec<_> = phrase_songs(&cells, shape, &music.tracks, music.tempo)?
            .into_iter()
            .enumerate()
            .map(|(i, song)| (format!("#{i}"), song))
            .collect();
        let columns = (n as f64).sqrt().ceil() as usize;
        let stem = self
            .dir
            .join(SAMPLES_DIR)
            .join(format!("step-{:08}", self.step));
        write_file(
            &stem.with_extension("png"),
            &sheet_png(&items, columns, shape.bars)?,
        )?;
        let midi = chained_midi(&cells, shape, &music.tracks, music.tempo, 1)?;
        write_file(&stem.with_extension("mid"), &midi)
    }

    /// Writes `report.md`.
    fn report(&self, outcome: Outcome) -> Result<(), Error> {
        let c = &self.config;
        let p = &c.music.phrase;
        let mut text = format!(
            "# Training run\n\n- Model: {} (family {}), {} tracks × {} bars × {} steps × {} \
             pitches\n- Batch {}\n- Data: `{}` ({} training phrases)\n- Steps: {} of {} ({})\n- \
             Time this session: {:.0} s\n\n",
            self.step_impl.describe(),
            c.family()?,
            p.tracks,
            p.bars,
            p.steps_per_bar,
            p.pitches,
            c.batch,
            c.data.display(),
            self.batches.indices.len(),
            self.step,
            self.total_steps(),
            match outcome {
                Outcome::Finished => "finished",
                Outcome::Interrupted(_) => "interrupted; continue with --resume",
            },
            self.started.elapsed().as_secs_f64(),
        );
        if let Some(eval) = &self.last_eval {
            let samples = format!("samples (step {})", self.step);
            text.push_str(&format!(
                "## Metrics of {} samples from fixed latents vs the training data\n\n{}\n",
                c.eval_samples,
                markdown_table(
                    &[("training data", &self.data_report), (&samples, eval)],
                    &c.music.track_names()
                )
            ));
        }
        text.push_str(&format!(
            "![curves](curves.png)\n\n![samples](samples/step-{:08}.png)\n\nFiles: `config.toml`, \
             `metrics.jsonl`, `train.log`, `checkpoints/`, `samples/`, `{WEIGHTS_FILE}`.\n",
            self.step
        ));
        write_file(&self.dir.join(REPORT_FILE), text.as_bytes())
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
        let total = self.total_steps();
        observer.start(self.step, total);
        let mut phase = self.step_impl.phase();
        while self.step < total {
            if stop.load(Ordering::Relaxed) {
                let path = self.checkpoint(false)?;
                self.log(&format!("interrupted; checkpoint {}", path.display()))?;
                observer.message(&format!("interrupted: checkpoint {}", path.display()));
                self.report(Outcome::Interrupted(self.step))?;
                return Ok(Outcome::Interrupted(self.step));
            }
            let (data, batches, drawn, device) =
                (&self.data, &mut self.batches, &mut self.drawn, self.device);
            let losses = self.step_impl.step(self.step, &mut || {
                Self::next_real(data, batches, drawn, device)
            })?;
            if losses.phase != phase {
                phase = losses.phase;
                self.log(&format!("stage {phase}"))?;
                observer.message(&format!("stage {phase}"));
            }
            self.step += 1;
            if let Some((key, value)) = losses.values.iter().find(|(_, v)| !v.is_finite()) {
                let message = format!(
                    "training diverged at step {} ({key} {value}); the latest checkpoint is \
                     kept: lower the learning rates and --resume",
                    self.step
                );
                self.log(&message)?;
                return Err(Error::Config(message));
            }
            observer.step(&StepReport {
                step: self.step,
                total,
                losses: losses.clone(),
            });
            self.window.push(losses);
            let end = self.step == total;
            if self.step.is_multiple_of(self.config.log_every) || end {
                self.log_losses()?;
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
        checkpoint::save(&self.dir.join(WEIGHTS_FILE), &self.step_impl.weights())?;
        self.log("finished")?;
        self.report(Outcome::Finished)?;
        Ok(Outcome::Finished)
    }

    /// Writes the mean values of the steps since the last line.
    fn log_losses(&mut self) -> Result<(), Error> {
        let Some(last) = self.window.last() else {
            return Ok(());
        };
        let n = self.window.len() as f64;
        let mut record = json!({"kind": "train", "step": self.step, "stage": last.phase});
        for (key, _) in &last.values {
            let mean = self.window.iter().filter_map(|l| l.get(key)).sum::<f64>() / n;
            record[*key] = json!(mean);
        }
        record["seconds"] = json!(self.started.elapsed().as_secs_f64());
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
