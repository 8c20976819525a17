//! The manifest: `manifest.json`, everything about a dataset but its phrases.

use super::options::{BuildOptions, ImportOptions, TrackInfo};
use crate::error::{Error, Result};
use crate::metrics::PhraseShape;
use crate::units::{Pitch, Resolution};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of [`Manifest::format`].
pub const FORMAT: &str = "museroll-dataset";
/// The version of the format this code writes and reads.
pub const VERSION: u32 = 1;
/// The manifest's file name inside a dataset directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The phrases' file name inside a dataset directory.
pub const PHRASES_FILE: &str = "phrases.bin";
/// The largest manifest read (10 to 20 bytes per phrase: 100 000 phrases take 1 to 2 MB).
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// The part of a dataset a phrase belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training phrases.
    Train,
    /// Validation phrases, from songs none of whose phrases are in training.
    Validation,
}

/// The shape of every phrase: `[track][bar][step][pitch]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetShape {
    /// Tracks.
    pub tracks: usize,
    /// Bars (of 4/4 for built datasets).
    pub bars: usize,
    /// Time steps per bar.
    pub steps_per_bar: usize,
    /// Pitch columns.
    pub pitches: usize,
}

impl DatasetShape {
    /// Cells (bits) of one phrase, `None` on overflow.
    pub fn cells(&self) -> Option<usize> {
        [self.tracks, self.bars, self.steps_per_bar, self.pitches]
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
    }
}

/// Where a phrase comes from: `[start, transpose]` in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "(usize, i8)", into = "(usize, i8)")]
pub struct PhraseOrigin {
    /// For a built dataset, the phrase's first bar, counted from 0 among all the bars of the
    /// song (of any meter, a pickup included) at the dataset's resolution. For an imported one,
    /// the phrase's index in the source array.
    pub start: usize,
    /// Semitones the phrase was transposed by (drums never are).
    pub transpose: i8,
}

impl From<(usize, i8)> for PhraseOrigin {
    fn from((start, transpose): (usize, i8)) -> Self {
        PhraseOrigin { start, transpose }
    }
}

impl From<PhraseOrigin> for (usize, i8) {
    fn from(o: PhraseOrigin) -> Self {
        (o.start, o.transpose)
    }
}

/// One song and its phrases, which are consecutive in the dataset (in manifest order).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Song {
    /// The source file as given (an imported dataset's songs are groups of its phrases).
    pub source: String,
    /// Train or validation: all the song's phrases are on the same side.
    pub split: Split,
    /// Where each phrase was cut.
    pub phrases: Vec<PhraseOrigin>,
}

/// Why a file gave no phrase.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// It could not be read (not a supported format, damaged, too large…).
    Unreadable,
    /// Its tracks do not fit the layout (a part layout needs an exact number of parts).
    Tracks,
    /// It has no bar of 4/4.
    Meter,
    /// It has 4/4 bars, but never as many in a row as a phrase needs.
    TooShort,
    /// Every window was rejected by the content filters or the pitch range.
    NoPhrases,
}

impl SkipReason {
    /// The reason as written in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::Unreadable => "unreadable",
            SkipReason::Tracks => "tracks",
            SkipReason::Meter => "meter",
            SkipReason::TooShort => "too_short",
            SkipReason::NoPhrases => "no_phrases",
        }
    }

    /// What the skipped files have, said after their number: "37 without a 4/4 bar".
    fn describe_files(self) -> &'static str {
        match self {
            SkipReason::Unreadable => "unreadable",
            SkipReason::Tracks => "whose tracks do not fit the layout",
            SkipReason::Meter => "without a 4/4 bar",
            SkipReason::TooShort => "with too few 4/4 bars in a row for a phrase",
            SkipReason::NoPhrases => "whose every window was rejected (content, pitch range)",
        }
    }
}

/// The files a build skipped, counted by reason: one line for people however many files there
/// are (the manifest's `skipped` lists them one by one).
///
/// ```
/// use museroll_core::dataset::{SkipCounts, SkipReason};
/// let mut counts = SkipCounts::default();
/// counts.add(SkipReason::Meter);
/// counts.add(SkipReason::Tracks);
/// counts.add(SkipReason::Tracks);
/// assert_eq!(
///     counts.to_string(),
///     "skipped 3 files: 2 whose tracks do not fit the layout, 1 without a 4/4 bar"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SkipCounts(BTreeMap<SkipReason, usize>);

impl SkipCounts {
    /// Counts one more file skipped for `reason`.
    pub fn add(&mut self, reason: SkipReason) {
        *self.0.entry(reason).or_default() += 1;
    }

    /// How many files were skipped for `reason`.
    pub fn get(&self, reason: SkipReason) -> usize {
        self.0.get(&reason).copied().unwrap_or(0)
    }

    /// How many files were skipped in all.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// The reasons with their counts, in the order of [`SkipReason`]; reasons of no file are
    /// left out.
    pub fn iter(&self) -> impl Iterator<Item = (SkipReason, usize)> + '_ {
        self.0.iter().map(|(&r, &n)| (r, n))
    }
}

