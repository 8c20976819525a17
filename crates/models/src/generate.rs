//! Music from a trained run (`museroll generate`): latents from a seed, the generator, a
//! binarization, and the files a listener or a reader of tables wants.
//!
//! Policies, and why:
//!
//! - **Weights.** `RUN/model.safetensors` (the final weights) by default, else the latest
//!   `RUN/checkpoints/step-*.safetensors`, so an interrupted run generates too; or a checkpoint
//!   chosen by path, `best` or `latest` (the two words win over files of those names). Weights
//!   that do not fit the run's model are refused with the file and the first tensor named.
//! - **The run, not the dataset.** Track names, programs, drum flags and the resolution come from
//!   the dataset's manifest when it is still there and fits the model; otherwise tracks are named
//!   "Track i" (program 0, drums from `model.drum_tracks`) and a beat is
//!   `steps_per_bar / beats_per_bar` steps, and a note says so. A run stays usable when its
//!   dataset is gone.
//! - **Latents** are N(0, 1), drawn in Rust from the seed (a SplitMix64 counter stream and
//!   Box–Muller), not by libtorch: a seed names the same latents on any device, thread count or
//!   libtorch version. Sample `i` of seed `S` is the `i`-th row of that stream, so row 0 is "the
//!   latent of seed S" whatever the number of samples, and an interpolation from seed `S` to
//!   `S + 1` starts and ends at the first sample of each seed.
//! - **Binarization** of G's probabilities: `ht` thresholds at 0.5 (the paper's hard
//!   thresholding), `bs` keeps a cell with its probability, drawing uniforms from a stream of the
//!   seed (as the latents), `refiner` runs the trained refiner (its deterministic or stochastic
//!   binary neurons; stochastic ones draw from libtorch's generator, seeded from the seed, which
//!   is deterministic on the CPU). The default is `refiner` when the loaded weights include a
//!   trained refiner, else `ht`. The refiner's slope is the one of the last step trained (it
//!   matters for stochastic neurons only: a deterministic neuron fires where its input is > 0).
//! - **Output directory.** Everything is written into `DIR.partial`, renamed to `DIR` at the end:
//!   `DIR` is complete or absent, never half written. A `DIR` that holds files is refused unless
//!   `force`, and even then only when every file in it is one `generate` writes (so a mistyped
//!   `--out ~` never deletes anything). A `DIR.partial` left by an interrupted run is replaced
//!   on the same condition.
//! - **Files.** Per sample `sample-NN.mid` (tracks named, GM programs, drums on channel 10, the
//!   run's tempo) and `sample-NN.png`; `samples.png`, a grid of the first [`GRID_SAMPLES`];
//!   `samples.npz`, every sample chained with no gap as one pypianoroll song (sample `i` is bars
//!   `i·bars .. (i+1)·bars`, exact cells, the cut-back a reader needs is a reshape); `metrics.json`
//!   and `metrics.md`, the samples' metrics vs the training split's (`RUN/data_metrics.json`,
//!   with its metric settings). With an interpolation of `K` steps, also `interpolation-NN.mid`
//!   and `.png` per step, `interpolation.mid` (the steps with a bar of rest between them) and
//!   `interpolation.png` (one row); with a latent grid, `grid.png` (`K × K`) and `grid.mid`
//!   (row by row, a bar of rest after each phrase).
//! - **Longer pieces** (`bars` beyond a phrase) need a temporal generator (MuseGAN's composer,
//!   jamming or hybrid): its bars are made independently from the time-independent latents and
//!   the per-bar latents its temporal generators make from one phrase's time-dependent latents.
//!   A piece of `P` phrases keeps phrase 0's time-independent latents throughout — what a
//!   trained model puts there (instrumentation, register, texture, groove) stays — and gives
//!   each phrase its own time-dependent latents, an AR(1) walk with correlation `continuity`
//!   ([`piece_latents`]), so every phrase is still drawn as in training. The last phrase is cut
//!   to the bars asked for. Limits: training sees single phrases, so nothing is learnt about how
//!   a phrase leads into the next — no cadence plan, no theme that returns, possibly abrupt
//!   joins; a higher `continuity` makes neighbours alike (smoother, but more repetitive). The
//!   refiner, trained on phrases, refines each phrase on its own. The phrase generator
//!   (BinaryMuseGAN) makes one phrase per latent and refuses longer pieces.
//! - **Latent grids** (temporal generators): rows walk one group of latents and columns the
//!   other, both from seed `S` to `S + 1` ([`LatentGrid`], [`Run::grid`]): inter- vs
//!   intra-track (MuseGAN's "what all tracks share" vs "each track's own"; hybrid models) or
//!   time-independent vs time-dependent (any temporal model).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use museroll_core::dataset::{chain_samples, phrase_multitrack, Manifest, TrackInfo};
use museroll_core::io::{write_bytes, Format};
use museroll_core::metrics::{
    evaluate, markdown_table, MetricsConfig, MetricsReport, PhraseShape, PhraseView,
};
use museroll_core::plot::{self, PlotOptions, MAX_SIDE};
use museroll_core::{Multitrack, Pitch, Program, Resolution};
use tch::{Device, Kind, Tensor};

use crate::bmusegan::roll_dims;
use crate::train::{
    latest_checkpoint, mix, stage_at, Gan, Stage, TrainConfig, BEST_FILE, CHECKPOINTS_DIR,
    CONFIG_FILE, DATA_METRICS_FILE, WEIGHTS_FILE,
};
use crate::{BinaryMuseGanConfig, BinaryNeuronKind, Error, GeneratorKind};

/// The most samples one call generates (each is a MIDI file and a picture; together one song
/// in `samples.npz`).
pub const MAX_SAMPLES: usize = 256;
/// The most steps of an interpolation.
pub const MAX_INTERPOLATION_STEPS: usize = 64;
/// The most steps of a side of a latent grid (its phrases are the square of this).
pub const MAX_GRID_STEPS: usize = 16;
/// The most bars of a generated piece.
pub const MAX_BARS: usize = 256;
/// The samples shown in `samples.png`.
pub const GRID_SAMPLES: usize = 64;
/// Latents sent through the networks at once.
const CHUNK: usize = 64;
/// Stream tags: the latents, the `bs` uniforms and libtorch's seed for stochastic neurons draw
/// from unrelated streams of one seed.
const LATENT_TAG: u64 = 0x4C41_5445_4E54;
const BERNOULLI_TAG: u64 = 0x4245_524E;
const REFINER_TAG: u64 = 0x5245_4649;
const PHRASE_TAG: u64 = 0x5048_5241_5345;

