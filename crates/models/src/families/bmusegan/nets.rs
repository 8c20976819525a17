//! The BinaryMuseGAN networks (Dong & Yang, "Convolutional Generative Adversarial Networks with
//! Binary Neurons for Polyphonic Music Generation", ISMIR 2018, Appendix Table 3): generator,
//! refiner and discriminator (proposed, ablated-I, ablated-II). The [`Generator`] may instead
//! be MuseGAN's temporal generator (composer, jamming or hybrid), built by the private
//! `musegan` module; the refiner and discriminator serve both.
//!
//! Layout: every piano-roll tensor is `[batch, tracks, bars, steps, pitches]` — the
//! `[sample][track][bar][step][pitch]` order of the dataset and metrics code, and libtorch's
//! channels-first `NCDHW` with the tracks as channels, so the per-track networks take a
//! `narrow` of the channel axis and 3-D convolutions run over (bar, step, pitch) directly.
//!
//! Policies:
//!
//! - Every network validates its config ([`BinaryMuseGanConfig::validate`]) and checks its
//!   input shape, so a wrong shape is an [`Error`], never a libtorch abort.
//! - Values are in {0, 1} (bmusegan's domain): the generator ends in a sigmoid, the refiner in
//!   binary neurons, the discriminator's onset stream takes differences of {0, 1} rolls.
//! - The discriminator has no normalisation (the WGAN-GP penalty is per sample) and gives one
//!   score per sample, `[batch, 1]`.
//! - The chroma stream uses true pitch classes: pitch index `i` is MIDI `lowest_pitch + i` and
//!   `lowest_pitch` is a C, so summing the octaves of `[…, octaves, 12]` gives class `i mod 12`
//!   with 0 = C (the shipped *metrics* of bmusegan binned contiguous pitches instead; its
//!   discriminator was right).
//! - Batch norm (generator and refiner) uses batch statistics when `train` is true: a training
//!   forward needs a batch of at least 2 for the generator's dense layer.

use tch::{nn, Tensor};

use super::blocks::{Dims, Private};
use super::config::{BinaryMuseGanConfig, BinaryNeuronKind, DiscriminatorVariant, GeneratorKind};
use super::temporal::TemporalGenerator;
use crate::nn::stack::{Act, Block, Stack};
use crate::nn::{LayerSummary, NetworkSummary};
use crate::Error;

