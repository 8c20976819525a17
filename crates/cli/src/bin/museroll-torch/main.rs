//! `museroll-torch`: the commands that run a neural network (`train`, `generate`, `model`,
//! `migrate`), on libtorch. `museroll` names these commands and hands them over (by exec), so
//! only they pay for loading libtorch. Their grammar lives here, typed by the model libraries'
//! choices; the work is in `museroll-app-models`.

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use museroll_app_models::DeviceChoice;
use museroll_cli::neural::{GENERATE_ABOUT, MIGRATE_ABOUT, MODEL_ABOUT, TRAIN_ABOUT};
use museroll_cli::{emit, exit, parse};
use std::path::PathBuf;
use std::process::ExitCode;

mod generate;
mod train;

/// The neural commands of `museroll`.
#[derive(Parser)]
#[command(name = "museroll", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(about = TRAIN_ABOUT)]
    /// See `TRAIN_ABOUT`.
    Train(train::TrainArgs),
    #[command(about = GENERATE_ABOUT)]
    /// See `GENERATE_ABOUT`.
    Generate(generate::GenerateArgs),
    #[command(about = MODEL_ABOUT)]
    /// See `MODEL_ABOUT`.
    Model {
        /// The preset: bmusegan (the paper, 4×96×84×8), chorale (CPU, 4×16×48×4), tiny, musegan
        /// (temporal hybrid, 4×48×84×5), chorale-hybrid (temporal hybrid, 4×16×48×4) or
        /// tiny-hybrid.
        #[arg(long, default_value = "chorale")]
        preset: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    #[command(about = MIGRATE_ABOUT)]
    /// See `MIGRATE_ABOUT`.
    Migrate {
        /// The run directory.
        run: PathBuf,
    },
}

/// Where the libtorch commands compute (`train`, `generate`).
#[derive(Args)]
struct Compute {
    /// Where to compute: cpu, cuda or auto (a GPU if there is one).
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// CPU threads of libtorch (default: all cores).
    #[arg(long)]
    threads: Option<i32>,
}

impl Compute {
    /// Resolves the device and sets libtorch's thread count; returns both.
    fn start(&self) -> Result<(tch::Device, i32)> {
        Ok(museroll_app_models::compute(self.device, self.threads)?)
    }
}

fn main() -> ExitCode {
    match parse::<Cli>() {
        Ok(cli) => exit(run(cli.command)),
        Err(code) => code,
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Model { preset, json } => {
            let summary = museroll_app_models::model_summary(&preset)?;
            if json {
                emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))
            } else {
                emit(&summary.to_string())
            }
        }
        Command::Migrate { run } => {
            let done = museroll_app_models::train::migrate(&run)?;
            if done.is_empty() {
                eprintln!("{}: already in the current layout", run.display());
            }
            for line in done {
                eprintln!("{line}");
            }
            Ok(())
        }
    }
}
