//! Training a BinaryMuseGAN: the adversarial updates ([`Gan`]) and the family's training step
//! ([`GanStep`]: stages, slope annealing, critic warm-up, fixed latents) that the engine's
//! training loop drives.
//!
//! Policies:
//!
//! - **One generator step** = `n_critic` critic updates (each on a fresh real batch, fresh
//!   latents and fresh interpolation weights), then one update of the generator side (G in stage
//!   1, the refiner in stage 2 of `two-stage`, G and refiner in `joint` stage 2 and in
//!   `end-to-end`). Every schedule counts generator steps.
//! - **Determinism.** Before each update the libtorch generator is re-seeded from (seed, step,
//!   update), and batches come from a per-epoch permutation seeded by (seed, epoch): the random
//!   stream of a step depends on nothing but its position, so a run resumed from a checkpoint
//!   draws exactly what the uninterrupted run draws. With the same thread count on the CPU the
//!   two runs are bit-identical (GPU kernels are not deterministic).
//! - **What the critic sees.** Stage 1 feeds it G's real-valued output (sigmoid, in (0, 1)),
//!   as the paper does; refiner stages feed it the refiner's binary output. A frozen G (stage 2
//!   of `two-stage`) runs in evaluation mode, as it will when generating, so the refiner learns
//!   on the outputs it will later refine.
//! - **Slope annealing.** The refiner's slope is `slope_start · slope_factor^⌊k / every⌋` after
//!   `k` generator steps of refiner training, a function of the step. The slope and stage of
//!   the last step are saved with the weights (`state.slope`, `state.stage`): generating needs
//!   them, and must not replay the schedule to find them.

use std::collections::HashMap;

use museroll_core::dataset::{Dataset, Split};
use tch::{nn, Device, Kind, Tensor};

use super::config::BinaryMuseGanConfig;
use super::nets::{Discriminator, Generator, Refiner};
use super::settings::{stage_at, Loss, OutputBias, Settings, Stage, Strategy};
use crate::engine::optim::Adam;
use crate::engine::{checkpoint, seed_of, LossPanel, RunConfig, StepLosses, TrainStep};
use crate::nn::gradient_penalty;
use crate::Error;

/// The losses of one generator step (critic values averaged over its critic updates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Losses {
    /// Critic loss.
    pub d_loss: f64,
    /// Generator-side loss.
    pub g_loss: f64,
    /// Gradient penalty (before λ).
    pub gp: f64,
    /// `mean D(real) − mean D(fake)`: the critic's Wasserstein estimate.
    pub wasserstein: f64,
}

/// The networks, their optimisers and one adversarial update at a time. Holds no data and
/// writes no files: [`Trainer`] does, and the benchmark drives a `Gan` directly.
#[derive(Debug)]
pub struct Gan {
    settings: Settings,
    seed: u64,
    batch: u32,
    device: Device,
    g_vs: nn::VarStore,
    r_vs: nn::VarStore,
    d_vs: nn::VarStore,
    generator: Generator,
    refiner: Option<Refiner>,
    discriminator: Discriminator,
    d_opt: Adam,
    g_opt: Adam,
    stage: Stage,
}

/// The trainable variables of `vs` as `(PREFIX.NAME, tensor)`.
fn trainable(vs: &nn::VarStore, prefix: &str) -> Vec<(String, Tensor)> {
    checkpoint::variables(vs, prefix)
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect()
}

impl Gan {
    /// Builds the networks of `settings.networks` on `device` (weights from a seed derived from
    /// `seed`) and the optimisers of stage `stage`, for batches of `batch`.
    ///
    /// # Errors
    /// [`Error::Config`] if the settings do not validate; [`Error::Torch`] from libtorch.
    pub fn new(
        settings: &Settings,
        seed: u64,
        batch: u32,
        device: Device,
        stage: Stage,
    ) -> Result<Self, Error> {
        settings.validate()?;
        let model = &settings.networks;
        tch::manual_seed(seed_of(seed, u64::MAX, 0));
        let g_vs = nn::VarStore::new(device);
        let r_vs = nn::VarStore::new(device);
        let d_vs = nn::VarStore::new(device);
        let generator = Generator::new(&g_vs.root(), model)?;
        let refiner = if model.refiner {
            Some(Refiner::new(&r_vs.root(), model)?)
        } else {
            None
        };
        let discriminator = Discriminator::new(&d_vs.root(), model)?;
        let d_opt = Adam::new(
            trainable(&d_vs, "discriminator"),
            settings.discriminator_optimizer,
        )?;
        let g_opt = Adam::new(Vec::new(), settings.generator_optimizer)?;
        let mut gan = Self {
            settings: settings.clone(),
            seed,
            batch,
            device,
            g_vs,
            r_vs,
            d_vs,
            generator,
            refiner,
            discriminator,
            d_opt,
            g_opt,
            stage,
        };
        gan.set_stage(stage)?;
        Ok(gan)
    }

