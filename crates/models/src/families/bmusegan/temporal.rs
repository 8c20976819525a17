//! MuseGAN's temporal generator (Dong, Hsiao, Yang & Yang, "MuseGAN: Multi-track Sequential
//! Generative Adversarial Networks for Symbolic Music Generation and Accompaniment", AAAI 2018)
//! in the 3-D convolutional form of its v2 code: the composer, jamming and hybrid latent
//! structures ([`LatentStructure`]) with temporal generators. [`crate::Generator`] builds it
//! for [`GeneratorKind::Temporal`]; the refiner and discriminator are BinaryMuseGAN's.
//!
//! Policies:
//!
//! - **Four latents** (the paper's inter-/intra-track × time-independent/-dependent):
//!   `shared`, `private` (per track), `temporal_shared`, `temporal_private` (per track). A
//!   temporal generator (dense `(bars − 1)·temporal_channels`, BN, LReLU, reshape to
//!   `bars − 1` cells, transposed conv of kernel 2 over the bars, BN, LReLU) turns a
//!   time-dependent latent of size n into n channels per bar: v2's "dense 3·256 → tconv (2,1,1)
//!   → 4 bars" for any `bars`. Time-independent latents are tiled over the bars.
//! - **Bar generators.** Each bar's input is the concatenation, in this order, of `shared`,
//!   the bar's `temporal_shared`, `private` and the bar's `temporal_private` (those the
//!   structure uses), as `[channels, bars, 1, 1]`. A bar generator grows time and pitch with
//!   the kernel = stride layers of BinaryMuseGAN's generator (time by `time_factors`, pitch by
//!   `pitch_layers` and ×12), so every shape the config validates builds; widths
//!   `bar_channels` · 1, ½, ¼, ⅛, then pitch-time and time-pitch streams of 1/16 and 1/32,
//!   merged by a 1×1×1 transposed conv. BN and LReLU after every layer (v2), BN and a sigmoid
//!   at the output. The composer has one bar generator with one output channel per track; the
//!   jamming and hybrid structures one per track with one channel each.
//! - **Bars are independent given their latents**: every bar-generator kernel has size 1 on the
//!   bar axis, and only the temporal generators mix bars, within their own phrase. This is what
//!   lets [`crate::Generator::forward_long_t`] continue a piece phrase by phrase: its phrases
//!   are the batch here.
//! - Variables: `temporal.shared.{layer}`, `temporal.private.{track}.{layer}`,
//!   `bar.{generator}.{trunk,pitch_time,time_pitch,merged}.{layer}` (PyTorch `state_dict`
//!   style). Summary rows write `*` for the track of per-track copies.

use tch::{nn, Tensor};

use super::blocks::{Dims, Private};
use super::config::{BinaryMuseGanConfig, GeneratorKind, LatentStructure};
use crate::nn::stack::{Act, Block, Stack};
use crate::nn::LayerSummary;
use crate::Error;

/// A block with batch norm and a leaky ReLU.
fn bn_lrelu(block: Block) -> Block {
    block.bn().act(Act::LeakyRelu)
}

/// A temporal generator from a latent of size `size` to `size` channels per bar, under `path`.
fn temporal_stack(
    path: &nn::Path,
    name: &str,
    copies: i64,
    size: i64,
    bars: i64,
    channels: i64,
) -> Result<Stack, Error> {
    Stack::new(
        path,
        name,
        copies,
        &[size],
        &[
            bn_lrelu(Block::dense((bars - 1) * channels)),
            Block::reshape(vec![channels, bars - 1, 1, 1]),
            bn_lrelu(Block::tconv(size, [2, 1, 1], [1, 1, 1])),
        ],
    )
}

/// One bar generator: a trunk growing time and pitch, then the pitch-time / time-pitch streams
/// merged to the output channels.
#[derive(Debug)]
struct BarGenerator {
    trunk: Stack,
    streams: Private,
}