/// `name()`, `FromStr` and `Display` of a command-line choice, from its table of names: one
/// parser and one error message ("unknown WHAT 'x' (expected a, b or c)") for every choice.
macro_rules! choice {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every choice, in the order of the help text.
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name on the command line.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl FromStr for $ty {
            type Err = Error;

            /// Parses the name on the command line.
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::ALL.iter().copied().find(|c| c.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
                    let expected = match names.split_last() {
                        Some((last, rest)) if !rest.is_empty() => {
                            format!("{} or {last}", rest.join(", "))
                        }
                        _ => names.join(""),
                    };
                    Error::Usage(format!(
                        "unknown {} '{s}' (expected {expected})",
                        $what
                    ))
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// How G's probabilities become a piano-roll of 0s and 1s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binarize {
    /// `ht`: a cell sounds where its probability is above 0.5.
    Hard,
    /// `bs`: a cell sounds with its probability (Bernoulli sampling, seeded).
    Bernoulli,
    /// `refiner`: the trained refiner's binary neurons on G's output.
    Refiner,
}

choice!(Binarize, "binarization", { Hard => "ht", Bernoulli => "bs", Refiner => "refiner" });

/// A path between two latents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// `lerp`: the straight line `(1 − t)·a + t·b`.
    Lerp,
    /// `slerp`: the great circle, `sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b` with
    /// `Ω = arccos(â·b̂)`; it keeps a Gaussian latent's norm where the line shrinks it towards 0,
    /// a region the generator never saw in training.
    Slerp,
}

choice!(Interpolation, "interpolation", { Lerp => "lerp", Slerp => "slerp" });

impl Interpolation {
    /// The point at `t` (0 at `a`, 1 at `b`) of the path from `a` to `b`.
    ///
    /// # Errors
    /// [`Error::Shape`] if `a` and `b` differ in length.
    pub fn point(self, a: &[f32], b: &[f32], t: f64) -> Result<Vec<f32>, Error> {
        match self {
            Self::Lerp => lerp(a, b, t),
            Self::Slerp => slerp(a, b, t),
        }
    }
}

/// The two groups of a temporal generator's latents that a 2-D interpolation grid walks
/// separately: rows move the first group from seed `S` to seed `S + 1`, columns the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatentGrid {
    /// `inter-intra`: rows the inter-track latents (`shared`, `temporal_shared`: what all
    /// tracks hear), columns the intra-track ones (`private`, `temporal_private`: each track's
    /// own). Hybrid models only: the composer has no intra-track latents, jamming no
    /// inter-track ones.
    InterIntra,
    /// `fixed-temporal`: rows the time-independent latents (`shared`, `private`: style and
    /// grooves), columns the time-dependent ones (`temporal_shared`, `temporal_private`: how
    /// the bars unfold). Any temporal generator.
    FixedTemporal,
}

choice!(LatentGrid, "latent grid", { InterIntra => "inter-intra", FixedTemporal => "fixed-temporal" });

impl LatentGrid {
    /// What the rows and the columns move.
    pub fn groups(self) -> [&'static str; 2] {
        match self {
            Self::InterIntra => ["inter-track", "intra-track"],
            Self::FixedTemporal => ["time-independent", "time-dependent"],
        }
    }
}

fn same_length(a: &[f32], b: &[f32]) -> Result<(), Error> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "latents of {} and {} values cannot be interpolated",
            a.len(),
            b.len()
        )))
    }
}

/// `(1 − t)·a + t·b`, computed in `f64`.
///
/// # Errors
/// [`Error::Shape`] if `a` and `b` differ in length.
///
/// ```
/// let p = museroll_models::generate::lerp(&[0.0, 2.0], &[4.0, 0.0], 0.25)?;
/// assert_eq!(p, [1.0, 1.5]);
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn lerp(a: &[f32], b: &[f32], t: f64) -> Result<Vec<f32>, Error> {
    same_length(a, b)?;
    Ok(a.iter()
        .zip(b)
        .map(|(&x, &y)| ((1.0 - t) * f64::from(x) + t * f64::from(y)) as f32)
        .collect())
}

/// Spherical interpolation `sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b`, `Ω = arccos(â·b̂)`,
/// computed in `f64`. Where `sin Ω` is about 0 (parallel or opposite latents, or a zero one) the
/// great circle is not defined and this is [`lerp`].
///
/// # Errors
/// [`Error::Shape`] if `a` and `b` differ in length.
///
/// ```
/// // Orthogonal unit vectors: the midpoint is (a + b)/√2, still of norm 1.
/// let p = museroll_models::generate::slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5)?;
/// let h = std::f32::consts::FRAC_1_SQRT_2;
/// assert!((p[0] - h).abs() < 1e-6 && (p[1] - h).abs() < 1e-6);
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn slerp(a: &[f32], b: &[f32], t: f64) -> Result<Vec<f32>, Error> {
    same_length(a, b)?;
    let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let cos = dot / (norm(a) * norm(b));
    let omega = cos.clamp(-1.0, 1.0).acos();
    let sin = omega.sin();
    // NaN: a zero latent.
    if sin.is_nan() || sin <= 1e-6 {
        return lerp(a, b, t);
    }
    let (wa, wb) = (((1.0 - t) * omega).sin() / sin, (t * omega).sin() / sin);
    Ok(a.iter()
        .zip(b)
        .map(|(&x, &y)| (wa * f64::from(x) + wb * f64::from(y)) as f32)
        .collect())
}

/// A counter-based pseudo-random stream: value `k` is SplitMix64's mix of `start + k`.
struct Stream(u64);

impl Stream {
    /// The stream of `seed` for the use `tag`; streams of other seeds or tags are unrelated.
    fn new(seed: u64, tag: u64) -> Self {
        Self(mix(mix(seed) ^ tag))
    }

    fn next_u64(&mut self) -> u64 {
        let v = mix(self.0);
        self.0 = self.0.wrapping_add(1);
        v
    }

    /// Uniform in [0, 1), 53 bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// `n` latents of `dim` values, N(0, 1), row after row from the stream of `seed` (Box–Muller
/// on its uniforms): row `i` does not depend on `n`.
///
/// ```
/// use museroll_models::generate::latents;
/// let three = latents(7, 3, 5);
/// assert_eq!(three.len(), 15);
/// assert_eq!(latents(7, 1, 5), three[..5]);
/// assert_ne!(latents(8, 1, 5), three[..5]);
/// ```
pub fn latents(seed: u64, n: usize, dim: usize) -> Vec<f32> {
    normals(&mut Stream::new(seed, LATENT_TAG), n, dim)
}

/// `n` rows of `dim` N(0, 1) values from `stream` (Box–Muller, a pair per two uniforms).
fn normals(stream: &mut Stream, n: usize, dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n.saturating_mul(dim));
    for _ in 0..n {
        let mut row = 0;
        while row < dim {
            let u1 = 1.0 - stream.uniform(); // in (0, 1]: ln is finite
            let angle = std::f64::consts::TAU * stream.uniform();
            let r = (-2.0 * u1.ln()).sqrt();
            out.push((r * angle.cos()) as f32);
            row += 1;
            if row < dim {
                out.push((r * angle.sin()) as f32);
                row += 1;
            }
        }
    }
    out
}

/// The latents of `n` pieces of `phrases` phrases, `[n, phrases, dim]` row-major, for a
/// temporal generator whose flat latent has its `fixed` time-independent entries first.
///
/// Phrase 0 of piece `i` is [`latents`]`(seed, ·, dim)` row `i` — a long piece starts as the
/// one-phrase sample of its seed. Phrase `p ≥ 1` keeps phrase 0's time-independent entries (the
/// generator uses phrase 0's anyway) and draws its time-dependent entries `e` as
/// `ρ·e(p − 1) + √(1 − ρ²)·ε` with `ε` fresh N(0, 1) from a stream of `(seed, p)` and
/// `ρ = continuity`: each phrase's latent is still N(0, 1), as in training, and neighbours
/// are correlated by `ρ` (0: independent phrases; near 1: the same phrase again and again).
/// Row `i` does not depend on `n`, and the first `p` phrases not on `phrases`.
///
/// # Errors
/// [`Error::Usage`] for a continuity outside [0, 1) or `fixed > dim`.
///
/// ```
/// use museroll_models::generate::{latents, piece_latents};
/// let z = piece_latents(3, 2, 4, 6, 2, 0.5)?;
/// assert_eq!(z.len(), 2 * 4 * 6);
/// // Piece 1 starts with the seed's latent 1 and keeps its time-independent entries.
/// assert_eq!(z[24..30], latents(3, 2, 6)[6..]);
/// assert_eq!(z[30..32], z[24..26]);
/// assert_ne!(z[32..36], z[26..30]);
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn piece_latents(
    seed: u64,
    n: usize,
    phrases: usize,
    dim: usize,
    fixed: usize,
    continuity: f64,
) -> Result<Vec<f32>, Error> {
    check_continuity(continuity)?;
    if fixed > dim {
        return Err(Error::Usage(format!(
            "{fixed} time-independent entries in a latent of {dim}"
        )));
    }
    let first = latents(seed, n, dim);
    let fresh: Vec<Vec<f32>> = (1..phrases)
        .map(|p| {
            normals(
                &mut Stream::new(seed, PHRASE_TAG ^ p as u64),
                n,
                dim - fixed,
            )
        })
        .collect();
    let keep = continuity as f32;
    let new = (1.0 - continuity * continuity).sqrt() as f32;
    let mut out = Vec::with_capacity(n * phrases * dim);
    for i in 0..n {
        let row = &first[i * dim..(i + 1) * dim];
        out.extend_from_slice(row);
        let mut previous = row[fixed..].to_vec();
        for eps in &fresh {
            let eps = &eps[i * (dim - fixed)..(i + 1) * (dim - fixed)];
            for (e, &x) in previous.iter_mut().zip(eps) {
                *e = keep * *e + new * x;
            }
            out.extend_from_slice(&row[..fixed]);
            out.extend_from_slice(&previous);
        }
    }
    Ok(out)
}

