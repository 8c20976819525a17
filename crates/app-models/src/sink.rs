//! Sinks: where a use case's results go. A generated set of files goes into a directory that
//! appears complete or not at all: everything is written into `DIR.partial`, renamed to `DIR` at
//! the end. A `DIR` that holds files is refused unless forced, and even then only when every
//! file in it is one `generate` writes (so a mistyped `--out ~` never deletes anything). A
//! `DIR.partial` left by an interrupted run is replaced on the same condition.

use std::path::Path;

use museroll_core::staging::{Existing, Owner, Staging};

use crate::Error;

/// `generate`, and the names of the files it writes (the only ones a forced output replaces).
const GENERATE: Owner = Owner {
    name: "generate",
    writes: is_generated,
};

/// Writes `files` (name, bytes) into the directory `out` through a [`Staging`]: `out` may exist
/// if empty, or with `force` if it holds nothing but an earlier generation's files.
///
/// # Errors
/// [`Error::Core`] naming `out` (or its `.partial` twin) and the problem; nothing is left at
/// `out` after an error.
pub fn write_dir(out: &Path, files: &[(String, Vec<u8>)], force: bool) -> Result<(), Error> {
    let existing = if force {
        Existing::ReplaceOwn
    } else {
        Existing::ReplaceEmpty
    };
    let staging = Staging::create(out, GENERATE, existing)?;
    for (name, bytes) in files {
        staging.write(name, bytes)?;
    }
    Ok(staging.finish()?)
}

/// Whether `name` is a file `generate` writes, the `.wav` files of audio included.
fn is_generated(name: &str) -> bool {
    let stem_ok = ["sample", "interpolation", "grid", "metrics"]
        .iter()
        .any(|p| name.starts_with(p));
    let ext_ok = [".mid", ".png", ".npz", ".json", ".md", ".wav"]
        .iter()
        .any(|e| name.ends_with(e));
    stem_ok && ext_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_recognised() {
        for name in [
            "sample-00.mid",
            "samples.png",
            "samples.npz",
            "metrics.json",
            "metrics.md",
            "interpolation-03.png",
            "interpolation.mid",
            "sample-07.wav",
            "grid.png",
            "grid.mid",
        ] {
            assert!(is_generated(name), "{name}");
        }
        for name in ["song.mid", "samples.txt", "config.toml", ".bashrc"] {
            assert!(!is_generated(name), "{name}");
        }
    }

    #[test]
    fn a_directory_is_written_whole_and_others_files_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let files = vec![("metrics.md".to_string(), b"x".to_vec())];
        write_dir(&out, &files, false).unwrap();
        assert_eq!(std::fs::read(out.join("metrics.md")).unwrap(), b"x");
        assert!(!dir.path().join("out.partial").exists());
        let err = write_dir(&out, &files, false).unwrap_err().to_string();
        assert!(err.contains("already holds files"), "{err}");
        write_dir(&out, &files, true).unwrap();
        std::fs::write(out.join("notes.txt"), b"mine").unwrap();
        let err = write_dir(&out, &files, true).unwrap_err().to_string();
        assert!(err.contains("did not write"), "{err}");
        assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
    }
}