    /// The model configuration.
    pub fn model(&self) -> &BinaryMuseGanConfig {
        &self.settings.networks
    }

    /// The device the networks live on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Switches to `stage`: freezes what it does not train and gives the generator side a new
    /// optimiser over what it does.
    ///
    /// # Errors
    /// [`Error::Config`] for a refiner stage of a model without a refiner.
    pub fn set_stage(&mut self, stage: Stage) -> Result<(), Error> {
        let (train_g, train_r) = match stage {
            Stage::Pretrain => (true, false),
            Stage::Refine => (self.settings.strategy == Strategy::Joint, true),
            Stage::EndToEnd => (true, true),
        };
        if train_r && self.refiner.is_none() {
            return Err(Error::Config(format!(
                "the {} stage needs a refiner, and the model has none",
                stage.name()
            )));
        }
        // Unfreeze first: `trainable` lists what requires a gradient.
        self.g_vs.unfreeze();
        self.r_vs.unfreeze();
        let mut params = Vec::new();
        if train_g {
            params.extend(trainable(&self.g_vs, "generator"));
        } else {
            self.g_vs.freeze();
        }
        if train_r {
            params.extend(trainable(&self.r_vs, "refiner"));
        } else {
            self.r_vs.freeze();
        }
        self.g_opt = Adam::new(params, self.settings.generator_optimizer)?;
        self.stage = stage;
        Ok(())
    }

    /// Sets the refiner's binary-neuron slope (no-op without a refiner).
    ///
    /// # Errors
    /// [`Error::Config`] for a slope that is not finite and positive.
    pub fn set_slope(&mut self, slope: f64) -> Result<(), Error> {
        match &mut self.refiner {
            Some(r) => r.set_slope(slope),
            None => Ok(()),
        }
    }

    /// Sets where G's outputs start, one batch-norm bias per track (see
    /// [`Generator::set_output_bias`]).
    ///
    /// # Errors
    /// As [`Generator::set_output_bias`].
    pub fn set_output_bias(&mut self, values: &[f64]) -> Result<(), Error> {
        self.generator.set_output_bias(values)
    }

    /// `n` latent vectors drawn from N(0, 1) with libtorch's current generator.
    pub fn latents(&self, n: i64) -> Result<Tensor, Error> {
        let latent = i64::from(self.settings.networks.latent);
        Ok(Tensor::f_randn([n, latent], (Kind::Float, self.device))?)
    }

    /// What the critic is shown as fake for latents `z`, in training mode.
    fn fake(&self, z: &Tensor) -> Result<Tensor, Error> {
        match (self.stage, &self.refiner) {
            (Stage::Pretrain, _) | (_, None) => self.generator.forward_t(z, true),
            (Stage::Refine, Some(r)) if self.settings.strategy == Strategy::TwoStage => {
                let x = tch::no_grad(|| self.generator.forward_t(z, false))?;
                r.forward_t(&x, true)
            }
            (_, Some(r)) => r.forward_t(&self.generator.forward_t(z, true)?, true),
        }
    }

    /// The binary samples of latents `z` in evaluation mode: G's output thresholded at 0.5 in
    /// stage 1 (the paper's hard thresholding), the refiner's output afterwards. Values 0/1 as
    /// `u8`, on the CPU, `[n, tracks, bars, steps, pitches]`.
    ///
    /// # Errors
    /// [`Error::Torch`] from libtorch.
    pub fn samples(&self, z: &Tensor) -> Result<Tensor, Error> {
        let x = self.probabilities(z)?;
        let x = if self.stage != Stage::Pretrain && self.has_refiner() {
            self.refine(&x)?
        } else {
            x
        };
        Ok(x.f_gt(0.5)?
            .f_to_kind(Kind::Uint8)?
            .f_to_device(Device::Cpu)?)
    }

