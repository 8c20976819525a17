//! The pieces the family's networks share: the pitch-time / time-pitch block ([`Private`]),
//! used by the phrase generator, the discriminator and MuseGAN's bar generators, and the
//! config's sizes as libtorch integers ([`Dims`]).

use tch::{nn, Tensor};

use super::config::BinaryMuseGanConfig;
use crate::nn::stack::{Block, Stack};
use crate::nn::LayerSummary;
use crate::Error;

/// The three sub-networks of a pitch-time / time-pitch block, per track in the generator and
/// the discriminator's main stream, per bar generator in MuseGAN's temporal generator:
/// pitch-time, time-pitch and their merge.
#[derive(Debug)]
pub(crate) struct Private {
    pitch_time: Stack,
    time_pitch: Stack,
    merged: Stack,
}

impl Private {
    /// Builds the three sub-networks; `place(sub)` gives the VarStore path and summary-row
    /// name of sub-network `sub` (`pitch_time`, `time_pitch` or `merged`), whose rows say
    /// `copies`.
    pub(crate) fn new<'a>(
        place: impl Fn(&str) -> (nn::Path<'a>, String),
        copies: i64,
        input_shape: &[i64],
        blocks: [&[Block]; 3],
    ) -> Result<Self, Error> {
        let stack = |sub: &str, shape: &[i64], blocks: &[Block]| {
            let (path, name) = place(sub);
            Stack::new(&path, &name, copies, shape, blocks)
        };
        let pitch_time = stack("pitch_time", input_shape, blocks[0])?;
        let time_pitch = stack("time_pitch", input_shape, blocks[1])?;
        let (a, b) = (pitch_time.output_shape(), time_pitch.output_shape());
        if a.get(1..) != b.get(1..) {
            return Err(Error::Config(format!(
                "the pitch-time {a:?} and time-pitch {b:?} streams differ in shape"
            )));
        }
        let mut concat = a.to_vec();
        if let (Some(c), Some(&cb)) = (concat.first_mut(), b.first()) {
            *c += cb;
        }
        let merged = stack("merged", &concat, blocks[2])?;
        Ok(Self {
            pitch_time,
            time_pitch,
            merged,
        })
    }

    /// Builds one [`Private`] per track, variables `{sub}.{track}.…` under `path`; also
    /// returns the summary rows of track 0's copy.
    pub(crate) fn per_track(
        path: &nn::Path,
        tracks: i64,
        input_shape: &[i64],
        blocks: [&[Block]; 3],
    ) -> Result<(Vec<Self>, Vec<LayerSummary>), Error> {
        let nets = (0..tracks)
            .map(|t| {
                Self::new(
                    |sub| (path / sub / t, format!("{sub}.*")),
                    tracks,
                    input_shape,
                    blocks,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rows = nets.first().map(Self::rows).unwrap_or_default();
        Ok((nets, rows))
    }

    /// The summary rows of the three sub-networks.
    pub(crate) fn rows(&self) -> Vec<LayerSummary> {
        [&self.pitch_time, &self.time_pitch, &self.merged]
            .iter()
            .flat_map(|s| s.rows().to_vec())
            .collect()
    }

    /// Sets the output batch norm's bias (one value per output channel).
    pub(crate) fn set_output_bias(&mut self, values: &[f64]) -> Result<(), Error> {
        self.merged.set_output_bias(values)
    }

    pub(crate) fn output_shape(&self) -> &[i64] {
        self.merged.output_shape()
    }

    pub(crate) fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor, Error> {
        let pt = self.pitch_time.forward_t(x, train)?;
        let tp = self.time_pitch.forward_t(x, train)?;
        self.merged.forward_cat_t(&[pt, tp], train)
    }
}

/// The config's sizes as libtorch integers.
pub(crate) struct Dims {
    pub(crate) tracks: i64,
    pub(crate) bars: i64,
    pub(crate) latent: i64,
    pub(crate) beats: i64,
    /// Time factors: shared 1, shared 2, private.
    pub(crate) f: [i64; 3],
    /// Pitch layers: first kernel = stride, second kernel, second stride.
    pub(crate) pl: [i64; 3],
    pub(crate) sample: [i64; 4],
    /// The config's `width_divisor`.
    divisor: i64,
}

impl Dims {
    /// Validates `cfg` and converts its sizes.
    pub(crate) fn of(cfg: &BinaryMuseGanConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let p = cfg.pitch_layers;
        Ok(Self {
            tracks: cfg.tracks.into(),
            bars: cfg.bars.into(),
            latent: cfg.latent.into(),
            beats: cfg.beats_per_bar.into(),
            f: cfg.time_factors.map(i64::from),
            pl: [p.first, p.second_kernel, p.second_stride].map(i64::from),
            sample: cfg.sample_shape(),
            divisor: cfg.width_divisor.into(),
        })
    }

    /// The width of a hidden layer that the paper gives `channels` channels.
    pub(crate) fn w(&self, channels: i64) -> i64 {
        (channels / self.divisor).max(1)
    }
}
