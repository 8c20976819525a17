//! The family's section of a run's `config.toml` (`[model]`): the networks and how they are
//! trained.
//!
//! Every schedule counts **generator steps** (one generator update after its critic updates),
//! never "global" steps that also count critic updates: the reference code's mixing of the two
//! silently ran most of its training at a zero learning rate.

use serde::{Deserialize, Serialize};

use super::config::BinaryMuseGanConfig;
use crate::engine::optim::AdamConfig;
use crate::engine::run::MAX_STEPS;
use crate::Error;

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

choice!(Strategy, "strategy", {
    TwoStage => "two-stage",
    Joint => "joint",
    EndToEnd => "end-to-end",
});

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

choice!(Loss, "loss", { WganGp => "wgan-gp", NonSaturating => "non-saturating" });

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
    pub(crate) fn before_the_setting() -> Self {
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

/// The `[model]` section of a BinaryMuseGAN / MuseGAN run: the networks and their adversarial
/// training (the generic settings — seed, batch, stage-1 steps, cadence — are the run's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Training strategy.
    pub strategy: Strategy,
    /// Adversarial loss.
    pub loss: Loss,
    /// Weight λ of the gradient penalty (10 for WGAN-GP; 0 turns it off for the
    /// non-saturating loss).
    pub gp_weight: f64,
    /// Critic updates per generator update.
    pub n_critic: u32,
    /// Optional critic warm-up schedule.
    pub warmup: Option<Warmup>,
    /// Generator steps of stage 2 (refiner training, `two-stage` and `joint`; ignored
    /// otherwise or without a refiner). Stage 1 has the run's `steps`.
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
    /// Where G's outputs start.
    pub output_bias: OutputBias,
    /// The networks.
    pub networks: BinaryMuseGanConfig,
}

/// The largest number of critic steps a config may ask for.
const MAX_CRITIC: u32 = 1000;

impl Settings {
    /// The defaults for `networks`: WGAN-GP (λ 10), Adam 1e-3 (0.5, 0.9), 5 critic steps, no
    /// warm-up, two-stage with 500 refiner steps after the run's steps, slope 1 × 1.1 per
    /// epoch, G's outputs starting at the data's density.
    pub fn new(networks: BinaryMuseGanConfig) -> Self {
        Self {
            strategy: Strategy::TwoStage,
            loss: Loss::WganGp,
            gp_weight: 10.0,
            n_critic: 5,
            warmup: None,
            refiner_steps: 500,
            generator_optimizer: AdamConfig::default(),
            discriminator_optimizer: AdamConfig::default(),
            slope_start: 1.0,
            slope_factor: 1.1,
            slope_every: 0,
            output_bias: OutputBias::DataDensity,
            networks,
        }
    }

    /// Checks every value, the networks' included.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first bad value.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::Config(msg));
        self.networks.validate()?;
        self.generator_optimizer.validate()?;
        self.discriminator_optimizer.validate()?;
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
        if self.refiner_steps > MAX_STEPS {
            return bad(format!("refiner_steps are limited to {MAX_STEPS}"));
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
        if self.strategy == Strategy::EndToEnd && !self.networks.refiner {
            return bad(
                "the end-to-end strategy trains a refiner: set model.networks.refiner = true"
                    .into(),
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
        Ok(())
    }

    /// Whether the run has a refiner stage after stage 1 (two-stage or joint with a refiner).
    pub fn has_refiner_stage(&self) -> bool {
        self.networks.refiner && self.strategy != Strategy::EndToEnd && self.refiner_steps > 0
    }

    /// Generator steps of a whole run whose stage 1 has `steps`.
    pub fn total_steps(&self, steps: u64) -> u64 {
        steps
            + if self.has_refiner_stage() {
                self.refiner_steps
            } else {
                0
            }
    }

    /// The refiner's slope after `in_stage` generator steps of refiner training with batches of
    /// `batch` on a training split of `train_phrases` phrases (which sets the epoch when
    /// `slope_every` is 0).
    pub fn slope(&self, in_stage: u64, batch: u32, train_phrases: usize) -> f64 {
        let every = match self.slope_every {
            0 => (train_phrases as u64 / u64::from(batch.max(1))).max(1),
            n => n,
        };
        let raises = i32::try_from(in_stage / every).unwrap_or(i32::MAX);
        (self.slope_start * self.slope_factor.powi(raises)).min(1e6)
    }

    /// The settings as the `[model]` table of a run's config (with `family`).
    ///
    /// # Errors
    /// [`Error::Config`] if a value cannot be written as TOML.
    pub fn to_table(&self) -> Result<toml::Table, Error> {
        let mut table = toml::Table::try_from(self).map_err(|e| Error::Config(e.to_string()))?;
        table.insert("family".into(), super::FAMILY.into());
        Ok(table)
    }

    /// The settings of a run's `[model]` section (without its `family` key), checked.
    ///
    /// # Errors
    /// [`Error::Config`] naming what is wrong.
    pub fn from_table(table: toml::Table) -> Result<Self, Error> {
        let settings: Self = table.try_into().map_err(|e: toml::de::Error| {
            Error::Config(format!("[model]: {}", e.message().replace('\n', " ")))
        })?;
        settings.validate()?;
        Ok(settings)
    }
}

/// What the generator side is learning at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Stage 1: G and D, no refiner.
    Pretrain,
    /// Stage 2 of `two-stage` (refiner only) or `joint` (G and refiner).
    Refine,
    /// `end-to-end`: G, refiner and D from the start.
    EndToEnd,
}

impl Stage {
    /// The stage's name in logs.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Pretrain => "pretrain",
            Stage::Refine => "refine",
            Stage::EndToEnd => "end-to-end",
        }
    }

    /// A number for checkpoints.
    pub(crate) fn index(self) -> i64 {
        match self {
            Stage::Pretrain => 0,
            Stage::Refine => 1,
            Stage::EndToEnd => 2,
        }
    }

    /// The stage of a checkpoint's number.
    pub(crate) fn of_index(index: i64) -> Option<Self> {
        [Stage::Pretrain, Stage::Refine, Stage::EndToEnd]
            .into_iter()
            .find(|s| s.index() == index)
    }
}

