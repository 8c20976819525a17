//! Writing outputs so that readers never see half of them: a directory is staged as
//! `DIR.partial` and renamed to `DIR` when complete ([`Staging`]); a single file goes through a
//! temporary sibling and a rename ([`atomic_write`]).
//!
//! Replacing and cleaning up delete files, so both are confined to what the caller says it
//! writes ([`Owner`]): a mistyped output such as a home directory is refused, never emptied.

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Who writes a staged directory, and which file names are theirs: the only files a
/// [`Staging`] ever deletes.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    /// What writes the directory, as messages name it (e.g. `"generate"`, `"a dataset build"`).
    pub name: &'static str,
    /// Whether a file of this name is one the owner writes.
    pub writes: fn(&str) -> bool,
}

impl Owner {
    /// Whether `name` is the owner's, or a temporary of [`atomic_write`] for one of its files.
    fn owns(&self, name: &str) -> bool {
        (self.writes)(name) || atomic_target(name).is_some_and(self.writes)
    }

    /// Whether `dir` holds regular files of the owner and nothing else.
    fn owns_all_of(&self, dir: &Path) -> bool {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.into_iter().all(|e| {
                e.is_ok_and(|e| {
                    e.file_type().is_ok_and(|t| t.is_file())
                        && e.file_name().to_str().is_some_and(|n| self.owns(n))
                })
            })
        })
    }
}

/// What may become of an output directory that exists already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// It must not exist at all (a finished dataset is never overwritten).
    Refuse,
    /// It may exist if empty.
    ReplaceEmpty,
    /// It may exist if it holds nothing but the owner's files, which are replaced (the user
    /// asked to overwrite an earlier output).
    ReplaceOwn,
}

/// An output directory being written: files go to `DIR.partial`, which [`Staging::finish`]
/// renames to `DIR`. Dropped before it finishes (an error, a panic, Ctrl-C unwinding), it
/// removes `DIR.partial`, so an interrupted run leaves no half-written `DIR`.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    partial: PathBuf,
    owner: Owner,
    finished: bool,
}

impl Staging {
    /// Starts writing `out`. An existing `out` is dealt with as `existing` says; a
    /// `DIR.partial` left by an interrupted run is removed if it holds only `owner`'s files.
    ///
    /// # Errors
    /// [`Error::File`] naming the directory if `out` names no directory (`/`, `..`), exists
    /// against `existing`, holds foreign files, or cannot be created.
    pub fn create(out: &Path, owner: Owner, existing: Existing) -> Result<Staging> {
        let partial = partial_path(out).ok_or_else(|| Error::file(out, "names no directory"))?;
        if out.exists() {
            check_existing(out, owner, existing)?;
        }
        if partial.exists() {
            if !(partial.is_dir() && owner.owns_all_of(&partial)) {
                return Err(Error::file(
                    &partial,
                    format!(
                        "exists and holds files that {} did not write; not replacing it",
                        owner.name
                    ),
                ));
            }
            std::fs::remove_dir_all(&partial).map_err(|e| Error::Io(e).in_file(&partial))?;
        }
        // The user named `out`, not its temporary sibling: a failure to create it names `out`.
        std::fs::create_dir_all(&partial)
            .map_err(|e| Error::file(out, format!("cannot be created ({e})")))?;
        Ok(Staging {
            out: out.to_path_buf(),
            partial,
            owner,
            finished: false,
        })
    }

