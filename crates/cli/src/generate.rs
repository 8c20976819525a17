//! `museroll generate`: samples of a trained run as MIDI files, pictures, one pypianoroll
//! `.npz` and a metrics table against the training data (the work is in
//! `museroll_models::generate`).

use anyhow::{bail, Result};
use clap::Args;
use museroll_core::synth::RenderOptions;
use museroll_models::generate::{Binarize, GenerateOptions, Interpolation, LatentGrid, Run};
use std::path::PathBuf;

/// Options of `museroll generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// The training run (the directory `museroll train --out` made).
    #[arg(long)]
    run: PathBuf,
    /// The weights: a checkpoint file, `best` or `latest` (default: the run's
    /// model.safetensors, else its latest checkpoint).
    #[arg(long)]
    checkpoint: Option<String>,
    /// Number of samples (1 to 256).
    #[arg(long, default_value_t = 16)]
    n: usize,
    /// Seed of the latents and of every random draw: the same seed gives the same samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The output directory, created (written whole, or not at all).
    #[arg(long)]
    out: PathBuf,
    /// How G's output becomes notes: ht (threshold at 0.5), bs (Bernoulli sampling) or refiner
    /// (default: refiner when the run trained one, else ht).
    #[arg(long)]
    binarize: Option<String>,
    /// Also walk from the latent of --seed to that of --seed + 1: lerp (straight line) or slerp
    /// (great circle).
    #[arg(long)]
    interpolate: Option<String>,
    /// Phrases of the walk, its two ends included (2 to 64; default 8).
    #[arg(long)]
    steps: Option<usize>,
    /// With --interpolate on a temporal (MuseGAN) model: also a grid of --steps × --steps
    /// phrases, rows moving one group of latents and columns the other: inter-intra
    /// (inter-track vs intra-track; hybrid models) or fixed-temporal (time-independent vs
    /// time-dependent; any temporal model). Writes grid.png and grid.mid.
    #[arg(long)]
    grid: Option<String>,
    /// Bars of each sample (default: one phrase, the model's bars). Longer pieces need a
    /// temporal (MuseGAN) model: it keeps the piece's time-independent latents and continues
    /// the bar sequence phrase by phrase.
    #[arg(long)]
    bars: Option<usize>,
    /// For --bars beyond a phrase: correlation (0 ≤ r < 1) of each phrase's time-dependent
    /// latents with the previous phrase's; 0 makes independent phrases, higher values phrases
    /// that vary less.
    #[arg(long, default_value_t = 0.0)]
    continuity: f64,
    /// Replace an --out that holds the files of an earlier generate (and nothing else).
    #[arg(long)]
    force: bool,
    /// Also play every sample (and the interpolation) into a .wav with a SoundFont.
    #[arg(long)]
    audio: bool,
    /// The SoundFont of --audio (default: pretty_midi's TimGM6mb.sf2 in the project's .venv).
    #[arg(long)]
    soundfont: Option<PathBuf>,
    #[command(flatten)]
    compute: crate::Compute,
}

/// Steps of an interpolation when --steps is not given.
const DEFAULT_STEPS: usize = 8;

impl GenerateArgs {
    /// The library's options, checked before the run is opened.
    fn options(&self) -> Result<GenerateOptions> {
        let interpolation = match (&self.interpolate, self.steps) {
            (Some(kind), steps) => Some((
                kind.parse::<Interpolation>()?,
                steps.unwrap_or(DEFAULT_STEPS),
            )),
            (None, Some(_)) => bail!("--steps sets the steps of --interpolate lerp|slerp"),
            (None, None) => None,
        };
        let options = GenerateOptions {
            binarize: self
                .binarize
                .as_deref()
                .map(str::parse::<Binarize>)
                .transpose()?,
            bars: self.bars,
            continuity: self.continuity,
            interpolation,
            grid: self
                .grid
                .as_deref()
                .map(str::parse::<LatentGrid>)
                .transpose()?,
            force: self.force,
            ..GenerateOptions::new(self.n, self.seed)
        };
        options.validate()?;
        Ok(options)
    }
}

/// Runs `museroll generate`.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let options = args.options()?;
    let (device, _) = args.compute.start()?;
    let run = Run::open(&args.run, args.checkpoint.as_deref(), device)?;
    // Find the SoundFont before any work, so a missing one fails fast.
    let soundfont = match args.audio {
        true => Some(crate::render::soundfont(args.soundfont.as_deref())?),
        false => None,
    };
    let generated = run.generate(&options, &args.out)?;
    if let Some((soundfont, path)) = &soundfont {
        let mut midis: Vec<PathBuf> = std::fs::read_dir(&generated.dir)?
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "mid"))
            .collect();
        midis.sort();
        // Previews at 22.05 kHz (11 kHz of bandwidth), half the work of 44.1 kHz: `museroll
        // render` makes full-rate files.
        let options = RenderOptions {
            sample_rate: 22_050,
            ..RenderOptions::default()
        };
        let pieces = midis
            .iter()
            .map(|midi| Ok(museroll_core::io::read_file(midi, &Default::default())?.0))
            .collect::<Result<Vec<_>>>()?;
        let wavs: Vec<PathBuf> = midis.iter().map(|m| m.with_extension("wav")).collect();
        let jobs: Vec<_> = pieces
            .iter()
            .zip(&midis)
            .zip(&wavs)
            .map(|((m, midi), wav)| (m, midi.as_path(), wav.as_path()))
            .collect();
        crate::render::render_to(&jobs, soundfont, path, &options)?;
        eprintln!(
            "played {} MIDI files into .wav with {}",
            midis.len(),
            path.display()
        );
    }
    for note in &generated.notes {
        eprintln!("note: {note}");
    }
    crate::emit(&generated.table)?;
    let n = options.n;
    let last = n - 1;
    let mut walk = match options.interpolation {
        Some((_, steps)) => {
            format!(", interpolation.{{mid,png}}, interpolation-NN.{{mid,png}} ({steps} steps)")
        }
        None => String::new(),
    };
    if let (Some(grid), Some((_, steps))) = (options.grid, options.interpolation) {
        walk.push_str(&format!(", grid.{{mid,png}} ({grid}, {steps} × {steps})"));
    }
    eprintln!(
        "wrote {n} samples of {} bars ({} binarization, weights {}) to {}: \
         sample-00…{last:02}.{{mid,png}}, samples.png, samples.npz, metrics.md, metrics.json{walk}",
        options.bars.unwrap_or(run.phrase_bars()),
        generated.binarize,
        run.weights().display(),
        generated.dir.display(),
    );
    Ok(())
}
