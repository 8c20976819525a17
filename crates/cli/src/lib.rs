//! The `museroll` command line, shared by its two programs: the whole command-line grammar
//! ([`Cli`]) and the commands that run no neural network, as thin adapters over `museroll-app`.
//!
//! `museroll` (src/main.rs) links no libtorch, so it starts in milliseconds; it hands `train`,
//! `generate` and `model` to `museroll-torch` (src/bin/museroll-torch), installed next to it.
//! Nothing in this library may name `tch` or `museroll-models`: rustc loads (and links) a
//! dependency only where code names it, and that is what keeps libtorch out of `museroll`.

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use museroll_app::music::{self, PlotRequest};
use museroll_core::plot::PlotOptions;
use museroll_core::Resolution;
use std::path::PathBuf;
use std::process::ExitCode;

pub mod data;
pub mod neural;
pub mod render;

/// Image-based symbolic music generation: multitrack piano-rolls, GANs, metrics, MIDI, images, audio.
#[derive(Parser)]
#[command(name = "museroll", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command of `museroll`.
#[derive(Subcommand)]
pub enum Command {
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
    // `train`, `generate` and `model`: listed after the others, as their place in the enum.
    #[command(flatten)]
    Neural(neural::Neural),
}

/// Time-grid options shared by the subcommands that read music.
#[derive(Args)]
pub struct Timing {
    /// Time steps per beat (quarter note). MIDI and MusicXML are read at this resolution
    /// (default 24); .npz files keep their own unless it is given.
    #[arg(long, value_parser = parse_resolution)]
    pub resolution: Option<Resolution>,
}

fn parse_resolution(s: &str) -> std::result::Result<Resolution, String> {
    let n: u32 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number"))?;
    Resolution::new(n).map_err(|e| e.to_string())
}

/// Parses the command line and runs it: the commands without a neural network here, the neural
/// ones by `neural`. Errors are printed as one line after `museroll: `, with exit code 1.
pub fn main(neural: impl FnOnce(neural::Neural) -> Result<()>) -> ExitCode {
    let cli = match parse::<Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    exit(run(cli.command, neural))
}

/// The command line, or the exit: help and version print as clap writes them; any other
/// problem with the arguments is one line (`museroll: invalid value 'x' for '--binarize …':
/// unknown binarization 'x' (expected ht, bs or refiner)`) and exit code 1, like every other bad
/// input.
///
/// # Errors
/// The exit code when the program is to end.
pub fn parse<P: Parser>() -> std::result::Result<P, ExitCode> {
    use clap::error::ErrorKind;
    P::try_parse().map_err(|e| match e.kind() {
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

/// The exit code of a command's result, its error printed as one line after `museroll: `.
pub fn exit(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("museroll: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, neural: impl FnOnce(neural::Neural) -> Result<()>) -> Result<()> {
    match command {
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
        Command::Neural(command) => neural(command)?,
    }
    Ok(())
}

/// Writes `text` to standard output. A reader that went away (`museroll info … | head`) is not
/// an error: the output was wanted only that far.
pub fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