fn check_continuity(continuity: f64) -> Result<(), Error> {
    if (0.0..1.0).contains(&continuity) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "continuity {continuity}: expected a correlation from 0 (independent phrases) up to \
             but not including 1"
        )))
    }
}

/// The phrases of `cells` (laid out as `shape` says) as multitracks, one per sample.
///
/// # Errors
/// As [`phrase_multitrack`].
pub fn phrases(
    cells: &[u8],
    shape: PhraseShape,
    tracks: &[TrackInfo],
    qpm: f64,
) -> Result<Vec<Multitrack>, Error> {
    (0..shape.samples)
        .map(|i| Ok(phrase_multitrack(cells, shape, i, tracks, qpm)?))
        .collect()
}

/// A sample sheet: `items` (caption, piece of `bars` bars) drawn in a grid of `columns`
/// columns, 100 px per bar (at least 400 per piece) with lanes of 48 px (training runs and
/// `generate` draw their sheets alike).
///
/// # Errors
/// [`Error::Core`] if the grid cannot be drawn (too large, no items).
pub fn sheet_png(
    items: &[(String, Multitrack)],
    columns: usize,
    bars: usize,
) -> Result<Vec<u8>, Error> {
    let columns = columns.clamp(1, items.len().max(1));
    let column = u32::try_from(bars.saturating_mul(100))
        .unwrap_or(u32::MAX)
        .max(400);
    let options = PlotOptions {
        // The width caps the whole grid.
        width: Some((columns as u32).saturating_mul(column).min(MAX_SIDE)),
        lane_height: Some(48),
        ..PlotOptions::default()
    };
    Ok(plot::encode_png(&plot::render_grid(
        items, columns, &options,
    )?)?)
}

/// The phrases of `cells` played one after another in one MIDI file, `gap_bars` bars of rest
/// after each.
///
/// # Errors
/// As [`chain_samples`] and [`phrase_multitrack`].
pub fn chained_midi(
    cells: &[u8],
    shape: PhraseShape,
    tracks: &[TrackInfo],
    qpm: f64,
    gap_bars: usize,
) -> Result<Vec<u8>, Error> {
    let (chained, chained_shape) = chain_samples(cells, shape, gap_bars)?;
    let song = phrase_multitrack(&chained, chained_shape, 0, tracks, qpm)?;
    Ok(write_bytes(&song, Format::Midi)?)
}

/// The error for a file or directory.
fn file_error(path: &Path, problem: impl fmt::Display) -> Error {
    Error::File {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    }
}

/// A trained run opened for generation: its config, the weights loaded, and what the samples
/// need to become music (track descriptions, resolution, the training data's metrics).
#[derive(Debug)]
pub struct Run {
    dir: PathBuf,
    config: TrainConfig,
    weights: PathBuf,
    tracks: Vec<TrackInfo>,
    resolution: Resolution,
    data_report: Option<MetricsReport>,
    refiner_trained: bool,
    notes: Vec<String>,
    gan: Gan,
}

