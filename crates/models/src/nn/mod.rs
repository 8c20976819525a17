//! Reusable network blocks, in the candle style: a block is a struct built from its variable
//! path and its sizes, with a `forward`. Blocks know no family and no training.
//!
//! - [`stack`]: the table-driven stack of 3-D convolutions, transposed convolutions, dense
//!   layers, batch norms and activations (in their channels-last matrix-product forms where
//!   kernel = stride), with shapes inferred as it is built;
//! - [`gradient_penalty`]: the WGAN-GP penalty through any critic;
//! - [`LayerSummary`], [`NetworkSummary`], [`ModelSummary`]: per-layer tables of networks.

mod penalty;
pub(crate) mod stack;
mod summary;

pub use penalty::gradient_penalty;
pub use summary::{LayerSummary, ModelSummary, NetworkSummary};
