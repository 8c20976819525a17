//! The configuration of a training run, written to `RUN/config.toml`.
//!
//! Every schedule counts **generator steps** (one generator update after its critic updates),
//! never "global" steps that also count critic updates: the reference code's mixing of the two
//! silently ran most of its training at a zero learning rate.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::optim::AdamConfig;
use crate::{BinaryMuseGanConfig, Error};

/// How the generator, refiner and discriminator are trained (seed 000 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Stage 1 trains G and D; stage 2 freezes G and trains the refiner with the same D.
    TwoStage,
    /// Stage 1 as two-stage; stage 2 trains G and the refiner together.
    Joint,
    /// G, refiner and D together from the start.
    EndToEnd,
}

/// The adversarial loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Wasserstein loss with gradient penalty: `L_D = D(fake) − D(real) + λ·GP`, `L_G = −D(fake)`.
    WganGp,
    /// The non-saturating GAN loss: `L_D = softplus(−D(real)) + softplus(D(fake)) [+ λ·GP]`,
    /// `L_G = softplus(−D(fake))`.
    NonSaturating,
}

/// Where the generator's outputs start before training (the bias of the batch norm before each
/// track's output sigmoid; see [`crate::Generator::set_output_bias`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputBias {
    /// β = 0, as in the reference code: every cell starts at probability ½.
    Zero,
    /// β = logit of each track's share of active cells in the training split, so that an
    /// untrained generator is already about as sparse as the music.
    DataDensity,
}

impl OutputBias {
    /// What configs written before this setting existed used.
    fn before_the_setting() -> Self {
        Self::Zero
    }
}

/// The reference code's critic warm-up: `critic_steps` critic updates (instead of `n_critic`)
/// for the first `first` generator steps and then at every `every`-th one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warmup {
    /// Critic updates of a warm-up generator step (bmusegan: 100).
    pub critic_steps: u32,
    /// Generator steps warmed up at the start (bmusegan: 25).
    pub first: u64,
    /// Every this many generator steps one more is warmed up (bmusegan: 500; 0 = never).
    pub every: u64,
}

/// Everything that decides a training run (the model, the data, the optimisation, the logging).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seed of every random draw (latents, interpolation weights, batches, binary neurons).
    pub seed: u64,
    /// The dataset directory (`museroll data build`).
    pub data: PathBuf,
    /// Training strategy.
    pub strategy: Strategy,
    /// Adversarial loss.
    pub loss: Loss,
    /// Weight λ of the gradient penalty (10 for WGAN-GP; 0 turns it off for the
    /// non-saturating loss).
    pub gp_weight: f64,
    /// Phrases per batch.
    pub batch: u32,
    /// Critic updates per generator update.
    pub n_critic: u32,
    /// Optional critic warm-up schedule.
    pub warmup: Option<Warmup>,
    /// Generator steps of stage 1 (the whole run for `end-to-end`).
    pub steps: u64,
    /// Generator steps of stage 2 (refiner training, `two-stage` and `joint`; ignored
    /// otherwise or without a refiner).
    pub refiner_steps: u64,
    /// Optimiser of the generator side (G, refiner).
    pub generator_optimizer: AdamConfig,
    /// Optimiser of the critic.
    pub discriminator_optimizer: AdamConfig,
    /// Initial slope of the refiner's binary neurons.
    pub slope_start: f64,
    /// Factor applied to the slope every `slope_every` generator steps of refiner training.
    pub slope_factor: f64,
    /// Generator steps between slope increases; 0 = one epoch (⌈training phrases / batch⌉
    /// steps), the paper's "× 1.1 per epoch".
    pub slope_every: u64,
    /// Generator steps between two lines of training losses in `metrics.jsonl`.
    pub log_every: u64,
    /// Generator steps between evaluations (metrics of `eval_samples` samples from fixed
    /// latents vs the training data, the curves picture).
    pub eval_every: u64,
    /// Samples evaluated at each evaluation, from latents fixed for the whole run.
    pub eval_samples: u32,
    /// Generator steps between sample sheets (PNG grid and MIDI of the first `sample_count`
    /// fixed latents).
    pub sample_every: u64,
    /// Samples on each sample sheet.
    pub sample_count: u32,
    /// Generator steps between checkpoints (one is also written at the end and on Ctrl-C).
    pub checkpoint_every: u64,
    /// How many of the latest checkpoints to keep (the best one is kept apart).
    pub keep_checkpoints: u32,
    /// Tempo of the sample MIDI files, quarter notes per minute.
    pub tempo: f64,
    /// Where G's outputs start (configs without this setting: `zero`).
    #[serde(default = "OutputBias::before_the_setting")]
    pub output_bias: OutputBias,
    /// The networks.
    pub model: BinaryMuseGanConfig,
}