impl Run {
    /// Opens the run in `dir` with the weights of `checkpoint` (`None`: `model.safetensors`,
    /// else the latest checkpoint; `best`; `latest`; or a path), on `device`.
    ///
    /// # Errors
    /// [`Error::File`] naming the run if it is not one or has no weights, naming the weights file
    /// if it is missing, corrupt or of another model (with the first tensor that does not fit).
    pub fn open(dir: &Path, checkpoint: Option<&str>, device: Device) -> Result<Self, Error> {
        let config_path = dir.join(CONFIG_FILE);
        if !config_path.is_file() {
            return Err(file_error(
                dir,
                "is not a training run (it has no config.toml)",
            ));
        }
        let config = TrainConfig::read(&config_path)?;
        let weights = match checkpoint {
            None if dir.join(WEIGHTS_FILE).is_file() => dir.join(WEIGHTS_FILE),
            None => latest_checkpoint(dir).ok_or_else(|| {
                file_error(
                    dir,
                    "has no weights yet (no model.safetensors, no checkpoints/step-*.safetensors)",
                )
            })?,
            Some("latest") => latest_checkpoint(dir).ok_or_else(|| {
                file_error(
                    &dir.join(CHECKPOINTS_DIR),
                    "holds no step-*.safetensors checkpoint",
                )
            })?,
            Some("best") => dir.join(CHECKPOINTS_DIR).join(BEST_FILE),
            Some(path) => PathBuf::from(path),
        };
        let tensors = crate::checkpoint::load(&weights)?;
        // A checkpoint knows its step; the final weights are those of the whole run.
        let done = match tensors.get("state.step") {
            Some(t) => {
                let step = t.f_int64_value(&[]).map_err(|e| file_error(&weights, e))?;
                u64::try_from(step)
                    .map_err(|_| file_error(&weights, format!("its step {step} is negative")))?
            }
            None => config.total_steps(),
        };
        let mut gan = Gan::new(&config, device, Stage::Pretrain)?;
        gan.load(&tensors, false)
            .map_err(|e| file_error(&weights, e))?;

        let mut notes = Vec::new();
        let (tracks, resolution) = Self::describe(&config, &mut notes)?;
        let data_report = Self::read_data_report(dir, &config, &mut notes);

        // The stage and in-stage index of the last step the weights were trained with.
        let (stage, in_stage) = match done.checked_sub(1) {
            Some(last) => stage_at(&config, last),
            None => (Stage::Pretrain, 0),
        };
        let refiner_trained = gan.has_refiner() && stage != Stage::Pretrain;
        if refiner_trained {
            let phrases = match &data_report {
                Some(report) => Some(report.samples),
                None => Manifest::read(&config.data)
                    .ok()
                    .map(|m| m.split.train_phrases),
            };
            let sbn = config.model.binary_neuron == BinaryNeuronKind::Sbn;
            if phrases.is_none() && sbn && config.slope_every == 0 {
                notes.push(format!(
                    "the size of an epoch is unknown (no dataset, no {DATA_METRICS_FILE}): the \
                     refiner's slope is taken as of one generator step per epoch"
                ));
            }
            gan.set_slope(config.slope(in_stage, phrases.unwrap_or(0)))?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            weights,
            tracks,
            resolution,
            data_report,
            refiner_trained,
            notes,
            gan,
        })
    }

    /// The track descriptions and resolution: the dataset's if its manifest can be read and fits
    /// the model, else the fallbacks (with a note).
    fn describe(
        config: &TrainConfig,
        notes: &mut Vec<String>,
    ) -> Result<(Vec<TrackInfo>, Resolution), Error> {
        let model = &config.model;
        let steps_per_beat = model.steps_per_bar / model.beats_per_bar.max(1);
        let problem = match Manifest::read(&config.data) {
            Ok(m)
                if m.tracks.len() == model.tracks as usize
                    && m.resolution.steps() == steps_per_beat as usize =>
            {
                return Ok((m.tracks, m.resolution));
            }
            Ok(m) => format!(
                "the dataset {} no longer fits the model ({} tracks at {} steps per beat)",
                config.data.display(),
                m.tracks.len(),
                m.resolution.steps()
            ),
            Err(e) => format!("the dataset cannot be read ({e})"),
        };
        let tracks: Vec<TrackInfo> = (0..model.tracks)
            .map(|i| TrackInfo {
                name: format!("Track {i}"),
                program: Program::default(),
                is_drum: model.drum_tracks.contains(&i),
            })
            .collect();
        let resolution =
            Resolution::new(steps_per_beat).map_err(|e| Error::Config(e.to_string()))?;
        notes.push(format!(
            "{problem}: tracks are named \"Track i\" (program 0, drums {:?}), {steps_per_beat} \
             steps per beat",
            model.drum_tracks
        ));
        Ok((tracks, resolution))
    }

    /// The training split's metrics, if `data_metrics.json` is there, readable and of the model's
    /// tracks (else a note).
    fn read_data_report(
        dir: &Path,
        config: &TrainConfig,
        notes: &mut Vec<String>,
    ) -> Option<MetricsReport> {
        let path = dir.join(DATA_METRICS_FILE);
        let problem = match std::fs::read(&path) {
            Err(e) => e.to_string(),
            Ok(bytes) => match serde_json::from_slice::<MetricsReport>(&bytes) {
                Err(e) => format!("not a metrics report ({e})"),
                Ok(r) if r.is_drum.len() != config.model.tracks as usize => {
                    format!("a report of {} tracks", r.is_drum.len())
                }
                Ok(r) => return Some(r),
            },
        };
        notes.push(format!(
            "{}: {problem}; the metrics show the samples alone",
            path.display()
        ));
        None
    }

    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The weights file loaded.
    pub fn weights(&self) -> &Path {
        &self.weights
    }

    /// The tracks' names, programs and drum flags.
    pub fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    /// Time steps per beat of the samples.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// The training split's metrics (`RUN/data_metrics.json`), if available.
    pub fn data_report(&self) -> Option<&MetricsReport> {
        self.data_report.as_ref()
    }

    /// What was assumed because something was missing (the dataset, the data metrics).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// `refiner` if the weights include a trained refiner, else `ht`.
    pub fn default_binarize(&self) -> Binarize {
        if self.refiner_trained {
            Binarize::Refiner
        } else {
            Binarize::Hard
        }
    }

    /// The shape of `n` samples of `bars` bars.
    ///
    /// # Errors
    /// [`Error::Config`] for a model whose lowest pitch is not a MIDI pitch.
    pub fn shape(&self, n: usize, bars: usize) -> Result<PhraseShape, Error> {
        let m = &self.config.model;
        Ok(PhraseShape {
            samples: n,
            tracks: m.tracks as usize,
            bars,
            steps_per_bar: m.steps_per_bar as usize,
            pitches: m.pitches as usize,
            lowest_pitch: Pitch::new(m.lowest_pitch)
                .ok_or_else(|| Error::Config(format!("lowest pitch {}", m.lowest_pitch)))?,
            resolution: self.resolution,
        })
    }

    /// The bars of one phrase: what the model makes from one latent.
    pub fn phrase_bars(&self) -> usize {
        self.config.model.bars as usize
    }

    /// The latents of samples `0..n` of `seed` (see [`latents`]), `[n, latent]` on the CPU.
    ///
    /// # Errors
    /// [`Error::Torch`] from libtorch.
    pub fn latents(&self, seed: u64, n: usize) -> Result<Tensor, Error> {
        let dim = self.config.model.latent as usize;
        let values = latents(seed, n, dim);
        Ok(Tensor::f_from_slice(&values)?.f_view([n as i64, dim as i64])?)
    }

    /// The latents of `n` pieces of `bars` bars (see [`piece_latents`]): `[n, phrases, latent]`
    /// on the CPU, `phrases = ⌈bars / phrase_bars⌉`.
    ///
    /// # Errors
    /// [`Error::Usage`] for 0 or more than [`MAX_BARS`] bars, pieces longer than a phrase from
    /// a phrase generator, or a continuity outside [0, 1); [`Error::Torch`] from libtorch.
    pub fn piece_latents(
        &self,
        seed: u64,
        n: usize,
        bars: usize,
        continuity: f64,
    ) -> Result<Tensor, Error> {
        let phrases = self.phrases_of(bars)?;
        let dim = self.config.model.latent as usize;
        let fixed = latent_parts(&self.config.model).map_or(dim, |p| p[1].end);
        let values = piece_latents(seed, n, phrases, dim, fixed, continuity)?;
        Ok(Tensor::f_from_slice(&values)?.f_view([n as i64, phrases as i64, dim as i64])?)
    }

    /// The phrases a piece of `bars` bars takes.
    fn phrases_of(&self, bars: usize) -> Result<usize, Error> {
        check_bars(bars)?;
        let phrase = self.phrase_bars();
        let phrases = bars.div_ceil(phrase);
        if phrases > 1 && latent_parts(&self.config.model).is_none() {
            return Err(Error::Usage(format!(
                "{bars} bars asked for, but this run's phrase generator makes phrases of \
                 {phrase} bars from one latent; longer pieces need a temporal generator (train \
                 a preset such as chorale-hybrid or musegan)"
            )));
        }
        Ok(phrases)
    }

    /// The `steps` latents, `[steps, latent]`, of the path from the latent of `seed` to that of
    /// `seed + 1`, at `t = k / (steps − 1)`.
    ///
    /// # Errors
    /// [`Error::Usage`] for fewer than 2 or more than [`MAX_INTERPOLATION_STEPS`] steps.
    pub fn path(&self, seed: u64, kind: Interpolation, steps: usize) -> Result<Tensor, Error> {
        check_steps(steps, PATH_STEPS)?;
        let dim = self.config.model.latent as usize;
        let a = latents(seed, 1, dim);
        let b = latents(seed.wrapping_add(1), 1, dim);
        let mut values = Vec::with_capacity(steps * dim);
        for k in 0..steps {
            values.extend(kind.point(&a, &b, fraction(k, steps))?);
        }
        Ok(Tensor::f_from_slice(&values)?.f_view([steps as i64, dim as i64])?)
    }

    /// The `steps × steps` latents, `[steps², latent]` row after row, of a grid between the
    /// latents `a` of `seed` and `b` of `seed + 1`: cell `(r, c)` takes `grid`'s first group
    /// of entries from the path `a → b` at `r / (steps − 1)` and its second group at
    /// `c / (steps − 1)` (each group interpolated as one vector, so that each keeps its norm
    /// under `slerp`): the corners are `a`, `b` and the two mixtures; with `lerp` the diagonal
    /// is [`Run::path`].
    ///
    /// # Errors
    /// [`Error::Usage`] for a phrase generator (one undivided latent), a structure without
    /// one of the groups (`inter-intra` of a composer or jamming model), or fewer than 2 or more
    /// than [`MAX_GRID_STEPS`] steps.
    pub fn grid(
        &self,
        seed: u64,
        kind: Interpolation,
        grid: LatentGrid,
        steps: usize,
    ) -> Result<Tensor, Error> {
        check_steps(steps, GRID_STEPS)?;
        let groups = self.grid_groups(grid)?;
        let dim = self.config.model.latent as usize;
        let a = latents(seed, 1, dim);
        let b = latents(seed.wrapping_add(1), 1, dim);
        let gather = |v: &[f32], group: &[usize]| group.iter().map(|&i| v[i]).collect::<Vec<_>>();
        // The path of each group, point by point.
        let mut paths = Vec::with_capacity(2);
        for group in &groups {
            let (ga, gb) = (gather(&a, group), gather(&b, group));
            let points = (0..steps)
                .map(|k| kind.point(&ga, &gb, fraction(k, steps)))
                .collect::<Result<Vec<_>, _>>()?;
            paths.push(points);
        }
        let mut values = Vec::with_capacity(steps * steps * dim);
        for r in 0..steps {
            for c in 0..steps {
                let mut z = a.clone();
                for (group, point) in groups.iter().zip([&paths[0][r], &paths[1][c]]) {
                    for (&i, &x) in group.iter().zip(point) {
                        z[i] = x;
                    }
                }
                values.extend(z);
            }
        }
        Ok(Tensor::f_from_slice(&values)?.f_view([(steps * steps) as i64, dim as i64])?)
    }

    /// The flat-latent indices of `grid`'s two groups (rows, columns).
    fn grid_groups(&self, grid: LatentGrid) -> Result<[Vec<usize>; 2], Error> {
        let Some([shared, private, t_shared, t_private]) = latent_parts(&self.config.model) else {
            return Err(Error::Usage(
                "a latent grid needs a temporal generator (composer, jamming or hybrid): this \
                 run's phrase generator has one undivided latent"
                    .into(),
            ));
        };
        let (first, second): (Vec<usize>, Vec<usize>) = match grid {
            LatentGrid::InterIntra => (
                shared.chain(t_shared).collect(),
                private.chain(t_private).collect(),
            ),
            LatentGrid::FixedTemporal => (
                shared.chain(private).collect(),
                t_shared.chain(t_private).collect(),
            ),
        };
        for (group, name) in [&first, &second].into_iter().zip(grid.groups()) {
            if group.is_empty() {
                return Err(Error::Usage(format!(
                    "--grid {grid}: this run's generator has no {name} latents (try the other \
                     grid)"
                )));
            }
        }
        Ok([first, second])
    }

    /// G's output for latents `z` `[n, latent]` in evaluation mode: probabilities in (0, 1),
    /// `[n, tracks, bars, steps, pitches]`, `f32` on the CPU (what `ht` and `bs` binarize).
    ///
    /// # Errors
    /// [`Error::Shape`] for latents of the wrong shape; [`Error::Torch`] from libtorch.
    pub fn probabilities(&self, z: &Tensor) -> Result<Tensor, Error> {
        Ok(self.gan.probabilities(z)?.f_to_device(Device::Cpu)?)
    }

    /// Checks that `binarize` can be done with these weights.
    ///
    /// # Errors
    /// [`Error::File`] naming the run for `refiner` on a model without one.
    pub fn check_binarize(&self, binarize: Binarize) -> Result<(), Error> {
        if binarize == Binarize::Refiner && !self.gan.has_refiner() {
            return Err(file_error(
                &self.dir,
                "this model has no refiner; use --binarize ht or bs",
            ));
        }
        Ok(())
    }

    /// The binary samples of latents `z` — phrases `[n, latent]`, or pieces `[n, phrases,
    /// latent]` (see [`Run::piece_latents`]) — as `[n, tracks, phrases · bars, steps, pitches]`,
    /// `u8` 0/1, on the CPU. `seed` seeds the random draws of `bs` and of stochastic refiner
    /// neurons (the same for every call with this seed: sample `i` is drawn alike whatever
    /// comes after it). The refiner refines a piece phrase by phrase (it is trained on phrases).
    ///
    /// # Errors
    /// As [`Run::check_binarize`]; [`Error::Shape`] for latents of the wrong shape or none;
    /// [`Error::Usage`] for pieces from a phrase generator; [`Error::Torch`] from libtorch.
    pub fn sample(&self, z: &Tensor, binarize: Binarize, seed: u64) -> Result<Tensor, Error> {
        self.check_binarize(binarize)?;
        let z = match z.size().as_slice() {
            [n, _] if *n > 0 => z.f_unsqueeze(1)?,
            [n, p, _] if *n > 0 && *p > 0 => z.shallow_clone(),
            other => {
                return Err(Error::Shape(format!(
                    "latents of shape {other:?}: expected [n ≥ 1, latent] or [n ≥ 1, phrases ≥ \
                     1, latent]"
                )))
            }
        };
        let (n, phrases) = (z.size()[0], z.size()[1]);
        self.phrases_of(phrases as usize * self.phrase_bars())?;
        if binarize == Binarize::Refiner {
            tch::manual_seed((mix(mix(seed) ^ REFINER_TAG) >> 1) as i64);
        }
        let mut uniforms = Stream::new(seed, BERNOULLI_TAG);
        let mut chunks = Vec::new();
        let mut start = 0;
        // About CHUNK phrases through the networks at once.
        let per_chunk = (CHUNK as i64 / phrases).max(1);
        while start < n {
            let len = per_chunk.min(n - start);
            let p = self.gan.piece_probabilities(&z.f_narrow(0, start, len)?)?;
            let binary = match binarize {
                Binarize::Hard => p.f_gt(0.5)?,
                Binarize::Refiner => {
                    let bars = self.config.model.bars.into();
                    from_phrases(&self.gan.refine(&to_phrases(&p, bars)?)?, len)?.f_gt(0.5)?
                }
                Binarize::Bernoulli => {
                    let probs =
                        Vec::<f32>::try_from(&p.f_to_device(Device::Cpu)?.f_flatten(0, -1)?)?;
                    let cells: Vec<u8> = probs
                        .iter()
                        .map(|&q| u8::from(uniforms.uniform() < f64::from(q)))
                        .collect();
                    Tensor::f_from_slice(&cells)?.f_view(p.size().as_slice())?
                }
            };
            chunks.push(binary.f_to_kind(Kind::Uint8)?.f_to_device(Device::Cpu)?);
            start += len;
        }
        Ok(Tensor::f_cat(&chunks, 0)?)
    }

    /// Generates `options.n` samples (and the interpolation and grid, if asked) into `out`, with
    /// their metrics against the training data (see the module documentation for the files).
    ///
    /// # Errors
    /// [`Error::Usage`] for options that [`GenerateOptions::validate`] refuses or this run
    /// cannot do (pieces longer than a phrase or a grid from a phrase generator); as
    /// [`Run::check_binarize`]; [`Error::File`] naming `out` if it holds other files or cannot
    /// be written. Nothing is left at `out` after an error.
    pub fn generate(&self, options: &GenerateOptions, out: &Path) -> Result<Generated, Error> {
        options.validate()?;
        let n = options.n;
        let bars = options.bars.unwrap_or(self.phrase_bars());
        let binarize = options.binarize.unwrap_or(self.default_binarize());
        self.check_binarize(binarize)?;
        let seed = options.seed;
        // Every latent before any file: a request this run cannot do fails with nothing written.
        let z = self.piece_latents(seed, n, bars, options.continuity)?;
        let grid_z = match (options.interpolation, options.grid) {
            (Some((kind, steps)), Some(grid)) => {
                Some((self.grid(seed, kind, grid, steps)?, steps, grid))
            }
            _ => None,
        };
        let mut notes = self.notes.clone();
        if binarize == Binarize::Refiner && !self.refiner_trained {
            notes.push(format!(
                "the refiner in {} was not trained yet: its output is not music",
                self.weights.display()
            ));
        }
        let staging = Staging::create(out, options.force)?;
        let tempo = self.config.tempo;

        let shape = self.shape(n, bars)?;
        let piece = self
            .sample(&z, binarize, seed)?
            .f_narrow(2, 0, bars as i64)?;
        let cells = flat(&piece)?;
        let songs = phrases(&cells, shape, &self.tracks, tempo)?;
        let width = digits(n);
        let mut items = Vec::with_capacity(n);
        for (i, mut song) in songs.into_iter().enumerate() {
            song.name = Some(format!("sample {i:0width$} (seed {seed}, {binarize})"));
            staging.write_song(&format!("sample-{i:0width$}"), &song)?;
            items.push((format!("#{i}"), song));
        }
        items.truncate(GRID_SAMPLES);
        if n > GRID_SAMPLES {
            notes.push(format!(
                "samples.png shows the first {GRID_SAMPLES} of the {n} samples"
            ));
        }
        // About 16 bars to a row of the sheet.
        let grid_columns = ((items.len() as f64).sqrt().ceil() as usize).min((16 / bars).max(1));
        staging.write("samples.png", &sheet_png(&items, grid_columns, bars)?)?;
        let (chained, chained_shape) = chain_samples(&cells, shape, 0)?;
        let mut song = phrase_multitrack(&chained, chained_shape, 0, &self.tracks, tempo)?;
        song.name = Some(format!("{n} samples (seed {seed}, {binarize})"));
        staging.write("samples.npz", &write_bytes(&song, Format::Npz)?)?;

        let metrics_config = self
            .data_report
            .as_ref()
            .map_or_else(MetricsConfig::default, |r| r.config.clone());
        let is_drum: Vec<bool> = self.tracks.iter().map(|t| t.is_drum).collect();
        let report = evaluate(&PhraseView::new(&cells, shape, &is_drum)?, &metrics_config)?;
        let heading = format!("samples (binarize {binarize})");
        let mut columns: Vec<(&str, &MetricsReport)> = Vec::new();
        if let Some(data) = &self.data_report {
            columns.push(("training data", data));
        }
        columns.push((&heading, &report));
        let names: Vec<String> = self.tracks.iter().map(|t| t.name.clone()).collect();
        let table = markdown_table(&columns, &names);

        let phrase_bars = self.phrase_bars();
        if let Some((kind, steps)) = options.interpolation {
            let path_shape = self.shape(steps, phrase_bars)?;
            let path = flat(&self.sample(&self.path(seed, kind, steps)?, binarize, seed)?)?;
            let width = digits(steps);
            let mut items = Vec::with_capacity(steps);
            for (k, mut song) in phrases(&path, path_shape, &self.tracks, tempo)?
                .into_iter()
                .enumerate()
            {
                let t = fraction(k, steps);
                song.name = Some(format!(
                    "{kind} from seed {seed} to {}: t = {t:.2}",
                    seed.wrapping_add(1)
                ));
                staging.write_song(&format!("interpolation-{k:0width$}"), &song)?;
                items.push((format!("t = {t:.2}"), song));
            }
            staging.write("interpolation.png", &sheet_png(&items, steps, phrase_bars)?)?;
            let midi = chained_midi(&path, path_shape, &self.tracks, tempo, 1)?;
            staging.write("interpolation.mid", &midi)?;
        }
        if let Some((z, steps, grid)) = grid_z {
            let grid_shape = self.shape(steps * steps, phrase_bars)?;
            let cells = flat(&self.sample(&z, binarize, seed)?)?;
            let items = phrases(&cells, grid_shape, &self.tracks, tempo)?
                .into_iter()
                .enumerate()
                .map(|(i, song)| {
                    let (r, c) = (fraction(i / steps, steps), fraction(i % steps, steps));
                    (format!("{r:.2}, {c:.2}"), song)
                })
                .collect::<Vec<_>>();
            staging.write("grid.png", &sheet_png(&items, steps, phrase_bars)?)?;
            let midi = chained_midi(&cells, grid_shape, &self.tracks, tempo, 1)?;
            staging.write("grid.mid", &midi)?;
            notes.push(format!(
                "grid.png: rows move the {} latents, columns the {} ones, from seed {seed} \
                 (top left) to seed {} (bottom right); grid.mid plays it row by row",
                grid.groups()[0],
                grid.groups()[1],
                seed.wrapping_add(1)
            ));
        }

        let json = serde_json::json!({
            "run": self.dir,
            "weights": self.weights,
            "seed": seed,
            "samples": n,
            "bars": bars,
            "continuity": options.continuity,
            "binarize": binarize.name(),
            "interpolation": options.interpolation.map(|(kind, steps)| {
                serde_json::json!({"kind": kind.name(), "steps": steps})
            }),
            "grid": options.grid.map(LatentGrid::name),
            "notes": notes,
            "reports": {"training data": self.data_report, "samples": report},
        });
        let json = serde_json::to_vec_pretty(&json).map_err(|e| Error::Config(e.to_string()))?;
        staging.write("metrics.json", &json)?;
        let length = if bars == phrase_bars {
            format!("{bars} bars")
        } else {
            format!(
                "{bars} bars ({} phrases of {phrase_bars}, continuity {})",
                bars.div_ceil(phrase_bars),
                options.continuity
            )
        };
        let mut text = format!(
            "# Generated samples\n\n- Run: `{}`\n- Weights: `{}`\n- {n} samples of {length}, seed \
             {seed}, binarization {binarize}\n\n",
            self.dir.display(),
            self.weights.display()
        );
        for note in &notes {
            text.push_str(&format!("> Note: {note}\n\n"));
        }
        text.push_str(&table);
        staging.write("metrics.md", text.as_bytes())?;
        staging.finish()?;
        Ok(Generated {
            dir: out.to_path_buf(),
            binarize,
            report,
            table,
            notes,
        })
    }
}

