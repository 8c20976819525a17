//! Training datasets: fixed-size multitrack phrases cut from a corpus of songs, stored
//! bit-packed in one file next to a JSON manifest, and read back by random access.
//!
//! # The directory
//!
//! - `phrases.bin`: the phrases one after the other, each `tracks × bars × steps × pitches` bits
//!   laid out `[track][bar][step][pitch]` (the layout of [`crate::metrics::PhraseView`], one
//!   sample), bit `i` of a phrase being bit `i % 8` of its byte `i / 8`, the last byte padded
//!   with zeros. Every phrase has the same size, so phrase `k` is at byte `k × phrase_bytes`: it
//!   is read with one positional read, and no reader or builder ever holds the file whole (a
//!   100 000-phrase set of 5 × 4 × 96 × 84 cells is 2 GB on disk, 64 KB per batch of 64 in
//!   memory).
//! - `manifest.json` ([`Manifest`]): shape, resolution, lowest pitch, the tracks' names,
//!   programs and drum flags, every song with its source file, split and the origin (first bar,
//!   transposition) of each of its phrases, which are consecutive; the build options; the files
//!   skipped and why; counts of what was rejected.
//!
//! A build writes `DIR.partial` (phrases streamed as they are made, the manifest last, with
//! [`crate::staging::atomic_write`]) and renames it to `DIR` at the end, so `DIR` is complete or
//! absent. [`Dataset::open`] checks the manifest against the size of `phrases.bin`.
//!
//! # Building ([`build()`], [`BuildOptions`]) — the policies, and why
//!
//! - **Inputs**: MIDI, MusicXML (`.musicxml`, `.xml`, `.mxl`) and pypianoroll/LPD `.npz`, mixed,
//!   found recursively in directories. MIDI and MusicXML are read straight at the dataset's
//!   resolution; `.npz` songs are re-timed note by note ([`crate::Multitrack::set_resolution`]).
//! - **A bad file never stops the build**: it is skipped, with a [`SkipReason`] and a message,
//!   reported through [`Progress::skipped`] and listed in the manifest.
//! - **Tracks** come from a [`Layout`]: LPD-5, BinaryMuseGAN's eight, the four chorale voices,
//!   everything on one piano, or an explicit list. Tracks sent to one output track are merged by
//!   maximum (a cell sounds if it sounds in any of them), as LPD merged them.
//! - **Bars of 4/4 only** (the shape MuseGAN's networks assume). A bar is used when the time
//!   signature in force is 4/4 and the bar is whole (the song's last bar may stop short; the
//!   rest is silence). A phrase is `bars` consecutive such bars; bars of other meters break the
//!   runs and are counted. A pickup is a bar of its own (the MusicXML reader pads it to a whole
//!   bar), so phrases start on written barlines.
//! - **Windows**: every `hop` bars from the start of each run of 4/4 bars, or `n` windows per
//!   song drawn at random among those that pass the filters, with a generator seeded by the build
//!   seed and the file's path relative to its input directory, so the draw is the same whatever
//!   the thread count, the file order or where the corpus lies.
//! - **The one-step gap**: a note immediately followed by the same pitch loses its last step
//!   (LPD's conversion rule), in each source track before merging, so a repeated note stays two
//!   notes in a piano-roll without an onset plane.
//! - **Transposition augmentation**: each window is stored once per entry of `transpositions`;
//!   drum tracks never move. A copy with any sounding cell outside the pitch range is dropped and
//!   counted (or, with [`OutOfRange::Crop`], cropped, as MuseGAN cropped to C1–B7) — the
//!   untransposed window follows the same rule.
//! - **Content filters** ([`ContentFilter`]): per track, a least number of note starts, distinct
//!   pitches and sounding steps in the window; and a least number of sounding tracks (default 1:
//!   no silent phrase is stored).
//! - **Split by song**: `round(validation_fraction × songs)` songs, drawn with the seed, go to
//!   validation with all their phrases (and all their transposed copies), so no song is on both
//!   sides.
//! - **Determinism**: files are read in parallel (rayon) a batch at a time and written in file
//!   order, so `phrases.bin` and the manifest are the same bytes whatever the number of threads.
//!
//! # The default corpus
//!
//! J.S. Bach's chorales as music21 ships them (`music21/corpus/bach`: 408 `.mxl` and 2 `.xml`
//! files) with [`BuildOptions::chorales`]: the four voices (Soprano, Alto, Tenor, Bass) as
//! tracks, 4 bars of 4/4 at 4 steps per beat (16th notes), 48 pitches C2–B5 (the voices span
//! C2–A5), a window at every bar, every voice singing in every phrase; 1536 bytes per phrase.
//! Of the 410 files, 45 are skipped for not having four parts and 37 (four-part chorales in 3/4
//! or 3/2) for having no bar of 4/4; the other 328 give **3 553 phrases** (3 158 for training
//! from 295 chorales, 395 for validation from 33), 5.5 MB, in 3 seconds (debug build, 2 cores).
//! Transposition augmentation multiplies that: with `transpositions` −6 to +5 (all twelve keys)
//! there are 40 163 phrases, 2 473 copies having left the range.
//!
//! # Reading
//!
//! [`Dataset`] reads phrases packed ([`Dataset::read_packed`]) or unpacked into `u8`, `f32` or
//! `bool` cells ([`Dataset::read_batch`], for a trainer), and streams any selection in chunks
//! ([`Dataset::chunks`]) for [`dataset_metrics`], which evaluates a whole dataset in bounded
//! memory with the same result, to the bit, as [`crate::metrics::evaluate`] on all of it.
//! [`import_musegan`] turns MuseGAN's own training arrays into a dataset.
//!
//! Phrases are read with positional reads (`std::os::unix::fs::FileExt`): this module needs a
//! Unix.
//!
//! ```no_run
//! use museroll_core::dataset::{build, dataset_metrics, BuildOptions, Dataset, NoProgress, Split};
//! use museroll_core::metrics::MetricsConfig;
//! use std::path::{Path, PathBuf};
//! let corpus = PathBuf::from("music21/corpus/bach");
//! let report = build(&[corpus], Path::new("chorales"), &BuildOptions::chorales(), &NoProgress)?;
//! print!("{}", report.manifest.summary());
//! let dataset = Dataset::open(Path::new("chorales"))?;
//! let batch = &dataset.split(Split::Train)[..64];
//! let mut cells = vec![0f32; batch.len() * dataset.phrase_cells()];
//! dataset.read_batch(batch, &mut cells)?;
//! let report = dataset_metrics(&dataset, Some(Split::Validation), &MetricsConfig::default())?;
//! # Ok::<(), museroll_core::Error>(())
//! ```