/// The largest batch, number of critic steps and steps a config may ask for.
const MAX_BATCH: u32 = 4096;
const MAX_CRITIC: u32 = 1000;
const MAX_STEPS: u64 = 100_000_000;

impl TrainConfig {
    /// The defaults for `model` trained on `data`: WGAN-GP (λ 10), Adam 1e-3 (0.5, 0.9), batch
    /// 16 (the paper's stage 2; it used 32 in stage 1), 5 critic steps, no warm-up, two-stage
    /// with 1000 + 500 generator steps, slope 1 × 1.1 per epoch, evaluations and samples every
    /// 100 steps, checkpoints every 250 (keep 3), G's outputs starting at the data's density.
    pub fn new(model: BinaryMuseGanConfig, data: PathBuf) -> Self {
        Self {
            seed: 0,
            data,
            strategy: Strategy::TwoStage,
            loss: Loss::WganGp,
            gp_weight: 10.0,
            batch: 16,
            n_critic: 5,
            warmup: None,
            steps: 1000,
            refiner_steps: 500,
            generator_optimizer: AdamConfig::default(),
            discriminator_optimizer: AdamConfig::default(),
            slope_start: 1.0,
            slope_factor: 1.1,
            slope_every: 0,
            log_every: 10,
            eval_every: 100,
            eval_samples: 64,
            sample_every: 100,
            sample_count: 16,
            checkpoint_every: 250,
            keep_checkpoints: 3,
            tempo: 100.0,
            output_bias: OutputBias::DataDensity,
            model,
        }
    }

