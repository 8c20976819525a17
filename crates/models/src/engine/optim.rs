//! Adam with a state that can be saved and restored.
//!
//! tch's optimizers wrap libtorch's C++ ones, whose moments cannot be read or written, so a
//! resumed run would restart Adam from zero moments and diverge from the uninterrupted one. This
//! Adam keeps its moments in tensors that [`Adam::state`] hands to a checkpoint and
//! [`Adam::load_state`] puts back. The update is PyTorch's `torch.optim.Adam` without weight
//! decay or AMSGrad (Kingma & Ba 2015, with the bias corrections):
//!
//! ```text
//! m ← β₁·m + (1 − β₁)·g        v ← β₂·v + (1 − β₂)·g²
//! θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! ```
//!
//! A parameter whose gradient is undefined (it took no part in the loss) is left alone and its
//! moments do not decay, as in PyTorch.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::Error;

/// Adam's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
}

impl Default for AdamConfig {
    /// WGAN-GP's Adam: lr 1e-3, β = (0.5, 0.9), ε = 1e-8.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.5,
            beta2: 0.9,
            eps: 1e-8,
        }
    }
}

impl AdamConfig {
    /// Checks that the values are usable: lr ≥ 0, β in [0, 1), ε > 0, all finite.
    ///
    /// # Errors
    /// [`Error::Config`] naming the bad value.
    pub fn validate(&self) -> Result<(), Error> {
        let ok = self.lr.is_finite()
            && self.lr >= 0.0
            && (0.0..1.0).contains(&self.beta1)
            && (0.0..1.0).contains(&self.beta2)
            && self.eps.is_finite()
            && self.eps > 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "Adam needs lr ≥ 0, betas in [0, 1) and eps > 0, not {self:?}"
            )))
        }
    }
}

/// Adam over named parameters (see the module documentation).
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    params: Vec<(String, Tensor)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    steps: i64,
}

impl Adam {
    /// An optimizer of `params` (name, parameter) with zero moments.
    ///
    /// # Errors
    /// [`Error::Config`] if `config` does not validate.
    pub fn new(params: Vec<(String, Tensor)>, config: AdamConfig) -> Result<Self, Error> {
        config.validate()?;
        let zeros = |p: &Tensor| p.zeros_like();
        let m = params.iter().map(|(_, p)| zeros(p)).collect();
        let v = params.iter().map(|(_, p)| zeros(p)).collect();
        Ok(Self {
            config,
            params,
            m,
            v,
            steps: 0,
        })
    }