mod build;
mod import;
mod manifest;
mod options;
mod writer;

pub use build::build;
pub use import::import_musegan;
pub use manifest::{
    BuildStats, DatasetShape, Manifest, Origin, PhraseOrigin, SkipCounts, SkipReason, SkippedFile,
    Song, Split, SplitCounts, FORMAT, MANIFEST_FILE, PHRASES_FILE, VERSION,
};
pub use options::{
    BuildOptions, ContentFilter, ImportOptions, Layout, OutOfRange, ProgramTrack, TrackInfo,
    Windows, MAX_PHRASE_BYTES,
};
pub use writer::{BuildReport, NoProgress, Progress};

use crate::error::{Error, Result};
use crate::metrics::{Accumulator, MetricsConfig, MetricsReport, PhraseShape, PhraseView};
use crate::{Multitrack, Note, Pitch, Roll, RollKind, Tempo, TimeSignature, Track};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A cell type phrases can be unpacked into: what an off and an on cell hold.
pub trait DenseCell: Copy + Send + Sync {
    /// A silent cell.
    const OFF: Self;
    /// A sounding cell.
    const ON: Self;
}

impl DenseCell for u8 {
    const OFF: u8 = 0;
    const ON: u8 = 1;
}

impl DenseCell for bool {
    const OFF: bool = false;
    const ON: bool = true;
}

impl DenseCell for f32 {
    const OFF: f32 = 0.0;
    const ON: f32 = 1.0;
}

/// The most bytes read at once for a run of consecutive phrases.
const MAX_READ: usize = 4 << 20;

