//! museroll's core: the multitrack piano-roll and everything around it that needs no libtorch.
//!
//! - [`Multitrack`], [`Track`], [`Roll`]: the piano-roll model (symbolic time, tempo and meter as
//!   metadata, an onset plane so repeated notes stay distinct);
//! - [`midi`], [`musicxml`], [`npz`]: readers and writers for the formats users have;
//! - [`plot`]: piano-roll pictures; [`chart`]: line charts of training curves;
//! - [`io`]: reading and writing any supported file by its extension;
//! - [`synth`]: audio from a SoundFont synthesizer, and WAV files;
//! - [`dataset`]: training datasets of fixed-size phrases cut from a corpus;
//! - [`phrase`]: generated phrases as multitracks, sample sheets and MIDI;
//! - [`rng`]: the one seeded generator (SplitMix64) for shuffles, draws and latents;
//! - [`staging`]: outputs written so that readers never see half of them (staged directories,
//!   atomic files);
//! - [`venv`]: the data the project's Python venv carries (music21's corpus, a GM SoundFont);
//! - [`evaluation`]: judging sets of phrases beyond metric means (voice leading, Yang & Lerch,
//!   memorization and diversity, bootstrap confidence intervals).

pub mod chart;
pub mod dataset;
pub mod error;
pub mod evaluation;
pub mod gm;
pub mod io;
pub mod metrics;
pub mod midi;
pub mod multitrack;
pub mod musicxml;
mod npy;
pub mod npz;
pub mod phrase;
pub mod plot;
mod reading;
pub mod rng;
pub mod roll;
pub mod staging;
pub mod summary;
pub mod synth;
pub mod track;
pub mod units;
pub mod venv;

mod text;

pub use error::{Error, Result};
pub use gm::InstrumentFamily;
pub use multitrack::{Multitrack, Tempo, TimeSignature, DEFAULT_QPM};
pub use roll::{Note, Roll, RollKind};
pub use track::Track;
pub use units::{Pitch, Program, Resolution, N_PITCHES};

/// The velocity given to notes of binary rolls when they need one (pypianoroll 1.x's default).
pub const DEFAULT_VELOCITY: u8 = 64;
