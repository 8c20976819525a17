//! The WGAN-GP gradient penalty, shared by every critic that is trained through its input
//! gradient (convolutional, recurrent or any other: it only needs a differentiable forward).

use tch::{TchError, Tensor};

use crate::Error;

/// The WGAN-GP gradient penalty `mean((‖∇D(x̂)‖₂ − 1)²)` over the batch, at the interpolates
/// `x̂ = fake + α·(real − fake)` (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
/// arXiv:1704.00028, eq. 3; the critic loss adds it times λ = 10).
///
/// - `critic` maps a batch `[B, …]` to one score per sample (`[B]` or `[B, 1]`); its errors are
///   passed on. It must treat
///   samples independently (no batch norm, as the paper advises): the gradient of the summed
///   scores is then each sample's own input gradient.
/// - `real` and `fake` are `[B, …]` of the same shape. Both are detached: the penalty trains the
///   critic only, never the generator.
/// - `alpha` broadcasts against `real`, usually `Tensor::rand([B, 1, …, 1], …)`. The caller draws
///   it so that a seeded run or a test controls the random stream.
///
/// The result is a scalar that stays in the autograd graph (the input gradient is taken with
/// `create_graph`): `backward` on a loss that contains it reaches the critic's parameters through
/// the gradient of the gradient. It has the kind of the inputs.
///
/// # Errors
/// [`Error::Shape`] if `real` and `fake` differ in shape, `alpha` widens them, or the critic does
/// not give one score per sample; [`Error::Torch`] if libtorch rejects an operation (e.g. `alpha`
/// does not broadcast at all).
pub fn gradient_penalty(
    critic: impl Fn(&Tensor) -> Result<Tensor, Error>,
    real: &Tensor,
    fake: &Tensor,
    alpha: &Tensor,
) -> Result<Tensor, Error> {
    let shape = real.size();
    if fake.size() != shape {
        return Err(Error::Shape(format!(
            "real {shape:?} and fake {:?} differ",
            fake.size()
        )));
    }
    let batch = *shape
        .first()
        .ok_or_else(|| Error::Shape("real and fake are scalars, not batches".into()))?;
    let (real, fake) = (real.detach(), fake.detach());
    // x̂ is a leaf that requires grad: the gradient is taken with respect to it.
    let x_hat = fake
        .f_add(&alpha.f_mul(&real.f_sub(&fake)?)?)?
        .detach()
        .set_requires_grad(true);
    if x_hat.size() != shape {
        return Err(Error::Shape(format!(
            "alpha {:?} does not broadcast to {shape:?}",
            alpha.size()
        )));
    }
    let scores = critic(&x_hat)?;
    let score_shape = scores.size();
    if score_shape.first() != Some(&batch) || usize::try_from(batch) != Ok(scores.numel()) {
        return Err(Error::Shape(format!(
            "the critic gave scores of shape {score_shape:?} for a batch of {batch}; \
             it must give one score per sample"
        )));
    }
    // keep_graph and create_graph: the penalty's own backward runs through this gradient's graph.
    let grads = Tensor::f_run_backward(&[&scores], &[&x_hat], true, true)?;
    let grad = grads
        .first()
        .ok_or_else(|| TchError::Torch("run_backward returned no input gradient".into()))?;
    let norms = grad
        .f_flatten(1, -1)?
        .f_norm_scalaropt_dim(2.0, [1], false)?; // [B]
    Ok(norms.f_sub_scalar(1.0)?.f_square()?.f_mean(None)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    const F64: (Kind, Device) = (Kind::Double, Device::Cpu);

    /// A linear critic D(x) = Σ v·x has the input gradient v everywhere, so the penalty is
    /// (‖v‖ − 1)² whatever the samples: with v = (3, 4), ‖v‖ = 5 and the penalty is 16.
    #[test]
    fn penalty_of_a_linear_critic_is_its_weight_norm_minus_one_squared() {
        let v = Tensor::from_slice(&[3.0f64, 4.0]);
        let critic = |x: &Tensor| Ok(x.matmul(&v)); // [B, 2] -> [B]
        let real = Tensor::from_slice(&[1.0f64, 2.0, -1.0, 0.5, 7.0, 0.0]).view([3, 2]);
        let fake = Tensor::from_slice(&[0.0f64, 1.0, 2.0, 3.0, -4.0, 5.0]).view([3, 2]);
        let alpha = Tensor::from_slice(&[0.0f64, 0.3, 1.0]).view([3, 1]);
        let gp = gradient_penalty(critic, &real, &fake, &alpha).unwrap();
        assert_eq!(gp.kind(), Kind::Double);
        assert!((gp.double_value(&[]) - 16.0).abs() < 1e-12);
    }

    #[test]
    fn penalty_rejects_mismatched_batches_and_batch_level_scores() {
        let x = Tensor::ones([4, 3], F64);
        let alpha = Tensor::ones([4, 1], F64);
        let per_sample = |x: &Tensor| Ok(x.sum_dim_intlist(1, false, Kind::Double));
        let err = gradient_penalty(per_sample, &x, &Tensor::ones([2, 3], F64), &alpha).unwrap_err();
        assert_eq!(err.to_string(), "shape: real [4, 3] and fake [2, 3] differ");

        let batch_mean = |x: &Tensor| Ok(x.mean(Kind::Double));
        let err = gradient_penalty(batch_mean, &x, &x, &alpha).unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err}");

        let widening_alpha = Tensor::ones([2, 4, 1], F64);
        let err = gradient_penalty(per_sample, &x, &x, &widening_alpha).unwrap_err();
        assert_eq!(
            err.to_string(),
            "shape: alpha [2, 4, 1] does not broadcast to [4, 3]"
        );

        let bad_alpha = Tensor::ones([5, 1], F64);
        let err = gradient_penalty(per_sample, &x, &x, &bad_alpha).unwrap_err();
        assert!(matches!(err, Error::Torch(_)), "{err}");
    }
}