/// An open dataset: its manifest and a handle on its phrases, read on demand. `Sync`: reads
/// may come from several threads at once.
#[derive(Debug)]
pub struct Dataset {
    dir: PathBuf,
    manifest: Manifest,
    phrases: File,
    is_drum: Vec<bool>,
    train: Vec<u32>,
    validation: Vec<u32>,
    /// Index of the first phrase of each song.
    song_starts: Vec<usize>,
}

impl Dataset {
    /// Opens the dataset in `dir`, checking the manifest and that `phrases.bin` has exactly the
    /// size it describes. Errors name the file at fault.
    pub fn open(dir: &Path) -> Result<Dataset> {
        let manifest = Manifest::read(dir)?;
        let path = dir.join(PHRASES_FILE);
        let phrases = File::open(&path).map_err(|e| Error::Io(e).in_file(&path))?;
        let size = phrases
            .metadata()
            .map_err(|e| Error::Io(e).in_file(&path))?
            .len();
        let expected = (manifest.phrases as u64).checked_mul(manifest.phrase_bytes as u64);
        if expected != Some(size) {
            return Err(Error::Invalid(format!(
                "{size} bytes, but the manifest describes {} phrases of {} bytes ({} bytes)",
                manifest.phrases,
                manifest.phrase_bytes,
                expected.map_or_else(|| "too many".into(), |e| e.to_string())
            ))
            .in_file(&path));
        }
        let (mut train, mut validation, mut song_starts) = (Vec::new(), Vec::new(), Vec::new());
        let mut next = 0u32;
        for song in &manifest.songs {
            song_starts.push(next as usize);
            let side = match song.split {
                Split::Train => &mut train,
                Split::Validation => &mut validation,
            };
            for _ in &song.phrases {
                side.push(next);
                next += 1; // `Manifest::check` bounded the count by u32::MAX
            }
        }
        Ok(Dataset {
            dir: dir.to_path_buf(),
            is_drum: manifest.is_drum(),
            manifest,
            phrases,
            train,
            validation,
            song_starts,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Number of phrases.
    pub fn len(&self) -> usize {
        self.manifest.phrases
    }

    /// True when there is no phrase.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of all the phrases as one tensor (`samples` = [`Dataset::len`]).
    pub fn shape(&self) -> PhraseShape {
        self.manifest.phrase_shape(self.len())
    }

    /// Cells of one phrase (`tracks × bars × steps × pitches`).
    pub fn phrase_cells(&self) -> usize {
        self.manifest.shape.cells().unwrap_or(0)
    }

    /// Bytes of one packed phrase.
    pub fn phrase_bytes(&self) -> usize {
        self.manifest.phrase_bytes
    }

    /// The drum flag of each track.
    pub fn is_drum(&self) -> &[bool] {
        &self.is_drum
    }

    /// The indices of the phrases of one side of the split, ascending.
    pub fn split(&self, split: Split) -> &[u32] {
        match split {
            Split::Train => &self.train,
            Split::Validation => &self.validation,
        }
    }

    /// The indices of one side of the split, or of every phrase for `None`.
    pub fn indices(&self, split: Option<Split>) -> Vec<u32> {
        match split {
            Some(side) => self.split(side).to_vec(),
            None => (0..self.len() as u32).collect(),
        }
    }

    /// The song phrase `index` was cut from, and where.
    pub fn origin(&self, index: u32) -> Option<(&Song, PhraseOrigin)> {
        let index = index as usize;
        if index >= self.len() {
            return None;
        }
        // The last song starting at or before `index` (songs are never empty).
        let song = self
            .song_starts
            .partition_point(|&s| s <= index)
            .checked_sub(1)?;
        let entry = self.manifest.songs.get(song)?;
        let origin = entry.phrases.get(index - self.song_starts[song])?;
        Some((entry, *origin))
    }

    fn check_index(&self, index: u32) -> Result<()> {
        if (index as usize) < self.len() {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "phrase {index} does not exist: the dataset has {}",
                self.len()
            )))
        }
    }

