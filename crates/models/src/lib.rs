//! museroll's neural networks on libtorch (through `tch`): model families over a shared engine.
//!
//! This crate is the only library that links libtorch; `museroll-core` stays free of it so its
//! tests build in seconds. It is layered (ARCHITECTURE.md at the workspace root has the rules,
//! which a test checks):
//!
//! - [`nn`]: reusable network blocks (the table-driven 3-D convolution stack, the WGAN-GP
//!   penalty, per-layer summaries). Knows no family and no training.
//! - [`engine`]: what every family trains with — the run directory and its config, checkpoints,
//!   the optimiser with saved state, and the training loop (cadence of logs, evaluations,
//!   samples, checkpoints, Ctrl-C, exact resume). It drives a family through the
//!   [`engine::TrainStep`] trait and knows no family.
//! - [`sample`]: what generating asks for ([`sample::SampleRequest`]: how many, which seed,
//!   which condition) and the [`sample::Sampler`] trait every family answers it with; seeded
//!   latents and latent walks. A sampler needs no optimiser, no dataset and no schedule.
//! - [`families`]: one folder per model family behind the [`families::Family`] contract, and
//!   the registry, the only list of families.
//!
//! [`device`] turns the user's `cpu | cuda | auto` choice into a [`tch::Device`]. Asking for
//! `cuda` where libtorch finds no GPU is an error, not a silent fall back to a CPU run that would
//! take many times longer; `auto` is the way to say "a GPU if there is one".
//!
//! Tensor operations whose inputs come from callers use libtorch's fallible forms (`f_*`), so a
//! shape mismatch is an [`Error`], not a panic.

use std::path::{Path, PathBuf};

use tch::{Device, TchError};

#[macro_use]
mod names;
pub mod engine;
pub mod families;
pub mod nn;
pub mod sample;

pub use families::bmusegan::{
    binary_neuron, chroma_feature, onset_feature, BinaryMuseGanConfig, BinaryNeuronKind,
    Discriminator, DiscriminatorVariant, Generator, GeneratorKind, LatentStructure, PitchLayers,
    Refiner,
};
pub use families::{family, preset, Family, Preset, FAMILIES};
pub use nn::{gradient_penalty, LayerSummary, ModelSummary, NetworkSummary};

/// Errors of the models crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// CUDA was asked for, but libtorch finds no CUDA device (no GPU, or no driver).
    #[error("CUDA was requested but libtorch finds no CUDA device")]
    CudaUnavailable,
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
        path: PathBuf,
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

impl Error {
    /// The error for a file or directory: `PATH: problem`, one line.
    pub fn file(path: &Path, problem: impl std::fmt::Display) -> Self {
        Self::File {
            path: path.to_path_buf(),
            problem: problem.to_string(),
        }
    }
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

choice!(DeviceChoice, "device", { Cpu => "cpu", Cuda => "cuda", Auto => "auto" });

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

/// libtorch's random generator is global: the unit tests that draw from it (a seed, new
/// variables) hold this lock, so that a seeded test sees only its own draws whatever runs beside it.
#[cfg(test)]
pub(crate) fn torch_rng() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
