//! `museroll train`: a training run from the command line, with a progress bar and Ctrl-C
//! handling (the first Ctrl-C finishes the step and writes a checkpoint, a second one exits at
//! once).

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use museroll_app_models::engine::{Observer, Outcome, StepReport};
use museroll_app_models::families::bmusegan::{Loss, Strategy};
use museroll_app_models::train::{prepare, Overrides, Start, TrainRequest};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Options of `museroll train`.
#[derive(Args)]
pub struct TrainArgs {
    /// The run directory (created; with --resume, the run to continue).
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in --out from its latest checkpoint.
    #[arg(long)]
    resume: bool,
    /// The dataset (`museroll data build`). Not needed with --resume.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The model preset (see `museroll model`).
    #[arg(long, default_value = "chorale")]
    preset: String,
    /// A TOML file with a whole run config (as a run's config.toml) to start from instead of
    /// the preset's defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Steps of stage 1 (of the whole run for end-to-end).
    #[arg(long)]
    steps: Option<u64>,
    /// Generator steps of the refiner stage (two-stage, joint).
    #[arg(long)]
    refiner_steps: Option<u64>,
    /// Training strategy: two-stage, joint or end-to-end.
    #[arg(long)]
    strategy: Option<Strategy>,
    /// Adversarial loss: wgan-gp or non-saturating.
    #[arg(long)]
    loss: Option<Loss>,
    /// Phrases per batch.
    #[arg(long)]
    batch: Option<u32>,
    /// Critic updates per generator update.
    #[arg(long)]
    n_critic: Option<u32>,
    /// Learning rate of both optimisers.
    #[arg(long)]
    lr: Option<f64>,
    /// Seed of every random draw.
    #[arg(long)]
    seed: Option<u64>,
    /// Any other setting as KEY=VALUE in the config's TOML names, e.g. `--set
    /// model.gp_weight=5`, `--set model.networks.discriminator="ablated-i"`, `--set
    /// model.warmup.critic_steps=100` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    #[command(flatten)]
    compute: crate::Compute,
}

impl TrainArgs {
    /// The use case's request.
    fn request(&self) -> Result<TrainRequest> {
        let start = match (self.resume, &self.config, &self.data) {
            (true, Some(_), _) | (true, _, Some(_)) => {
                let flag = if self.data.is_some() {
                    "--data"
                } else {
                    "--config"
                };
                bail!(
                    "{flag} starts a new run; --resume continues {} as configured",
                    self.out.display()
                );
            }
            (true, None, None) => Start::Resume,
            (false, Some(path), data) => Start::Config {
                path: path.clone(),
                data: data.clone(),
            },
            (false, None, Some(data)) => Start::Preset {
                preset: self.preset.clone(),
                data: data.clone(),
            },
            (false, None, None) => {
                bail!("--data DATASET is needed for a new run (or --resume to continue one)")
            }
        };
        let settings = self
            .sets
            .iter()
            .map(|set| match set.split_once('=') {
                Some((key, value)) => Ok((key.trim().to_owned(), value.trim().to_owned())),
                None => bail!("--set {set}: expected KEY=VALUE"),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TrainRequest {
            out: self.out.clone(),
            start,
            settings,
            overrides: Overrides {
                steps: self.steps,
                refiner_steps: self.refiner_steps,
                strategy: self.strategy,
                loss: self.loss,
                batch: self.batch,
                n_critic: self.n_critic,
                lr: self.lr,
                seed: self.seed,
            },
        })
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
        let values: Vec<String> = r
            .losses
            .values
            .iter()
            .map(|(key, value)| format!("{key} {value:.3}"))
            .collect();
        self.bar
            .set_message(format!("{} {}", r.losses.phase, values.join(" ")));
    }

    fn message(&mut self, text: &str) {
        self.bar.suspend(|| eprintln!("{text}"));
    }
}

/// Runs `museroll train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let request = args.request()?;
    let (device, threads) = args.compute.start()?;
    let mut trainer = prepare(&request, device)?;

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
    let p = &trainer.config().music.phrase;
    eprintln!(
        "training a {}×{}×{}×{} model ({}) on {} with {threads} thread(s) into {}",
        p.tracks,
        p.bars,
        p.steps_per_bar,
        p.pitches,
        trainer.describe(),
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