    /// The path of the file `name` in the staged directory, for writers that stream into it.
    /// `name` must be one the owner writes, or a later run would refuse to replace the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        debug_assert!(
            (self.owner.writes)(name),
            "{name} is not {}'s",
            self.owner.name
        );
        self.partial.join(name)
    }

    /// Writes the file `name` of the staged directory (atomic through the directory's rename).
    ///
    /// # Errors
    /// [`Error::File`] naming the file if it cannot be written.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(name);
        std::fs::write(&path, bytes).map_err(|e| Error::Io(e).in_file(path))
    }

    /// Renames `DIR.partial` to `DIR`, replacing an existing `DIR` that [`Staging::create`]
    /// accepted (checked again: it may have changed in between).
    ///
    /// # Errors
    /// [`Error::File`] naming `DIR` if it now holds foreign files or the rename fails; the
    /// staged directory is then removed.
    pub fn finish(mut self) -> Result<()> {
        if self.out.exists() {
            if !self.owner.owns_all_of(&self.out) {
                return Err(Error::file(&self.out, foreign_files(self.owner)));
            }
            std::fs::remove_dir_all(&self.out).map_err(|e| Error::Io(e).in_file(&self.out))?;
        }
        std::fs::rename(&self.partial, &self.out).map_err(|e| Error::Io(e).in_file(&self.out))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort: a drop cannot report, and what is left is only `DIR.partial`.
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
}

/// The message for a directory holding files `owner` did not write.
fn foreign_files(owner: Owner) -> String {
    format!(
        "holds files that {} did not write; not replacing it",
        owner.name
    )
}

/// Refuses an existing `out` that `existing` does not allow.
fn check_existing(out: &Path, owner: Owner, existing: Existing) -> Result<()> {
    if existing == Existing::Refuse {
        return Err(Error::file(
            out,
            "already exists (remove it or choose another output directory)",
        ));
    }
    if !out.is_dir() {
        return Err(Error::file(out, "exists and is not a directory"));
    }
    let empty = std::fs::read_dir(out)
        .map_err(|e| Error::Io(e).in_file(out))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    if existing == Existing::ReplaceEmpty {
        return Err(Error::file(
            out,
            format!(
                "already holds files (choose another output directory, or force replacing \
                 what {} wrote there before)",
                owner.name
            ),
        ));
    }
    if !owner.owns_all_of(out) {
        return Err(Error::file(out, foreign_files(owner)));
    }
    Ok(())
}

/// `DIR.partial`, next to `DIR`; `None` if `out` names no directory (`/`, `.`, `..`).
fn partial_path(out: &Path) -> Option<PathBuf> {
    let mut name = out.file_name()?.to_os_string();
    name.push(".partial");
    Some(out.with_file_name(name))
}

/// The temporary sibling of `path` that [`atomic_write`] writes first: hidden, and with the
/// process id so two processes writing the same file never share one.
fn atomic_temporary(path: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(tmp)
}

