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

/// SplitMix64's output function (Steele et al. 2014): a well-mixed 64-bit value of `x`, so that
/// seeds of neighbouring steps and updates are unrelated.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The libtorch seed of update `update` of step `step` of a run seeded `seed` (steps
/// `u64::MAX` name the draws made before training: initial weights, fixed latents).
pub fn seed_of(seed: u64, step: u64, update: u64) -> i64 {
    // libtorch takes the seed as i64: keep it non-negative.
    (mix(mix(mix(seed) ^ step) ^ update) >> 1) as i64
}
