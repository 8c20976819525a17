//! Generating with a trained BinaryMuseGAN / MuseGAN: the generator (and refiner) alone, loaded
//! from one weights file.
//!
//! Policies, and why:
//!
//! - **Binarization** of G's probabilities: `ht` thresholds at 0.5 (the paper's hard
//!   thresholding), `bs` keeps a cell with its probability, drawing uniforms from a stream of the
//!   seed (as the latents), `refiner` runs the trained refiner (its deterministic or stochastic
//!   binary neurons; stochastic ones draw from libtorch's generator, seeded from the seed, which
//!   is deterministic on the CPU). The default is `refiner` when the weights include a trained
//!   refiner (`state.stage` past stage 1), else `ht`. The refiner's slope is the one of the last
//!   step trained (`state.slope`; it matters for stochastic neurons only: a deterministic neuron
//!   fires where its input is > 0).
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
//!   other, both from seed `S` to `S + 1` ([`LatentGrid`]): inter- vs intra-track (MuseGAN's
//!   "what all tracks share" vs "each track's own"; hybrid models) or time-independent vs
//!   time-dependent (any temporal model).
//! - **Conditions**: this family generates freely; given tracks and masks are refused (the
//!   accompaniment and diffusion families take them).

use std::collections::HashMap;
use std::ops::Range;

use museroll_core::rng::mix;
use tch::{nn, Device, Kind, Tensor};

use super::config::{BinaryMuseGanConfig, GeneratorKind};
use super::nets::{roll_dims, Generator, Refiner};
use super::settings::Stage;

use crate::engine::{checkpoint, Music};
use crate::sample::{
    check_steps, fraction, latents, piece_latents, stream, Binarize, Condition, Interpolation,
    LatentGrid, SampleRequest, Sampler, Samples, WalkRequest, BERNOULLI_TAG, GRID_STEPS,
    PATH_STEPS,
};
use crate::Error;

/// Latents sent through the networks at once.
const CHUNK: usize = 64;
/// The stream tag of libtorch's seed for stochastic neurons.
const REFINER_TAG: u64 = 0x5245_4649;

/// A trained generator (and refiner), ready to generate.
#[derive(Debug)]
pub struct GanSampler {
    networks: BinaryMuseGanConfig,
    music: Music,
    device: Device,
    // The variable stores own the weights the networks use.
    _vs: [nn::VarStore; 2],
    generator: Generator,
    refiner: Option<Refiner>,
    /// Whether the refiner was trained (the weights are past stage 1).
    refiner_trained: bool,
}

/// A scalar of the weights' inference state.
fn state(weights: &HashMap<String, Tensor>, name: &str) -> Result<Tensor, Error> {
    weights.get(name).map(Tensor::shallow_clone).ok_or_else(|| {
        Error::Shape(format!(
            "the weights have no '{name}' (written by an older museroll? run `museroll migrate \
             RUN`)"
        ))
    })
}

impl GanSampler {
    /// The networks of `networks` making `music`, with `weights` (a weights or checkpoint
    /// file's tensors), on `device`.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the first tensor missing or of another shape; [`Error::Config`]
    /// for networks that do not make the music.
    pub fn load(
        networks: &BinaryMuseGanConfig,
        music: Music,
        weights: &HashMap<String, Tensor>,
        device: Device,
    ) -> Result<Self, Error> {
        super::check_music(networks, &music).map_err(|problem| {
            Error::Config(format!(
                "the run's music does not fit its networks: {problem}"
            ))
        })?;
        let g_vs = nn::VarStore::new(device);
        let r_vs = nn::VarStore::new(device);
        let generator = Generator::new(&g_vs.root(), networks)?;
        checkpoint::restore(&g_vs, "generator", weights)?;
        let stage = state(weights, "state.stage")?.f_int64_value(&[])?;
        let stage = Stage::of_index(stage)
            .ok_or_else(|| Error::Shape(format!("'state.stage' {stage} is not a stage")))?;
        let refiner = match networks.refiner {
            true => {
                let mut refiner = Refiner::new(&r_vs.root(), networks)?;
                checkpoint::restore(&r_vs, "refiner", weights)?;
                refiner.set_slope(state(weights, "state.slope")?.f_double_value(&[])?)?;
                Some(refiner)
            }
            false => None,
        };
        Ok(Self {
            networks: networks.clone(),
            music,
            device,
            _vs: [g_vs, r_vs],
            refiner_trained: refiner.is_some() && stage != Stage::Pretrain,
            generator,
            refiner,
        })
    }

    /// The bars of one phrase: what the model makes from one latent.
    fn phrase_bars(&self) -> usize {
        self.networks.bars as usize
    }

