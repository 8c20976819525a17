//! `museroll`: the command-line program. Each subcommand parses its arguments and calls the
//! library; all the work lives in the `museroll-core` and `museroll-models` crates.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use museroll_core::io::{self, Format, ReadOptions};
use museroll_core::plot::{self, PlotOptions};
use museroll_core::summary::Summary;
use museroll_core::{Multitrack, Resolution};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use museroll_app_models::DeviceChoice;

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
    /// Bring a run written by an older museroll (before model families) to the current layout,
    /// in place: its config gains the run's music and a [model] section, its weights their
    /// inference state. It then generates exactly as before.
    Migrate {
        /// The run directory.
        run: PathBuf,
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

fn parse_resolution(s: &str) -> std::result::Result<Resolution, String> {
    let n: u32 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number"))?;
    Resolution::new(n).map_err(|e| e.to_string())
}

impl Timing {
    /// Reads `path` on this time grid.
    fn read(&self, path: &Path) -> Result<(Multitrack, Format)> {
        let options = ReadOptions {
            resolution: self.resolution.unwrap_or_default(),
        };
        let (mut multitrack, format) = io::read_file(path, &options)?;
        if let Some(resolution) = self.resolution {
            multitrack.set_resolution(resolution);
        }
        Ok((multitrack, format))
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { file, json, timing } => {
            let (multitrack, format) = timing.read(&file)?;
            let summary = Summary::of(&multitrack);
            if json {
                let value =
                    serde_json::json!({ "file": file, "format": format, "summary": summary });
                emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
            } else {
                emit(&format!(
                    "file:       {} ({})\n{summary}",
                    file.display(),
                    format.name()
                ))?;
            }
        }
        Command::Convert {
            input,
            output,
            timing,
        } => {
            io::output_format(&output, &io::WRITABLE)?;
            let (multitrack, _) = timing.read(&input)?;
            io::write_file(&multitrack, &output)?;
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
            io::output_format(&output, &[Format::Png])?;
            let (mut multitrack, _) = timing.read(&input)?;
            select_bars(&mut multitrack, from_bar, bars, &input)?;
            let options = PlotOptions {
                width,
                lane_height,
                ..PlotOptions::default()
            };
            let image = plot::render(&multitrack, &options)
                .with_context(|| format!("drawing {}", input.display()))?;
            io::write_atomic(&output, &plot::encode_png(&image)?)?;
            eprintln!("wrote {}", output.display());
        }
        Command::Render(args) => render::run(&args)?,
        Command::Data(command) => data::run(command)?,
        Command::Eval {
            samples,
            reference,
            options,
        } => data::eval(&samples, &reference, &options)?,
        Command::Train(args) => train::run(&args)?,
        Command::Generate(args) => generate::run(&args)?,
        Command::Migrate { run } => {
            let done = museroll_app_models::train::migrate(&run)?;
            if done.is_empty() {
                eprintln!("{}: already in the current layout", run.display());
            }
            for line in done {
                eprintln!("{line}");
            }
        }
        Command::Model { preset, json } => {
            let summary = museroll_app_models::model_summary(&preset)?;
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

/// Keeps bars `from_bar .. from_bar + bars` of `multitrack`.
fn select_bars(
    multitrack: &mut Multitrack,
    from_bar: usize,
    bars: Option<usize>,
    input: &Path,
) -> Result<()> {
    if bars == Some(0) {
        bail!("--bars must be at least 1");
    }
    if from_bar == 0 && bars.is_none() {
        return Ok(());
    }
    let downbeats = multitrack.downbeat_steps();
    let Some(&start) = downbeats.get(from_bar) else {
        bail!(
            "{}: bar {from_bar} does not exist ({} bars)",
            input.display(),
            downbeats.len()
        );
    };
    let end = bars
        .and_then(|n| downbeats.get(from_bar + n).copied())
        .unwrap_or(multitrack.len());
    multitrack.trim(start, end);
    Ok(())
}

/// The command line, or the exit: help and version print as clap writes them; any other
/// problem with the arguments is one line (`museroll: invalid value 'x' for '--binarize …':
/// unknown binarization 'x' (expected ht, bs or refiner)`) and exit code 1, like every other bad
/// input.
fn parse() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    Cli::try_parse().map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        _ => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            eprintln!("museroll: {}", line.strip_prefix("error: ").unwrap_or(line));
            ExitCode::FAILURE
        }
    })
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("museroll: {error:#}");
            ExitCode::FAILURE
        }
    }
}
