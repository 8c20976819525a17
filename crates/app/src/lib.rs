//! museroll's use cases that need no libtorch: inspect, convert, draw and play music files
//! ([`music`], [`render`]), build, import and measure datasets ([`data`]), and compare samples
//! with a dataset ([`eval`]).
//!
//! Front ends (the `museroll` command line; a web server later) are thin adapters over it: each
//! function takes paths and settings, returns its results in memory (or writes the one output it
//! was asked for) and reports long jobs' progress through [`Progress`]; printing and progress bars
//! are the front end's. Errors are one [`Error`] enum whose messages name the file concerned.

pub mod compare;
pub mod data;
pub mod error;
pub mod eval;
pub mod music;
pub mod render;

pub use error::{Error, Result};
pub use museroll_core::dataset::{NoProgress, Progress};
