//! What every family trains and samples with, knowing no family: the run directory and its
//! config ([`run`]), checkpoints ([`checkpoint`]), Adam with saved state ([`optim`]), the
//! seam a family's training implements ([`TrainStep`]) and the training loop around it
//! ([`Trainer`]).

pub mod checkpoint;
pub mod optim;
pub mod run;
mod step;
mod trainer;

pub use run::{
    latest_checkpoint, Music, RunConfig, Weights, BEST_FILE, CHECKPOINTS_DIR, CONFIG_FILE,
    DATA_METRICS_FILE, WEIGHTS_FILE,
};
pub use step::{LossPanel, StepLosses, TrainStep};
pub use trainer::{check_data, Observer, Outcome, StepReport, Trainer};

use museroll_core::rng::mix;

/// The libtorch seed of update `update` of step `step` of a run seeded `seed`, well mixed so
/// that seeds of neighbouring steps and updates are unrelated (steps
/// `u64::MAX` name the draws made before training: initial weights, fixed latents).
pub fn seed_of(seed: u64, step: u64, update: u64) -> i64 {
    // libtorch takes the seed as i64: keep it non-negative.
    (mix(mix(mix(seed) ^ step) ^ update) >> 1) as i64
}
