//! Per-layer summaries of networks: what `museroll model --preset P [--json]` prints, for every
//! family.
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

/// The summary of a whole model: its family, its config, each network, and the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The family's name (see [`crate::families::FAMILIES`]).
    pub family: String,
    /// The config the networks were built from, as the family writes it in a run's config.
    pub config: serde_json::Value,
    /// Every network of the model, in the order the family builds them.
    pub networks: Vec<NetworkSummary>,
    /// Total trainable parameters of all networks.
    pub params: i64,
}

impl ModelSummary {
    /// The summary of `networks` of a `family` model with `config`; the total is summed.
    pub fn new(family: &str, config: serde_json::Value, networks: Vec<NetworkSummary>) -> Self {
        let params = networks.iter().map(|n| n.params).sum();
        Self {
            family: family.to_owned(),
            config,
            networks,
            params,
        }
    }
}

/// Writes `[a, b, c]` as `a×b×c`.
fn shape(s: &[i64]) -> String {
    let parts: Vec<String> = s.iter().map(i64::to_string).collect();
    parts.join("×")
}

impl fmt::Display for ModelSummary {
    /// A plain-text table per network, then the total (every line ends with a newline).
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
        writeln!(f, "total parameters: {}", self.params)
    }
}