    /// The size of the flat latent.
    fn latent(&self) -> usize {
        self.networks.latent as usize
    }

    /// The phrases a piece of `bars` bars takes.
    fn phrases_of(&self, bars: usize) -> Result<usize, Error> {
        crate::sample::check_bars(bars)?;
        let phrase = self.phrase_bars();
        let phrases = bars.div_ceil(phrase);
        if phrases > 1 && latent_parts(&self.networks).is_none() {
            return Err(Error::Usage(format!(
                "{bars} bars asked for, but this run's phrase generator makes phrases of \
                 {phrase} bars from one latent; longer pieces need a temporal generator (train \
                 a preset such as chorale-hybrid or musegan)"
            )));
        }
        Ok(phrases)
    }

    /// The latents of samples `0..n` of `seed` (see [`latents`]), `[n, latent]` on the CPU.
    ///
    /// # Errors
    /// [`Error::Torch`] from libtorch.
    pub fn latents(&self, seed: u64, n: usize) -> Result<Tensor, Error> {
        let dim = self.latent();
        Ok(Tensor::f_from_slice(&latents(seed, n, dim))?.f_view([n as i64, dim as i64])?)
    }

    /// G's output for latents `z` `[n, latent]` in evaluation mode: probabilities in (0, 1),
    /// `[n, tracks, bars, steps, pitches]`, `f32` on the CPU (what `ht` and `bs` binarize).
    ///
    /// # Errors
    /// [`Error::Shape`] for latents of the wrong shape; [`Error::Torch`] from libtorch.
    pub fn probabilities(&self, z: &Tensor) -> Result<Tensor, Error> {
        let _guard = tch::no_grad_guard();
        let p = self
            .generator
            .forward_t(&z.f_to_device(self.device)?, false)?;
        Ok(p.f_to_device(Device::Cpu)?)
    }

    /// The latents of `n` pieces of `bars` bars (see [`piece_latents`]): `[n, phrases, latent]`.
    ///
    /// # Errors
    /// [`Error::Usage`] for a length out of range or beyond a phrase generator's phrase, or a
    /// continuity outside [0, 1).
    pub fn piece_latents(
        &self,
        seed: u64,
        n: usize,
        bars: usize,
        continuity: f64,
    ) -> Result<Tensor, Error> {
        let phrases = self.phrases_of(bars)?;
        let dim = self.latent();
        let fixed = latent_parts(&self.networks).map_or(dim, |p| p[1].end);
        let values = piece_latents(seed, n, phrases, dim, fixed, continuity)?;
        Ok(Tensor::f_from_slice(&values)?.f_view([n as i64, phrases as i64, dim as i64])?)
    }

    /// The `steps` latents `[steps, latent]` of the path from the latent of `seed` to that of
    /// `seed + 1`, at `t = k / (steps − 1)`.
    ///
    /// # Errors
    /// [`Error::Usage`] for fewer than 2 or more than [`crate::sample::MAX_INTERPOLATION_STEPS`]
    /// steps.
    pub fn path(&self, seed: u64, kind: Interpolation, steps: usize) -> Result<Tensor, Error> {
        check_steps(steps, PATH_STEPS)?;
        let dim = self.latent();
        let a = latents(seed, 1, dim);
        let b = latents(seed.wrapping_add(1), 1, dim);
        let mut values = Vec::with_capacity(steps * dim);
        for k in 0..steps {
            values.extend(kind.point(&a, &b, fraction(k, steps))?);
        }
        Ok(Tensor::f_from_slice(&values)?.f_view([steps as i64, dim as i64])?)
    }

