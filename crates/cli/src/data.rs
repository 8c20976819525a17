//! `museroll data …` and `museroll eval`: datasets from music files, their statistics, and the
//! comparison of samples with a dataset (the work is in `museroll_app::data` and `::eval`).

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use museroll_app::data::{self, BuildRequest, MetricsTable};
use museroll_app::Progress;
use museroll_core::dataset::{SkippedFile, Split, MANIFEST_FILE};
use std::path::{Path, PathBuf};

/// `museroll data …`
#[derive(Subcommand)]
pub enum DataCommand {
    /// Build a dataset of fixed-size phrases from MIDI, MusicXML and .npz files (directories are
    /// searched recursively). Without inputs: the Bach chorales of music21's corpus in the
    /// project's venv, with the chorale settings (SATB, 4 bars × 16 steps × 48 pitches).
    Build(BuildArgs),
    /// Show a dataset's manifest: shape, tracks, split, counts, skipped files.
    Info {
        /// The dataset directory.
        dir: PathBuf,
    },
    /// The objective metrics of a dataset (Markdown table; JSON with --json).
    Stats {
        /// The dataset directory.
        dir: PathBuf,
        #[command(flatten)]
        eval: EvalOptions,
    },
    /// Turn a MuseGAN training array (sparse `shape` + `nonzero` .npz, or dense .npy) into a dataset.
    ImportMusegan {
        /// The array file.
        file: PathBuf,
        /// The dataset directory to create.
        #[arg(long)]
        out: PathBuf,
        /// A TOML file of import settings (tracks, resolution, lowest_pitch, phrases_per_song,
        /// validation_fraction, seed).
        #[arg(long)]
        options: Option<PathBuf>,
    },
}

/// Arguments of `museroll data build`.
#[derive(Args, Clone)]
pub struct BuildArgs {
    /// Files or directories to read.
    inputs: Vec<PathBuf>,
    /// The dataset directory to create (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// A TOML file of build settings (every field of the manifest's `options`); the flags below
    /// override it.
    #[arg(long)]
    options: Option<PathBuf>,
    /// Track layout: lpd5, bmusegan8, satb, piano, `parts:NAME,NAME…`, or explicit
    /// `Name[@program]=programs` groups (see the README).
    #[arg(long)]
    tracks: Option<String>,
    /// Bars per phrase.
    #[arg(long)]
    bars: Option<usize>,
    /// Time steps per beat.
    #[arg(long)]
    steps_per_beat: Option<u32>,
    /// MIDI number of the lowest pitch column (a C).
    #[arg(long)]
    lowest_pitch: Option<u8>,
    /// Number of pitch columns.
    #[arg(long)]
    pitches: Option<usize>,
    /// Take a window every this many bars.
    #[arg(long, conflicts_with = "random")]
    hop: Option<usize>,
    /// Take this many random windows per song (seeded) instead.
    #[arg(long)]
    random: Option<usize>,
    /// Transposition augmentation, e.g. `-5..6` (every semitone from −5 to +6) or `0`.
    #[arg(long, allow_hyphen_values = true)]
    transpose: Option<String>,
    /// Share of the songs set aside for validation.
    #[arg(long, allow_negative_numbers = true)]
    validation: Option<f64>,
    /// Seed of the random windows and the split.
    #[arg(long)]
    seed: Option<u64>,
    /// List the skipped files one per line as they are met (otherwise they are counted by
    /// reason; the manifest lists them either way).
    #[arg(long)]
    verbose: bool,
}

/// Which phrases of a dataset to measure.
#[derive(Clone, Copy, ValueEnum)]
pub enum SplitChoice {
    /// The training phrases.
    Train,
    /// The validation phrases.
    Validation,
    /// Every phrase.
    All,
}

impl SplitChoice {
    fn split(self) -> Option<Split> {
        match self {
            SplitChoice::Train => Some(Split::Train),
            SplitChoice::Validation => Some(Split::Validation),
            SplitChoice::All => None,
        }
    }
}

/// Options shared by `data stats` and `eval`.
#[derive(Args)]
pub struct EvalOptions {
    /// Which phrases of the dataset(s) to measure.
    #[arg(long, value_enum, default_value = "train")]
    split: SplitChoice,
    /// A TOML file of metric settings (thresholds, scale, chroma, TD pairs).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Also write the full reports as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

impl EvalOptions {
    /// Writes `table` as JSON when asked, then prints it (in that order, so a run whose JSON
    /// cannot be written prints no table as if it had succeeded).
    fn report(&self, table: &MetricsTable) -> Result<()> {
        if let Some(path) = &self.json {
            museroll_core::io::write_atomic(path, &table.to_json()?)?;
            eprintln!("wrote {}", path.display());
        }
        crate::emit(&table.markdown())
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal); skipped files are reported
/// as they come, above the bar, when `list_skipped`.
struct Bar {
    bar: ProgressBar,
    list_skipped: bool,
}

impl Bar {
    fn new(unit: &str, list_skipped: bool) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let template = format!("{{bar:40}} {{pos}}/{{len}} {unit} {{per_sec}} ETA {{eta}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        Bar { bar, list_skipped }
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.bar.set_length(total);
    }
    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
    fn skipped(&self, file: &SkippedFile) {
        if self.list_skipped {
            self.bar
                .suspend(|| eprintln!("skipped {}: {}", file.path, file.message));
        }
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl From<&BuildArgs> for BuildRequest {
    fn from(args: &BuildArgs) -> BuildRequest {
        let args = args.clone();
        BuildRequest {
            inputs: args.inputs,
            out: args.out,
            options: args.options,
            tracks: args.tracks,
            bars: args.bars,
            steps_per_beat: args.steps_per_beat,
            lowest_pitch: args.lowest_pitch,
            pitches: args.pitches,
            hop: args.hop,
            random: args.random,
            transpose: args.transpose,
            validation: args.validation,
            seed: args.seed,
        }
    }
}

/// Runs `museroll data …`.
pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Build(args) => {
            let report = data::build(&(&args).into(), &Bar::new("files", args.verbose))?;
            crate::emit(&report.manifest.summary())?;
            if report.manifest.stats.skipped.total() > 0 && !args.verbose {
                // The summary counts them by reason; say where each one is named.
                eprintln!(
                    "the list of skipped files is in {} (--verbose lists them as they are met)",
                    report.dir.join(MANIFEST_FILE).display()
                );
            }
            eprintln!("wrote {}", report.dir.display());
        }
        DataCommand::Info { dir } => crate::emit(&data::info(&dir)?.summary())?,
        DataCommand::Stats { dir, eval } => {
            let table = data::stats(&dir, eval.split.split(), eval.metrics.as_deref())?;
            eval.report(&table)?;
        }
        DataCommand::ImportMusegan { file, out, options } => {
            let report =
                data::import_musegan(&file, &out, options.as_deref(), &Bar::new("phrases", true))?;
            crate::emit(&report.manifest.summary())?;
            eprintln!("wrote {}", report.dir.display());
        }
    }
    Ok(())
}

/// Runs `museroll eval SAMPLES --reference DATASET` (see `museroll_app::eval::eval`).
pub fn eval(samples: &Path, reference: &Path, options: &EvalOptions) -> Result<()> {
    let table = museroll_app::eval::eval(
        samples,
        reference,
        options.split.split(),
        options.metrics.as_deref(),
        // The temporary dataset goes away: its skipped files are named now or never.
        &Bar::new("files", true),
    )?;
    options.report(&table)
}