/// What [`Run::generate`] makes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateOptions {
    /// Number of samples, 1 to [`MAX_SAMPLES`].
    pub n: usize,
    /// Seed of the latents and of every random draw.
    pub seed: u64,
    /// The binarization (`None`: [`Run::default_binarize`]).
    pub binarize: Option<Binarize>,
    /// Bars of each sample, 1 to [`MAX_BARS`] (`None`: one phrase). More than a phrase needs a
    /// temporal generator, which continues the piece phrase by phrase (see
    /// [`Run::piece_latents`]).
    pub bars: Option<usize>,
    /// The correlation, in [0, 1), of consecutive phrases' time-dependent latents in a piece
    /// longer than a phrase (see [`piece_latents`]).
    pub continuity: f64,
    /// An interpolation from the latent of `seed` to that of `seed + 1` in this many steps.
    pub interpolation: Option<(Interpolation, usize)>,
    /// With an interpolation: also a grid of `steps × steps` phrases over two groups of latents.
    pub grid: Option<LatentGrid>,
    /// Replace an output directory that holds the files of an earlier `generate`.
    pub force: bool,
}

impl GenerateOptions {
    /// `n` samples of one phrase from `seed`, the default binarization, nothing else.
    pub fn new(n: usize, seed: u64) -> Self {
        Self {
            n,
            seed,
            binarize: None,
            bars: None,
            continuity: 0.0,
            interpolation: None,
            grid: None,
            force: false,
        }
    }

