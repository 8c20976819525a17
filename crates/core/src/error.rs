//! The one error type of the core crate.

use std::path::PathBuf;

/// Everything that can go wrong in the core crate.
///
/// Format errors carry a short description of the problem; [`Error::File`] adds the path so the
/// CLI can print one line naming both.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem inside a named file.
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (shown in this error's message, so not chained as a source).
        problem: Box<Error>,
    },
    /// Reading or writing failed at the operating-system level.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A Standard MIDI File is malformed or unsupported.
    #[error("MIDI: {0}")]
    Midi(String),
    /// A MusicXML document or `.mxl` archive is malformed or unsupported.
    #[error("MusicXML: {0}")]
    MusicXml(String),
    /// A NumPy `.npy` array or `.npz` archive (a pypianoroll song, a MuseGAN phrase array) is
    /// malformed or unsupported.
    #[error("npz: {0}")]
    Npz(String),
    /// An image could not be produced.
    #[error("image: {0}")]
    Image(String),
    /// A SoundFont is malformed or unsupported, or the synthesizer failed on it.
    #[error("SoundFont: {0}")]
    SoundFont(String),
    /// The file's format is not one museroll reads or writes.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    /// A value is out of its valid range (a pitch, a resolution, a tempo…).
    #[error("invalid value: {0}")]
    Invalid(String),
    /// A problem said in words alone, with no category to add: the inside of [`Error::file`].
    #[error("{0}")]
    Message(String),
}

impl Error {
    /// The error `PATH: problem`, one line, for problems with a file that no other variant
    /// describes better (it exists and should not, it holds foreign files…).
    ///
    /// ```
    /// use museroll_core::Error;
    /// let e = Error::file("out/ds", "already exists");
    /// assert_eq!(e.to_string(), "out/ds: already exists");
    /// ```
    pub fn file(path: impl Into<PathBuf>, problem: impl std::fmt::Display) -> Error {
        Error::Message(problem.to_string()).in_file(path)
    }

    /// Wraps `self` with the path of the file it concerns (once: an error that already names a
    /// file keeps its own path).
    pub fn in_file(self, path: impl Into<PathBuf>) -> Error {
        match self {
            Error::File { .. } => self,
            other => Error::File {
                path: path.into(),
                problem: Box::new(other),
            },
        }
    }
}

/// The core crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