/// The stage of generator step `step` (0-based) of a run whose stage 1 has `steps`, and the
/// generator steps already done in that stage.
pub fn stage_at(settings: &Settings, steps: u64, step: u64) -> (Stage, u64) {
    if settings.strategy == Strategy::EndToEnd {
        (Stage::EndToEnd, step)
    } else if settings.has_refiner_stage() && step >= steps {
        (Stage::Refine, step - steps)
    } else {
        (Stage::Pretrain, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_round_trip_through_toml() {
        let mut settings = Settings::new(BinaryMuseGanConfig::tiny());
        settings.warmup = Some(Warmup {
            critic_steps: 100,
            first: 25,
            every: 500,
        });
        settings.strategy = Strategy::EndToEnd;
        settings.loss = Loss::NonSaturating;
        let mut table = settings.to_table().unwrap();
        assert_eq!(table["family"].as_str(), Some("bmusegan"));
        let text = toml::to_string(&table).unwrap();
        assert!(text.contains("strategy = \"end-to-end\""), "{text}");
        assert!(text.contains("loss = \"non-saturating\""), "{text}");
        table.remove("family");
        assert_eq!(Settings::from_table(table).unwrap(), settings);
    }

    #[test]
    fn bad_values_name_themselves() {
        let check = |edit: &dyn Fn(&mut Settings), want: &str| {
            let mut settings = Settings::new(BinaryMuseGanConfig::tiny());
            edit(&mut settings);
            let err = settings.validate().unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} lacks {want:?}");
        };
        check(&|c| c.n_critic = 0, "n_critic 0");
        check(&|c| c.gp_weight = 0.0, "needs gp_weight > 0");
        check(&|c| c.slope_factor = 0.5, "slope_factor 0.5");
        check(
            &|c| {
                c.strategy = Strategy::EndToEnd;
                c.networks.refiner = false;
            },
            "set model.networks.refiner = true",
        );
        check(&|c| c.networks.bars = 1, "bars 1");
        check(
            &|c| c.discriminator_optimizer.beta2 = 1.0,
            "betas in [0, 1)",
        );
        let mut table = Settings::new(BinaryMuseGanConfig::tiny())
            .to_table()
            .unwrap();
        table.remove("family");
        table.insert("n_critics".into(), 3.into());
        let err = Settings::from_table(table).unwrap_err().to_string();
        assert!(err.contains("n_critics"), "{err}");
    }

    #[test]
    fn total_steps_count_the_refiner_stage_only_when_there_is_one() {
        let mut settings = Settings::new(BinaryMuseGanConfig::tiny());
        assert_eq!(settings.total_steps(1000), 1500);
        settings.strategy = Strategy::EndToEnd;
        assert_eq!(settings.total_steps(1000), 1000);
        settings.strategy = Strategy::Joint;
        settings.networks.refiner = false;
        assert_eq!(settings.total_steps(1000), 1000);
    }
}