    /// Checks the options on their own: 1 to [`MAX_SAMPLES`] samples, 1 to [`MAX_BARS`] bars,
    /// a continuity in [0, 1), 2 to [`MAX_INTERPOLATION_STEPS`] steps of an interpolation and
    /// 2 to [`MAX_GRID_STEPS`] of a grid, which needs an interpolation.
    ///
    /// # Errors
    /// [`Error::Usage`] saying which option is out of range.
    pub fn validate(&self) -> Result<(), Error> {
        let n = self.n;
        if !(1..=MAX_SAMPLES).contains(&n) {
            return Err(Error::Usage(format!(
                "{n} samples asked for: generate 1 to {MAX_SAMPLES}"
            )));
        }
        if let Some(bars) = self.bars {
            check_bars(bars)?;
        }
        check_continuity(self.continuity)?;
        match (self.interpolation, self.grid) {
            (Some((_, steps)), None) => check_steps(steps, PATH_STEPS),
            (Some((_, steps)), Some(_)) => check_steps(steps, GRID_STEPS),
            (None, Some(grid)) => Err(Error::Usage(format!(
                "a {grid} grid needs an interpolation (lerp or slerp) to walk its axes"
            ))),
            (None, None) => Ok(()),
        }
    }
}

/// Checks the steps of a path ([`PATH_STEPS`]) or a grid's side ([`GRID_STEPS`]).
fn check_steps(steps: usize, (what, max): (&str, usize)) -> Result<(), Error> {
    if (2..=max).contains(&steps) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{what} has 2 to {max} steps, not {steps}"
        )))
    }
}

