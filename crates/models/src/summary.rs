//! Per-layer summaries of the networks: what `museroll model --preset P [--json]` prints.
//!
//! Policies:
//!
//! - Output shapes are computed while the layers are built (shape inference per layer), not by a
//!   forward pass, so the paper-sized model is summarised without running it; the tests check
//!   that the forward passes give the same shapes.
//! - Shapes leave out the batch: `[channels, bars, steps, pitches]` for convolutions,
//!   `[features]` for dense layers.
//! - Parameter counts are the trainable elements the layers really created in their
//!   [`tch::nn::VarStore`] (weights, biases, batch-norm scale and shift), not a formula; the
//!   batch-norm running statistics are buffers and are not counted, as in the paper.
//! - The private networks are identical for every track, so each of their layers is one row
//!   with `copies` = the number of tracks and the name written with `*` for the track index.

use std::fmt;

use serde::{Deserialize, Serialize};
use tch::{nn, Device};

use crate::bmusegan::{Discriminator, Generator, Refiner};
use crate::config::BinaryMuseGanConfig;
use crate::Error;

/// One layer (or a parameter-free feature step) of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Its name in the network (its VarStore path, `*` standing for a track index).
    pub name: String,
    /// What it does, e.g. `tconv 256 k(2,1,1) s(1,1,1) + BN + ReLU`.
    pub op: String,
    /// The output shape of one copy without the batch.
    pub output_shape: Vec<i64>,
    /// Trainable parameters of one copy.
    pub params: i64,
    /// How many identical copies the network has (one per track for private layers, else 1).
    pub copies: i64,
}

/// The layers of one network and its total parameter count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSummary {
    /// `generator`, `refiner` or `discriminator`.
    pub network: String,
    /// The input shape without the batch.
    pub input_shape: Vec<i64>,
    /// The output shape without the batch.
    pub output_shape: Vec<i64>,
    /// The layers in the order the forward pass runs them.
    pub layers: Vec<LayerSummary>,
    /// `Σ params × copies` over the layers.
    pub params: i64,
}

impl NetworkSummary {
    /// Sums the layers' parameters into a network summary.
    pub(crate) fn new(
        network: &str,
        input_shape: Vec<i64>,
        output_shape: Vec<i64>,
        layers: Vec<LayerSummary>,
    ) -> Self {
        let params = layers.iter().map(|l| l.params * l.copies).sum();
        Self {
            network: network.to_owned(),
            input_shape,
            output_shape,
            layers,
            params,
        }
    }
}

/// The summary of a whole model: its config, each network, and the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The config the networks were built from.
    pub config: BinaryMuseGanConfig,
    /// Generator, refiner (if the config has one) and discriminator.
    pub networks: Vec<NetworkSummary>,
    /// Total trainable parameters of all networks.
    pub params: i64,
}

/// Builds every network of `cfg` on the CPU (weights are initialised, nothing runs) and
/// summarises them.
///
/// # Errors
/// [`Error::Config`] if `cfg` does not validate; [`Error::Torch`] if libtorch fails to allocate.
///
/// # Example
/// ```
/// use museroll_models::{summary, BinaryMuseGanConfig};
///
/// let s = summary(&BinaryMuseGanConfig::tiny())?;
/// let names: Vec<_> = s.networks.iter().map(|n| n.network.as_str()).collect();
/// assert_eq!(names, ["generator", "refiner", "discriminator"]);
/// assert_eq!(s.params, s.networks.iter().map(|n| n.params).sum::<i64>());
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn summary(cfg: &BinaryMuseGanConfig) -> Result<ModelSummary, Error> {
    cfg.validate()?;
    let _no_grad = tch::no_grad_guard();
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let mut networks = vec![Generator::new(&(&root / "generator"), cfg)?.summary()];
    if cfg.refiner {
        networks.push(Refiner::new(&(&root / "refiner"), cfg)?.summary());
    }
    networks.push(Discriminator::new(&(&root / "discriminator"), cfg)?.summary());
    let params = networks.iter().map(|n| n.params).sum();
    Ok(ModelSummary {
        config: cfg.clone(),
        networks,
        params,
    })
}

/// Writes `[a, b, c]` as `a×b×c`.
fn shape(s: &[i64]) -> String {
    let parts: Vec<String> = s.iter().map(i64::to_string).collect();
    parts.join("×")
}

impl fmt::Display for ModelSummary {
    /// A plain-text table per network, then the total.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for net in &self.networks {
            writeln!(
                f,
                "{} (input {}, output {})",
                net.network,
                shape(&net.input_shape),
                shape(&net.output_shape)
            )?;
            writeln!(
                f,
                "  {:<28} {:<48} {:>16} {:>10} {:>4}",
                "layer", "op", "output", "params", "×"
            )?;
            for l in &net.layers {
                writeln!(
                    f,
                    "  {:<28} {:<48} {:>16} {:>10} {:>4}",
                    l.name,
                    l.op,
                    shape(&l.output_shape),
                    l.params,
                    l.copies
                )?;
            }
            writeln!(f, "  {} parameters: {}", net.network, net.params)?;
        }
        write!(f, "total parameters: {}", self.params)
    }
}
