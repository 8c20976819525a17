//! `museroll`: the command-line program. Each subcommand parses its arguments and calls the
//! libraries; all the work lives in the `museroll-app` (the use cases without a network),
//! `museroll-core` and `museroll-models` crates.

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use museroll_app::music::{self, PlotRequest};
use museroll_core::plot::PlotOptions;
use museroll_core::Resolution;
use std::path::PathBuf;
use std::process::ExitCode;

mod data;
mod generate;
mod render;
mod train;

/// Image-based symbolic music generation: multitrack piano-rolls, GANs, metrics, MIDI, images, audio.
#[derive(Parser)]
#[command(name = "museroll", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a file's format, resolution, length, tempo, meter and tracks.
    Info {
        /// A MIDI, MusicXML (.musicxml/.xml/.mxl) or pypianoroll .npz file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        timing: Timing,
    },
    /// Convert between formats, chosen by extension: any readable file to .mid, .npz or .png.
    Convert {
        /// Input file (MIDI, MusicXML, .mxl or .npz).
        input: PathBuf,
        /// Output file (.mid, .npz or .png).
        output: PathBuf,
        #[command(flatten)]
        timing: Timing,
    },
    /// Draw a file's piano-roll as a PNG: one lane per track, bars and beats marked.
    Plot {
        /// Input file (MIDI, MusicXML, .mxl or .npz).
        input: PathBuf,
        /// Output picture (.png).
        output: PathBuf,
        #[command(flatten)]
        timing: Timing,
        /// First bar to draw (0-based).
        #[arg(long, default_value_t = 0)]
        from_bar: usize,
        /// Number of bars to draw (default: to the end).
        #[arg(long)]
        bars: Option<usize>,
        /// Maximum picture width in pixels.
        #[arg(long)]
        width: Option<u32>,
        /// Height of each track's lane in pixels.
        #[arg(long)]
        lane_height: Option<u32>,
    },
    /// Play a file with a SoundFont synthesizer into a .wav file (16-bit stereo, peak at -1 dBFS).
    Render(render::RenderArgs),
    /// Datasets: build one from music files, show it, measure it, import MuseGAN arrays.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Compare samples with a dataset on the objective metrics (the BinaryMuseGAN paper's
    /// Table 1 form: training data vs samples, aggregate and per track).
    Eval {
        /// A dataset directory, or music files (a file or directory of MIDI / MusicXML / .npz).
        samples: PathBuf,
        /// The dataset to compare with.
        #[arg(long)]
        reference: PathBuf,
        #[command(flatten)]
        options: data::EvalOptions,
    },
    /// Train a GAN on a dataset into a run directory (config, checkpoints, logs, samples,
    /// curves, report); --resume continues an interrupted run exactly.
    Train(train::TrainArgs),
    /// Generate samples from a trained run: MIDI, pictures, an .npz and their metrics vs the
    /// training data; optionally an interpolation between two latents.
    Generate(generate::GenerateArgs),
    /// Show a model's architecture (layers, output shapes, parameters) without training.
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
}

/// Time-grid options shared by the subcommands that read music.
#[derive(Args)]
struct Timing {
    /// Time steps per beat (quarter note). MIDI and MusicXML are read at this resolution
    /// (default 24); .npz files keep their own unless it is given.
    #[arg(long, value_parser = parse_resolution)]
    resolution: Option<Resolution>,
}

/// Where the libtorch commands compute (`train`, `generate`).
#[derive(Args)]
struct Compute {
    /// Where to compute: cpu, cuda or auto (a GPU if there is one).
    #[arg(long, default_value = "auto")]
    device: String,
    /// CPU threads of libtorch (default: all cores).
    #[arg(long)]
    threads: Option<i32>,
}

impl Compute {
    /// Resolves the device and sets libtorch's thread count; returns both.
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

fn parse_resolution(s: &str) -> std::result::Result<Resolution, String> {
    let n: u32 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number"))?;
    Resolution::new(n).map_err(|e| e.to_string())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { file, json, timing } => {
            let info = music::info(&file, timing.resolution)?;
            if json {
                // Through a `Value`, whose keys are sorted: the output's order since the start.
                let value = serde_json::to_value(&info)?;
                emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
            } else {
                emit(&format!(
                    "file:       {} ({})\n{}",
                    file.display(),
                    info.format.name(),
                    info.summary
                ))?;
            }
        }
        Command::Convert {
            input,
            output,
            timing,
        } => {
            music::convert(&input, &output, timing.resolution)?;
            eprintln!("wrote {}", output.display());
        }
        Command::Plot {
            input,
            output,
            timing,
            from_bar,
            bars,
            width,
            lane_height,
        } => {
            let request = PlotRequest {
                resolution: timing.resolution,
                from_bar,
                bars,
                options: PlotOptions {
                    width,
                    lane_height,
                    ..PlotOptions::default()
                },
            };
            music::plot(&input, &output, &request)?;
            eprintln!("wrote {}", output.display());
        }
        Command::Render(args) => render::run(args)?,
        Command::Data(command) => data::run(command)?,
        Command::Eval {
            samples,
            reference,
            options,
        } => data::eval(&samples, &reference, &options)?,
        Command::Train(args) => train::run(&args)?,
        Command::Generate(args) => generate::run(&args)?,
        Command::Model { preset, json } => {
            let config = museroll_models::BinaryMuseGanConfig::preset(&preset)?;
            let summary = museroll_models::summary(&config)?;
            if json {
                emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
            } else {
                emit(&summary.to_string())?;
            }
        }
    }
    Ok(())
}

/// Writes `text` to standard output. A reader that went away (`museroll info … | head`) is not
/// an error: the output was wanted only that far.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("museroll: {error:#}");
            ExitCode::FAILURE
        }
    }
}