impl std::fmt::Display for SkipCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.total();
        let files = if total == 1 { "file" } else { "files" };
        let reasons: Vec<String> = self
            .iter()
            .map(|(r, n)| format!("{n} {}", r.describe_files()))
            .collect();
        write!(f, "skipped {total} {files}")?;
        if !reasons.is_empty() {
            write!(f, ": {}", reasons.join(", "))?;
        }
        Ok(())
    }
}

/// A file that gave no phrase, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedFile {
    /// The file.
    pub path: String,
    /// The kind of problem.
    pub reason: SkipReason,
    /// What exactly (one line).
    pub message: String,
}

/// How a build went, in numbers. Windows are counted once per transposition ("copies").
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildStats {
    /// Files tried.
    pub files: usize,
    /// Files skipped, by reason.
    pub skipped: SkipCounts,
    /// Bars of 4/4 in the songs whose tracks fit the layout.
    pub bars_4_4: usize,
    /// Bars of other meters there (never used).
    pub bars_other_meter: usize,
    /// Window copies considered (windows × transpositions).
    pub windows: usize,
    /// Copies rejected because a note left the pitch range ([`super::OutOfRange::Drop`]).
    pub rejected_range: usize,
    /// Copies rejected by the content filters.
    pub rejected_content: usize,
    /// Copies that passed but were not drawn ([`super::Windows::Random`]).
    pub not_drawn: usize,
    /// Sounding cells discarded outside the pitch range ([`super::OutOfRange::Crop`]).
    pub cropped_cells: u64,
}

/// What made the dataset.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// [`super::build()`] from music files.
    Build {
        /// The inputs as given.
        inputs: Vec<String>,
        /// The settings.
        options: BuildOptions,
    },
    /// [`super::import_musegan`] from a MuseGAN phrase array.
    Import {
        /// The source file.
        file: String,
        /// The settings.
        options: ImportOptions,
    },
}

/// Train/validation sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitCounts {
    /// Songs in training.
    pub train_songs: usize,
    /// Songs in validation.
    pub validation_songs: usize,
    /// Phrases in training.
    pub train_phrases: usize,
    /// Phrases in validation.
    pub validation_phrases: usize,
}

/// Everything about a dataset but its phrases (`manifest.json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The phrase shape.
    pub shape: DatasetShape,
    /// Time steps per beat (quarter note).
    pub resolution: Resolution,
    /// The MIDI pitch of pitch column 0.
    pub lowest_pitch: Pitch,
    /// One entry per track, in phrase order.
    pub tracks: Vec<TrackInfo>,
    /// Number of phrases in `phrases.bin`.
    pub phrases: usize,
    /// Bytes per phrase in `phrases.bin`: the phrase's bits, padded to a whole byte.
    pub phrase_bytes: usize,
    /// Train/validation sizes (each song's side is in `songs`).
    pub split: SplitCounts,
    /// How the dataset was made.
    pub origin: Origin,
    /// How the build went.
    pub stats: BuildStats,
    /// Files that gave no phrase.
    pub skipped: Vec<SkippedFile>,
    /// The songs, in phrase order.
    pub songs: Vec<Song>,
}