/// An interpolation's name in messages and its most steps.
const PATH_STEPS: (&str, usize) = ("an interpolation", MAX_INTERPOLATION_STEPS);
/// A latent grid's name in messages and the most steps of its side.
const GRID_STEPS: (&str, usize) = ("a latent grid", MAX_GRID_STEPS);

/// Checks the length of a piece.
fn check_bars(bars: usize) -> Result<(), Error> {
    if (1..=MAX_BARS).contains(&bars) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{bars} bars asked for: a piece has 1 to {MAX_BARS} bars"
        )))
    }
}

/// The result of [`Run::generate`].
#[derive(Debug, Clone)]
pub struct Generated {
    /// The output directory.
    pub dir: PathBuf,
    /// The binarization used.
    pub binarize: Binarize,
    /// The samples' metrics.
    pub report: MetricsReport,
    /// The metrics table (Markdown): training data (if known) vs samples.
    pub table: String,
    /// What was assumed (see [`Run::notes`]) or is worth knowing.
    pub notes: Vec<String>,
}

/// A piece `[n, tracks, phrases · bars, steps, pitches]` as its phrases `[n · phrases, tracks,
/// bars, steps, pitches]` (piece after piece).
fn to_phrases(x: &Tensor, bars: i64) -> Result<Tensor, Error> {
    let [n, tracks, all, steps, pitches] = roll_dims(x, "a piece")?;
    let phrases = all / bars;
    Ok(x.f_reshape([n, tracks, phrases, bars, steps, pitches])?
        .f_permute([0, 2, 1, 3, 4, 5])?
        .f_reshape([n * phrases, tracks, bars, steps, pitches])?)
}

/// The inverse of [`to_phrases`] for `n` pieces.
fn from_phrases(x: &Tensor, n: i64) -> Result<Tensor, Error> {
    let [count, tracks, bars, steps, pitches] = roll_dims(x, "a batch of phrases")?;
    let phrases = count / n;
    Ok(x.f_reshape([n, phrases, tracks, bars, steps, pitches])?
        .f_permute([0, 2, 1, 3, 4, 5])?
        .f_reshape([n, tracks, phrases * bars, steps, pitches])?)
}

/// The index ranges, in the flat latent (see [`crate::Generator::latent_size`]), of a temporal
/// generator's `[shared, private (all tracks), temporal shared, temporal private (all
/// tracks)]`; `None` for the phrase generator.
fn latent_parts(model: &BinaryMuseGanConfig) -> Option<[Range<usize>; 4]> {
    let GeneratorKind::Temporal {
        shared,
        private,
        temporal_shared,
        temporal_private,
        ..
    } = model.generator
    else {
        return None;
    };
    let tracks = model.tracks as usize;
    let sizes = [
        shared as usize,
        private as usize * tracks,
        temporal_shared as usize,
        temporal_private as usize * tracks,
    ];
    let mut start = 0;
    Some(sizes.map(|size| {
        start += size;
        start - size..start
    }))
}

/// `k / (steps − 1)`: the position of step `k` of `steps ≥ 2` on a path.
fn fraction(k: usize, steps: usize) -> f64 {
    k as f64 / (steps - 1) as f64
}

/// The cells of a `u8` tensor in order.
fn flat(t: &Tensor) -> Result<Vec<u8>, Error> {
    Ok(Vec::<u8>::try_from(&t.f_flatten(0, -1)?)?)
}

/// Digits of the largest index below `n`, at least 2.
fn digits(n: usize) -> usize {
    n.saturating_sub(1).to_string().len().max(2)
}

/// Whether `name` is a file `generate` writes (or a temporary of one), the `.wav` files of the
/// command line's `--audio` included.
fn is_generated(name: &str) -> bool {
    let stem_ok = ["sample", "interpolation", "grid", "metrics"]
        .iter()
        .any(|p| name.starts_with(p));
    let ext_ok = [".mid", ".png", ".npz", ".json", ".md", ".wav"]
        .iter()
        .any(|e| name.ends_with(e));
    stem_ok && ext_ok
}

/// Whether every entry of `dir` is a file `generate` writes.
fn holds_only_generated(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.into_iter().all(|e| {
            e.is_ok_and(|e| {
                e.file_type().is_ok_and(|t| t.is_file())
                    && e.file_name().to_str().is_some_and(is_generated)
            })
        })
    })
}

/// The output directory being written: `DIR.partial`, renamed to `DIR` by [`Staging::finish`],
/// removed if dropped before.
struct Staging {
    out: PathBuf,
    partial: PathBuf,
    finished: bool,
}

impl Staging {
    fn create(out: &Path, force: bool) -> Result<Self, Error> {
        let mut name = out
            .file_name()
            .ok_or_else(|| file_error(out, "names no directory"))?
            .to_os_string();
        name.push(".partial");
        let partial = out.with_file_name(name);
        if out.exists() {
            if !out.is_dir() {
                return Err(file_error(out, "exists and is not a directory"));
            }
            let empty = std::fs::read_dir(out)
                .map_err(|e| file_error(out, e))?
                .next()
                .is_none();
            if !empty && !force {
                return Err(file_error(
                    out,
                    "already holds files (choose another --out, or --force to replace the \
                     output of an earlier generate)",
                ));
            }
            if !empty && !holds_only_generated(out) {
                return Err(file_error(
                    out,
                    "holds files that generate did not write; not replacing it",
                ));
            }
        }
        if partial.exists() {
            if !(partial.is_dir() && holds_only_generated(&partial)) {
                return Err(file_error(
                    &partial,
                    "exists and holds files that generate did not write; not replacing it",
                ));
            }
            std::fs::remove_dir_all(&partial).map_err(|e| file_error(&partial, e))?;
        }
        std::fs::create_dir_all(&partial)
            .map_err(|e| file_error(out, format!("cannot be created ({e})")))?;
        Ok(Self {
            out: out.to_path_buf(),
            partial,
            finished: false,
        })
    }