/// The file name whose [`atomic_write`] temporary `name` is, if it is one.
fn atomic_target(name: &str) -> Option<&str> {
    let (target, pid) = name.strip_prefix('.')?.rsplit_once(".tmp")?;
    (!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(target)
}

/// Writes `bytes` to `path` through a temporary sibling, synced, then renamed over `path`: a
/// reader sees the old file or the new one, never half of one, and a crash leaves the old file.
///
/// # Errors
/// [`Error::File`] naming `path` if it names no file or writing or renaming fails (the
/// temporary is then removed).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::file(path, "names no file"))?;
    let tmp = atomic_temporary(path, name);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::Io(e).in_file(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Owner = Owner {
        name: "the test",
        writes: |name| name.starts_with("sample") && name.ends_with(".mid"),
    };

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_finished_directory_appears_whole_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let staging = Staging::create(&out, OWNER, Existing::Refuse).unwrap();
        staging.write("sample0.mid", b"a").unwrap();
        std::fs::write(staging.path("sample1.mid"), b"b").unwrap();
        assert!(!out.exists());
        assert_eq!(names(&dir.path().join("out.partial")).len(), 2);
        staging.finish().unwrap();
        assert_eq!(names(&out), ["sample0.mid", "sample1.mid"]);
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn a_dropped_staging_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let staging = Staging::create(&out, OWNER, Existing::Refuse).unwrap();
        staging.write("sample0.mid", b"a").unwrap();
        drop(staging);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn existing_outputs_are_replaced_only_as_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let err = Staging::create(&out, OWNER, Existing::Refuse).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: already exists (remove it or choose another output directory)",
                out.display()
            )
        );
        // Empty: fine unless refused.
        Staging::create(&out, OWNER, Existing::ReplaceEmpty)
            .unwrap()
            .finish()
            .unwrap();
        std::fs::write(out.join("sample0.mid"), b"old").unwrap();
        let err = Staging::create(&out, OWNER, Existing::ReplaceEmpty)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(
                "already holds files (choose another output directory, or force \
                           replacing what the test wrote there before)"
            ),
            "{err}"
        );
        let staging = Staging::create(&out, OWNER, Existing::ReplaceOwn).unwrap();
        staging.write("sample1.mid", b"new").unwrap();
        staging.finish().unwrap();
        assert_eq!(names(&out), ["sample1.mid"]);
        // A file of someone else: never replaced, whatever is allowed.
        std::fs::write(out.join("thesis.tex"), b"precious").unwrap();
        let err = Staging::create(&out, OWNER, Existing::ReplaceOwn)
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("holds files that the test did not write; not replacing it"));
        assert!(out.join("thesis.tex").exists());
        assert!(!dir.path().join("out.partial").exists());
    }

    #[test]
    fn a_home_directory_is_never_emptied() {
        // `--out ~` with force: the directory holds files of its own and a subdirectory.
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".config")).unwrap();
        std::fs::write(home.path().join("sample0.mid"), b"mine").unwrap();
        assert!(Staging::create(home.path(), OWNER, Existing::ReplaceOwn).is_err());
        assert!(home.path().join(".config").is_dir());
        assert!(home.path().join("sample0.mid").is_file());
        assert!(Staging::create(Path::new("/"), OWNER, Existing::ReplaceOwn).is_err());
        assert!(Staging::create(Path::new(".."), OWNER, Existing::ReplaceOwn).is_err());
    }

    #[test]
    fn a_leftover_partial_is_replaced_only_if_it_is_ours() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let partial = dir.path().join("out.partial");
        std::fs::create_dir(&partial).unwrap();
        std::fs::write(partial.join("sample0.mid"), b"old").unwrap();
        std::fs::write(partial.join(".sample1.mid.tmp123"), b"half").unwrap();
        let staging = Staging::create(&out, OWNER, Existing::Refuse).unwrap();
        assert!(names(&partial).is_empty());
        drop(staging);
        std::fs::create_dir(&partial).unwrap();
        std::fs::write(partial.join("thesis.tex"), b"precious").unwrap();
        let err = Staging::create(&out, OWNER, Existing::Refuse)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&partial.display().to_string()), "{err}");
        assert!(err.contains("not replacing it"), "{err}");
        assert!(partial.join("thesis.tex").exists());
    }

    #[test]
    fn an_output_that_cannot_be_created_is_named_as_given() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"").unwrap();
        let out = dir.path().join("file").join("out");
        let err = Staging::create(&out, OWNER, Existing::Refuse)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: cannot be created", out.display())),
            "{err}"
        );
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["a.json"]);
        // A failure names the file and leaves nothing behind.
        let missing = dir.path().join("no-dir").join("b.json");
        let err = atomic_write(&missing, b"x").unwrap_err().to_string();
        assert!(err.starts_with(&missing.display().to_string()), "{err}");
        assert_eq!(names(dir.path()), ["a.json"]);
        assert!(atomic_write(Path::new("/"), b"x").is_err());
    }

    #[test]
    fn temporaries_are_recognised_as_their_targets() {
        let tmp = atomic_temporary(Path::new("d/sample0.mid"), "sample0.mid".as_ref());
        let name = tmp.file_name().unwrap().to_str().unwrap();
        assert_eq!(atomic_target(name), Some("sample0.mid"));
        assert_eq!(atomic_target("sample0.mid"), None);
        assert_eq!(atomic_target(".sample0.mid.tmp"), None);
        assert_eq!(atomic_target(".sample0.mid.tmpx1"), None);
    }
}
