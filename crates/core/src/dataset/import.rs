//! Importing MuseGAN's training arrays: the sparse `.npz` (`shape` + `nonzero`) of MuseGAN v3 and
//! the dense `.npy` of BinaryMuseGAN, both bool tensors laid out `[phrase][bar][step][pitch]
//! [track]`, read as streams (never held whole) and re-laid out `[track][bar][step][pitch]`.

use super::manifest::DatasetShape;
use super::manifest::{BuildStats, Manifest, Origin, PhraseOrigin, SplitCounts, FORMAT, VERSION};
use super::options::{ImportOptions, Layout, TrackInfo};
use super::writer::{set_bits, BuildReport, Progress, Writer};
use crate::error::{Error, Result};
use crate::npy::NpyReader;
use crate::units::{Program, Resolution};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// The dimensions of the source array.
struct Source {
    phrases: usize,
    bars: usize,
    steps: usize,
    pitches: usize,
    tracks: usize,
    /// Phrases per song given by the array itself (6-D arrays).
    per_song: Option<usize>,
}

impl Source {
    /// From the shape `[N, bars, steps, pitches, tracks]` or `[songs, per song, bars, steps,
    /// pitches, tracks]`.
    fn from_shape(shape: &[usize]) -> Result<Source> {
        let source = match *shape {
            [phrases, bars, steps, pitches, tracks] => Source {
                phrases,
                bars,
                steps,
                pitches,
                tracks,
                per_song: None,
            },
            [songs, per_song, bars, steps, pitches, tracks] => Source {
                phrases: songs
                    .checked_mul(per_song)
                    .ok_or_else(|| Error::Invalid(format!("the shape {shape:?} overflows")))?,
                bars,
                steps,
                pitches,
                tracks,
                per_song: Some(per_song),
            },
            _ => {
                return Err(Error::Invalid(format!(
                    "shape {shape:?}: expected (phrases, bars, steps, pitches, tracks) or \
                     (songs, phrases per song, bars, steps, pitches, tracks)"
                )))
            }
        };
        if source.phrases == 0 || shape.contains(&0) {
            return Err(Error::Invalid(format!("shape {shape:?} holds no phrase")));
        }
        if source.phrases > u32::MAX as usize {
            return Err(Error::Invalid(format!(
                "shape {shape:?}: a dataset holds at most 2^32 - 1 phrases"
            )));
        }
        Ok(source)
    }

    fn dataset_shape(&self) -> DatasetShape {
        DatasetShape {
            tracks: self.tracks,
            bars: self.bars,
            steps_per_bar: self.steps,
            pitches: self.pitches,
        }
    }

    /// Where source cell (bar, step, pitch, track) goes in a phrase.
    fn bit(&self, bar: usize, step: usize, pitch: usize, track: usize) -> usize {
        ((track * self.bars + bar) * self.steps + step) * self.pitches + pitch
    }
}

/// Imports MuseGAN training data into a dataset in `out` (which must not exist): a `.npz` with
/// `shape` and `nonzero` arrays (MuseGAN v3's `train_x_lpd_5_phr.npz`: the coordinates of every
/// true cell, as `numpy.nonzero` lists them, row-major), or a dense bool `.npy`
/// (BinaryMuseGAN's `(songs, 6, 4, 96, 84, 8)`, or 5-D). Nonzero values are "on".
///
/// Memory stays bounded whatever the array's size: the `.npy` is read element by element and
/// the `nonzero` rows as five parallel streams of the one archive member.
pub fn import_musegan(
    file: &Path,
    out: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<BuildReport> {
    let mut head = [0u8; 6];
    let n = File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::Io(e).in_file(file))?;
    let manifest = match head.get(..n) {
        Some([b'P', b'K', ..]) => import_sparse(file, out, options, progress),
        Some([0x93, b'N', b'U', b'M', b'P', b'Y']) => import_dense(file, out, options, progress),
        _ => Err(Error::UnsupportedFormat(
            "neither an .npz archive nor an .npy array".into(),
        )),
    }
    .map_err(|e| match e {
        Error::File { .. } => e,
        other => other.in_file(file),
    })?;
    Ok(BuildReport {
        dir: out.to_path_buf(),
        manifest,
    })
}

/// The dataset's tracks, resolution and song size from the options and the source.
struct Target {
    tracks: Vec<TrackInfo>,
    resolution: Resolution,
    per_song: usize,
    phrase_bytes: usize,
}

