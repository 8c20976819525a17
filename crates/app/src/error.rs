//! The one error type of the application layer.

use std::path::PathBuf;

/// Everything a use case can refuse or fail at.
///
/// The messages are the command line's (a front end shows them as they are): some name the
/// `museroll` flag a value came from, because that is what the user typed. Errors that wrap
/// another keep it as their source, so a front end printing the chain (`anyhow`'s `{:#}`) shows
/// one line: the context, then the cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The core crate failed (reading, writing, drawing, building, measuring…).
    #[error(transparent)]
    Core(#[from] museroll_core::Error),
    /// A file or directory the use case opened or removed itself.
    #[error("{}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A settings file (TOML) is malformed or has a wrong or unknown setting.
    #[error("{}: {message}", path.display())]
    Settings {
        /// The settings file.
        path: PathBuf,
        /// The TOML parser's message.
        message: String,
    },
    /// Build settings from a file, with the overrides applied, are invalid.
    #[error("{} (with the flags)", path.display())]
    InvalidSettings {
        /// The settings file (the bad value may come from it).
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: museroll_core::Error,
    },
    /// A transposition is not a whole number of semitones in -128..=127.
    #[error("--transpose: '{text}' is not a number of semitones")]
    Semitones {
        /// The offending part of the transposition list.
        text: String,
        /// Why it is not a number.
        #[source]
        source: std::num::ParseIntError,
    },
    /// A transposition range runs backwards.
    #[error("--transpose: the range {from}..{to} is empty")]
    EmptyTranspositions {
        /// The range's first transposition.
        from: i8,
        /// Its last.
        to: i8,
    },
    /// Zero bars were asked for.
    #[error("--bars must be at least 1")]
    NoBars,
    /// The first bar asked for lies beyond the piece.
    #[error("{}: bar {bar} does not exist ({bars} bars)", path.display())]
    NoSuchBar {
        /// The piece's file.
        path: PathBuf,
        /// The bar asked for (0-based).
        bar: usize,
        /// The piece's number of bars.
        bars: usize,
    },
    /// A piano-roll picture could not be drawn.
    #[error("drawing {}", path.display())]
    Draw {
        /// The piece's file.
        path: PathBuf,
        /// Why.
        #[source]
        source: museroll_core::Error,
    },
    /// No SoundFont was given and the project's venv has none.
    #[error(
        "no SoundFont found in the project's .venv: pass --soundfont FILE.sf2 (e.g. Debian's \
         /usr/share/sounds/sf2/FluidR3_GM.sf2) or run ./setup.sh"
    )]
    NoSoundFont,
    /// No inputs were given and the default corpus is not in the project's venv.
    #[error(
        "no inputs given and music21's Bach corpus was not found in the project's .venv (run \
         ./setup.sh)"
    )]
    NoCorpus,
    /// A build cut no phrase at all (its directory has been removed again).
    #[error("{}: no phrase could be cut from the inputs ({skipped})", out.display())]
    NoPhrasesCut {
        /// The dataset directory that was asked for.
        out: PathBuf,
        /// The files skipped, counted by reason.
        skipped: museroll_core::dataset::SkipCounts,
    },
    /// The phrases to measure are none: a table of dashes would look like a result.
    #[error("{}: no phrases to measure ({which} is empty)", name.display())]
    NothingToMeasure {
        /// The dataset or the samples.
        name: PathBuf,
        /// Which selection is empty ("the training split", "the dataset"…).
        which: &'static str,
    },
    /// Music files cannot be cut like a reference that was imported from an array.
    #[error(
        "{}: the reference was imported from an array, so music files cannot be cut like it; \
         pass a dataset",
        reference.display()
    )]
    ImportedReference {
        /// The reference dataset.
        reference: PathBuf,
    },
    /// The samples' phrases have another shape than the reference's.
    #[error("{}: phrases of {ours} differ from the reference's {theirs}", samples.display())]
    ShapeMismatch {
        /// The samples.
        samples: PathBuf,
        /// Their phrase shape, in words.
        ours: String,
        /// The reference's.
        theirs: String,
    },
    /// A track of the samples is another instrument than the reference's track at its place.
    #[error("{}: track '{ours}' stands where the reference has '{theirs}'", samples.display())]
    TrackMismatch {
        /// The samples.
        samples: PathBuf,
        /// The samples' track name.
        ours: String,
        /// The reference's track name at the same place.
        theirs: String,
    },
    /// The scratch directory for samples given as music files could not be made.
    #[error("creating a temporary directory")]
    Scratch(#[source] std::io::Error),
    /// Metric reports could not be turned into JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The application layer's result type.
pub type Result<T> = std::result::Result<T, Error>;