impl Manifest {
    /// Reads `DIR/manifest.json` and checks that it describes a consistent dataset (but not
    /// `phrases.bin`: [`super::Dataset::open`] does). Errors name the file.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let inner = || -> Result<Manifest> {
            let meta = std::fs::metadata(&path)?;
            if meta.len() > MAX_MANIFEST_BYTES {
                return Err(Error::Invalid(format!(
                    "{} bytes exceed the limit of {MAX_MANIFEST_BYTES}",
                    meta.len()
                )));
            }
            let text = std::fs::read(&path)?;
            let manifest: Manifest = serde_json::from_slice(&text)
                .map_err(|e| Error::Invalid(format!("not a museroll dataset manifest ({e})")))?;
            manifest.check()?;
            Ok(manifest)
        };
        inner().map_err(|e| e.in_file(&path))
    }

    /// Checks the manifest's own consistency.
    pub fn check(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::Invalid(m));
        if self.format != FORMAT || self.version != VERSION {
            return invalid(format!(
                "format '{}' version {}, expected '{FORMAT}' version {VERSION}",
                self.format, self.version
            ));
        }
        let shape = self.phrase_shape(0);
        shape.cells()?;
        if self.tracks.len() != self.shape.tracks {
            return invalid(format!(
                "{} tracks listed for a shape of {}",
                self.tracks.len(),
                self.shape.tracks
            ));
        }
        let bytes = self.shape.cells().map(|c| c.div_ceil(8));
        if bytes != Some(self.phrase_bytes) {
            return invalid(format!(
                "phrase_bytes {} does not fit the shape {}×{}×{}×{}",
                self.phrase_bytes,
                self.shape.tracks,
                self.shape.bars,
                self.shape.steps_per_bar,
                self.shape.pitches
            ));
        }
        if self.phrases > u32::MAX as usize {
            return invalid(format!("{} phrases exceed 2^32", self.phrases));
        }
        let listed: usize = self.songs.iter().map(|s| s.phrases.len()).sum();
        if listed != self.phrases {
            return invalid(format!(
                "the songs list {listed} phrases, the manifest says {}",
                self.phrases
            ));
        }
        let counted = self.count_split();
        if counted != self.split {
            return invalid(format!(
                "the split counts {:?} disagree with the songs' {:?}",
                self.split, counted
            ));
        }
        Ok(())
    }

    /// Train/validation sizes counted from the songs.
    pub(super) fn count_split(&self) -> SplitCounts {
        let mut counts = SplitCounts::default();
        for song in &self.songs {
            match song.split {
                Split::Train => {
                    counts.train_songs += 1;
                    counts.train_phrases += song.phrases.len();
                }
                Split::Validation => {
                    counts.validation_songs += 1;
                    counts.validation_phrases += song.phrases.len();
                }
            }
        }
        counts
    }

    /// The metrics' description of `samples` phrases of this dataset.
    pub fn phrase_shape(&self, samples: usize) -> PhraseShape {
        PhraseShape {
            samples,
            tracks: self.shape.tracks,
            bars: self.shape.bars,
            steps_per_bar: self.shape.steps_per_bar,
            pitches: self.shape.pitches,
            lowest_pitch: self.lowest_pitch,
            resolution: self.resolution,
        }
    }

    /// The drum flag of each track.
    pub fn is_drum(&self) -> Vec<bool> {
        self.tracks.iter().map(|t| t.is_drum).collect()
    }

    /// The manifest as JSON: objects one key per line, arrays on one line, so that a song's
    /// phrase origins take one line however many there are.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Layout::default());
        serde::Serialize::serialize(self, &mut serializer)
            .map_err(|e| Error::Invalid(format!("manifest: {e}")))?;
        out.push(b'\n');
        Ok(out)
    }

    /// A few lines for people (`museroll data info`).
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let s = &self.shape;
        let highest = self
            .lowest_pitch
            .transposed(s.pitches as i32 - 1)
            .map_or_else(|| "?".into(), |p| p.name());
        let _ = writeln!(
            out,
            "{} phrases of {} tracks × {} bars × {} steps × {} pitches ({}–{}), {} steps per beat, \
             {} bytes each",
            self.phrases,
            s.tracks,
            s.bars,
            s.steps_per_bar,
            s.pitches,
            self.lowest_pitch,
            highest,
            self.resolution,
            self.phrase_bytes
        );
        let tracks: Vec<String> = self
            .tracks
            .iter()
            .map(|t| {
                if t.is_drum {
                    format!("{} (drums)", t.name)
                } else {
                    format!("{} (program {})", t.name, t.program.number())
                }
            })
            .collect();
        let _ = writeln!(out, "tracks: {}", tracks.join(", "));
        let sp = &self.split;
        let _ = writeln!(
            out,
            "split by song: train {} phrases from {} songs, validation {} phrases from {} songs",
            sp.train_phrases, sp.train_songs, sp.validation_phrases, sp.validation_songs
        );
        match &self.origin {
            Origin::Build { inputs, .. } => {
                let st = &self.stats;
                let _ = writeln!(
                    out,
                    "built from {} files in {}",
                    st.files,
                    inputs.join(", ")
                );
                if st.skipped.total() > 0 {
                    let _ = writeln!(out, "{}", st.skipped);
                }
                let _ = writeln!(
                    out,
                    "bars: {} in 4/4, {} in other meters; windows: {} considered, {} out of \
                     range, {} too sparse, {} not drawn",
                    st.bars_4_4,
                    st.bars_other_meter,
                    st.windows,
                    st.rejected_range,
                    st.rejected_content,
                    st.not_drawn
                );
            }
            Origin::Import { file, .. } => {
                let _ = writeln!(out, "imported from {file}");
            }
        }
        out
    }
}

/// The JSON layout of [`Manifest::to_json`].
#[derive(Default)]
struct Layout {
    /// Objects open around the current position.
    depth: usize,
    /// Whether the innermost open object has a key yet.
    has_value: bool,
}

impl Layout {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Layout {
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.newline(w)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_counts_keep_the_manifests_map_of_reasons() {
        let mut counts = SkipCounts::default();
        assert_eq!(counts.to_string(), "skipped 0 files");
        counts.add(SkipReason::NoPhrases);
        assert_eq!(
            counts.to_string(),
            "skipped 1 file: 1 whose every window was rejected (content, pitch range)"
        );
        for _ in 0..3 {
            counts.add(SkipReason::Unreadable);
        }
        // The manifest's form of earlier releases: a map from reason to count.
        let json = serde_json::to_string(&counts).unwrap();
        assert_eq!(json, r#"{"unreadable":3,"no_phrases":1}"#);
        let back: SkipCounts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, counts);
        assert_eq!((back.get(SkipReason::Unreadable), back.total()), (3, 4));
        assert_eq!(back.get(SkipReason::Meter), 0);
    }
}