impl BarGenerator {
    /// Builds a bar generator under `path` whose summary rows are named `{label}.…`, for
    /// per-bar inputs `[channels, bars, 1, 1]`, `width` = `bar_channels` and `out` output
    /// channels.
    fn new(
        path: &nn::Path,
        label: &str,
        copies: i64,
        input_shape: &[i64],
        d: &Dims,
        width: i64,
        out: i64,
    ) -> Result<Self, Error> {
        let [f1, f2, f3] = d.f;
        let [a, kb, sb] = d.pl;
        let trunk = Stack::new(
            &(path / "trunk"),
            &format!("{label}.trunk"),
            copies,
            input_shape,
            &[
                bn_lrelu(Block::tconv(width, [1, f1, 1], [1, f1, 1])),
                bn_lrelu(Block::tconv(width / 2, [1, 1, a], [1, 1, a])),
                bn_lrelu(Block::tconv(width / 4, [1, f2, 1], [1, f2, 1])),
                bn_lrelu(Block::tconv(width / 8, [1, 1, kb], [1, 1, sb])),
            ],
        )?;
        let streams = Private::new(
            |sub| (path / sub, format!("{label}.{sub}")),
            copies,
            trunk.output_shape(),
            [
                &[
                    bn_lrelu(Block::tconv(width / 16, [1, 1, 12], [1, 1, 12])),
                    bn_lrelu(Block::tconv(width / 32, [1, f3, 1], [1, f3, 1])),
                ],
                &[
                    bn_lrelu(Block::tconv(width / 16, [1, f3, 1], [1, f3, 1])),
                    bn_lrelu(Block::tconv(width / 32, [1, 1, 12], [1, 1, 12])),
                ],
                &[Block::tconv(out, [1, 1, 1], [1, 1, 1])
                    .bn()
                    .act(Act::Sigmoid)],
            ],
        )?;
        Ok(Self { trunk, streams })
    }

