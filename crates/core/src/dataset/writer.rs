//! Writing a dataset directory: phrases streamed to `DIR.partial/phrases.bin`, the manifest
//! last, then one rename.

use super::manifest::{Manifest, PhraseOrigin, Song, Split, MANIFEST_FILE, PHRASES_FILE};
use crate::error::{Error, Result};
use crate::rng::{stable_hash, Rng};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A dataset being written. Dropped before [`Writer::finish`], it removes its partial directory.
pub(super) struct Writer {
    out: PathBuf,
    partial: PathBuf,
    file: Option<BufWriter<File>>,
    phrase_bytes: usize,
    songs: Vec<Song>,
    phrases: usize,
}

/// `DIR.partial`, next to `DIR`.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

impl Writer {
    /// Starts `out`, which must not exist yet. A `DIR.partial` left by an interrupted build is
    /// replaced when it holds nothing but a dataset's files.
    pub(super) fn create(out: &Path, phrase_bytes: usize) -> Result<Writer> {
        if out.file_name().is_none() {
            return Err(Error::Invalid("the output names no directory".into()).in_file(out));
        }
        if out.exists() {
            return Err(Error::Invalid(
                "already exists (remove it or choose another output directory)".into(),
            )
            .in_file(out));
        }
        let partial = partial_path(out);
        let prepare = || -> Result<()> {
            if partial.exists() {
                let ours = std::fs::read_dir(&partial)?.all(|entry| {
                    entry.is_ok_and(|e| {
                        let name = e.file_name();
                        name == PHRASES_FILE
                            || name == MANIFEST_FILE
                            || name.to_string_lossy().starts_with(".manifest.json.tmp")
                    })
                });
                if !ours {
                    return Err(Error::Invalid(
                        "exists and holds files that are not a dataset's; not replacing it".into(),
                    ));
                }
                std::fs::remove_dir_all(&partial)?;
            }
            Ok(())
        };
        prepare().map_err(|e| e.in_file(&partial))?;
        // The user named `out`, not its temporary sibling: a failure to create it names `out`.
        let file = std::fs::create_dir_all(&partial)
            .and_then(|()| File::create(partial.join(PHRASES_FILE)))
            .map_err(|e| Error::Io(e).in_file(out))?;
        Ok(Writer {
            out: out.to_path_buf(),
            partial,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            phrase_bytes,
            songs: Vec::new(),
            phrases: 0,
        })
    }

    /// Appends one song's phrases, `data` holding them packed one after the other.
    pub(super) fn add_song(
        &mut self,
        source: String,
        phrases: Vec<PhraseOrigin>,
        data: &[u8],
    ) -> Result<()> {
        if data.len() != phrases.len() * self.phrase_bytes {
            return Err(Error::Invalid(format!(
                "{} bytes for {} phrases of {} bytes",
                data.len(),
                phrases.len(),
                self.phrase_bytes
            )));
        }
        if self.phrases + phrases.len() > u32::MAX as usize {
            return Err(Error::Invalid(
                "a dataset holds at most 2^32 - 1 phrases".into(),
            ));
        }
        let path = self.partial.join(PHRASES_FILE);
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Invalid("the dataset is closed".into()))?;
        file.write_all(data)
            .map_err(|e| Error::Io(e).in_file(&path))?;
        self.phrases += phrases.len();
        self.songs.push(Song {
            source,
            split: Split::Train,
            phrases,
        });
        Ok(())
    }

    /// Draws the validation songs, writes the manifest `complete` makes of the songs and the
    /// number of phrases (its split counts are filled in here), and moves the directory to its final name.
    pub(super) fn finish(
        mut self,
        validation_fraction: f64,
        seed: u64,
        complete: impl FnOnce(Vec<Song>, usize) -> Manifest,
    ) -> Result<Manifest> {
        let phrases_path = self.partial.join(PHRASES_FILE);
        if let Some(file) = self.file.take() {
            let file = file
                .into_inner()
                .map_err(|e| Error::Io(e.into_error()).in_file(&phrases_path))?;
            file.sync_all()
                .map_err(|e| Error::Io(e).in_file(&phrases_path))?;
        }
        let mut songs = std::mem::take(&mut self.songs);
        assign_split(&mut songs, validation_fraction, seed);
        let mut manifest = complete(songs, self.phrases);
        manifest.split = manifest.count_split();
        manifest.check()?;
        crate::io::write_atomic(&self.partial.join(MANIFEST_FILE), &manifest.to_json()?)?;
        std::fs::rename(&self.partial, &self.out).map_err(|e| Error::Io(e).in_file(&self.out))?;
        self.partial = PathBuf::new();
        Ok(manifest)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.partial.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
}

/// Puts `round(fraction × songs)` songs, drawn with `seed`, in validation and the rest in
/// training: a song is never on both sides.
fn assign_split(songs: &mut [Song], fraction: f64, seed: u64) {
    let n = songs.len();
    let validation = ((n as f64) * fraction).round() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed ^ stable_hash(b"split"));
    rng.shuffle(&mut order);
    for &i in order.iter().take(validation.min(n)) {
        songs[i].split = Split::Validation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn songs(n: usize) -> Vec<Song> {
        (0..n)
            .map(|i| Song {
                source: format!("{i}"),
                split: Split::Train,
                phrases: vec![PhraseOrigin {
                    start: 0,
                    transpose: 0,
                }],
            })
            .collect()
    }

    #[test]
    fn split_takes_the_rounded_share_of_songs_deterministically() {
        let mut a = songs(25);
        assign_split(&mut a, 0.1, 7);
        let validation = a.iter().filter(|s| s.split == Split::Validation).count();
        assert_eq!(validation, 3); // 2.5 rounds to 3
        let mut b = songs(25);
        assign_split(&mut b, 0.1, 7);
        assert_eq!(a, b);
        let mut c = songs(25);
        assign_split(&mut c, 0.1, 8);
        assert_ne!(a, c);
        let mut none = songs(4);
        assign_split(&mut none, 0.0, 1);
        assert!(none.iter().all(|s| s.split == Split::Train));
    }
}
