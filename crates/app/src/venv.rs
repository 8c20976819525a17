//! Finding the data carried by the project's Python venv (music21's corpus, pretty_midi's
//! SoundFont) from wherever `museroll` runs.

use std::path::{Path, PathBuf};

/// The first match of `pattern` (a path below `.venv/`, where a `*` component matches any
/// directory name, e.g. `lib/python3*`) in the `.venv` of the current directory or of a directory
/// above the executable (`target/release/museroll` lies three levels below the project).
pub fn find(pattern: &str) -> Option<PathBuf> {
    let mut roots: Vec<PathBuf> = std::env::current_dir().into_iter().collect();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    roots
        .into_iter()
        .find_map(|root| matching(&root.join(".venv"), pattern))
}

/// Walks `pattern`'s components below `base`, `*` matching by prefix and suffix.
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
                            name.starts_with(prefix) && name.ends_with(suffix)
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
        let target = dir.path().join("lib/python3.11/site-packages/pkg");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::create_dir_all(dir.path().join("lib/perl5")).unwrap();
        assert_eq!(
            matching(dir.path(), "lib/python3*/site-packages/pkg"),
            Some(target)
        );
        assert_eq!(matching(dir.path(), "lib/python2*/site-packages/pkg"), None);
        assert_eq!(matching(dir.path(), "lib/*/site-packages/other"), None);
    }
}