fn target(source: &Source, options: &ImportOptions) -> Result<Target> {
    let tracks = match &options.tracks {
        Some(tracks) if tracks.len() != source.tracks => {
            return Err(Error::Invalid(format!(
                "{} track descriptions for an array of {} tracks",
                tracks.len(),
                source.tracks
            )))
        }
        Some(tracks) => tracks.clone(),
        None => match source.tracks {
            5 => Layout::Lpd5.tracks(),
            8 => Layout::Bmusegan8.tracks(),
            n => (0..n)
                .map(|i| TrackInfo {
                    name: format!("Track {i}"),
                    program: Program::default(),
                    is_drum: false,
                })
                .collect(),
        },
    };
    let resolution = match options.resolution {
        Some(r) => r,
        None if source.steps.is_multiple_of(4) => u32::try_from(source.steps / 4)
            .ok()
            .and_then(|r| Resolution::new(r).ok())
            .ok_or_else(|| Error::Invalid(format!("{} steps per bar is too many", source.steps)))?,
        None => {
            return Err(Error::Invalid(format!(
                "{} steps per bar is not 4 beats of whole steps; give the resolution",
                source.steps
            )))
        }
    };
    let per_song = match (options.phrases_per_song, source.per_song) {
        (Some(0), _) => return Err(Error::Invalid("0 phrases per song".into())),
        (Some(given), Some(array)) if given != array => {
            return Err(Error::Invalid(format!(
                "{given} phrases per song given, but the array holds {array} per song"
            )))
        }
        (Some(given), _) => given,
        (None, array) => array.unwrap_or(1),
    };
    if !(0.0..=1.0).contains(&options.validation_fraction) {
        return Err(Error::Invalid(format!(
            "validation fraction {} is outside 0..=1",
            options.validation_fraction
        )));
    }
    let shape = source.dataset_shape();
    let manifest_shape = crate::metrics::PhraseShape {
        samples: 1,
        tracks: shape.tracks,
        bars: shape.bars,
        steps_per_bar: shape.steps_per_bar,
        pitches: shape.pitches,
        lowest_pitch: options.lowest_pitch,
        resolution,
    };
    let cells = manifest_shape.cells()?;
    if cells.div_ceil(8) > super::options::MAX_PHRASE_BYTES {
        return Err(Error::Invalid(format!(
            "phrases of {cells} cells exceed {} bytes",
            super::options::MAX_PHRASE_BYTES
        )));
    }
    Ok(Target {
        tracks,
        resolution,
        per_song,
        phrase_bytes: cells.div_ceil(8),
    })
}

/// Streams phrases into the writer, one song at a time.
struct Songs<'a> {
    writer: Writer,
    source_name: String,
    per_song: usize,
    phrase_bytes: usize,
    data: Vec<u8>,
    origins: Vec<PhraseOrigin>,
    progress: &'a dyn Progress,
}

impl Songs<'_> {
    /// Adds the next phrase (its packed bits).
    fn push(&mut self, phrase: &[u8], index: usize) -> Result<()> {
        self.data.extend_from_slice(phrase);
        self.origins.push(PhraseOrigin {
            start: index,
            transpose: 0,
        });
        if self.origins.len() == self.per_song {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.origins.is_empty() {
            return Ok(());
        }
        let origins = std::mem::take(&mut self.origins);
        self.progress.advance(origins.len() as u64);
        self.writer
            .add_song(self.source_name.clone(), origins, &self.data)?;
        self.data.clear();
        Ok(())
    }

    fn finish(
        mut self,
        source: &Source,
        target: Target,
        file: &Path,
        options: &ImportOptions,
    ) -> Result<Manifest> {
        self.flush()?;
        self.progress.finish();
        let file = file.display().to_string();
        self.writer.finish(
            options.validation_fraction,
            options.seed,
            |songs, phrases| Manifest {
                format: FORMAT.into(),
                version: VERSION,
                shape: source.dataset_shape(),
                resolution: target.resolution,
                lowest_pitch: options.lowest_pitch,
                tracks: target.tracks,
                phrases,
                phrase_bytes: target.phrase_bytes,
                split: SplitCounts::default(),
                origin: Origin::Import {
                    file,
                    options: options.clone(),
                },
                stats: BuildStats {
                    files: 1,
                    ..BuildStats::default()
                },
                skipped: Vec::new(),
                songs,
            },
        )
    }
}

fn start_songs<'a>(
    file: &Path,
    out: &Path,
    source: &Source,
    target: &Target,
    progress: &'a dyn Progress,
) -> Result<Songs<'a>> {
    let writer = Writer::create(out, target.phrase_bytes)?;
    progress.start(source.phrases as u64);
    Ok(Songs {
        writer,
        source_name: file.display().to_string(),
        per_song: target.per_song,
        phrase_bytes: target.phrase_bytes,
        data: Vec::new(),
        origins: Vec::new(),
        progress,
    })
}

