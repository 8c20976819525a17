//! The arguments of the neural commands (`train`, `generate`, `model`), which `museroll-torch`
//! runs. Only their grammar lives here, so that `museroll` parses and documents them (`museroll
//! train --help`) without linking libtorch; types of `museroll-models` cannot appear in it.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The commands that run a neural network (on libtorch, in `museroll-torch`).
#[derive(Subcommand)]
pub enum Neural {
    /// Train a GAN on a dataset into a run directory (config, checkpoints, logs, samples,
    /// curves, report); --resume continues an interrupted run exactly.
    Train(TrainArgs),
    /// Generate samples from a trained run: MIDI, pictures, an .npz and their metrics vs the
    /// training data; optionally an interpolation between two latents.
    Generate(GenerateArgs),
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

/// Where the libtorch commands compute (`train`, `generate`).
#[derive(Args)]
pub struct Compute {
    /// Where to compute: cpu, cuda or auto (a GPU if there is one).
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// CPU threads of libtorch (default: all cores).
    #[arg(long)]
    pub threads: Option<i32>,
}

/// Options of `museroll train`.
#[derive(Args)]
pub struct TrainArgs {
    /// The run directory (created; with --resume, the run to continue).
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run in --out from its latest checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// The dataset (`museroll data build`). Not needed with --resume.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The model preset (see `museroll model`).
    #[arg(long, default_value = "chorale")]
    pub preset: String,
    /// A TOML file with a whole training config (as a run's config.toml) to start from instead
    /// of the preset's defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Generator steps of stage 1 (of the whole run for end-to-end).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Generator steps of the refiner stage (two-stage, joint).
    #[arg(long)]
    pub refiner_steps: Option<u64>,
    /// Training strategy: two-stage, joint or end-to-end.
    #[arg(long)]
    pub strategy: Option<String>,
    /// Adversarial loss: wgan-gp or non-saturating.
    #[arg(long)]
    pub loss: Option<String>,
    /// Phrases per batch.
    #[arg(long)]
    pub batch: Option<u32>,
    /// Critic updates per generator update.
    #[arg(long)]
    pub n_critic: Option<u32>,
    /// Learning rate of both optimisers.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of every random draw.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Any other setting as KEY=VALUE in the config's TOML names, e.g. `--set gp_weight=5`,
    /// `--set model.discriminator="ablated-i"`, `--set warmup.critic_steps=100` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    #[command(flatten)]
    pub compute: Compute,
}

/// Options of `museroll generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// The training run (the directory `museroll train --out` made).
    #[arg(long)]
    pub run: PathBuf,
    /// The weights: a checkpoint file, `best` or `latest` (default: the run's
    /// model.safetensors, else its latest checkpoint).
    #[arg(long)]
    pub checkpoint: Option<String>,
    /// Number of samples (1 to 256).
    #[arg(long, default_value_t = 16)]
    pub n: usize,
    /// Seed of the latents and of every random draw: the same seed gives the same samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The output directory, created (written whole, or not at all).
    #[arg(long)]
    pub out: PathBuf,
    /// How G's output becomes notes: ht (threshold at 0.5), bs (Bernoulli sampling) or refiner
    /// (default: refiner when the run trained one, else ht).
    #[arg(long)]
    pub binarize: Option<String>,
    /// Also walk from the latent of --seed to that of --seed + 1: lerp (straight line) or slerp
    /// (great circle).
    #[arg(long)]
    pub interpolate: Option<String>,
    /// Phrases of the walk, its two ends included (2 to 64; default 8).
    #[arg(long)]
    pub steps: Option<usize>,
    /// With --interpolate on a temporal (MuseGAN) model: also a grid of --steps × --steps
    /// phrases, rows moving one group of latents and columns the other: inter-intra
    /// (inter-track vs intra-track; hybrid models) or fixed-temporal (time-independent vs
    /// time-dependent; any temporal model). Writes grid.png and grid.mid.
    #[arg(long)]
    pub grid: Option<String>,
    /// Bars of each sample (default: one phrase, the model's bars). Longer pieces need a
    /// temporal (MuseGAN) model: it keeps the piece's time-independent latents and continues
    /// the bar sequence phrase by phrase.
    #[arg(long)]
    pub bars: Option<usize>,
    /// For --bars beyond a phrase: correlation (0 ≤ r < 1) of each phrase's time-dependent
    /// latents with the previous phrase's; 0 makes independent phrases, higher values phrases
    /// that vary less.
    #[arg(long, default_value_t = 0.0)]
    pub continuity: f64,
    /// Replace an --out that holds the files of an earlier generate (and nothing else).
    #[arg(long)]
    pub force: bool,
    /// Also play every sample (and the interpolation) into a .wav with a SoundFont.
    #[arg(long)]
    pub audio: bool,
    /// The SoundFont of --audio (default: pretty_midi's TimGM6mb.sf2 in the project's .venv).
    #[arg(long)]
    pub soundfont: Option<PathBuf>,
    #[command(flatten)]
    pub compute: Compute,
}