    /// Writes `DIR.partial/name` (atomicity comes from the directory's rename).
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.partial.join(name);
        std::fs::write(&path, bytes).map_err(|e| file_error(&path, e))
    }

    /// Writes `stem.mid` and `stem.png` of `song`.
    fn write_song(&self, stem: &str, song: &Multitrack) -> Result<(), Error> {
        self.write(&format!("{stem}.mid"), &write_bytes(song, Format::Midi)?)?;
        self.write(&format!("{stem}.png"), &write_bytes(song, Format::Png)?)
    }

    /// Moves `DIR.partial` to `DIR`, replacing an empty `DIR` or one checked by [`Staging::create`].
    fn finish(mut self) -> Result<(), Error> {
        if self.out.exists() {
            if !holds_only_generated(&self.out) {
                return Err(file_error(
                    &self.out,
                    "holds files that generate did not write; not replacing it",
                ));
            }
            std::fs::remove_dir_all(&self.out).map_err(|e| file_error(&self.out, e))?;
        }
        std::fs::rename(&self.partial, &self.out).map_err(|e| file_error(&self.out, e))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[f32]) -> f64 {
        v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt()
    }

    #[test]
    fn lerp_and_slerp_of_hand_worked_vectors() {
        let (a, b) = ([1.0f32, 0.0], [0.0f32, 1.0]);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        // Orthogonal unit vectors: Ω = π/2, so the weights at t are cos(tπ/2) and sin(tπ/2).
        let mid = slerp(&a, &b, 0.5).unwrap();
        assert!((f64::from(mid[0]) - h).abs() < 1e-7 && (f64::from(mid[1]) - h).abs() < 1e-7);
        let third = slerp(&a, &b, 1.0 / 3.0).unwrap();
        let (c, s) = (std::f64::consts::FRAC_PI_6.cos(), 0.5);
        assert!((f64::from(third[0]) - c).abs() < 1e-7, "{third:?}");
        assert!((f64::from(third[1]) - s).abs() < 1e-7, "{third:?}");
        assert_eq!(lerp(&a, &b, 0.5).unwrap(), [0.5, 0.5]);
        // Endpoints are the latents themselves.
        assert_eq!(slerp(&a, &b, 0.0).unwrap(), a);
        assert_eq!(slerp(&a, &b, 1.0).unwrap(), b);
        // Vectors at 60° of norm 2: the midpoint is on the bisector with norm 2.
        let (p, q) = ([2.0f32, 0.0], [1.0f32, 3f32.sqrt()]);
        let m = slerp(&p, &q, 0.5).unwrap();
        assert!((norm(&m) - 2.0).abs() < 1e-6, "{m:?}");
        assert!((f64::from(m[1]) / f64::from(m[0]) - (30f64).to_radians().tan()).abs() < 1e-6);
        // Parallel, opposite or zero latents: the great circle is undefined, the line is used.
        for (x, y) in [
            ([1.0f32, 1.0], [2.0f32, 2.0]),
            ([1.0, 0.0], [-1.0, 0.0]),
            ([0.0, 0.0], [1.0, 2.0]),
        ] {
            assert_eq!(slerp(&x, &y, 0.25).unwrap(), lerp(&x, &y, 0.25).unwrap());
        }
        let err = slerp(&[1.0], &[1.0, 2.0], 0.5).unwrap_err().to_string();
        assert!(err.contains("latents of 1 and 2 values"), "{err}");
    }

    #[test]
    fn slerp_keeps_the_norm_of_gaussian_latents_where_lerp_shrinks_it() {
        let (a, b) = (latents(3, 1, 128), latents(4, 1, 128));
        let (na, nb) = (norm(&a), norm(&b));
        for k in 0..=10 {
            let t = f64::from(k) / 10.0;
            let s = norm(&slerp(&a, &b, t).unwrap());
            assert!(
                s > na.min(nb) * 0.97 && s < na.max(nb) * 1.03,
                "t {t}: {s} vs {na}, {nb}"
            );
        }
        // Nearly orthogonal in 128 dimensions: the line's midpoint has about 1/√2 of the norm.
        let l = norm(&lerp(&a, &b, 0.5).unwrap());
        assert!(l < 0.8 * na.min(nb), "{l} vs {na}, {nb}");
    }

    #[test]
    fn latents_are_standard_normal_and_depend_on_the_seed_only() {
        let z = latents(11, 100, 100);
        let n = z.len() as f64;
        let mean = z.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = z
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
        assert_eq!(latents(11, 2, 100), z[..200]);
        assert_ne!(latents(12, 1, 100), z[..100]);
        assert_eq!(latents(11, 1, 3).len(), 3);
    }

    /// Pearson correlation of two equally long vectors.
    fn correlation(x: &[f32], y: &[f32]) -> f64 {
        let n = x.len() as f64;
        let mean = |v: &[f32]| v.iter().map(|&a| f64::from(a)).sum::<f64>() / n;
        let (mx, my) = (mean(x), mean(y));
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (&a, &b) in x.iter().zip(y) {
            let (a, b) = (f64::from(a) - mx, f64::from(b) - my);
            sxy += a * b;
            sxx += a * a;
            syy += b * b;
        }
        sxy / (sxx * syy).sqrt()
    }

    #[test]
    fn piece_latents_are_an_ar1_walk_with_standard_normal_phrases() {
        let (dim, fixed) = (4000, 1000);
        let z = piece_latents(5, 1, 4, dim, fixed, 0.6).unwrap();
        let phrase = |p: usize| &z[p * dim + fixed..(p + 1) * dim];
        // Lag-k correlation ρ^k; each phrase's entries stay N(0, 1).
        assert!((correlation(phrase(0), phrase(1)) - 0.6).abs() < 0.05);
        assert!((correlation(phrase(1), phrase(2)) - 0.6).abs() < 0.05);
        assert!((correlation(phrase(0), phrase(2)) - 0.36).abs() < 0.05);
        for p in 0..4 {
            let v = phrase(p);
            let var = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len() as f64;
            assert!((var - 1.0).abs() < 0.08, "phrase {p}: variance {var}");
            assert_eq!(
                z[p * dim..p * dim + fixed],
                z[..fixed],
                "time-independent part"
            );
        }
        // Continuity 0: independent phrases; the first phrases do not depend on the count.
        let free = piece_latents(5, 1, 4, dim, fixed, 0.0).unwrap();
        assert!(correlation(&free[fixed..dim], &free[dim + fixed..2 * dim]).abs() < 0.05);
        assert_eq!(
            piece_latents(5, 1, 2, dim, fixed, 0.6).unwrap(),
            z[..2 * dim]
        );
        assert_eq!(
            piece_latents(5, 1, 1, dim, fixed, 0.6).unwrap(),
            latents(5, 1, dim)
        );
        assert!(piece_latents(5, 1, 2, 10, 11, 0.0).is_err());
        assert!(piece_latents(5, 1, 2, 10, 2, 1.0).is_err());
    }

    #[test]
    fn choices_parse_their_names_and_list_them_when_unknown() {
        for b in Binarize::ALL {
            assert_eq!(b.name().parse::<Binarize>().unwrap(), *b);
        }
        assert_eq!(
            "slerp".parse::<Interpolation>().unwrap(),
            Interpolation::Slerp
        );
        assert_eq!(
            "fixed-temporal".parse::<LatentGrid>().unwrap(),
            LatentGrid::FixedTemporal
        );
        let err = "x".parse::<Binarize>().unwrap_err().to_string();
        assert!(
            err.contains("unknown binarization 'x' (expected ht, bs or refiner)"),
            "{err}"
        );
        let err = "inter".parse::<LatentGrid>().unwrap_err().to_string();
        assert!(
            err.contains("unknown latent grid 'inter' (expected inter-intra or fixed-temporal)"),
            "{err}"
        );
    }

    #[test]
    fn generated_names_are_recognised() {
        for name in [
            "sample-00.mid",
            "samples.png",
            "samples.npz",
            "metrics.json",
            "metrics.md",
            "interpolation-03.png",
            "interpolation.mid",
            "sample-07.wav",
            "grid.png",
            "grid.mid",
        ] {
            assert!(is_generated(name), "{name}");
        }
        for name in ["song.mid", "samples.txt", "config.toml", ".bashrc"] {
            assert!(!is_generated(name), "{name}");
        }
        assert_eq!((digits(1), digits(100), digits(101)), (2, 2, 3));
    }
}
