//! Writing a dataset directory, for builds and imports alike: phrases packed as bits and
//! streamed to `DIR.partial/phrases.bin`, the manifest last, then one rename ([`Staging`]);
//! the progress the writers report and what they made.

use super::manifest::{
    Manifest, PhraseOrigin, SkippedFile, Song, Split, MANIFEST_FILE, PHRASES_FILE,
};
use crate::error::{Error, Result};
use crate::rng::{stable_hash, Rng};
use crate::staging::{atomic_write, Existing, Owner, Staging};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Reports a long job's progress (the CLI drives a progress bar with it). Every method has an
/// empty default; the calls may come from several threads at once.
pub trait Progress: Sync {
    /// The job begins with `total` units of work (files for a build, phrases for an import).
    fn start(&self, _total: u64) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// A file was skipped (called in file order, from the calling thread).
    fn skipped(&self, _file: &SkippedFile) {}
    /// The phrases are written; the manifest is next.
    fn finish(&self) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What [`super::build()`] and [`super::import_musegan`] made.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildReport {
    /// The dataset directory.
    pub dir: PathBuf,
    /// Its manifest, as written.
    pub manifest: Manifest,
}

/// A dataset being written in a [`Staging`] directory. Dropped before [`Writer::finish`], it
/// removes its partial directory.
pub(super) struct Writer {
    // Declared before `staging`, so the file is closed before a drop removes its directory.
    file: Option<BufWriter<File>>,
    staging: Staging,
    phrase_bytes: usize,
    songs: Vec<Song>,
    phrases: usize,
}

/// A dataset directory holds its phrases and its manifest: nothing else is ever replaced.
const DATASET: Owner = Owner {
    name: "a dataset build",
    writes: |name| name == PHRASES_FILE || name == MANIFEST_FILE,
};

impl Writer {
    /// Starts `out`, which must not exist yet. A `DIR.partial` left by an interrupted build is
    /// replaced when it holds nothing but a dataset's files.
    pub(super) fn create(out: &Path, phrase_bytes: usize) -> Result<Writer> {
        let staging = Staging::create(out, DATASET, Existing::Refuse)?;
        let path = staging.path(PHRASES_FILE);
        let file = File::create(&path).map_err(|e| Error::Io(e).in_file(&path))?;
        Ok(Writer {
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            staging,
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
        let path = self.staging.path(PHRASES_FILE);
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
        let phrases_path = self.staging.path(PHRASES_FILE);
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
        // Synced like the phrases, so that after the rename both are on disk.
        atomic_write(&self.staging.path(MANIFEST_FILE), &manifest.to_json()?)?;
        self.staging.finish()?;
        Ok(manifest)
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

/// Sets bit `offset + i` of `out` (bit `j` is bit `j % 8` of byte `j / 8`) for every set bit
/// `i` of `bits`.
pub(super) fn set_bits(out: &mut [u8], offset: usize, mut bits: u128) {
    while bits != 0 {
        let index = offset + bits.trailing_zeros() as usize;
        if let Some(byte) = out.get_mut(index / 8) {
            *byte |= 1 << (index % 8);
        }
        bits &= bits - 1;
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

    #[test]
    fn set_bits_is_lsb_first() {
        let mut out = [0u8; 3];
        set_bits(&mut out, 5, 0b1011);
        // bits 5, 6, 8
        assert_eq!(out, [0b0110_0000, 0b0000_0001, 0]);
    }
}
