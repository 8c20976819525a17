//! Finding the data that the project's Python venv carries (music21's chorale corpus,
//! pretty_midi's General MIDI SoundFont): `setup.sh` installs it in `.venv/` at the top of the
//! workspace, under a `lib/python3.X` directory whose version depends on the machine.
//!
//! The command line looks from where it runs ([`search_roots`]); tests look in their own
//! workspace and fail with [`require`]'s message when the data is missing, so a clone without
//! the venv does not pass by skipping its strongest checks.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// music21's Bach chorales (`.mxl`), below `.venv/`.
pub const BACH_CORPUS: &str = "lib/python3*/site-packages/music21/corpus/bach";

/// pretty_midi's General MIDI SoundFont, below `.venv/`.
pub const GM_SOUNDFONT: &str = "lib/python3*/site-packages/pretty_midi/TimGM6mb.sf2";

/// The directories whose `.venv` a program run from here may use: the current directory, then
/// every directory above the executable (`target/release/museroll` lies three levels below the
/// project).
pub fn search_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::env::current_dir().into_iter().collect();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    roots
}

/// The first existing match of `pattern` (a path below `.venv/` in which a `*` in a component
/// matches any name with the same prefix and suffix, e.g. `lib/python3*`) in the `.venv` of one
/// of `roots`, tried in order.
pub fn find<P: AsRef<Path>>(roots: impl IntoIterator<Item = P>, pattern: &str) -> Option<PathBuf> {
    roots
        .into_iter()
        .find_map(|root| matching(&root.as_ref().join(".venv"), pattern))
}

/// [`find`] in the `.venv` of `root`, or an error saying what is missing and that `./setup.sh`
/// installs it.
///
/// # Errors
/// [`Error::File`] naming `root/.venv` when nothing matches `pattern` there.
pub fn require(root: &Path, pattern: &str) -> Result<PathBuf> {
    find([root], pattern).ok_or_else(|| {
        Error::file(
            root.join(".venv"),
            format!("has no {pattern} (run ./setup.sh to install the project's Python venv)"),
        )
    })
}

/// Walks `pattern`'s components below `base`; a `*` component tries its matches in name order.
fn matching(base: &Path, pattern: &str) -> Option<PathBuf> {
    let mut candidates = vec![base.to_path_buf()];
    for component in pattern.split('/') {
        let mut next = Vec::new();
        for dir in &candidates {
            match component.split_once('*') {
                None => next.push(dir.join(component)),
                Some((prefix, suffix)) => {
                    let Ok(entries) = std::fs::read_dir(dir) else {
                        continue;
                    };
                    let mut names: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok())
                        .filter(|e| {
                            let name = e.file_name();
                            let name = name.to_string_lossy();
                            name.len() >= prefix.len() + suffix.len()
                                && name.starts_with(prefix)
                                && name.ends_with(suffix)
                        })
                        .map(|e| e.path())
                        .collect();
                    names.sort();
                    next.extend(names);
                }
            }
        }
        candidates = next;
    }
    candidates.into_iter().find(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_components_match_by_prefix_and_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join(".venv/lib/python3.11/site-packages/pkg");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::create_dir_all(dir.path().join(".venv/lib/perl5")).unwrap();
        assert_eq!(
            find([dir.path()], "lib/python3*/site-packages/pkg"),
            Some(target.clone())
        );
        assert_eq!(find([dir.path()], "lib/python2*/site-packages/pkg"), None);
        assert_eq!(find([dir.path()], "lib/*/site-packages/other"), None);
        // Roots are tried in order; a root without a venv is passed over.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            find([empty.path(), dir.path()], "lib/*/site-packages/pkg"),
            Some(target)
        );
    }

    #[test]
    fn require_says_how_to_install_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let err = require(dir.path(), GM_SOUNDFONT).unwrap_err().to_string();
        assert!(
            err.starts_with(&dir.path().join(".venv").display().to_string()),
            "{err}"
        );
        assert!(
            err.contains("TimGM6mb.sf2") && err.contains("./setup.sh"),
            "{err}"
        );
        let font = dir
            .path()
            .join(".venv/lib/python3.12/site-packages/pretty_midi/TimGM6mb.sf2");
        std::fs::create_dir_all(font.parent().unwrap()).unwrap();
        std::fs::write(&font, b"").unwrap();
        assert_eq!(require(dir.path(), GM_SOUNDFONT).unwrap(), font);
    }
}