    /// Reads phrases `first..first + out.len() / phrase_bytes` (all in range) into `out`.
    fn read_run(&self, first: u32, out: &mut [u8]) -> Result<()> {
        let offset = first as u64 * self.manifest.phrase_bytes as u64;
        self.phrases
            .read_exact_at(out, offset)
            .map_err(|e| Error::Io(e).in_file(self.dir.join(PHRASES_FILE)))
    }

    /// Reads phrase `index` packed (see the module documentation) into `out`, of
    /// [`Dataset::phrase_bytes`] bytes.
    pub fn read_packed(&self, index: u32, out: &mut [u8]) -> Result<()> {
        self.check_index(index)?;
        if out.len() != self.phrase_bytes() {
            return Err(Error::Invalid(format!(
                "a buffer of {} bytes for a phrase of {}",
                out.len(),
                self.phrase_bytes()
            )));
        }
        self.read_run(index, out)
    }

    /// Reads phrase `index` into `out`, one cell per element, `[track][bar][step][pitch]`.
    pub fn read_phrase<T: DenseCell>(&self, index: u32, out: &mut [T]) -> Result<()> {
        self.read_batch(&[index], out)
    }

    /// Reads the phrases `indices`, in that order, into `out` (`indices.len() ×`
    /// [`Dataset::phrase_cells`] cells): the tensor `[phrase][track][bar][step][pitch]`.
    /// Consecutive indices are read together.
    pub fn read_batch<T: DenseCell>(&self, indices: &[u32], out: &mut [T]) -> Result<()> {
        let cells = self.phrase_cells();
        let bytes = self.phrase_bytes();
        if Some(out.len()) != indices.len().checked_mul(cells) {
            return Err(Error::Invalid(format!(
                "a buffer of {} cells for {} phrases of {cells}",
                out.len(),
                indices.len()
            )));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i as usize >= self.len()) {
            self.check_index(bad)?;
        }
        let per_read = (MAX_READ / bytes.max(1)).max(1);
        let mut packed = Vec::new();
        let mut done = 0;
        while done < indices.len() {
            // The longest run of consecutive indices from here, capped.
            let first = indices[done];
            let run = indices[done..]
                .iter()
                .take(per_read)
                .enumerate()
                .take_while(|&(k, &i)| i as u64 == first as u64 + k as u64)
                .count();
            packed.resize(run * bytes, 0);
            self.read_run(first, &mut packed)?;
            let target = &mut out[done * cells..(done + run) * cells];
            for (phrase, cells_out) in packed
                .chunks_exact(bytes)
                .zip(target.chunks_exact_mut(cells))
            {
                unpack(phrase, cells_out);
            }
            done += run;
        }
        Ok(())
    }

    /// The phrases `indices` in chunks of `size` (at least 1), as `u8` cells; one chunk is held
    /// at a time.
    pub fn chunks<'a>(&'a self, indices: &'a [u32], size: usize) -> PhraseChunks<'a> {
        PhraseChunks {
            dataset: self,
            indices,
            size: size.max(1),
        }
    }
}

/// Sets `out[i]` on where bit `i` of `packed` is set and off elsewhere.
fn unpack<T: DenseCell>(packed: &[u8], out: &mut [T]) {
    out.fill(T::OFF);
    for (i, &byte) in packed.iter().enumerate() {
        let mut bits = byte;
        while bits != 0 {
            // Padding bits past the last cell (zero in any file museroll wrote) are ignored.
            if let Some(cell) = out.get_mut(i * 8 + bits.trailing_zeros() as usize) {
                *cell = T::ON;
            }
            bits &= bits - 1;
        }
    }
}

/// An iterator over a dataset's phrases in chunks ([`Dataset::chunks`]).
#[derive(Debug)]
pub struct PhraseChunks<'a> {
    dataset: &'a Dataset,
    indices: &'a [u32],
    size: usize,
}

/// Some phrases of a dataset, unpacked.
#[derive(Debug)]
pub struct PhraseChunk<'a> {
    /// Their indices.
    pub indices: &'a [u32],
    /// Their cells, `[phrase][track][bar][step][pitch]`, 0 or 1.
    pub cells: Vec<u8>,
    shape: PhraseShape,
    is_drum: &'a [bool],
}