    /// The `steps × steps` latents, row after row, of a grid between the latents `a` of `seed`
    /// and `b` of `seed + 1`: cell `(r, c)` takes `grid`'s first group of entries from the path
    /// `a → b` at `r / (steps − 1)` and its second group at `c / (steps − 1)` (each group
    /// interpolated as one vector, so that each keeps its norm under `slerp`): the corners are
    /// `a`, `b` and the two mixtures; with `lerp` the diagonal is the path.
    ///
    /// # Errors
    /// [`Error::Usage`] for a phrase generator (one undivided latent), a structure without one
    /// of the groups, or fewer than 2 or more than [`crate::sample::MAX_GRID_STEPS`] steps.
    pub fn grid(
        &self,
        seed: u64,
        kind: Interpolation,
        grid: LatentGrid,
        steps: usize,
    ) -> Result<Tensor, Error> {
        check_steps(steps, GRID_STEPS)?;
        let groups = self.grid_groups(grid)?;
        let dim = self.latent();
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
        let Some([shared, private, t_shared, t_private]) = latent_parts(&self.networks) else {
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

    /// Checks that `binarize` can be done with these weights.
    fn check_binarize(&self, binarize: Binarize) -> Result<(), Error> {
        if binarize == Binarize::Refiner && self.refiner.is_none() {
            return Err(Error::Usage(
                "this model has no refiner; use --binarize ht or bs".into(),
            ));
        }
        Ok(())
    }

    /// The binary samples of latents `z` — phrases `[n, latent]` or pieces `[n, phrases,
    /// latent]` — as `[n, tracks, phrases · bars, steps, pitches]`, `u8` 0/1, on the CPU. `seed`
    /// seeds the random draws of `bs` and of stochastic refiner neurons (sample `i` is drawn
    /// alike whatever comes after it). The refiner refines a piece phrase by phrase (it is
    /// trained on phrases).
    ///
    /// # Errors
    /// [`Error::Usage`] for `refiner` without a refiner; [`Error::Shape`] for latents of the
    /// wrong shape or none; [`Error::Torch`] from libtorch.
    pub fn binary(&self, z: &Tensor, binarize: Binarize, seed: u64) -> Result<Tensor, Error> {
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
        if binarize == Binarize::Refiner {
            tch::manual_seed((mix(mix(seed) ^ REFINER_TAG) >> 1) as i64);
        }
        let mut uniforms = stream(seed, BERNOULLI_TAG);
        let mut chunks = Vec::new();
        let mut start = 0;
        let _guard = tch::no_grad_guard();
        // About CHUNK phrases through the networks at once.
        let per_chunk = (CHUNK as i64 / phrases).max(1);
        while start < n {
            let len = per_chunk.min(n - start);
            let z = z.f_narrow(0, start, len)?.f_to_device(self.device)?;
            let p = self.generator.forward_long_t(&z, false)?;
            let binary = match (binarize, &self.refiner) {
                (Binarize::Hard, _) => p.f_gt(0.5)?,
                (Binarize::Refiner, Some(refiner)) => {
                    let bars = self.networks.bars.into();
                    let refined = refiner.forward_t(&to_phrases(&p, bars)?, false)?;
                    from_phrases(&refined, len)?.f_gt(0.5)?
                }
                (Binarize::Refiner, None) => unreachable!("checked by check_binarize"),
                (Binarize::Bernoulli, _) => {
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

    /// The samples of `z` (pieces `[n, phrases, latent]`) cut to `bars` bars.
    fn samples(
        &self,
        z: &Tensor,
        binarize: Binarize,
        seed: u64,
        bars: usize,
    ) -> Result<Samples, Error> {
        let n = z.size()[0] as usize;
        let piece = self
            .binary(z, binarize, seed)?
            .f_narrow(2, 0, bars as i64)?;
        Ok(Samples {
            cells: Vec::<u8>::try_from(&piece.f_flatten(0, -1)?)?,
            shape: self.music.shape(n, bars),
            binarize,
        })
    }
}

impl Sampler for GanSampler {
    fn music(&self) -> &Music {
        &self.music
    }

    fn default_binarize(&self) -> Binarize {
        if self.refiner_trained {
            Binarize::Refiner
        } else {
            Binarize::Hard
        }
    }

    fn notes(&self) -> Vec<String> {
        match &self.refiner {
            Some(_) if !self.refiner_trained => vec![
                "the refiner in these weights was not trained yet: its output (--binarize \
                 refiner) is not music"
                    .into(),
            ],
            _ => Vec::new(),
        }
    }

    fn sample(&self, request: &SampleRequest) -> Result<Samples, Error> {
        request.validate()?;
        if request.condition != Condition::None {
            return Err(Error::Usage(format!(
                "the {} family generates freely; it does not take {}",
                super::FAMILY,
                request.condition.name()
            )));
        }
        let bars = request.bars.unwrap_or(self.phrase_bars());
        let binarize = request.binarize.unwrap_or(self.default_binarize());
        self.check_binarize(binarize)?;
        let z = self.piece_latents(request.seed, request.n, bars, request.continuity)?;
        self.samples(&z, binarize, request.seed, bars)
    }

    fn walk(&self, request: &WalkRequest) -> Result<Samples, Error> {
        let binarize = request.binarize.unwrap_or(self.default_binarize());
        self.check_binarize(binarize)?;
        let z = match request.grid {
            None => self.path(request.seed, request.kind, request.steps)?,
            Some(grid) => self.grid(request.seed, request.kind, grid, request.steps)?,
        };
        self.samples(&z, binarize, request.seed, self.phrase_bars())
    }
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

/// The index ranges, in the flat latent (see [`Generator::latent_size`]), of a temporal
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
