//! `museroll data …` and `museroll eval`: datasets from music files, their statistics, and the
//! comparison of samples with a dataset.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use museroll_core::dataset::{
    self, BuildOptions, Dataset, ImportOptions, Layout, Manifest, Origin, Progress, SkippedFile,
    Split, Windows, MANIFEST_FILE,
};
use museroll_core::metrics::{markdown_table, MetricsConfig, MetricsReport};
use museroll_core::venv;
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
#[derive(Args)]
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
    fn config(&self) -> Result<MetricsConfig> {
        match &self.metrics {
            None => Ok(MetricsConfig::default()),
            Some(path) => read_toml(path),
        }
    }

    /// Writes `columns` as JSON when asked, then prints their table (in that order, so a run
    /// whose JSON cannot be written prints no table as if it had succeeded).
    fn report(&self, columns: &[(&str, &MetricsReport)], manifest: &Manifest) -> Result<()> {
        let names: Vec<String> = manifest.tracks.iter().map(|t| t.name.clone()).collect();
        if let Some(path) = &self.json {
            let map: serde_json::Map<String, serde_json::Value> = columns
                .iter()
                .map(|(name, report)| Ok((name.to_string(), serde_json::to_value(report)?)))
                .collect::<Result<_>>()?;
            let bytes =
                serde_json::to_vec_pretty(&serde_json::json!({ "tracks": names, "reports": map }))?;
            museroll_core::io::write_atomic(path, &bytes)?;
            eprintln!("wrote {}", path.display());
        }
        crate::emit(&markdown_table(columns, &names))
    }
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))
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

impl BuildArgs {
    /// The settings: the defaults (the chorale settings when no input is named), then the
    /// options file, then the flags.
    fn options(&self) -> Result<BuildOptions> {
        let mut o = match (&self.options, self.inputs.is_empty()) {
            (Some(path), _) => read_toml(path)?,
            (None, true) => BuildOptions::chorales(),
            (None, false) => BuildOptions::default(),
        };
        if let Some(tracks) = &self.tracks {
            o.tracks = tracks.parse::<Layout>()?;
        }
        if let Some(bars) = self.bars {
            o.bars = bars;
        }
        if let Some(steps) = self.steps_per_beat {
            o.steps_per_beat = museroll_core::Resolution::new(steps)?;
        }
        if let Some(lowest) = self.lowest_pitch {
            o.lowest_pitch = museroll_core::Pitch::try_from(lowest)?;
        }
        if let Some(pitches) = self.pitches {
            o.pitches = pitches;
        }
        if let Some(hop) = self.hop {
            o.windows = Windows::Hop(hop);
        }
        if let Some(n) = self.random {
            o.windows = Windows::Random(n);
        }
        if let Some(spec) = &self.transpose {
            o.transpositions = parse_transpositions(spec)?;
        }
        if let Some(fraction) = self.validation {
            o.validation_fraction = fraction;
        }
        if let Some(seed) = self.seed {
            o.seed = seed;
        }
        match &self.options {
            // A bad value may come from the file: name it.
            Some(path) => o
                .validate()
                .with_context(|| format!("{} (with the flags)", path.display()))?,
            None => o.validate()?,
        }
        Ok(o)
    }
}

/// `-5..6` → −5, −4, …, 6 (both ends included, as musicians count); `3` → 3; `0,7` → 0, 7.
fn parse_transpositions(spec: &str) -> Result<Vec<i8>> {
    let number = |s: &str| -> Result<i8> {
        s.trim()
            .parse()
            .with_context(|| format!("--transpose: '{s}' is not a number of semitones"))
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    bail!("--transpose: the range {a}..{b} is empty");
                }
                out.extend(a..=b);
            }
            None => out.push(number(part)?),
        }
    }
    Ok(out)
}