    /// Whether the model has a refiner.
    pub fn has_refiner(&self) -> bool {
        self.refiner.is_some()
    }

    /// G's output for latents `z` `[n, latent]` in evaluation mode, without gradient:
    /// probabilities in (0, 1), `[n, tracks, bars, steps, pitches]`, on the networks' device.
    ///
    /// # Errors
    /// [`Error::Shape`] for latents of the wrong shape; [`Error::Torch`] from libtorch.
    pub fn probabilities(&self, z: &Tensor) -> Result<Tensor, Error> {
        let _guard = tch::no_grad_guard();
        self.generator
            .forward_t(&z.f_to_device(self.device)?, false)
    }

    /// G's output for pieces of several phrases, latents `z` `[n, phrases, latent]`, in
    /// evaluation mode without gradient: `[n, tracks, phrases · bars, steps, pitches]` in (0, 1)
    /// on the networks' device (see [`crate::Generator::forward_long_t`]; one phrase is
    /// [`Gan::probabilities`]).
    ///
    /// # Errors
    /// [`Error::Shape`] for latents of the wrong shape; [`Error::Config`] for several phrases of
    /// a phrase generator; [`Error::Torch`] from libtorch.
    pub fn piece_probabilities(&self, z: &Tensor) -> Result<Tensor, Error> {
        let _guard = tch::no_grad_guard();
        self.generator
            .forward_long_t(&z.f_to_device(self.device)?, false)
    }

    /// The refiner's output for `x` (G's output) in evaluation mode, without gradient: exactly
    /// 0 or 1, same shape. Stochastic binary neurons draw from libtorch's generator.
    ///
    /// # Errors
    /// [`Error::Config`] if the model has no refiner; [`Error::Shape`] for an input of another
    /// shape; [`Error::Torch`] from libtorch.
    pub fn refine(&self, x: &Tensor) -> Result<Tensor, Error> {
        let refiner = self
            .refiner
            .as_ref()
            .ok_or_else(|| Error::Config("this model has no refiner".into()))?;
        let _guard = tch::no_grad_guard();
        refiner.forward_t(x, false)
    }

    /// One critic update on the real batch `real` `[B, tracks, bars, steps, pitches]` (float,
    /// 0/1). Returns (loss, gradient penalty, Wasserstein estimate).
    ///
    /// # Errors
    /// [`Error::Shape`] for a batch of the wrong shape; [`Error::Torch`] from libtorch.
    pub fn critic_step(&mut self, real: &Tensor) -> Result<(f64, f64, f64), Error> {
        let batch = *real.size().first().unwrap_or(&0);
        let z = self.latents(batch)?;
        let fake = tch::no_grad(|| self.fake(&z))?.detach();
        let d_real = self.discriminator.forward_t(real, true)?;
        let d_fake = self.discriminator.forward_t(&fake, true)?;
        let wasserstein = d_real
            .f_mean(Kind::Float)?
            .f_sub(&d_fake.f_mean(Kind::Float)?)?;
        let mut loss = match self.settings.loss {
            Loss::WganGp => wasserstein.f_neg()?,
            Loss::NonSaturating => d_real
                .f_neg()?
                .f_softplus()?
                .f_mean(Kind::Float)?
                .f_add(&d_fake.f_softplus()?.f_mean(Kind::Float)?)?,
        };
        let mut gp_value = 0.0;
        if self.settings.gp_weight > 0.0 {
            let alpha = Tensor::f_rand([batch, 1, 1, 1, 1], (Kind::Float, self.device))?;
            let gp = gradient_penalty(
                |x| self.discriminator.forward_t(x, true),
                real,
                &fake,
                &alpha,
            )?;
            gp_value = gp.f_double_value(&[])?;
            loss = loss.f_add(&gp.f_mul_scalar(self.settings.gp_weight)?)?;
        }
        self.d_opt.zero_grad();
        loss.f_backward()?;
        self.d_opt.step()?;
        Ok((
            loss.f_double_value(&[])?,
            gp_value,
            wasserstein.f_double_value(&[])?,
        ))
    }

