//! `museroll train`: a training run from the command line, with a progress bar and Ctrl-C
//! handling (the first Ctrl-C finishes the step and writes a checkpoint, a second one exits at
//! once).

use crate::Start;
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use museroll_cli::neural::TrainArgs;
use museroll_models::train::{Observer, Outcome, StepReport, Strategy, TrainConfig, Trainer};
use museroll_models::BinaryMuseGanConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Sets `key` (dotted) of `table` to `value` (TOML syntax; a bare word is taken as a string).
fn set_key(table: &mut toml::Table, key: &str, value: &str) -> Result<()> {
    let parsed: toml::Value = match format!("v = {value}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .context("unreachable: the key was just written")?,
        Err(_) => toml::Value::String(value.to_owned()),
    };
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|k| !k.is_empty());
    let Some(last) = last else {
        bail!("--set {key}={value}: empty key");
    };
    let mut current = table;
    for part in parts {
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(t) => t,
            _ => bail!("--set {key}={value}: '{part}' is not a table of the config"),
        };
    }
    current.insert(last.to_owned(), parsed);
    Ok(())
}

/// `TrainArgs`' methods here: its definition lives in the `museroll_cli` library, which must not
/// name `museroll-models`.
trait TrainArgsExt {
    fn apply(&self, config: &mut TrainConfig) -> Result<()>;
    fn new_run_settings(&self) -> Option<&'static str>;
}

impl TrainArgsExt for TrainArgs {
    /// Applies the command-line settings to `config`.
    fn apply(&self, config: &mut TrainConfig) -> Result<()> {
        let mut table = toml::Table::try_from(&*config)?;
        let mut put = |key: &str, value: toml::Value| {
            table.insert(key.to_owned(), value);
        };
        if let Some(v) = self.steps {
            put("steps", toml::Value::Integer(i64::try_from(v)?));
        }
        if let Some(v) = self.refiner_steps {
            put("refiner_steps", toml::Value::Integer(i64::try_from(v)?));
        }
        if let Some(v) = &self.strategy {
            put("strategy", toml::Value::String(v.clone()));
        }
        if let Some(v) = &self.loss {
            put("loss", toml::Value::String(v.clone()));
        }
        if let Some(v) = self.batch {
            put("batch", toml::Value::Integer(v.into()));
        }
        if let Some(v) = self.n_critic {
            put("n_critic", toml::Value::Integer(v.into()));
        }
        if let Some(v) = self.seed {
            put("seed", toml::Value::Integer(i64::try_from(v)?));
        }
        if let Some(lr) = self.lr {
            for opt in ["generator_optimizer", "discriminator_optimizer"] {
                set_key(&mut table, &format!("{opt}.lr"), &lr.to_string())?;
            }
        }
        for set in &self.sets {
            let Some((key, value)) = set.split_once('=') else {
                bail!("--set {set}: expected KEY=VALUE");
            };
            set_key(&mut table, key.trim(), value.trim())?;
        }
        *config = table
            .try_into()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("{}", e.message().replace('\n', " ")))?;
        config.validate()?;
        Ok(())
    }

    /// Whether a setting that only a new run can take was given with --resume.
    fn new_run_settings(&self) -> Option<&'static str> {
        if self.data.is_some() {
            Some("--data")
        } else if self.config.is_some() {
            Some("--config")
        } else {
            None
        }
    }
}

/// The progress bar of a run.
struct Progress {
    bar: ProgressBar,
}

impl Observer for Progress {
    fn start(&mut self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
        self.bar.reset_eta();
    }

    fn step(&mut self, r: &StepReport) {
        self.bar.set_position(r.step);
        self.bar.set_message(format!(
            "{} D {:.3} G {:.3} W {:.3} GP {:.3}",
            r.stage.name(),
            r.losses.d_loss,
            r.losses.g_loss,
            r.losses.wasserstein,
            r.losses.gp
        ));
    }

    fn message(&mut self, text: &str) {
        self.bar.suspend(|| eprintln!("{text}"));
    }
}

/// Runs `museroll train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let (device, threads) = args.compute.start()?;
    let mut trainer = if args.resume {
        if let Some(flag) = args.new_run_settings() {
            bail!(
                "{flag} starts a new run; --resume continues {} as configured",
                args.out.display()
            );
        }
        let mut edit_error = None;
        let trainer = Trainer::resume(&args.out, device, |config| {
            if let Err(e) = args.apply(config) {
                edit_error = Some(e);
            }
        });
        if let Some(e) = edit_error {
            return Err(e);
        }
        trainer?
    } else {
        let mut config = match &args.config {
            Some(path) => TrainConfig::read(path)?,
            None => {
                let Some(data) = &args.data else {
                    bail!("--data DATASET is needed for a new run (or --resume to continue one)");
                };
                TrainConfig::new(BinaryMuseGanConfig::preset(&args.preset)?, data.clone())
            }
        };
        if let (Some(data), Some(_)) = (&args.data, &args.config) {
            config.data = data.clone();
        }
        args.apply(&mut config)?;
        Trainer::create(config, &args.out, device)?
    };

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nmuseroll: interrupted again, exiting without a checkpoint");
            std::process::exit(130);
        }
        eprintln!(
            "\nmuseroll: finishing the step and writing a checkpoint (Ctrl-C again to quit now)"
        );
    })
    .context("installing the Ctrl-C handler")?;

    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let template = "{bar:30} {pos}/{len} steps {per_sec} ETA {eta} {msg}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    let config = trainer.config();
    let m = &config.model;
    eprintln!(
        "training a {}×{}×{}×{} model ({} strategy) on {} with {threads} thread(s) into {}",
        m.tracks,
        m.bars,
        m.steps_per_bar,
        m.pitches,
        match config.strategy {
            Strategy::TwoStage => "two-stage",
            Strategy::Joint => "joint",
            Strategy::EndToEnd => "end-to-end",
        },
        if device.is_cuda() { "CUDA" } else { "the CPU" },
        args.out.display()
    );
    let mut progress = Progress { bar };
    let outcome = trainer.run(&mut progress, &stop)?;
    progress.bar.finish_and_clear();
    match outcome {
        Outcome::Finished => eprintln!(
            "finished {} steps: {} (report.md, curves.png, samples/, model.safetensors)",
            trainer.step(),
            args.out.display()
        ),
        Outcome::Interrupted(step) => {
            eprintln!(
                "stopped at step {step}; continue with: museroll train --out {} --resume",
                args.out.display()
            );
            std::process::exit(130);
        }
    }
    Ok(())
}
