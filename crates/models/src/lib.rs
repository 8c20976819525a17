//! museroll's neural networks on libtorch (through `tch`).
//!
//! This crate is the only place, with the CLI binary, that links libtorch; `museroll-core` stays
//! free of it so its tests build in seconds. What every model shares lives here:
//!
//! - [`device`] turns the user's `cpu | cuda | auto` choice into a [`tch::Device`]. Asking for
//!   `cuda` where libtorch finds no GPU is an error, not a silent fall back to a CPU run that
//!   would take many times longer; `auto` is the way to say "a GPU if there is one".
//! - [`gradient_penalty`] is the WGAN-GP penalty, computed with a gradient of a gradient (the
//!   critic is trained through its input gradient), so every GAN here trains its critic the same
//!   way.
//! - [`BinaryMuseGanConfig`] (module [`config`]) describes a BinaryMuseGAN; [`Generator`],
//!   [`Refiner`] and [`Discriminator`] (module [`bmusegan`]) are its networks, and [`summary()`]
//!   tabulates their layers and parameter counts. Its [`GeneratorKind`] chooses BinaryMuseGAN's
//!   phrase generator or MuseGAN's temporal one (composer, jamming, hybrid), which can also
//!   continue a piece phrase by phrase ([`Generator::forward_long_t`]).
//!
//! Tensor operations whose inputs come from callers use libtorch's fallible forms (`f_*`), so a
//! shape mismatch is an [`Error`], not a panic.

use std::fmt;
use std::str::FromStr;

pub mod bmusegan;
pub mod checkpoint;
pub mod config;
pub mod generate;
mod layers;
mod musegan;
pub mod optim;
pub mod summary;
pub mod train;

pub use bmusegan::{
    binary_neuron, chroma_feature, onset_feature, Discriminator, Generator, Refiner,
};
pub use config::{
    BinaryMuseGanConfig, BinaryNeuronKind, DiscriminatorVariant, GeneratorKind, LatentStructure,
    PitchLayers, PRESETS,
};
pub use summary::{summary, LayerSummary, ModelSummary, NetworkSummary};

use tch::{Device, TchError, Tensor};

/// Errors of the models crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// CUDA was asked for, but libtorch finds no CUDA device (no GPU, or no driver).
    #[error("CUDA was requested but libtorch finds no CUDA device")]
    CudaUnavailable,
    /// A device name other than `cpu`, `cuda` or `auto`.
    #[error("unknown device '{0}' (expected cpu, cuda or auto)")]
    UnknownDevice(String),
    /// A model configuration that cannot be built (bad sizes, strides that do not tile, …).
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// A request that cannot be met (a count out of range, an unknown name), in one line.
    #[error("{0}")]
    Usage(String),
    /// Tensors or a model output of the wrong shape.
    #[error("shape: {0}")]
    Shape(String),
    /// An error reported by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] TchError),
    /// A file that cannot be read, written or understood.
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, in one line.
        problem: String,
    },
    /// An I/O error (the caller names the file, see [`Error::File`]).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An error of museroll's core library (datasets, metrics, pictures, MIDI).
    #[error(transparent)]
    Core(#[from] museroll_core::Error),
}

/// The device the user asks for; [`device`] resolves it on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The CPU, always available.
    Cpu,
    /// The first CUDA GPU; an error where there is none.
    Cuda,
    /// The first CUDA GPU if libtorch finds one, else the CPU.
    #[default]
    Auto,
}

impl FromStr for DeviceChoice {
    type Err = Error;

    /// Parses `cpu`, `cuda` or `auto` (the spelling [`fmt::Display`] writes).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            "auto" => Ok(Self::Auto),
            other => Err(Error::UnknownDevice(other.to_owned())),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Auto => "auto",
        })
    }
}

/// Resolves `choice` to a libtorch device on this machine.
///
/// # Errors
/// [`Error::CudaUnavailable`] for [`DeviceChoice::Cuda`] when libtorch finds no CUDA device.
///
/// # Example
/// ```
/// use museroll_models::{device, DeviceChoice};
///
/// assert_eq!(device(DeviceChoice::Cpu)?, tch::Device::Cpu);
/// let auto = device("auto".parse()?)?;
/// assert_eq!(auto.is_cuda(), tch::Cuda::is_available());
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn device(choice: DeviceChoice) -> Result<Device, Error> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Auto => Ok(Device::cuda_if_available()),
        DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        DeviceChoice::Cuda => Err(Error::CudaUnavailable),
    }
}

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
    use tch::Kind;

    const F64: (Kind, Device) = (Kind::Double, Device::Cpu);

    #[test]
    fn device_choice_parses_and_prints_its_three_names() {
        for (name, choice) in [
            ("cpu", DeviceChoice::Cpu),
            ("cuda", DeviceChoice::Cuda),
            ("auto", DeviceChoice::Auto),
        ] {
            assert_eq!(name.parse::<DeviceChoice>().unwrap(), choice);
            assert_eq!(choice.to_string(), name);
        }
        let err = "gpu".parse::<DeviceChoice>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown device 'gpu' (expected cpu, cuda or auto)"
        );
    }

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