    /// One update of the generator side on `batch` fresh latents. Returns its loss.
    ///
    /// # Errors
    /// [`Error::Torch`] from libtorch.
    pub fn generator_step(&mut self, batch: i64) -> Result<f64, Error> {
        // The critic's weights need no gradient here: only the path through it does.
        self.d_vs.freeze();
        let result = (|| -> Result<f64, Error> {
            let z = self.latents(batch)?;
            let score = self.discriminator.forward_t(&self.fake(&z)?, true)?;
            let loss = match self.settings.loss {
                Loss::WganGp => score.f_mean(Kind::Float)?.f_neg()?,
                Loss::NonSaturating => score.f_neg()?.f_softplus()?.f_mean(Kind::Float)?,
            };
            self.g_opt.zero_grad();
            loss.f_backward()?;
            self.g_opt.step()?;
            Ok(loss.f_double_value(&[])?)
        })();
        self.d_vs.unfreeze();
        result
    }

    /// Generator step `step` (0-based): `critic_steps` critic updates on the batches `next_real`
    /// gives, then one generator-side update, each after re-seeding libtorch from (seed, step,
    /// update).
    ///
    /// # Errors
    /// From `next_real` and the updates.
    pub fn train_step(
        &mut self,
        step: u64,
        critic_steps: u32,
        mut next_real: impl FnMut() -> Result<Tensor, Error>,
    ) -> Result<Losses, Error> {
        let seed = self.seed;
        let (mut d_loss, mut gp, mut wasserstein) = (0.0, 0.0, 0.0);
        for update in 0..critic_steps {
            let real = next_real()?;
            tch::manual_seed(seed_of(seed, step, u64::from(update)));
            let (l, g, w) = self.critic_step(&real)?;
            d_loss += l;
            gp += g;
            wasserstein += w;
        }
        tch::manual_seed(seed_of(seed, step, u64::from(u32::MAX)));
        let g_loss = self.generator_step(i64::from(self.batch))?;
        let n = f64::from(critic_steps.max(1));
        Ok(Losses {
            d_loss: d_loss / n,
            g_loss,
            gp: gp / n,
            wasserstein: wasserstein / n,
        })
    }

    /// Everything a checkpoint holds of the networks and optimisers: the variables as
    /// `generator.…`, `refiner.…`, `discriminator.…` (PyTorch `state_dict` names after the
    /// prefix), the optimisers as `optimizer.d.…`, `optimizer.g.…` and the stage the generator
    /// optimiser belongs to as `state.optimizer_stage`.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = checkpoint::variables(&self.g_vs, "generator");
        if self.refiner.is_some() {
            out.extend(checkpoint::variables(&self.r_vs, "refiner"));
        }
        out.extend(checkpoint::variables(&self.d_vs, "discriminator"));
        out.extend(self.d_opt.state("optimizer.d"));
        out.extend(self.g_opt.state("optimizer.g"));
        out.push((
            "state.optimizer_stage".into(),
            Tensor::from(self.stage.index()),
        ));
        out.extend(self.inference_state());
        out
    }

    /// Restores the networks (and, with `optimizers`, the optimisers) from a checkpoint.
    ///
    /// The generator-side optimiser is restored only if it was saved in the current stage (a
    /// checkpoint at the last step of stage 1 resumes into stage 2 with a fresh one, as an
    /// uninterrupted run does).
    ///
    /// # Errors
    /// [`Error::Shape`] naming a missing or misshapen tensor (a checkpoint of another model).
    pub fn load(
        &mut self,
        checkpoint: &std::collections::HashMap<String, Tensor>,
        optimizers: bool,
    ) -> Result<(), Error> {
        checkpoint::restore(&self.g_vs, "generator", checkpoint)?;
        if self.refiner.is_some() {
            checkpoint::restore(&self.r_vs, "refiner", checkpoint)?;
        }
        checkpoint::restore(&self.d_vs, "discriminator", checkpoint)?;
        if optimizers {
            self.d_opt.load_state("optimizer.d", checkpoint)?;
            let saved_stage = checkpoint
                .get("state.optimizer_stage")
                .map(|t| t.f_int64_value(&[]))
                .transpose()?;
            if saved_stage == Some(self.stage.index()) {
                self.g_opt.load_state("optimizer.g", checkpoint)?;
            }
        }
        Ok(())
    }

    /// The weights alone (no optimiser state) with the inference state a sampler needs: the
    /// stage (`state.stage`) and the refiner's slope (`state.slope`).
    pub fn weights(&self) -> Vec<(String, Tensor)> {
        let mut weights: Vec<_> = self
            .state()
            .into_iter()
            .filter(|(name, _)| !name.starts_with("optimizer.") && !name.starts_with("state."))
            .collect();
        weights.extend(self.inference_state());
        weights
    }

    /// `state.stage` and `state.slope`.
    fn inference_state(&self) -> [(String, Tensor); 2] {
        let slope = self.refiner.as_ref().map_or(1.0, Refiner::slope);
        [
            ("state.stage".into(), Tensor::from(self.stage.index())),
            ("state.slope".into(), Tensor::from(slope)),
        ]
    }
}