impl PhraseChunk<'_> {
    /// The phrases as a tensor for the metrics.
    pub fn view(&self) -> Result<PhraseView<'_, u8>> {
        PhraseView::new(&self.cells, self.shape, self.is_drum)
    }
}

impl<'a> Iterator for PhraseChunks<'a> {
    type Item = Result<PhraseChunk<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.indices.is_empty() {
            return None;
        }
        let (indices, rest) = self.indices.split_at(self.size.min(self.indices.len()));
        self.indices = rest;
        let dataset = self.dataset;
        let mut cells = vec![0u8; indices.len() * dataset.phrase_cells()];
        Some(
            dataset
                .read_batch(indices, &mut cells)
                .map(|()| PhraseChunk {
                    indices,
                    cells,
                    shape: dataset.manifest.phrase_shape(indices.len()),
                    is_drum: dataset.is_drum(),
                }),
        )
    }
}

/// The most cells unpacked at once by [`dataset_metrics`].
const METRICS_CHUNK_CELLS: usize = 16 << 20;

/// Every metric over one side of the split (`None`: every phrase), streamed in chunks of a
/// multiple of 8 phrases, so memory stays bounded and the report is, to the bit, the one
/// [`crate::metrics::evaluate`] gives on all those phrases at once.
pub fn dataset_metrics(
    dataset: &Dataset,
    split: Option<Split>,
    config: &MetricsConfig,
) -> Result<MetricsReport> {
    let mut accumulator = Accumulator::new(config, dataset.shape(), dataset.is_drum())?;
    let indices = dataset.indices(split);
    let size = (METRICS_CHUNK_CELLS / dataset.phrase_cells().max(1) / 8).max(1) * 8;
    for chunk in dataset.chunks(&indices, size) {
        let chunk = chunk?;
        accumulator.add(&chunk.view()?)?;
    }
    Ok(accumulator.report())
}

/// Sample `sample` of `cells` (laid out as `shape` says, any nonzero cell sounding) as a
/// binary [`Multitrack`] of 4/4 bars at `qpm` quarter notes per minute, one track per entry of
/// `tracks`: how generated phrases become MIDI, pictures and audio.
///
/// A note is a maximal run of sounding steps of one pitch, bar lines included: a tensor has no
/// onsets of its own, so a held pitch across a bar line is one tied note.
///
/// # Errors
/// [`Error::Invalid`] if `shape` is degenerate, `tracks` does not match its track count, `cells`
/// holds no sample `sample`, or `qpm` is not a positive tempo.
///
/// ```
/// use museroll_core::dataset::{phrase_multitrack, TrackInfo};
/// use museroll_core::metrics::PhraseShape;
/// use museroll_core::{Pitch, Program, Resolution};
/// let shape = PhraseShape { samples: 1, tracks: 1, bars: 2, steps_per_bar: 4, pitches: 12,
///     lowest_pitch: Pitch::new(60).unwrap(), resolution: Resolution::new(1).unwrap() };
/// let mut cells = vec![0u8; 2 * 4 * 12];
/// for step in 3..5 { cells[step * 12 + 7] = 1; } // G4 from the last beat of bar 1 into bar 2
/// let tracks = [TrackInfo { name: "Piano".into(), program: Program::default(), is_drum: false }];
/// let song = phrase_multitrack(&cells, shape, 0, &tracks, 100.0).unwrap();
/// let notes = song.tracks[0].roll.notes();
/// assert_eq!((notes.len(), notes[0].pitch.number(), notes[0].start, notes[0].end), (1, 67, 3, 5));
/// ```
pub fn phrase_multitrack(
    cells: &[u8],
    shape: PhraseShape,
    sample: usize,
    tracks: &[TrackInfo],
    qpm: f64,
) -> Result<Multitrack> {
    let one = PhraseShape {
        samples: 1,
        ..shape
    };
    let len = one.cells()?;
    if tracks.len() != shape.tracks {
        return Err(Error::Invalid(format!(
            "{} track descriptions for a phrase of {} tracks",
            tracks.len(),
            shape.tracks
        )));
    }
    let data = sample
        .checked_mul(len)
        .and_then(|start| cells.get(start..start.checked_add(len)?))
        .ok_or_else(|| Error::Invalid(format!("the phrase tensor holds no sample {sample}")))?;
    let steps = shape.bars * shape.steps_per_bar;
    let mut song = Multitrack::new(shape.resolution);
    song.set_tempos([Tempo { step: 0, qpm }])?;
    song.set_time_signatures([TimeSignature::COMMON])?;
    for (info, track_cells) in tracks.iter().zip(data.chunks_exact(steps * shape.pitches)) {
        let mut notes = Vec::new();
        // `shape.cells()` checked that every column is a MIDI pitch.
        let columns = (shape.lowest_pitch.number()..=127).filter_map(Pitch::new);
        for (column, pitch) in columns.take(shape.pitches).enumerate() {
            let mut start = None;
            for t in 0..=steps {
                let on = t < steps && track_cells[t * shape.pitches + column] != 0;
                match (on, start) {
                    (true, None) => start = Some(t),
                    (false, Some(s)) => {
                        notes.push(Note {
                            pitch,
                            start: s,
                            end: t,
                            velocity: 1,
                        });
                        start = None;
                    }
                    _ => {}
                }
            }
        }
        let mut track = Track::new(info.name.clone(), info.program, info.is_drum, steps);
        track.roll = Roll::from_notes(RollKind::Binary, steps, notes);
        song.tracks.push(track);
    }
    Ok(song)
}