    /// Number of updates made so far.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// Clears the gradients of every parameter.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            let mut grad = p.grad();
            if grad.defined() {
                let _ = grad.detach_().zero_();
            }
        }
    }

    /// One update from the gradients the parameters hold.
    ///
    /// # Errors
    /// [`Error::Torch`] from libtorch.
    pub fn step(&mut self) -> Result<(), Error> {
        let _guard = tch::no_grad_guard();
        self.steps += 1;
        let AdamConfig {
            lr,
            beta1,
            beta2,
            eps,
        } = self.config;
        // steps stays far below 2³¹ (at most a few million updates).
        let t = i32::try_from(self.steps).unwrap_or(i32::MAX);
        let correction1 = 1.0 - beta1.powi(t);
        let correction2 = 1.0 - beta2.powi(t);
        for ((_, p), (m, v)) in self
            .params
            .iter_mut()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            let _ = m
                .f_mul_scalar_(beta1)?
                .f_add_(&g.f_mul_scalar(1.0 - beta1)?)?;
            let _ = v
                .f_mul_scalar_(beta2)?
                .f_addcmul_(&g, &g.f_mul_scalar(1.0 - beta2)?)?;
            let denominator = v.f_div_scalar(correction2)?.f_sqrt()?.f_add_scalar(eps)?;
            let update = m.f_div(&denominator)?.f_mul_scalar(lr / correction1)?;
            let _ = p.f_sub_(&update)?;
        }
        Ok(())
    }

    /// The state to checkpoint: `PREFIX.m.NAME`, `PREFIX.v.NAME` per parameter and
    /// `PREFIX.steps` (an int64 scalar). The tensors are copies.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = vec![(format!("{prefix}.steps"), Tensor::from(self.steps))];
        for ((name, _), (m, v)) in self.params.iter().zip(self.m.iter().zip(&self.v)) {
            out.push((format!("{prefix}.m.{name}"), m.copy()));
            out.push((format!("{prefix}.v.{name}"), v.copy()));
        }
        out
    }

    /// Restores a state written by [`Adam::state`] under `prefix`.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the entry that is missing or has another shape than its
    /// parameter; [`Error::Torch`] from libtorch.
    pub fn load_state(
        &mut self,
        prefix: &str,
        state: &HashMap<String, Tensor>,
    ) -> Result<(), Error> {
        let get = |key: String, like: &Tensor| -> Result<&Tensor, Error> {
            let t = state
                .get(&key)
                .ok_or_else(|| Error::Shape(format!("the checkpoint has no '{key}'")))?;
            if t.size() != like.size() {
                return Err(Error::Shape(format!(
                    "'{key}' has shape {:?}, the model needs {:?}",
                    t.size(),
                    like.size()
                )));
            }
            Ok(t)
        };
        let steps = get(format!("{prefix}.steps"), &Tensor::from(0i64))?;
        let steps = steps.f_to_kind(Kind::Int64)?.f_int64_value(&[])?;
        let _guard = tch::no_grad_guard();
        for ((name, _), (m, v)) in self
            .params
            .iter()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            m.f_copy_(get(format!("{prefix}.m.{name}"), m)?)?;
            v.f_copy_(get(format!("{prefix}.v.{name}"), v)?)?;
        }
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, nn::OptimizerConfig, Device};

    /// Three steps on a quadratic from the same start: this Adam and libtorch's agree.
    #[test]
    fn updates_equal_libtorchs_adam() {
        let _rng = crate::torch_rng();
        let target = Tensor::from_slice(&[1.0f64, -2.0, 0.5]);
        let loss = |w: &Tensor| (w - &target).square().sum(Kind::Double) + w.sum(Kind::Double);
        let start = Tensor::from_slice(&[0.3f64, 0.1, -0.7]);

        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var_copy("w", &start);
        let mut reference = nn::Adam::default()
            .beta1(0.5)
            .beta2(0.9)
            .build(&vs, 0.1)
            .unwrap();
        let mine = start.copy().set_requires_grad(true);
        let config = AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        };
        let mut adam = Adam::new(vec![("w".into(), mine.shallow_clone())], config).unwrap();
        for _ in 0..3 {
            reference.backward_step(&loss(&w));
            adam.zero_grad();
            loss(&mine).backward();
            adam.step().unwrap();
        }
        assert_eq!(adam.steps(), 3);
        // libtorch orders the bias corrections differently: equal up to rounding.
        let diff = (&w - &mine).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "differs by {diff}");
        assert!(
            (&w - &start).abs().max().double_value(&[]) > 0.1,
            "nothing moved"
        );
    }

    /// Saving after two steps and loading into a fresh optimizer continues exactly as the
    /// uninterrupted optimizer does.
    #[test]
    fn a_restored_state_continues_the_same_trajectory() {
        let loss = |w: &Tensor| (w * w * w).sum(Kind::Double);
        let start = Tensor::from_slice(&[0.5f64, -1.5]);
        let run = |w: &Tensor, adam: &mut Adam, n: usize| {
            for _ in 0..n {
                adam.zero_grad();
                loss(w).backward();
                adam.step().unwrap();
            }
        };
        let config = AdamConfig::default();
        let a = start.copy().set_requires_grad(true);
        let mut straight = Adam::new(vec![("w".into(), a.shallow_clone())], config).unwrap();
        run(&a, &mut straight, 4);

        let b = start.copy().set_requires_grad(true);
        let mut first = Adam::new(vec![("w".into(), b.shallow_clone())], config).unwrap();
        run(&b, &mut first, 2);
        let state: HashMap<_, _> = first.state("opt").into_iter().collect();
        let mut names: Vec<_> = state.keys().cloned().collect();
        names.sort();
        assert_eq!(names, ["opt.m.w", "opt.steps", "opt.v.w"]);
        let mut second = Adam::new(vec![("w".into(), b.shallow_clone())], config).unwrap();
        second.load_state("opt", &state).unwrap();
        run(&b, &mut second, 2);
        assert_eq!((&a - &b).abs().max().double_value(&[]), 0.0);

        let mut bad = Adam::new(
            vec![("w".into(), Tensor::zeros([3], (Kind::Double, Device::Cpu)))],
            config,
        )
        .unwrap();
        let err = bad.load_state("opt", &state).unwrap_err().to_string();
        assert_eq!(err, "shape: 'opt.m.w' has shape [2], the model needs [3]");
        let err = bad.load_state("other", &state).unwrap_err().to_string();
        assert_eq!(err, "shape: the checkpoint has no 'other.steps'");
    }

    #[test]
    fn bad_hyper_parameters_are_refused() {
        for config in [
            AdamConfig {
                lr: -1.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                beta1: 1.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                eps: 0.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                lr: f64::NAN,
                ..AdamConfig::default()
            },
        ] {
            assert!(matches!(Adam::new(vec![], config), Err(Error::Config(_))));
        }
    }
}