/// Runs `museroll data …`.
pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Build(args) => {
            let options = args.options()?;
            let inputs = if args.inputs.is_empty() {
                vec![venv::find(venv::search_roots(), venv::BACH_CORPUS)
                    .context("no inputs given and music21's Bach corpus was not found in the project's .venv (run ./setup.sh)")?]
            } else {
                args.inputs.clone()
            };
            let progress = Bar::new("files", args.verbose);
            let report = dataset::build(&inputs, &args.out, &options, &progress)?;
            let skipped = &report.manifest.stats.skipped;
            if report.manifest.phrases == 0 {
                // An empty dataset only fails later, in training; say so now and leave nothing.
                std::fs::remove_dir_all(&report.dir)
                    .with_context(|| report.dir.display().to_string())?;
                bail!(
                    "{}: no phrase could be cut from the inputs ({skipped}{})",
                    args.out.display(),
                    if args.verbose {
                        ""
                    } else {
                        "; --verbose lists them"
                    }
                );
            }
            crate::emit(&report.manifest.summary())?;
            if skipped.total() > 0 && !args.verbose {
                // The summary counts them by reason; say where each one is named.
                eprintln!(
                    "the list of skipped files is in {}",
                    report.dir.join(MANIFEST_FILE).display()
                );
            }
            eprintln!("wrote {}", report.dir.display());
        }
        DataCommand::Info { dir } => crate::emit(&Manifest::read(&dir)?.summary())?,
        DataCommand::Stats { dir, eval } => {
            let ds = Dataset::open(&dir)?;
            require_phrases(&ds, eval.split.split(), &dir)?;
            let report = dataset::dataset_metrics(&ds, eval.split.split(), &eval.config()?)?;
            eval.report(&[("dataset", &report)], ds.manifest())?;
        }
        DataCommand::ImportMusegan { file, out, options } => {
            let options: ImportOptions = match options {
                Some(path) => read_toml(&path)?,
                None => ImportOptions::default(),
            };
            let report =
                dataset::import_musegan(&file, &out, &options, &Bar::new("phrases", true))?;
            crate::emit(&report.manifest.summary())?;
            eprintln!("wrote {}", report.dir.display());
        }
    }
    Ok(())
}

/// Refuses to measure an empty selection: a table of dashes would look like a result.
fn require_phrases(ds: &Dataset, split: Option<Split>, name: &Path) -> Result<()> {
    if ds.indices(split).is_empty() {
        let which = match split {
            Some(Split::Train) => "the training split",
            Some(Split::Validation) => "the validation split",
            None => "the dataset",
        };
        bail!(
            "{}: no phrases to measure ({which} is empty)",
            name.display()
        );
    }
    Ok(())
}

/// Runs `museroll eval SAMPLES --reference DATASET`: SAMPLES is a dataset directory, or music
/// files (a file or a directory of MIDI / MusicXML / .npz) cut into phrases with the reference's
/// own settings (every window, no content filter, no augmentation) in a temporary dataset.
pub fn eval(samples: &Path, reference: &Path, options: &EvalOptions) -> Result<()> {
    let reference = Dataset::open(reference)?;
    let config = options.config()?;
    require_phrases(&reference, options.split.split(), reference.dir())?;
    let data_report = dataset::dataset_metrics(&reference, options.split.split(), &config)?;
    let scratch;
    let samples_ds = if samples.join(dataset::MANIFEST_FILE).is_file() {
        Dataset::open(samples)?
    } else {
        let Origin::Build {
            options: reference_options,
            ..
        } = &reference.manifest().origin
        else {
            bail!(
                "{}: the reference was imported from an array, so music files cannot be cut like it; pass a dataset",
                reference.dir().display()
            );
        };
        let build = BuildOptions {
            windows: Windows::Hop(reference_options.bars),
            min_content: Vec::new(),
            min_nonempty_tracks: 0,
            transpositions: vec![0],
            validation_fraction: 0.0,
            ..reference_options.clone()
        };
        scratch = tempfile::tempdir().context("creating a temporary directory")?;
        let dir = scratch.path().join("samples");
        // The temporary dataset goes away: its skipped files are named now or never.
        dataset::build(
            &[samples.to_path_buf()],
            &dir,
            &build,
            &Bar::new("files", true),
        )?;
        Dataset::open(&dir)?
    };
    require_phrases(&samples_ds, None, samples)?;
    let (ours, theirs) = (samples_ds.manifest(), reference.manifest());
    let shape = |m: &Manifest| {
        let s = &m.shape;
        format!(
            "{} tracks × {} bars × {} steps × {} pitches from {}",
            s.tracks, s.bars, s.steps_per_bar, s.pitches, m.lowest_pitch
        )
    };
    if shape(ours) != shape(theirs) {
        bail!(
            "{}: phrases of {} differ from the reference's {}",
            samples.display(),
            shape(ours),
            shape(theirs)
        );
    }
    // The table compares track by track, so the tracks must be the same instruments.
    if let Some((a, b)) = ours
        .tracks
        .iter()
        .zip(&theirs.tracks)
        .find(|(a, b)| a.is_drum != b.is_drum || a.name != b.name)
    {
        bail!(
            "{}: track '{}' stands where the reference has '{}'",
            samples.display(),
            a.name,
            b.name
        );
    }
    let sample_report = dataset::dataset_metrics(&samples_ds, None, &config)?;
    options.report(
        &[("training data", &data_report), ("samples", &sample_report)],
        reference.manifest(),
    )
}