    fn rows(&self) -> Vec<LayerSummary> {
        let mut rows = self.trunk.rows().to_vec();
        rows.extend(self.streams.rows());
        rows
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor, Error> {
        self.streams
            .forward_t(&self.trunk.forward_t(x, train)?, train)
    }
}

/// MuseGAN's temporal generator: the temporal generators and the bar generators of one latent
/// structure.
#[derive(Debug)]
pub(crate) struct TemporalGenerator {
    structure: LatentStructure,
    /// Latent sizes: shared, private (per track).
    shared: i64,
    private: i64,
    /// Latent sizes: temporal shared, temporal private (per track).
    temporal_shared: i64,
    temporal_private: i64,
    tracks: i64,
    bars: i64,
    /// The shared temporal generator (absent when `temporal_shared` is 0).
    temporal_shared_net: Option<Stack>,
    /// One temporal generator per track (none when `temporal_private` is 0).
    temporal_private_nets: Vec<Stack>,
    /// One bar generator (composer) or one per track.
    bar: Vec<BarGenerator>,
}

impl TemporalGenerator {
    /// Builds the networks of `cfg` (validated into `d`) under `path`; also returns the summary
    /// rows.
    ///
    /// # Errors
    /// [`Error::Config`] if `cfg` has no temporal generator; [`Error::Torch`] from libtorch.
    pub(crate) fn new(
        path: &nn::Path,
        cfg: &BinaryMuseGanConfig,
        d: &Dims,
    ) -> Result<(Self, Vec<LayerSummary>), Error> {
        let GeneratorKind::Temporal {
            structure,
            shared,
            private,
            temporal_shared,
            temporal_private,
            bar_channels,
            temporal_channels,
        } = cfg.generator
        else {
            return Err(Error::Config("the config has no temporal generator".into()));
        };
        let [s, p, ts, tp] = [shared, private, temporal_shared, temporal_private].map(i64::from);
        let (width, channels) = (i64::from(bar_channels), i64::from(temporal_channels));
        let mut rows = Vec::new();
        let temporal = path / "temporal";
        let temporal_shared_net = if ts > 0 {
            let net = temporal_stack(
                &(&temporal / "shared"),
                "temporal.shared",
                1,
                ts,
                d.bars,
                channels,
            )?;
            rows.extend_from_slice(net.rows());
            Some(net)
        } else {
            None
        };
        let temporal_private_nets = if tp > 0 {
            (0..d.tracks)
                .map(|t| {
                    temporal_stack(
                        &(&temporal / "private" / t),
                        "temporal.private.*",
                        d.tracks,
                        tp,
                        d.bars,
                        channels,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        if let Some(net) = temporal_private_nets.first() {
            rows.extend_from_slice(net.rows());
        }
        let (count, inputs, out, label) = match structure {
            LatentStructure::Composer => (1, s + ts, d.tracks, "bar.0"),
            LatentStructure::Jamming | LatentStructure::Hybrid => {
                (d.tracks, s + ts + p + tp, 1, "bar.*")
            }
        };
        let parts: Vec<&str> = [
            ("shared", s),
            ("t_shared", ts),
            ("private", p),
            ("t_private", tp),
        ]
        .iter()
        .filter(|(_, size)| *size > 0)
        .map(|(name, _)| *name)
        .collect();
        let input_shape = [inputs, d.bars, 1, 1];
        rows.push(LayerSummary {
            name: "bar_input".into(),
            op: format!("concat: {}", parts.join(", ")),
            output_shape: input_shape.to_vec(),
            params: 0,
            copies: count,
        });
        let bar = (0..count)
            .map(|g| {
                BarGenerator::new(
                    &(path / "bar" / g),
                    label,
                    count,
                    &input_shape,
                    d,
                    width,
                    out,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(b) = bar.first() {
            rows.extend(b.rows());
        }
        let generator = Self {
            structure,
            shared: s,
            private: p,
            temporal_shared: ts,
            temporal_private: tp,
            tracks: d.tracks,
            bars: d.bars,
            temporal_shared_net,
            temporal_private_nets,
            bar,
        };
        Ok((generator, rows))
    }

    /// Sets the output batch norms' biases, one per track (see
    /// [`crate::Generator::set_output_bias`]): the composer's one bar generator has a channel
    /// per track, the others one generator per track.
    pub(crate) fn set_output_bias(&mut self, values: &[f64]) -> Result<(), Error> {
        if let [bar] = self.bar.as_mut_slice() {
            if self.structure == LatentStructure::Composer {
                return bar.streams.set_output_bias(values);
            }
        }
        for (bar, &v) in self.bar.iter_mut().zip(values) {
            bar.streams.set_output_bias(&[v])?;
        }
        Ok(())
    }

    /// The number of time-independent entries at the start of the flat latent: `shared`, then
    /// `private` per track.
    pub(crate) fn time_independent_size(&self) -> i64 {
        self.shared + self.private * self.tracks
    }

    /// Generates `[n, tracks, bars, steps, pitches]` from the time-independent latents
    /// `fixed` `[n, shared + tracks·private]` and the time-dependent ones `temporal`
    /// `[n, temporal_shared + tracks·temporal_private]`.
    pub(crate) fn forward_t(
        &self,
        fixed: &Tensor,
        temporal: &Tensor,
        train: bool,
    ) -> Result<Tensor, Error> {
        let bars = self.bars;
        // [n, k] → [n, k, bars, 1, 1]
        let tile = |x: Tensor| -> Result<Tensor, Error> {
            Ok(x.f_unsqueeze(2)?
                .f_unsqueeze(3)?
                .f_unsqueeze(4)?
                .f_expand([-1, -1, bars, 1, 1], false)?)
        };
        let mut shared_parts = Vec::new();
        if self.shared > 0 {
            shared_parts.push(tile(fixed.f_narrow(1, 0, self.shared)?)?);
        }
        if let Some(net) = &self.temporal_shared_net {
            let z = temporal.f_narrow(1, 0, self.temporal_shared)?;
            shared_parts.push(net.forward_t(&z, train)?);
        }
        if self.structure == LatentStructure::Composer {
            let bar = self
                .bar
                .first()
                .ok_or_else(|| Error::Config("the composer has no bar generator".into()))?;
            return bar.forward_t(&Tensor::f_cat(&shared_parts, 1)?, train);
        }
        let mut tracks = Vec::with_capacity(self.bar.len());
        for (t, bar) in (0i64..).zip(&self.bar) {
            let mut parts: Vec<Tensor> = shared_parts.iter().map(Tensor::shallow_clone).collect();
            if self.private > 0 {
                let z = fixed.f_narrow(1, self.shared + t * self.private, self.private)?;
                parts.push(tile(z)?);
            }
            if let Some(net) = usize::try_from(t)
                .ok()
                .and_then(|i| self.temporal_private_nets.get(i))
            {
                let start = self.temporal_shared + t * self.temporal_private;
                let z = temporal.f_narrow(1, start, self.temporal_private)?;
                parts.push(net.forward_t(&z, train)?);
            }
            tracks.push(bar.forward_t(&Tensor::f_cat(&parts, 1)?, train)?);
        }
        Ok(Tensor::f_cat(&tracks, 1)?)
    }
}