/// The samples of `cells` (laid out as `shape` says) played one after another as a single
/// sample, `gap_bars` silent bars after each: how a sample sheet or an interpolation path
/// becomes one MIDI file. Returns the cells and their shape (`samples` = 1).
///
/// # Errors
/// [`Error::Invalid`] if `shape` is degenerate, `cells` is not `shape`'s size, or the result
/// would exceed [`crate::io::MAX_STEPS`] steps.
///
/// ```
/// use museroll_core::dataset::chain_samples;
/// use museroll_core::metrics::PhraseShape;
/// use museroll_core::{Pitch, Resolution};
/// let shape = PhraseShape { samples: 2, tracks: 1, bars: 1, steps_per_bar: 2, pitches: 1,
///     lowest_pitch: Pitch::new(60).unwrap(), resolution: Resolution::new(1).unwrap() };
/// let (cells, chained) = chain_samples(&[1, 0, 0, 1], shape, 1).unwrap();
/// assert_eq!((chained.samples, chained.bars), (1, 4));
/// assert_eq!(cells, [1, 0, 0, 0, 0, 1, 0, 0]);
/// ```
pub fn chain_samples(
    cells: &[u8],
    shape: PhraseShape,
    gap_bars: usize,
) -> Result<(Vec<u8>, PhraseShape)> {
    let total = shape.cells()?;
    if cells.len() != total {
        return Err(Error::Invalid(format!(
            "{} cells for a phrase tensor of {total}",
            cells.len()
        )));
    }
    let bars = shape
        .bars
        .checked_add(gap_bars)
        .and_then(|b| b.checked_mul(shape.samples))
        .filter(|b| b.saturating_mul(shape.steps_per_bar) <= crate::io::MAX_STEPS)
        .ok_or_else(|| Error::Invalid("the chained samples are too long".into()))?;
    let chained = PhraseShape {
        samples: 1,
        bars,
        ..shape
    };
    let track_cells = shape.bars * shape.steps_per_bar * shape.pitches;
    let gap = vec![0u8; gap_bars * shape.steps_per_bar * shape.pitches];
    let mut out = Vec::with_capacity(chained.cells()?);
    for track in 0..shape.tracks {
        for sample in cells.chunks_exact(shape.tracks * track_cells) {
            out.extend_from_slice(&sample[track * track_cells..(track + 1) * track_cells]);
            out.extend_from_slice(&gap);
        }
    }
    Ok((out, chained))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_is_lsb_first_and_ignores_padding() {
        let mut out = [9u8; 10];
        unpack(&[0b1000_0101, 0b1111_1110], &mut out);
        assert_eq!(out, [1, 0, 1, 0, 0, 0, 0, 1, 0, 1]);
        let mut floats = [0.5f32; 3];
        unpack(&[0b010], &mut floats);
        assert_eq!(floats, [0.0, 1.0, 0.0]);
    }
}