fn import_dense(
    file: &Path,
    out: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<Manifest> {
    let input = BufReader::new(File::open(file)?);
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let mut array = NpyReader::open(name.into_owned(), input, usize::MAX)?;
    array.require_integers()?;
    let source = Source::from_shape(array.shape())?;
    if array.fortran_order() {
        return Err(Error::Npz(
            "Fortran-ordered arrays are not supported (save it in C order)".into(),
        ));
    }
    let target = target(&source, options)?;
    let mut songs = start_songs(file, out, &source, &target, progress)?;
    let mut phrase = vec![0u8; songs.phrase_bytes];
    for index in 0..source.phrases {
        phrase.fill(0);
        for bar in 0..source.bars {
            for step in 0..source.steps {
                for pitch in 0..source.pitches {
                    for track in 0..source.tracks {
                        if array.int()? != 0 {
                            set_bits(&mut phrase, source.bit(bar, step, pitch, track), 1);
                        }
                    }
                }
            }
        }
        songs.push(&phrase, index)?;
    }
    array.finish()?;
    songs.finish(&source, target, file, options)
}

fn import_sparse(
    file: &Path,
    out: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<Manifest> {
    let open = || -> Result<zip::ZipArchive<BufReader<File>>> {
        zip::ZipArchive::new(BufReader::new(File::open(file)?))
            .map_err(|e| Error::Npz(format!("not a zip archive ({e})")))
    };
    let member = |archive: &zip::ZipArchive<BufReader<File>>, key: &str| -> Result<String> {
        [format!("{key}.npy"), key.to_string()]
            .into_iter()
            .find(|name| archive.index_for_name(name).is_some())
            .ok_or_else(|| {
                Error::Npz(format!(
                    "no '{key}' array (not MuseGAN's shape + nonzero format?)"
                ))
            })
    };
    let mut archive = open()?;
    let shape_name = member(&archive, "shape")?;
    let nonzero_name = member(&archive, "nonzero")?;
    let dims = {
        let entry = archive
            .by_name(&shape_name)
            .map_err(|e| Error::Npz(format!("{shape_name}: {e}")))?;
        let mut reader = NpyReader::open(shape_name.clone(), entry, 8)?;
        reader.require_integers()?;
        let mut dims = Vec::new();
        for _ in 0..reader.shape().iter().product::<usize>() {
            let d = reader.int()?;
            dims.push(
                usize::try_from(d)
                    .map_err(|_| Error::Npz(format!("{shape_name}: dimension {d} is negative")))?,
            );
        }
        reader.finish()?;
        dims
    };
    let source = Source::from_shape(&dims)?;
    let rank = dims.len();
    let cells = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::Npz(format!("the shape {dims:?} overflows")))?;

    // One archive and stream per row of `nonzero` (one coordinate axis each), read in step.
    let mut archives = (0..rank).map(|_| open()).collect::<Result<Vec<_>>>()?;
    let mut rows = Vec::with_capacity(rank);
    for archive in &mut archives {
        let entry = archive
            .by_name(&nonzero_name)
            .map_err(|e| Error::Npz(format!("{nonzero_name}: {e}")))?;
        rows.push(NpyReader::open(
            nonzero_name.clone(),
            entry,
            cells.saturating_mul(rank),
        )?);
    }
    let nnz = match rows.first().map(|r| r.shape().to_vec()).as_deref() {
        Some(&[r, n]) if r == rank => n,
        other => {
            return Err(Error::Npz(format!(
                "{nonzero_name}: shape {:?}, expected ({rank}, number of true cells)",
                other.unwrap_or(&[])
            )))
        }
    };
    if rows.first().is_some_and(|r| r.fortran_order()) && nnz > 1 {
        return Err(Error::Npz(format!(
            "{nonzero_name}: Fortran order is not supported"
        )));
    }
    for (axis, row) in rows.iter_mut().enumerate() {
        row.require_integers()?;
        for _ in 0..axis * nnz {
            row.int()?;
        }
    }
    let target = target(&source, options)?;
    let mut songs = start_songs(file, out, &source, &target, progress)?;
    let mut phrase = vec![0u8; songs.phrase_bytes];
    let mut current = 0usize;
    let mut coordinates = vec![0usize; rank];
    for k in 0..nnz {
        for ((axis, row), c) in rows.iter_mut().enumerate().zip(coordinates.iter_mut()) {
            let value = row.int()?;
            *c = usize::try_from(value)
                .ok()
                .filter(|&v| v < dims[axis])
                .ok_or_else(|| {
                    Error::Npz(format!(
                        "{nonzero_name}: coordinate {value} of cell {k} is outside axis {axis} \
                         of length {}",
                        dims[axis]
                    ))
                })?;
        }
        // The phrase index: one axis, or song × phrases per song.
        let (index, rest) = match (source.per_song, coordinates.as_slice()) {
            (Some(per_song), [song, i, rest @ ..]) => (song * per_song + i, rest),
            (_, [index, rest @ ..]) => (*index, rest),
            _ => (0, &[][..]),
        };
        if index < current {
            return Err(Error::Npz(format!(
                "{nonzero_name}: cell {k} goes back to phrase {index} after phrase {current} \
                 (the coordinates must be in row-major order, as numpy.nonzero lists them)"
            )));
        }
        while current < index {
            songs.push(&phrase, current)?;
            phrase.fill(0);
            current += 1;
        }
        if let [bar, step, pitch, track] = *rest {
            set_bits(&mut phrase, source.bit(bar, step, pitch, track), 1);
        }
    }
    while current < source.phrases {
        songs.push(&phrase, current)?;
        phrase.fill(0);
        current += 1;
    }
    // Each stream but the last stops where the next row begins; the last must end the member.
    if let Some(last) = rows.pop() {
        last.finish()?;
    }
    songs.finish(&source, target, file, options)
}
