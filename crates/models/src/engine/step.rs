//! The seam between the engine and a family: what the training loop asks of a family's
//! training step, and nothing more.

use std::collections::HashMap;

use tch::Tensor;

use crate::Error;

/// The named values one training step reports (losses and anything else worth a curve, such as
/// a gradient penalty or an annealed slope), with the phase of training it belonged to.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLosses {
    /// The phase of the step (e.g. `pretrain`, `refine`), for logs and records.
    pub phase: &'static str,
    /// `(key, value)` pairs, keys as written in `metrics.jsonl`.
    pub values: Vec<(&'static str, f64)>,
}

impl StepLosses {
    /// The value of `key`, if the step reported it.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.values.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }
}

/// One panel of `curves.png`: a title and the keys of [`StepLosses::values`] it draws, each
/// with its legend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossPanel {
    /// The panel's title.
    pub title: &'static str,
    /// `(key, legend)` of each curve.
    pub curves: Vec<(&'static str, &'static str)>,
}

/// A family's training, as the engine drives it.
///
/// A step is one family-defined unit of updates (for a GAN one generator update after its critic
/// updates); every schedule counts steps. The engine owns the data: it hands real batches to
/// [`TrainStep::step`] through a closure, in an order that depends only on the batch number, and
/// seeds nothing itself — a step seeds its own random draws from the run's seed and the step
/// number, so that a resumed run draws exactly what the uninterrupted one drew.
pub trait TrainStep {
    /// Steps of the whole run (all stages).
    fn total_steps(&self) -> u64;

    /// Step `step` (0-based): its updates on the real batches `next_real` gives (`[B, tracks,
    /// bars, steps, pitches]`, float 0/1, on the step's device).
    ///
    /// # Errors
    /// From `next_real` and the updates.
    fn step(
        &mut self,
        step: u64,
        next_real: &mut dyn FnMut() -> Result<Tensor, Error>,
    ) -> Result<StepLosses, Error>;

    /// The binary samples of the run's fixed evaluation inputs `0..n` (the same every time, so
    /// that progress is visible), in evaluation mode: `u8` 0/1 cells laid out `[n, tracks, bars,
    /// steps, pitches]`.
    ///
    /// # Errors
    /// From the networks.
    fn fixed_samples(&self, n: usize) -> Result<Vec<u8>, Error>;

    /// The phase training is in now (before the next step).
    fn phase(&self) -> &'static str;

    /// Everything a checkpoint holds of the family: weights, optimiser state, counters.
    fn state(&self) -> Vec<(String, Tensor)>;

    /// Restores [`TrainStep::state`] from a checkpoint taken after `done` steps.
    ///
    /// # Errors
    /// [`Error::Shape`] naming a missing or misshapen tensor (a checkpoint of another model).
    fn restore(&mut self, checkpoint: &HashMap<String, Tensor>, done: u64) -> Result<(), Error>;

    /// What generating needs: the weights and the inference state (e.g. an annealed slope),
    /// no optimiser state. `model.safetensors` holds exactly this.
    fn weights(&self) -> Vec<(String, Tensor)>;

    /// The panels of losses in `curves.png`.
    fn loss_panels(&self) -> Vec<LossPanel>;

    /// A line or two for `report.md` and the log: the model and how it is trained.
    fn describe(&self) -> String;
}