/// The family's training step: the [`Gan`] and its schedule (stages, slope, warm-up), the
/// latents fixed for the run's evaluations and sample sheets.
pub struct GanStep {
    gan: Gan,
    /// Stage-1 steps of the run.
    steps: u64,
    /// Training phrases (an epoch, for the slope schedule).
    train_phrases: usize,
    fixed_z: Tensor,
}

/// Samples generated at once in evaluation mode.
const EVAL_CHUNK: i64 = 64;

/// Each track's share of active cells over the training split.
fn track_densities(data: &Dataset) -> Result<Vec<f64>, Error> {
    let shape = data.shape();
    let per_track = shape.bars * shape.steps_per_bar * shape.pitches;
    let cells = data.phrase_cells();
    let mut on = vec![0u64; shape.tracks];
    let indices = data.split(Split::Train);
    let mut buffer = Vec::new();
    for chunk in indices.chunks(256) {
        buffer.resize(chunk.len() * cells, 0u8);
        data.read_batch(chunk, &mut buffer)?;
        for phrase in buffer.chunks_exact(cells) {
            for (count, track) in on.iter_mut().zip(phrase.chunks_exact(per_track)) {
                *count += track.iter().map(|&c| u64::from(c)).sum::<u64>();
            }
        }
    }
    let total = (indices.len() * per_track).max(1) as f64;
    Ok(on.iter().map(|&n| n as f64 / total).collect())
}

impl GanStep {
    /// The step of a run of `config` with the family's `settings` on `data`, on `device`: fresh
    /// networks (G's outputs starting at the data's densities when the settings say so) and the
    /// run's fixed latents.
    ///
    /// # Errors
    /// [`Error::Config`] for settings that do not fit the run's music; errors of libtorch.
    pub fn new(
        config: &RunConfig,
        settings: &Settings,
        data: &Dataset,
        device: Device,
    ) -> Result<Self, Error> {
        super::check_music(&settings.networks, &config.music).map_err(|problem| {
            Error::file(
                data.dir(),
                format!("the dataset does not fit the model: {problem}"),
            )
        })?;
        let stage = stage_at(settings, config.steps, 0).0;
        let mut gan = Gan::new(settings, config.seed, config.batch, device, stage)?;
        if settings.output_bias == OutputBias::DataDensity {
            let logits: Vec<f64> = track_densities(data)?
                .iter()
                // An empty (or full) track would ask for an infinite bias.
                .map(|&d| {
                    let d = d.clamp(1e-4, 1.0 - 1e-4);
                    (d / (1.0 - d)).ln()
                })
                .collect();
            gan.set_output_bias(&logits)?;
        }
        // The fixed latents of evaluations and sample sheets, from their own seed.
        tch::manual_seed(seed_of(config.seed, u64::MAX, 1));
        let n = i64::from(config.eval_samples.max(config.sample_count));
        let fixed_z = gan.latents(n)?;
        Ok(Self {
            gan,
            steps: config.steps,
            train_phrases: data.split(Split::Train).len(),
            fixed_z,
        })
    }

    /// Critic updates of generator step `in_stage` of `stage`.
    fn critic_steps(&self, stage: Stage, in_stage: u64) -> u32 {
        match self.gan.settings.warmup {
            Some(w)
                if (stage != Stage::Refine && in_stage < w.first)
                    || (w.every > 0 && in_stage.is_multiple_of(w.every)) =>
            {
                w.critic_steps
            }
            _ => self.gan.settings.n_critic,
        }
    }

