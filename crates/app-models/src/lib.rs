//! The application layer's use cases that run neural networks — train, generate, inspect a
//! model — for every front end (the command line, the web studio). Each returns its results in
//! memory; sinks write them (a directory, audio files). Nothing here parses command lines or
//! prints.

pub mod generate;
pub mod sink;
pub mod train;

pub use museroll_models::{
    device, engine, families, sample, DeviceChoice, Error as ModelError, ModelSummary,
};

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error of the models (a run, its weights, a request).
    #[error(transparent)]
    Model(#[from] museroll_models::Error),
    /// An error of the core library (files, pictures, audio).
    #[error(transparent)]
    Core(#[from] museroll_core::Error),
}

/// The layers, shapes and parameter counts of the model of `preset`.
///
/// # Errors
/// [`Error::Model`] for an unknown preset.
pub fn model_summary(preset: &str) -> Result<ModelSummary, Error> {
    Ok(museroll_models::families::summary(preset)?)
}

/// Resolves `choice` to a device and sets libtorch's CPU threads (`None`: every core); returns
/// both.
///
/// # Errors
/// [`Error::Model`] for CUDA where there is none, or fewer than one thread.
pub fn compute(choice: DeviceChoice, threads: Option<i32>) -> Result<(tch::Device, i32), Error> {
    let device = device(choice)?;
    let threads = match threads {
        Some(n) if n >= 1 => n,
        Some(n) => {
            return Err(ModelError::Usage(format!("--threads {n}: at least 1")).into());
        }
        None => std::thread::available_parallelism().map_or(1, |n| n.get() as i32),
    };
    tch::set_num_threads(threads);
    Ok((device, threads))
}