/// Checks that `x` is `[batch ≥ 1, shape…]` and returns the batch size.
fn check_input(x: &Tensor, shape: &[i64], network: &str) -> Result<i64, Error> {
    let size = x.size();
    match size.split_first() {
        Some((&batch, rest)) if batch >= 1 && rest == shape => Ok(batch),
        _ => Err(Error::Shape(format!(
            "the {network} expects [batch, {}], got {size:?}",
            shape
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A `[batch, tracks, bars, steps, pitches]` piano-roll's dimensions, or an error.
pub(crate) fn roll_dims(x: &Tensor, what: &str) -> Result<[i64; 5], Error> {
    let size = x.size();
    <[i64; 5]>::try_from(size.as_slice()).map_err(|_| {
        Error::Shape(format!(
            "{what} expects [batch, tracks, bars, steps, pitches], got {size:?}"
        ))
    })
}

/// The binary neuron with the sigmoid-adjusted straight-through estimator (bmusegan
/// `binary_stochastic_ST`): `p = σ(slope·x)`; the forward value is `1[p > 0.5]` (DBN) or
/// `1[p > u]`, `u ~ U[0, 1)` from libtorch's generator (SBN); the backward pass treats the
/// thresholding as the identity, so the gradient is that of `p`, `slope·σ'(slope·x)`.
///
/// Returns `(binary, p)`: the binary output in the graph, and the probabilities ("preactivated"
/// in bmusegan, for pictures). The forward value is exactly 0 or 1: it is computed as
/// `hard + (p − detach(p))`, whose second term is exactly zero.
///
/// `slope` is annealed upwards during training (bmusegan: ×1.1 per epoch from 1).
///
/// # Errors
/// [`Error::Config`] if `slope` is not a finite positive number; [`Error::Torch`] from libtorch.
///
/// # Example
/// ```
/// use museroll_models::{binary_neuron, BinaryNeuronKind};
/// use tch::Tensor;
///
/// let x = Tensor::from_slice(&[-2.0f32, -0.1, 0.0, 0.3]);
/// let (b, _) = binary_neuron(&x, 1.0, BinaryNeuronKind::Dbn)?;
/// assert_eq!(Vec::<f32>::try_from(&b)?, [0.0, 0.0, 0.0, 1.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn binary_neuron(
    x: &Tensor,
    slope: f64,
    kind: BinaryNeuronKind,
) -> Result<(Tensor, Tensor), Error> {
    if !(slope.is_finite() && slope > 0.0) {
        return Err(Error::Config(format!(
            "binary neuron slope {slope} is not a finite positive number"
        )));
    }
    let p = x.f_mul_scalar(slope)?.f_sigmoid()?;
    let hard = match kind {
        BinaryNeuronKind::Dbn => p.f_gt(0.5)?,
        BinaryNeuronKind::Sbn => p.f_gt_tensor(&p.f_rand_like()?)?,
    }
    .f_to_kind(p.kind())?;
    let binary = hard.f_add(&p.f_sub(&p.f_detach()?)?)?;
    Ok((binary, p))
}

/// The chroma feature of the discriminator: `[batch, tracks, bars, steps, pitches]` →
/// `[batch, tracks, bars, beats_per_bar, 12]`, the sum over each beat's steps and over the
/// octaves of each pitch class. Pitch index `i` counts for class `i mod 12`, the true pitch
/// class when index 0 is a C.
///
/// # Errors
/// [`Error::Shape`] if `x` is not 5-D, `beats_per_bar` does not divide the steps, or the pitches
/// are not whole octaves.
pub fn chroma_feature(x: &Tensor, beats_per_bar: i64) -> Result<Tensor, Error> {
    let [b, t, bars, steps, pitches] = roll_dims(x, "the chroma feature")?;
    if beats_per_bar < 1 || steps % beats_per_bar != 0 || pitches % 12 != 0 {
        return Err(Error::Shape(format!(
            "the chroma feature needs beats ({beats_per_bar}) dividing the steps ({steps}) \
             and whole octaves of pitches ({pitches})"
        )));
    }
    Ok(x.f_reshape([
        b,
        t,
        bars,
        beats_per_bar,
        steps / beats_per_bar,
        pitches / 12,
        12,
    ])?
    .f_sum_dim_intlist(&[4i64, 5][..], false, x.kind())?)
}

/// The onset/offset feature of the discriminator: `[batch, tracks, bars, steps, pitches]` →
/// `[batch, tracks, bars, steps, 1]`. Drum tracks are taken as they are (a drum hit is an
/// onset); every other track as `x[t] − x[t−1]` within each bar (`x[−1] = 0`: +1 where a note
/// starts, −1 where one ends); then summed over pitch (bmusegan `components.py`).
///
/// # Errors
/// [`Error::Shape`] if `x` is not 5-D or a drum track index is out of range.
pub fn onset_feature(x: &Tensor, drum_tracks: &[u32]) -> Result<Tensor, Error> {
    let [_, t, _, steps, _] = roll_dims(x, "the onset feature")?;
    let mut differenced = vec![1.0f32; usize::try_from(t).unwrap_or(0)];
    for &d in drum_tracks {
        *differenced
            .get_mut(d as usize)
            .ok_or_else(|| Error::Shape(format!("drum track {d} does not exist ({t} tracks)")))? =
            0.0;
    }
    let mask = Tensor::f_from_slice(&differenced)?
        .f_view([1, t, 1, 1, 1])?
        .f_to(x.device())?
        .f_to_kind(x.kind())?;
    // x[t − 1] within the bar: drop the last step, pad one zero step in front.
    let previous = x
        .f_narrow(3, 0, (steps - 1).max(0))?
        .f_constant_pad_nd([0, 0, 1, 0])?;
    Ok(x.f_sub(&previous.f_mul(&mask)?)?
        .f_sum_dim_intlist(4i64, true, x.kind())?)
}

/// The layers of a generator kind.
#[derive(Debug)]
enum GeneratorBody {
    /// BinaryMuseGAN's phrase generator: the shared network and one [`Private`] per track.
    Phrase {
        shared: Stack,
        private: Vec<Private>,
    },
    /// MuseGAN's temporal generator.
    Temporal(Box<TemporalGenerator>),
}

/// The generator: a flat latent `[batch, latent_size]` → `[batch, tracks, bars, steps,
/// pitches]` in (0, 1). Its kind is the config's [`GeneratorKind`]:
///
/// - **Phrase** (BinaryMuseGAN, Table 3(a)): a shared network (dense → `(bars − 1) × 512` →
///   transposed convs growing bars, time and pitch to `[64, bars, f₁·f₂, octaves]`), then per
///   track two sub-streams — pitch-time (pitch × 12, then time × f₃) and time-pitch (time, then
///   pitch) — concatenated and merged by a 1×1×1 transposed conv to one channel with batch norm
///   and a sigmoid. Every other layer has batch norm and a ReLU. Variables `shared.*`,
///   `pitch_time.{track}.*`, `time_pitch.{track}.*`, `merged.{track}.*`.
/// - **Temporal** (MuseGAN's composer / jamming / hybrid in the 3-D form of its v2 code):
///   temporal generators turn the time-dependent latents into one latent per bar, bar
///   generators turn each bar's latents into the bar; batch norm and leaky ReLUs everywhere,
///   batch norm and a sigmoid at the output. Variables `temporal.shared.*`,
///   `temporal.private.{track}.*` and `bar.{generator}.{trunk,pitch_time,time_pitch,merged}.*`;
///   the layout of the latent is in [`Generator::latent_size`].
#[derive(Debug)]
pub struct Generator {
    body: GeneratorBody,
    latent: i64,
    bars: i64,
    summary: NetworkSummary,
}

impl Generator {
    /// Builds the generator's variables under `path`.
    ///
    /// # Errors
    /// [`Error::Config`] if `cfg` does not validate; [`Error::Torch`] from libtorch.
    pub fn new(path: &nn::Path, cfg: &BinaryMuseGanConfig) -> Result<Self, Error> {
        let d = Dims::of(cfg)?;
        let (body, rows) = match cfg.generator {
            GeneratorKind::Phrase {} => Self::phrase(path, &d)?,
            GeneratorKind::Temporal { .. } => {
                let (temporal, rows) = TemporalGenerator::new(path, cfg, &d)?;
                (GeneratorBody::Temporal(Box::new(temporal)), rows)
            }
        };
        let summary = NetworkSummary::new("generator", vec![d.latent], d.sample.to_vec(), rows);
        let out = summary.layers.last().map(|l| &l.output_shape);
        if out.and_then(|s| s.get(1..)) != Some(&d.sample[1..]) {
            return Err(Error::Config(format!(
                "the generator builds {out:?} per track, not the sample shape {:?}",
                d.sample
            )));
        }
        Ok(Self {
            body,
            latent: d.latent,
            bars: d.bars,
            summary,
        })
    }

    /// BinaryMuseGAN's phrase generator and its summary rows.
    fn phrase(path: &nn::Path, d: &Dims) -> Result<(GeneratorBody, Vec<LayerSummary>), Error> {
        let [f1, f2, f3] = d.f;
        let [a, kb, sb] = d.pl;
        let shared = Stack::new(
            &(path / "shared"),
            "shared",
            1,
            &[d.latent],
            &[
                Block::dense(d.w(512) * (d.bars - 1)).bn().act(Act::Relu),
                Block::reshape(vec![d.w(512), d.bars - 1, 1, 1]),
                Block::tconv(d.w(256), [2, 1, 1], [1, 1, 1])
                    .bn()
                    .act(Act::Relu),
                Block::tconv(d.w(128), [1, f1, 1], [1, f1, 1])
                    .bn()
                    .act(Act::Relu),
                Block::tconv(d.w(128), [1, 1, a], [1, 1, a])
                    .bn()
                    .act(Act::Relu),
                Block::tconv(d.w(64), [1, f2, 1], [1, f2, 1])
                    .bn()
                    .act(Act::Relu),
                Block::tconv(d.w(64), [1, 1, kb], [1, 1, sb])
                    .bn()
                    .act(Act::Relu),
            ],
        )?;
        let (private, private_rows) = Private::per_track(
            path,
            d.tracks,
            shared.output_shape(),
            [
                &[
                    Block::tconv(d.w(64), [1, 1, 12], [1, 1, 12])
                        .bn()
                        .act(Act::Relu),
                    Block::tconv(d.w(32), [1, f3, 1], [1, f3, 1])
                        .bn()
                        .act(Act::Relu),
                ],
                &[
                    Block::tconv(d.w(64), [1, f3, 1], [1, f3, 1])
                        .bn()
                        .act(Act::Relu),
                    Block::tconv(d.w(32), [1, 1, 12], [1, 1, 12])
                        .bn()
                        .act(Act::Relu),
                ],
                &[Block::tconv(1, [1, 1, 1], [1, 1, 1]).bn().act(Act::Sigmoid)],
            ],
        )?;
        let mut rows = shared.rows().to_vec();
        rows.extend(private_rows);
        Ok((GeneratorBody::Phrase { shared, private }, rows))
    }

    /// The size of the flat latent `z` that [`forward_t`](Self::forward_t) takes (the config's
    /// `latent`); training samples it from N(0, 1).
    ///
    /// For a temporal generator `z` is the concatenation, in this order, of the
    /// time-independent latents — `shared`, then `private` of track 0, 1, …, T − 1 — and the
    /// time-dependent ones — `temporal_shared`, then `temporal_private` of track 0, 1, …,
    /// T − 1; a latent of size 0 (e.g. `shared` for jamming) takes no entries.
    ///
    /// # Example
    /// ```
    /// use museroll_models::{BinaryMuseGanConfig, Generator};
    ///
    /// let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    /// let g = Generator::new(&vs.root(), &BinaryMuseGanConfig::musegan())?;
    /// // 32 shared + 5 × 32 private, then 32 temporal shared + 5 × 32 temporal private.
    /// assert_eq!(g.latent_size(), 384);
    /// # Ok::<(), museroll_models::Error>(())
    /// ```
    pub fn latent_size(&self) -> i64 {
        self.latent
    }

    /// Maps latents `z` `[batch, latent_size]` to `[batch, tracks, bars, steps, pitches]` in
    /// (0, 1).
    ///
    /// # Errors
    /// [`Error::Shape`] if `z` is not `[batch, latent_size]`; [`Error::Torch`] from libtorch
    /// (e.g. a training forward of a batch of 1, whose batch norm has no statistics).
    pub fn forward_t(&self, z: &Tensor, train: bool) -> Result<Tensor, Error> {
        check_input(z, &[self.latent], "generator")?;
        match &self.body {
            GeneratorBody::Phrase { shared, private } => {
                let h = shared.forward_t(z, train)?;
                let tracks = private
                    .iter()
                    .map(|p| p.forward_t(&h, train))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Tensor::f_cat(&tracks, 1)?)
            }
            GeneratorBody::Temporal(g) => {
                let k = g.time_independent_size();
                let fixed = z.f_narrow(1, 0, k)?;
                let temporal = z.f_narrow(1, k, self.latent - k)?;
                g.forward_t(&fixed, &temporal, train)
            }
        }
    }

    /// Generates pieces of several phrases: latents `z` `[batch, phrases, latent_size]` →
    /// `[batch, tracks, phrases · bars, steps, pitches]` in (0, 1), phrase after phrase.
    ///
    /// Only a temporal generator can do this. Its bar generators make each bar from the
    /// time-independent latents and that bar's own latent, independently of the other bars;
    /// the temporal generators make the per-bar latents of a phrase of `bars` bars from the
    /// phrase's time-dependent latents. So the time-independent latents (the first part of
    /// `z`, see [`latent_size`](Self::latent_size)) are taken from phrase 0 and kept for the
    /// whole piece — the style (`shared`) and each track's groove (`private`) stay fixed —
    /// while phrase `p`'s time-dependent latents (its chords and melodies) make the bars of
    /// phrase `p`; the time-independent part of phrases 1, 2, … is ignored. In eval mode
    /// phrase `p` equals, up to rounding, what [`forward_t`](Self::forward_t) makes from phrase
    /// 0's time-independent latents and phrase `p`'s time-dependent ones.
    ///
    /// Coherence and its limits: the fixed latents hold what a trained model encodes in them
    /// (instrumentation, register, texture), so that stays consistent across the piece. But
    /// training sees single phrases, so nothing is learnt about how one phrase leads into the
    /// next: independent time-dependent latents give phrases that do not connect (no cadence
    /// plan, no motif carried over, possibly abrupt changes at the joins). Callers who want
    /// smoother joins choose related latents, e.g. interpolate between neighbouring phrases'
    /// time-dependent latents. With `train` set, batch norm takes its statistics over all
    /// `batch · phrases` phrases together.
    ///
    /// # Example
    /// ```
    /// use museroll_models::{BinaryMuseGanConfig, Generator};
    /// use tch::{Device, Kind, Tensor};
    ///
    /// let vs = tch::nn::VarStore::new(Device::Cpu);
    /// let g = Generator::new(&vs.root(), &BinaryMuseGanConfig::tiny_hybrid())?;
    /// // Two pieces of three phrases of 2 bars each.
    /// let z = Tensor::randn([2, 3, g.latent_size()], (Kind::Float, Device::Cpu));
    /// let x = tch::no_grad(|| g.forward_long_t(&z, false))?;
    /// assert_eq!(x.size(), [2, 2, 6, 8, 24]);
    /// # Ok::<(), museroll_models::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Shape`] if `z` is not `[batch ≥ 1, phrases ≥ 1, latent_size]`;
    /// [`Error::Config`] for the phrase generator with more than one phrase (it makes
    /// fixed-length phrases; one phrase is [`forward_t`](Self::forward_t)); [`Error::Torch`]
    /// from libtorch.
    pub fn forward_long_t(&self, z: &Tensor, train: bool) -> Result<Tensor, Error> {
        let size = z.size();
        let [batch, phrases, latent] = match <[i64; 3]>::try_from(size.as_slice()) {
            Ok([b, p, l]) if b >= 1 && p >= 1 && l == self.latent => [b, p, l],
            _ => {
                return Err(Error::Shape(format!(
                    "the generator's long form expects [batch, phrases, {}], got {size:?}",
                    self.latent
                )))
            }
        };
        let g = match &self.body {
            GeneratorBody::Phrase { .. } if phrases == 1 => {
                return self.forward_t(&z.f_select(1, 0)?, train)
            }
            GeneratorBody::Phrase { .. } => {
                return Err(Error::Config(format!(
                    "the phrase generator makes fixed-length phrases of {} bars; a piece of \
                     {phrases} phrases needs a temporal generator (generator kind \"temporal\")",
                    self.bars
                )))
            }
            GeneratorBody::Temporal(g) => g,
        };
        let k = g.time_independent_size();
        let n = batch * phrases;
        let fixed = z
            .f_select(1, 0)?
            .f_narrow(1, 0, k)?
            .f_unsqueeze(1)?
            .f_expand([batch, phrases, k], false)?
            .f_reshape([n, k])?;
        let temporal = z.f_narrow(2, k, latent - k)?.f_reshape([n, latent - k])?;
        let x = g.forward_t(&fixed, &temporal, train)?;
        let [_, tracks, bars, steps, pitches] = roll_dims(&x, "the generator")?;
        Ok(x.f_reshape([batch, phrases, tracks, bars, steps, pitches])?
            .f_permute([0, 2, 1, 3, 4, 5])?
            .f_reshape([batch, tracks, phrases * bars, steps, pitches])?)
    }

    /// Sets where each track's output starts: the bias (β) of the batch norm before the output
    /// sigmoid, one value per track. With `logit(d)` for a track whose cells are on with
    /// density `d` in the data, an untrained generator already outputs about `d` instead of
    /// ½ — so training spends its first steps on music rather than on learning that most
    /// cells are silent (a batch-norm bias moves by about the learning rate per Adam step, so
    /// from 0 to logit(0.02) ≈ −3.9 it takes thousands of steps).
    ///
    /// # Errors
    /// [`Error::Config`] unless there is one value per track; [`Error::Torch`] from libtorch.
    pub fn set_output_bias(&mut self, values: &[f64]) -> Result<(), Error> {
        let tracks = self.summary.output_shape.first().copied().unwrap_or(0);
        if values.len() as i64 != tracks {
            return Err(Error::Config(format!(
                "{} output biases for {tracks} tracks",
                values.len()
            )));
        }
        match &mut self.body {
            GeneratorBody::Phrase { private, .. } => {
                for (p, &v) in private.iter_mut().zip(values) {
                    p.set_output_bias(&[v])?;
                }
                Ok(())
            }
            GeneratorBody::Temporal(g) => g.set_output_bias(values),
        }
    }

    /// The per-layer summary.
    pub fn summary(&self) -> NetworkSummary {
        self.summary.clone()
    }
}

/// The refiner (bmusegan `refiner/proposed_{round,bernoulli}.py`): per track, two
/// pre-activation residual units `x + conv(ReLU(BN(conv₆₄(ReLU(BN(x))))))` with kernel
/// (1, 3, 12) and `SAME` padding, then binary neurons. Input and output are `[batch, tracks,
/// bars, steps, pitches]`; the output is exactly binary.
#[derive(Debug)]
pub struct Refiner {
    /// Per track, the two residual units.
    units: Vec<[Stack; 2]>,
    kind: BinaryNeuronKind,
    slope: f64,
    sample: [i64; 4],
    summary: NetworkSummary,
}

impl Refiner {
    /// Builds the refiner's variables under `path`; the binary neurons start at slope 1.
    ///
    /// # Errors
    /// [`Error::Config`] if `cfg` does not validate; [`Error::Torch`] from libtorch.
    pub fn new(path: &nn::Path, cfg: &BinaryMuseGanConfig) -> Result<Self, Error> {
        let d = Dims::of(cfg)?;
        let mut one_track = d.sample.to_vec();
        if let Some(c) = one_track.first_mut() {
            *c = 1;
        }
        let unit = [
            Block::identity().bn().act(Act::Relu),
            Block::same_conv(d.w(64), [1, 3, 12]).bn().act(Act::Relu),
            Block::same_conv(1, [1, 3, 12]),
        ];
        let mut units = Vec::new();
        for t in 0..d.tracks {
            let p = path / "private" / t;
            let make = |u: usize| {
                Stack::new(
                    &(&p / u),
                    &format!("private.*.{u}"),
                    d.tracks,
                    &one_track,
                    &unit,
                )
            };
            units.push([make(0)?, make(1)?]);
        }
        let mut rows: Vec<LayerSummary> = units
            .first()
            .map(|u| u.iter().flat_map(|s| s.rows().to_vec()).collect())
            .unwrap_or_default();
        rows.push(LayerSummary {
            name: "binary_neuron".into(),
            op: format!("residual add + {:?}", cfg.binary_neuron).to_lowercase(),
            output_shape: d.sample.to_vec(),
            params: 0,
            copies: 1,
        });
        let summary = NetworkSummary::new("refiner", d.sample.to_vec(), d.sample.to_vec(), rows);
        Ok(Self {
            units,
            kind: cfg.binary_neuron,
            slope: 1.0,
            sample: d.sample,
            summary,
        })
    }

    /// The binary neurons' current slope.
    pub fn slope(&self) -> f64 {
        self.slope
    }

    /// Sets the binary neurons' slope (for annealing).
    ///
    /// # Errors
    /// [`Error::Config`] if `slope` is not a finite positive number.
    pub fn set_slope(&mut self, slope: f64) -> Result<(), Error> {
        if !(slope.is_finite() && slope > 0.0) {
            return Err(Error::Config(format!(
                "binary neuron slope {slope} is not a finite positive number"
            )));
        }
        self.slope = slope;
        Ok(())
    }

    /// Refines `x` `[batch, tracks, bars, steps, pitches]` into a binary piano-roll of the same
    /// shape, also returning the binary neurons' probabilities (see [`binary_neuron`]).
    ///
    /// # Errors
    /// [`Error::Shape`] for an input of another shape; [`Error::Torch`] from libtorch.
    pub fn forward_with_probabilities_t(
        &self,
        x: &Tensor,
        train: bool,
    ) -> Result<(Tensor, Tensor), Error> {
        check_input(x, &self.sample, "refiner")?;
        let mut tracks = Vec::with_capacity(self.units.len());
        for (t, units) in (0i64..).zip(&self.units) {
            let mut h = x.f_narrow(1, t, 1)?;
            for unit in units {
                h = h.f_add(&unit.forward_t(&h, train)?)?;
            }
            tracks.push(h);
        }
        binary_neuron(&Tensor::f_cat(&tracks, 1)?, self.slope, self.kind)
    }

    /// Refines `x` `[batch, tracks, bars, steps, pitches]` into a binary piano-roll of the same
    /// shape (values exactly 0 or 1, straight-through gradients).
    ///
    /// # Errors
    /// As [`Refiner::forward_with_probabilities_t`].
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor, Error> {
        Ok(self.forward_with_probabilities_t(x, train)?.0)
    }

    /// The per-layer summary.
    pub fn summary(&self) -> NetworkSummary {
        self.summary.clone()
    }
}

/// The layers of the proposed and ablated-I discriminators.
#[derive(Debug)]
struct Streams {
    private: Vec<Private>,
    shared: Stack,
    /// The onset/offset stream (proposed only).
    onset: Option<Stack>,
    /// The chroma stream (proposed only).
    chroma: Option<Stack>,
    merged: Stack,
}

/// The layers of a discriminator variant.
#[derive(Debug)]
enum Body {
    /// Proposed or ablated-I.
    Streams(Box<Streams>),
    /// Ablated-II: one network over all tracks.
    Single(Stack),
}

/// The discriminator (critic), Table 3(b)–(e): `[batch, tracks, bars, steps, pitches]` → one
/// score per sample `[batch, 1]`, no normalisation, leaky ReLUs (0.2), no output activation.
///
/// - Proposed: per track a pitch-time and a time-pitch stream merged by a 1×1×1 conv (64
///   channels each); a shared network over their concatenation (→ 256 channels per bar); the
///   onset/offset stream ([`onset_feature`] → 128) and the chroma stream ([`chroma_feature`] →
///   128); all concatenated, a (2, 1, 1) conv over adjacent bars to 512 channels, flattened,
///   dense to 1.
/// - Ablated-I: the same without the onset and chroma streams.
/// - Ablated-II: one shared conv stack over all tracks, Table 3(e).
#[derive(Debug)]
pub struct Discriminator {
    body: Body,
    sample: [i64; 4],
    beats: i64,
    drum_tracks: Vec<u32>,
    summary: NetworkSummary,
}

impl Discriminator {
    /// Builds the discriminator variant `cfg.discriminator` under `path`.
    ///
    /// # Errors
    /// [`Error::Config`] if `cfg` does not validate; [`Error::Torch`] from libtorch.
    pub fn new(path: &nn::Path, cfg: &BinaryMuseGanConfig) -> Result<Self, Error> {
        let d = Dims::of(cfg)?;
        let [f1, f2, f3] = d.f;
        let [a, kb, sb] = d.pl;
        let lrelu = |b: Block| b.act(Act::LeakyRelu);
        let head = |channels: i64| {
            vec![
                lrelu(Block::conv(channels, [2, 1, 1], [1, 1, 1])),
                Block::reshape(vec![channels * (d.bars - 1)]),
                Block::dense(1),
            ]
        };
        let mut rows = Vec::new();
        let body = if cfg.discriminator == DiscriminatorVariant::AblatedII {
            let mut blocks = vec![
                lrelu(Block::conv(d.w(128), [1, 1, 12], [1, 1, 12])),
                lrelu(Block::conv(d.w(128), [1, 1, kb], [1, 1, sb])),
                lrelu(Block::conv(d.w(256), [1, f3, 1], [1, f3, 1])),
                lrelu(Block::conv(d.w(256), [1, f2, 1], [1, f2, 1])),
                lrelu(Block::conv(d.w(512), [1, 1, a], [1, 1, a])),
                lrelu(Block::conv(d.w(512), [1, f1, 1], [1, f1, 1])),
            ];
            blocks.extend(head(d.w(1024)));
            let net = Stack::new(&(path / "net"), "net", 1, &d.sample, &blocks)?;
            rows.extend_from_slice(net.rows());
            Body::Single(net)
        } else {
            let mut one_track = d.sample.to_vec();
            if let Some(c) = one_track.first_mut() {
                *c = 1;
            }
            let (private, private_rows) = Private::per_track(
                path,
                d.tracks,
                &one_track,
                [
                    &[
                        lrelu(Block::conv(d.w(32), [1, 1, 12], [1, 1, 12])),
                        lrelu(Block::conv(d.w(64), [1, f3, 1], [1, f3, 1])),
                    ],
                    &[
                        lrelu(Block::conv(d.w(32), [1, f3, 1], [1, f3, 1])),
                        lrelu(Block::conv(d.w(64), [1, 1, 12], [1, 1, 12])),
                    ],
                    &[lrelu(Block::conv(d.w(64), [1, 1, 1], [1, 1, 1]))],
                ],
            )?;
            rows.extend(private_rows);
            let mut concat = private
                .first()
                .map(|p| p.output_shape().to_vec())
                .unwrap_or_default();
            if let Some(c) = concat.first_mut() {
                *c *= d.tracks;
            }
            let shared = Stack::new(
                &(path / "shared"),
                "shared",
                1,
                &concat,
                &[
                    lrelu(Block::conv(d.w(128), [1, f2, kb], [1, f2, sb])),
                    lrelu(Block::conv(d.w(256), [1, f1, a], [1, f1, a])),
                ],
            )?;
            rows.extend_from_slice(shared.rows());
            let mut channels = d.w(256);
            let (onset, chroma) = if cfg.discriminator == DiscriminatorVariant::Proposed {
                let onset_in = vec![d.tracks, d.bars, d.sample[2], 1];
                rows.push(LayerSummary {
                    name: "onset_feature".into(),
                    op: "within-bar x[t]−x[t−1] (drums raw), sum over pitch".into(),
                    output_shape: onset_in.clone(),
                    params: 0,
                    copies: 1,
                });
                let onset = Stack::new(
                    &(path / "onset"),
                    "onset",
                    1,
                    &onset_in,
                    &[
                        lrelu(Block::conv(d.w(32), [1, f3, 1], [1, f3, 1])),
                        lrelu(Block::conv(d.w(64), [1, f2, 1], [1, f2, 1])),
                        lrelu(Block::conv(d.w(128), [1, f1, 1], [1, f1, 1])),
                    ],
                )?;
                rows.extend_from_slice(onset.rows());
                let chroma_in = vec![d.tracks, d.bars, d.beats, 12];
                rows.push(LayerSummary {
                    name: "chroma_feature".into(),
                    op: "sum over beat and octave (pitch class = index mod 12)".into(),
                    output_shape: chroma_in.clone(),
                    params: 0,
                    copies: 1,
                });
                let chroma = Stack::new(
                    &(path / "chroma"),
                    "chroma",
                    1,
                    &chroma_in,
                    &[
                        lrelu(Block::conv(d.w(64), [1, 1, 12], [1, 1, 12])),
                        lrelu(Block::conv(d.w(128), [1, d.beats, 1], [1, d.beats, 1])),
                    ],
                )?;
                rows.extend_from_slice(chroma.rows());
                channels += 2 * d.w(128); // onset and chroma streams
                (Some(onset), Some(chroma))
            } else {
                (None, None)
            };
            let merged = Stack::new(
                &(path / "merged"),
                "merged",
                1,
                &[channels, d.bars, 1, 1],
                &head(d.w(512)),
            )?;
            rows.extend_from_slice(merged.rows());
            Body::Streams(Box::new(Streams {
                private,
                shared,
                onset,
                chroma,
                merged,
            }))
        };
        let summary = NetworkSummary::new("discriminator", d.sample.to_vec(), vec![1], rows);
        Ok(Self {
            body,
            sample: d.sample,
            beats: d.beats,
            drum_tracks: cfg.drum_tracks.clone(),
            summary,
        })
    }

    /// Scores `x` `[batch, tracks, bars, steps, pitches]`: `[batch, 1]`.
    ///
    /// # Errors
    /// [`Error::Shape`] for an input of another shape; [`Error::Torch`] from libtorch.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor, Error> {
        check_input(x, &self.sample, "discriminator")?;
        match &self.body {
            Body::Single(net) => net.forward_t(x, train),
            Body::Streams(streams) => {
                let Streams {
                    private,
                    shared,
                    onset,
                    chroma,
                    merged,
                } = streams.as_ref();
                let tracks = (0i64..)
                    .zip(private)
                    .map(|(t, p)| p.forward_t(&x.f_narrow(1, t, 1)?, train))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut outputs = vec![shared.forward_t(&Tensor::f_cat(&tracks, 1)?, train)?];
                if let Some(onset) = onset {
                    let feature = onset_feature(x, &self.drum_tracks)?;
                    outputs.push(onset.forward_t(&feature, train)?);
                }
                if let Some(chroma) = chroma {
                    let feature = chroma_feature(x, self.beats)?;
                    outputs.push(chroma.forward_t(&feature, train)?);
                }
                merged.forward_t(&Tensor::f_cat(&outputs, 1)?, train)
            }
        }
    }

    /// The per-layer summary.
    pub fn summary(&self) -> NetworkSummary {
        self.summary.clone()
    }
}