    /// The refiner's slope at generator step `in_stage` of `stage`.
    fn slope(&self, stage: Stage, in_stage: u64) -> f64 {
        match stage {
            Stage::Pretrain => 1.0,
            _ => self
                .gan
                .settings
                .slope(in_stage, self.gan.batch, self.train_phrases),
        }
    }

    /// Moves the networks to where step `step` is: its stage and slope.
    fn enter(&mut self, step: u64) -> Result<(Stage, u64), Error> {
        let (stage, in_stage) = stage_at(&self.gan.settings, self.steps, step);
        if stage != self.gan.stage() {
            self.gan.set_stage(stage)?;
        }
        self.gan.set_slope(self.slope(stage, in_stage))?;
        Ok((stage, in_stage))
    }
}

impl TrainStep for GanStep {
    fn total_steps(&self) -> u64 {
        self.gan.settings.total_steps(self.steps)
    }

    fn step(
        &mut self,
        step: u64,
        next_real: &mut dyn FnMut() -> Result<Tensor, Error>,
    ) -> Result<StepLosses, Error> {
        let (stage, in_stage) = self.enter(step)?;
        let critic_steps = self.critic_steps(stage, in_stage);
        let losses = self.gan.train_step(step, critic_steps, next_real)?;
        Ok(StepLosses {
            phase: stage.name(),
            values: vec![
                ("d_loss", losses.d_loss),
                ("g_loss", losses.g_loss),
                ("gp", losses.gp),
                ("wasserstein", losses.wasserstein),
                (
                    "slope",
                    self.gan.refiner.as_ref().map_or(1.0, Refiner::slope),
                ),
            ],
        })
    }

    fn fixed_samples(&self, n: usize) -> Result<Vec<u8>, Error> {
        let n = n as i64;
        let mut out = Vec::new();
        let mut start = 0;
        while start < n {
            let len = EVAL_CHUNK.min(n - start);
            let z = self.fixed_z.f_narrow(0, start, len)?;
            let x = self.gan.samples(&z)?.f_flatten(0, -1)?;
            out.extend(Vec::<u8>::try_from(&x)?);
            start += len;
        }
        Ok(out)
    }

    fn phase(&self) -> &'static str {
        self.gan.stage().name()
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        self.gan.state()
    }

    fn restore(&mut self, checkpoint: &HashMap<String, Tensor>, done: u64) -> Result<(), Error> {
        // The stage of the next step: a checkpoint at the end of stage 1 resumes into stage 2.
        self.enter(done)?;
        self.gan.load(checkpoint, true)
    }

    fn weights(&self) -> Vec<(String, Tensor)> {
        self.gan.weights()
    }

    fn loss_panels(&self) -> Vec<LossPanel> {
        vec![
            LossPanel {
                title: "losses",
                curves: vec![("d_loss", "critic"), ("g_loss", "generator")],
            },
            LossPanel {
                title: "Wasserstein estimate",
                curves: vec![("wasserstein", "D(real) − D(fake)")],
            },
            LossPanel {
                title: "gradient penalty",
                curves: vec![("gp", "GP")],
            },
        ]
    }

    fn describe(&self) -> String {
        let s = &self.gan.settings;
        let m = &s.networks;
        let loss = match s.loss {
            Loss::WganGp => format!("WGAN-GP (λ {})", s.gp_weight),
            Loss::NonSaturating if s.gp_weight > 0.0 => {
                format!("non-saturating + GP (λ {})", s.gp_weight)
            }
            Loss::NonSaturating => "non-saturating".into(),
        };
        format!(
            "{} generator, {} discriminator, refiner: {}; {} strategy, {loss} loss, {} critic \
             steps per generator step",
            match m.generator {
                super::GeneratorKind::Phrase { .. } => "phrase".to_string(),
                super::GeneratorKind::Temporal { structure, .. } => {
                    format!("temporal ({structure:?})").to_lowercase()
                }
            },
            m.discriminator.name(),
            m.refiner,
            s.strategy,
            s.n_critic
        )
    }
}
