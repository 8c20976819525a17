//! The commands that run a neural network (`train`, `generate`, `model`, `migrate`), which
//! `museroll-torch` runs. `museroll` names them in its help and hands their arguments over
//! unparsed: their grammar is typed by the model libraries' choices (binarizations, devices,
//! strategies, weights), which `museroll` must not link, so it lives in `museroll-torch` alone.
//! The one-line descriptions are shared, so both programs' help reads the same.

use clap::{Args, Subcommand};
use std::ffi::OsString;

/// `train` in the help.
pub const TRAIN_ABOUT: &str = "Train a model on a dataset into a run directory (config, \
    checkpoints, logs, samples, curves, report); --resume continues an interrupted run exactly";
/// `generate` in the help.
pub const GENERATE_ABOUT: &str = "Generate samples from a trained run: MIDI, pictures, an .npz \
    and their metrics vs the training data; optionally a walk between two latents, and audio";
/// `model` in the help.
pub const MODEL_ABOUT: &str =
    "Show a model's architecture (layers, output shapes, parameters) without training";
/// `migrate` in the help.
pub const MIGRATE_ABOUT: &str = "Bring a run written by an older museroll (before model \
    families) to the current layout, in place; it then generates exactly as before";

/// The commands that run a neural network, as `museroll` knows them: a name and the arguments to
/// hand over.
#[derive(Subcommand)]
pub enum Neural {
    #[command(about = TRAIN_ABOUT, disable_help_flag = true)]
    /// See [`TRAIN_ABOUT`].
    Train(Handed),
    #[command(about = GENERATE_ABOUT, disable_help_flag = true)]
    /// See [`GENERATE_ABOUT`].
    Generate(Handed),
    #[command(about = MODEL_ABOUT, disable_help_flag = true)]
    /// See [`MODEL_ABOUT`].
    Model(Handed),
    #[command(about = MIGRATE_ABOUT, disable_help_flag = true)]
    /// See [`MIGRATE_ABOUT`].
    Migrate(Handed),
}

/// A neural command's arguments, unparsed (`museroll-torch` parses them, `--help` included).
#[derive(Args)]
pub struct Handed {
    /// The command's arguments (see `museroll COMMAND --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}
