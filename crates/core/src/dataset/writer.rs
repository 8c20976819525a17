//! Writing a dataset directory: phrases streamed to `DIR.partial/phrases.bin`, the manifest
//! last, then one rename; and the seeded randomness that builds and imports share.

use super::manifest::{Manifest, PhraseOrigin, Song, Split, MANIFEST_FILE, PHRASES_FILE};
use crate::error::{Error, Result};
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

/// SplitMix64: a small, fast, well-mixed generator; enough for shuffles and window draws, and
/// fully determined by its seed.
pub(super) struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (> 0), by multiply-and-shift (bias below 2^-32 for any realistic n).
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates.
    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// FNV-1a of `bytes`: a stable hash (the standard library's may change between releases), used
/// to give each song its own random stream whatever order the files are processed in.
pub(super) fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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
    fn rng_is_uniform_enough_and_stable() {
        // SplitMix64's published first output for seed 0.
        assert_eq!(Rng::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
        let mut rng = Rng::new(3);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[rng.below(4)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
