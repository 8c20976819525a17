//! Sinks: where a use case's results go. A generated set of files goes into a directory that
//! appears complete or not at all: everything is written into `DIR.partial`, renamed to `DIR` at
//! the end. A `DIR` that holds files is refused unless forced, and even then only when every
//! file in it is one `generate` writes (so a mistyped `--out ~` never deletes anything). A
//! `DIR.partial` left by an interrupted run is replaced on the same condition.

use std::path::{Path, PathBuf};

use museroll_models::Error;

/// Writes `files` (name, bytes) into the directory `out` through a [`Staging`].
///
/// # Errors
/// As [`Staging::create`], [`Staging::write`] and [`Staging::finish`]; nothing is left at `out`
/// after an error.
pub fn write_dir(out: &Path, files: &[(String, Vec<u8>)], force: bool) -> Result<(), Error> {
    let staging = Staging::create(out, force)?;
    for (name, bytes) in files {
        staging.write(name, bytes)?;
    }
    staging.finish()
}

/// Whether `name` is a file `generate` writes (or a temporary of one), the `.wav` files of the
/// command line's `--audio` included.
fn is_generated(name: &str) -> bool {
    let stem_ok = ["sample", "interpolation", "grid", "metrics"]
        .iter()
        .any(|p| name.starts_with(p));
    let ext_ok = [".mid", ".png", ".npz", ".json", ".md", ".wav"]
        .iter()
        .any(|e| name.ends_with(e));
    stem_ok && ext_ok
}

/// Whether every entry of `dir` is a file `generate` writes.
fn holds_only_generated(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.into_iter().all(|e| {
            e.is_ok_and(|e| {
                e.file_type().is_ok_and(|t| t.is_file())
                    && e.file_name().to_str().is_some_and(is_generated)
            })
        })
    })
}

/// The output directory being written: `DIR.partial`, renamed to `DIR` by [`Staging::finish`],
/// removed if dropped before.
pub struct Staging {
    out: PathBuf,
    partial: PathBuf,
    finished: bool,
}

impl Staging {
    /// Starts writing `out`: refuses an `out` that holds files unless `force`, and even then
    /// unless every file in it is one `generate` writes.
    ///
    /// # Errors
    /// [`Error::File`] naming `out` (or its `.partial` twin) and the problem.
    pub fn create(out: &Path, force: bool) -> Result<Self, Error> {
        let mut name = out
            .file_name()
            .ok_or_else(|| Error::file(out, "names no directory"))?
            .to_os_string();
        name.push(".partial");
        let partial = out.with_file_name(name);
        if out.exists() {
            if !out.is_dir() {
                return Err(Error::file(out, "exists and is not a directory"));
            }
            let empty = std::fs::read_dir(out)
                .map_err(|e| Error::file(out, e))?
                .next()
                .is_none();
            if !empty && !force {
                return Err(Error::file(
                    out,
                    "already holds files (choose another --out, or --force to replace the \
                     output of an earlier generate)",
                ));
            }
            if !empty && !holds_only_generated(out) {
                return Err(Error::file(
                    out,
                    "holds files that generate did not write; not replacing it",
                ));
            }
        }
        if partial.exists() {
            if !(partial.is_dir() && holds_only_generated(&partial)) {
                return Err(Error::file(
                    &partial,
                    "exists and holds files that generate did not write; not replacing it",
                ));
            }
            std::fs::remove_dir_all(&partial).map_err(|e| Error::file(&partial, e))?;
        }
        std::fs::create_dir_all(&partial)
            .map_err(|e| Error::file(out, format!("cannot be created ({e})")))?;
        Ok(Self {
            out: out.to_path_buf(),
            partial,
            finished: false,
        })
    }

    /// Writes `DIR.partial/name` (atomicity comes from the directory's rename).
    ///
    /// # Errors
    /// [`Error::File`] naming the file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.partial.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::file(&path, e))
    }

    /// Moves `DIR.partial` to `DIR`, replacing an empty `DIR` or one checked by [`Staging::create`].
    ///
    /// # Errors
    /// [`Error::File`] naming `out`.
    pub fn finish(mut self) -> Result<(), Error> {
        if self.out.exists() {
            if !holds_only_generated(&self.out) {
                return Err(Error::file(
                    &self.out,
                    "holds files that generate did not write; not replacing it",
                ));
            }
            std::fs::remove_dir_all(&self.out).map_err(|e| Error::file(&self.out, e))?;
        }
        std::fs::rename(&self.partial, &self.out).map_err(|e| Error::file(&self.out, e))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
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
