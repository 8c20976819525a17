//! `museroll generate`: samples of a trained run as MIDI files, pictures, one pypianoroll
//! `.npz` and a metrics table against the training data (the work is in
//! `museroll_app_models::generate`).

use anyhow::{bail, Result};
use clap::Args;
use museroll_app_models::engine::Weights;
use museroll_app_models::families::open_run;
use museroll_app_models::generate::{add_audio, generate, GenerateOptions, Walk};
use museroll_app_models::sample::{Binarize, Interpolation, LatentGrid, SampleRequest};
use museroll_app_models::sink::write_dir;
use std::path::PathBuf;

/// Options of `museroll generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// The training run (the directory `museroll train --out` made).
    #[arg(long)]
    run: PathBuf,
    /// The weights: final (the run's model.safetensors, else its latest checkpoint), latest,
    /// best, or a checkpoint file (./best for a file named best).
    #[arg(long, default_value = "final")]
    checkpoint: Weights,
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
    binarize: Option<Binarize>,
    /// Also walk from the latent of --seed to that of --seed + 1: lerp (straight line) or slerp
    /// (great circle).
    #[arg(long)]
    interpolate: Option<Interpolation>,
    /// Phrases of the walk, its two ends included (2 to 64; default 8).
    #[arg(long)]
    steps: Option<usize>,
    /// With --interpolate on a temporal (MuseGAN) model: also a grid of --steps × --steps
    /// phrases, rows moving one group of latents and columns the other: inter-intra
    /// (inter-track vs intra-track; hybrid models) or fixed-temporal (time-independent vs
    /// time-dependent; any temporal model). Writes grid.png and grid.mid.
    #[arg(long)]
    grid: Option<LatentGrid>,
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
    /// The use case's options, checked before the run is opened.
    fn options(&self) -> Result<GenerateOptions> {
        let walk = match (self.interpolate, self.steps) {
            (Some(kind), steps) => Some(Walk {
                kind,
                steps: steps.unwrap_or(DEFAULT_STEPS),
                grid: self.grid,
            }),
            (None, Some(_)) => bail!("--steps sets the steps of --interpolate lerp|slerp"),
            (None, None) => None,
        };
        if let (None, Some(grid)) = (walk, self.grid) {
            bail!("a {grid} grid needs an interpolation (lerp or slerp) to walk its axes");
        }
        let request = SampleRequest {
            binarize: self.binarize,
            bars: self.bars,
            continuity: self.continuity,
            ..SampleRequest::new(self.n, self.seed)
        };
        request.validate()?;
        Ok(GenerateOptions { request, walk })
    }
}

/// Runs `museroll generate`.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let options = args.options()?;
    let (device, _) = args.compute.start()?;
    let run = open_run(&args.run, &args.checkpoint, device)?;
    // Find the SoundFont before any work, so a missing one fails fast.
    let soundfont = match args.audio {
        true => Some(museroll_app::render::soundfont(args.soundfont.as_deref())?),
        false => None,
    };
    let mut generated = generate(&run, &options)?;
    if let Some((soundfont, path)) = &soundfont {
        let count = add_audio(&mut generated, soundfont)?;
        eprintln!(
            "played {count} pieces into .wav (beside their .mid) with {}",
            path.display()
        );
    }
    write_dir(&args.out, &generated.files, args.force)?;
    for note in &generated.notes {
        eprintln!("note: {note}");
    }
    museroll_cli::emit(&generated.table)?;
    let n = options.request.n;
    let last = n - 1;
    let mut walk = String::new();
    if let Some(w) = options.walk {
        match w.grid {
            None => walk.push_str(&format!(
                ", interpolation.{{mid,png}}, interpolation-NN.{{mid,png}} ({} steps)",
                w.steps
            )),
            Some(grid) => walk.push_str(&format!(
                ", grid.{{mid,png}} ({grid}, {} × {})",
                w.steps, w.steps
            )),
        }
    }
    eprintln!(
        "wrote {n} samples of {} bars ({} binarization, weights {}) to {}: \
         sample-00…{last:02}.{{mid,png}}, samples.png, samples.npz, metrics.md, metrics.json{walk}",
        generated.samples.shape.bars,
        generated.samples.binarize,
        run.weights.display(),
        args.out.display(),
    );
    Ok(())
}
