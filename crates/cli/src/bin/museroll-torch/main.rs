//! `museroll-torch`: the commands that run a neural network (`train`, `generate`, `model`), on
//! libtorch. `museroll` parses the command line and hands these commands over (by exec), so only
//! they pay for loading libtorch; given another command, this program runs it as `museroll` does.

use anyhow::{bail, Result};
use museroll_app::render;
use museroll_cli::emit;
use museroll_cli::neural::{Compute, Neural};
use std::process::ExitCode;

mod generate;
mod train;

fn main() -> ExitCode {
    museroll_cli::main(run)
}

fn run(command: Neural) -> Result<()> {
    match command {
        Neural::Train(args) => train::run(&args),
        Neural::Generate(args) => generate::run(&args),
        Neural::Model { preset, json } => {
            let config = museroll_models::BinaryMuseGanConfig::preset(&preset)?;
            let summary = museroll_models::summary(&config)?;
            if json {
                emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))
            } else {
                emit(&summary.to_string())
            }
        }
    }
}

/// Starting libtorch for a command's [`Compute`] options (a trait because `Compute` is defined in
/// the `museroll_cli` library, which must not name libtorch).
trait Start {
    /// Resolves the device and sets libtorch's thread count; returns both.
    fn start(&self) -> Result<(tch::Device, i32)>;
}

impl Start for Compute {
    fn start(&self) -> Result<(tch::Device, i32)> {
        let device = museroll_models::device(self.device.parse()?)?;
        let threads = match self.threads {
            Some(n) if n >= 1 => n,
            Some(n) => bail!("--threads {n}: at least 1"),
            None => std::thread::available_parallelism().map_or(1, |n| n.get() as i32),
        };
        tch::set_num_threads(threads);
        Ok((device, threads))
    }
}