    /// Checks every value, the model's included.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first bad value.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::Config(msg));
        self.model.validate()?;
        self.generator_optimizer.validate()?;
        self.discriminator_optimizer.validate()?;
        if !(2..=MAX_BATCH).contains(&self.batch) {
            return bad(format!("batch {} is not in 2..={MAX_BATCH}", self.batch));
        }
        if !(1..=MAX_CRITIC).contains(&self.n_critic) {
            return bad(format!(
                "n_critic {} is not in 1..={MAX_CRITIC}",
                self.n_critic
            ));
        }
        if let Some(w) = self.warmup {
            if !(1..=MAX_CRITIC).contains(&w.critic_steps) {
                return bad(format!(
                    "warmup critic_steps {} is not in 1..={MAX_CRITIC}",
                    w.critic_steps
                ));
            }
        }
        if self.steps > MAX_STEPS || self.refiner_steps > MAX_STEPS {
            return bad(format!("steps are limited to {MAX_STEPS}"));
        }
        if self.steps == 0 {
            return bad("steps is 0: nothing to train".into());
        }
        if !(self.gp_weight.is_finite() && self.gp_weight >= 0.0) {
            return bad(format!(
                "gp_weight {} is not a finite number ≥ 0",
                self.gp_weight
            ));
        }
        if self.loss == Loss::WganGp && self.gp_weight == 0.0 {
            return bad(
                "the WGAN-GP loss needs gp_weight > 0 (a critic without a Lipschitz \
                        constraint diverges)"
                    .into(),
            );
        }
        if self.strategy == Strategy::EndToEnd && !self.model.refiner {
            return bad(
                "the end-to-end strategy trains a refiner: set model.refiner = true".into(),
            );
        }
        let slope_ok = self.slope_start.is_finite()
            && self.slope_start > 0.0
            && self.slope_factor.is_finite()
            && self.slope_factor >= 1.0;
        if !slope_ok {
            return bad(format!(
                "slope_start {} must be > 0 and slope_factor {} ≥ 1",
                self.slope_start, self.slope_factor
            ));
        }
        for (name, every) in [
            ("log_every", self.log_every),
            ("eval_every", self.eval_every),
            ("sample_every", self.sample_every),
            ("checkpoint_every", self.checkpoint_every),
        ] {
            if every == 0 {
                return bad(format!(
                    "{name} is 0 (it counts generator steps, at least 1)"
                ));
            }
        }
        if !(1..=1024).contains(&self.eval_samples) || !(1..=256).contains(&self.sample_count) {
            return bad(format!(
                "eval_samples {} must be in 1..=1024 and sample_count {} in 1..=256",
                self.eval_samples, self.sample_count
            ));
        }
        if self.keep_checkpoints == 0 {
            return bad("keep_checkpoints is 0: a run must keep its latest checkpoint".into());
        }
        if !(self.tempo.is_finite() && (1.0..=1000.0).contains(&self.tempo)) {
            return bad(format!("tempo {} is not in 1..=1000 qpm", self.tempo));
        }
        Ok(())
    }

    /// Whether the run has a refiner stage after stage 1 (two-stage or joint with a refiner).
    pub fn has_refiner_stage(&self) -> bool {
        self.model.refiner && self.strategy != Strategy::EndToEnd && self.refiner_steps > 0
    }

    /// Generator steps of the whole run.
    pub fn total_steps(&self) -> u64 {
        self.steps
            + if self.has_refiner_stage() {
                self.refiner_steps
            } else {
                0
            }
    }

    /// The refiner's slope after `in_stage` generator steps of refiner training, on a training
    /// split of `train_phrases` phrases (which sets the epoch when `slope_every` is 0).
    pub fn slope(&self, in_stage: u64, train_phrases: usize) -> f64 {
        let every = match self.slope_every {
            0 => (train_phrases as u64 / u64::from(self.batch.max(1))).max(1),
            n => n,
        };
        let raises = i32::try_from(in_stage / every).unwrap_or(i32::MAX);
        (self.slope_start * self.slope_factor.powi(raises)).min(1e6)
    }

    /// The config as TOML.
    ///
    /// # Errors
    /// [`Error::Config`] if a value cannot be written as TOML.
    pub fn to_toml(&self) -> Result<String, Error> {
        toml::to_string_pretty(self).map_err(|e| Error::Config(e.to_string()))
    }

    /// Reads and validates a config file.
    ///
    /// # Errors
    /// [`Error::File`] naming `path` if it cannot be read, is not a config, or does not
    /// validate.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file_error = |problem: String| Error::File {
            path: path.to_path_buf(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let config: Self =
            toml::from_str(&text).map_err(|e| file_error(e.message().replace('\n', " ")))?;
        config.validate().map_err(|e| file_error(e.to_string()))?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_round_trips_through_toml() {
        let mut config = TrainConfig::new(BinaryMuseGanConfig::tiny(), "data/x".into());
        config.warmup = Some(Warmup {
            critic_steps: 100,
            first: 25,
            every: 500,
        });
        config.strategy = Strategy::EndToEnd;
        config.loss = Loss::NonSaturating;
        let text = config.to_toml().unwrap();
        assert!(text.contains("strategy = \"end-to-end\""), "{text}");
        assert!(text.contains("loss = \"non-saturating\""), "{text}");
        let back: TrainConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn bad_values_name_themselves() {
        let check = |edit: &dyn Fn(&mut TrainConfig), want: &str| {
            let mut config = TrainConfig::new(BinaryMuseGanConfig::tiny(), "d".into());
            edit(&mut config);
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} lacks {want:?}");
        };
        check(&|c| c.batch = 1, "batch 1");
        check(&|c| c.n_critic = 0, "n_critic 0");
        check(&|c| c.steps = 0, "nothing to train");
        check(&|c| c.gp_weight = 0.0, "needs gp_weight > 0");
        check(&|c| c.eval_every = 0, "eval_every is 0");
        check(&|c| c.slope_factor = 0.5, "slope_factor 0.5");
        check(
            &|c| {
                c.strategy = Strategy::EndToEnd;
                c.model.refiner = false;
            },
            "set model.refiner = true",
        );
        check(&|c| c.model.bars = 1, "bars 1");
        check(
            &|c| c.discriminator_optimizer.beta2 = 1.0,
            "betas in [0, 1)",
        );
    }

    #[test]
    fn total_steps_count_the_refiner_stage_only_when_there_is_one() {
        let mut config = TrainConfig::new(BinaryMuseGanConfig::tiny(), "d".into());
        assert_eq!(config.total_steps(), 1500);
        config.strategy = Strategy::EndToEnd;
        assert_eq!(config.total_steps(), 1000);
        config.strategy = Strategy::Joint;
        config.model.refiner = false;
        assert_eq!(config.total_steps(), 1000);
    }
}
