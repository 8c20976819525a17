//! Building a dataset from music files: collect, read and cut in parallel, write in order.

use super::manifest::DatasetShape;
use super::manifest::{
    BuildStats, Manifest, Origin, PhraseOrigin, SkipReason, SkippedFile, SplitCounts, FORMAT,
    VERSION,
};
use super::options::{Assignment, BuildOptions, ContentFilter, OutOfRange, TrackInfo, Windows};
use super::writer::{set_bits, BuildReport, Progress, Writer};
use crate::error::{Error, Result};
use crate::io::{Format, ReadOptions};
use crate::multitrack::Multitrack;
use crate::rng::{stable_hash, Rng};
use crate::track::Track;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// A file to read, and the key that seeds its random windows: its path relative to the input
/// it was found under, so the draw depends neither on where the corpus lies nor on the order
/// files are processed in.
struct Input {
    path: PathBuf,
    key: String,
}

/// Builds a dataset in `out` (which must not exist) from the music files `inputs` name: files,
/// or directories searched recursively for `.mid`, `.midi`, `.smf`, `.musicxml`, `.xml`, `.mxl`
/// and `.npz` files (names starting with `.` and symbolic links to directories are passed over).
///
/// A file that cannot be used is skipped and reported ([`Progress::skipped`], the manifest's
/// `skipped`); only a problem with the inputs themselves (missing, unreadable directory, no music
/// file at all), the options or the output stops the build. See the module documentation for
/// the policies.
pub fn build(
    inputs: &[PathBuf],
    out: &Path,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport> {
    options.validate()?;
    let files = collect(inputs)?;
    if files.is_empty() {
        return Err(Error::Invalid(format!(
            "no MIDI, MusicXML or npz file in {}",
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let plan = Plan::new(options);
    let mut writer = Writer::create(out, plan.phrase_bytes)?;
    let mut stats = BuildStats {
        files: files.len(),
        ..BuildStats::default()
    };
    let mut skipped = Vec::new();
    progress.start(files.len() as u64);
    // Files are read in parallel a batch at a time and written in file order, so the dataset
    // is the same whatever the number of threads, and memory holds one batch's phrases.
    let batch = rayon::current_num_threads().max(1) * 4;
    for chunk in files.chunks(batch) {
        let results: Vec<(BuildStats, Outcome)> = chunk
            .par_iter()
            .map(|input| {
                let result = process(input, &plan);
                progress.advance(1);
                result
            })
            .collect();
        for (input, (file_stats, outcome)) in chunk.iter().zip(results) {
            stats.add(&file_stats);
            match outcome {
                Ok((origins, data)) => {
                    writer.add_song(input.path.display().to_string(), origins, &data)?
                }
                Err((reason, message)) => {
                    let file = SkippedFile {
                        path: input.path.display().to_string(),
                        reason,
                        message,
                    };
                    progress.skipped(&file);
                    stats.skipped.add(reason);
                    skipped.push(file);
                }
            }
        }
    }
    progress.finish();
    let manifest = writer.finish(
        options.validation_fraction,
        options.seed,
        |songs, phrases| Manifest {
            format: FORMAT.into(),
            version: VERSION,
            shape: plan.shape,
            resolution: options.steps_per_beat,
            lowest_pitch: options.lowest_pitch,
            tracks: plan.tracks.clone(),
            phrases,
            phrase_bytes: plan.phrase_bytes,
            split: SplitCounts::default(),
            origin: Origin::Build {
                inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
                options: options.clone(),
            },
            stats,
            skipped,
            songs,
        },
    )?;
    Ok(BuildReport {
        dir: out.to_path_buf(),
        manifest,
    })
}

impl BuildStats {
    fn add(&mut self, other: &BuildStats) {
        self.bars_4_4 += other.bars_4_4;
        self.bars_other_meter += other.bars_other_meter;
        self.windows += other.windows;
        self.rejected_range += other.rejected_range;
        self.rejected_content += other.rejected_content;
        self.not_drawn += other.not_drawn;
        self.cropped_cells += other.cropped_cells;
    }
}

/// Every music file under `inputs`, in order: inputs as given, directories sorted by name.
fn collect(inputs: &[PathBuf]) -> Result<Vec<Input>> {
    let mut files: Vec<Input> = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::Io(e).in_file(input))?;
        if meta.is_dir() {
            walk(input, "", &mut files)?;
        } else {
            let key = input
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            files.push(Input {
                path: input.clone(),
                key,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.path.clone()));
    Ok(files)
}

fn walk(dir: &Path, prefix: &str, files: &mut Vec<Input>) -> Result<()> {
    let entries = || -> std::io::Result<Vec<std::fs::DirEntry>> {
        let mut entries = std::fs::read_dir(dir)?.collect::<std::io::Result<Vec<_>>>()?;
        entries.sort_by_key(|e| e.file_name());
        Ok(entries)
    };
    for entry in entries().map_err(|e| Error::Io(e).in_file(dir))? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let key = format!("{prefix}{name}");
        let kind = entry.file_type().map_err(|e| Error::Io(e).in_file(&path))?;
        if kind.is_dir() {
            walk(&path, &format!("{key}/"), files)?;
        } else if Format::from_path(&path).is_some_and(Format::is_readable)
            && (kind.is_file() || path.is_file())
        {
            files.push(Input { path, key });
        }
    }
    Ok(())
}

/// What became of one file: its phrases (origins and packed bits), or why it has none.
type Outcome = std::result::Result<(Vec<PhraseOrigin>, Vec<u8>), (SkipReason, String)>;

/// Reads and cuts one file. A panic in a reader (a bug, but a hostile file must not take the
/// whole build down with it) is caught and reported as the file's problem.
fn process(input: &Input, plan: &Plan) -> (BuildStats, Outcome) {
    let run = || {
        let mut stats = BuildStats::default();
        let outcome =
            read(&input.path, plan).and_then(|song| plan.extract(&song, &input.key, &mut stats));
        (stats, outcome)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        (
            BuildStats::default(),
            Err((
                SkipReason::Unreadable,
                "internal error while reading (please report this file)".into(),
            )),
        )
    })
}

/// Reads a song at the dataset's resolution.
fn read(path: &Path, plan: &Plan) -> std::result::Result<Multitrack, (SkipReason, String)> {
    let resolution = plan.options.steps_per_beat;
    let unreadable = |e: Error| {
        let message = match e {
            Error::File { problem, .. } => problem.to_string(),
            other => other.to_string(),
        };
        (SkipReason::Unreadable, message)
    };
    let (mut song, _) =
        crate::io::read_file(path, &ReadOptions { resolution }).map_err(unreadable)?;
    // Formats with a resolution of their own (npz) are re-timed note by note.
    song.set_resolution(resolution);
    Ok(song)
}

/// The build settings turned into the numbers extraction works with.
struct Plan<'a> {
    options: &'a BuildOptions,
    tracks: Vec<TrackInfo>,
    filters: Vec<ContentFilter>,
    shape: DatasetShape,
    phrase_bytes: usize,
    /// Steps per window.
    window_steps: usize,
    /// The pitches of the range, as bits at their MIDI numbers.
    range: u128,
}

/// Whether one window copy may be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Keep,
    OutOfRange,
    TooSparse,
}

impl<'a> Plan<'a> {
    fn new(options: &'a BuildOptions) -> Plan<'a> {
        let tracks = options.tracks.tracks();
        let shape = DatasetShape {
            tracks: tracks.len(),
            bars: options.bars,
            steps_per_bar: options.steps_per_bar(),
            pitches: options.pitches,
        };
        let lo = options.lowest_pitch.index();
        let range = if options.pitches >= 128 {
            u128::MAX
        } else {
            ((1u128 << options.pitches) - 1) << lo
        };
        Plan {
            options,
            filters: (0..tracks.len()).map(|t| options.filter(t)).collect(),
            tracks,
            shape,
            // `validate` bounded the product.
            phrase_bytes: shape.cells().unwrap_or(0).div_ceil(8),
            window_steps: options.bars * options.steps_per_bar(),
            range,
        }
    }

    /// The phrases of one song.
    fn extract(&self, song: &Multitrack, key: &str, stats: &mut BuildStats) -> Outcome {
        let sources = match self.options.tracks.assign(&song.tracks) {
            Assignment::Tracks(sources) => sources,
            Assignment::Mismatch(why) => return Err((SkipReason::Tracks, why)),
        };
        let starts = self.window_starts(song, stats)?;
        let rows: Vec<Vec<u128>> = sources
            .iter()
            .map(|list| merged_rows(&song.tracks, list, song.len(), self.options.gap))
            .collect();

        // Every copy of every window, judged.
        let transpositions = &self.options.transpositions;
        let mut kept: Vec<Vec<i8>> = Vec::with_capacity(starts.len());
        for &(_, step) in &starts {
            let mut copies = Vec::new();
            for &semitones in transpositions {
                stats.windows += 1;
                match self.render(&rows, step, semitones, None).0 {
                    Verdict::Keep => copies.push(semitones),
                    Verdict::OutOfRange => stats.rejected_range += 1,
                    Verdict::TooSparse => stats.rejected_content += 1,
                }
            }
            kept.push(copies);
        }

        let mut chosen: Vec<usize> = (0..starts.len()).filter(|&w| !kept[w].is_empty()).collect();
        if let Windows::Random(count) = self.options.windows {
            if chosen.len() > count {
                let mut rng = Rng::new(self.options.seed ^ stable_hash(key.as_bytes()));
                rng.shuffle(&mut chosen);
                for &w in &chosen[count..] {
                    stats.not_drawn += kept[w].len();
                }
                chosen.truncate(count);
                chosen.sort_unstable();
            }
        }
        if chosen.is_empty() {
            return Err((
                SkipReason::NoPhrases,
                format!(
                    "all {} windows were rejected ({} out of range, {} too sparse)",
                    starts.len() * transpositions.len(),
                    stats.rejected_range,
                    stats.rejected_content
                ),
            ));
        }

        let mut origins = Vec::new();
        let mut data = Vec::new();
        for w in chosen {
            let (bar, step) = starts[w];
            for &semitones in &kept[w] {
                let offset = data.len();
                data.resize(offset + self.phrase_bytes, 0);
                let cropped = self
                    .render(&rows, step, semitones, Some(&mut data[offset..]))
                    .1;
                stats.cropped_cells += cropped;
                origins.push(PhraseOrigin {
                    start: bar,
                    transpose: semitones,
                });
            }
        }
        Ok((origins, data))
    }

    /// The candidate windows of a song, as (first bar, first step): runs of consecutive 4/4
    /// bars long enough for a phrase, at every hop (or every bar for random windows).
    fn window_starts(
        &self,
        song: &Multitrack,
        stats: &mut BuildStats,
    ) -> std::result::Result<Vec<(usize, usize)>, (SkipReason, String)> {
        let bar_steps = self.shape.steps_per_bar;
        let downbeats = song.downbeat_steps();
        let signatures = song.time_signatures();
        let mut common = Vec::with_capacity(downbeats.len());
        let mut other_meters: Vec<String> = Vec::new();
        for (i, &start) in downbeats.iter().enumerate() {
            let end = downbeats.get(i + 1).copied().unwrap_or(song.len());
            let meter = signatures
                .iter()
                .rev()
                .find(|ts| ts.step <= start)
                .map_or((4, 4), |ts| (ts.numerator, ts.denominator));
            // The last bar may stop short: the song ends there, the rest is silence.
            let whole =
                end - start == bar_steps || (i + 1 == downbeats.len() && end - start < bar_steps);
            let is_common = meter == (4, 4) && whole;
            common.push(is_common);
            if !is_common {
                let name = format!("{}/{}", meter.0, meter.1);
                if !other_meters.contains(&name) {
                    other_meters.push(name);
                }
            }
        }
        let n44 = common.iter().filter(|&&c| c).count();
        stats.bars_4_4 += n44;
        stats.bars_other_meter += common.len() - n44;
        if downbeats.is_empty() {
            return Err((SkipReason::TooShort, "the song is empty".into()));
        }
        if n44 == 0 {
            return Err((
                SkipReason::Meter,
                format!("no bar of 4/4 (meters: {})", other_meters.join(", ")),
            ));
        }
        let bars = self.options.bars;
        let hop = match self.options.windows {
            Windows::Hop(hop) => hop,
            Windows::Random(_) => 1,
        };
        let mut starts = Vec::new();
        let mut longest = 0;
        let mut run_start = 0;
        for i in 0..=common.len() {
            if common.get(i) == Some(&true) {
                continue;
            }
            // Bars run_start..i are a run of 4/4.
            let run = i - run_start;
            longest = longest.max(run);
            if run >= bars {
                for first in (run_start..=i - bars).step_by(hop) {
                    starts.push((first, downbeats[first]));
                }
            }
            run_start = i + 1;
        }
        if starts.is_empty() {
            return Err((
                SkipReason::TooShort,
                format!("at most {longest} consecutive 4/4 bars, a phrase needs {bars}"),
            ));
        }
        Ok(starts)
    }

    /// Judges (and with `out`, writes) the copy of the window at `start` transposed by
    /// `semitones`; also returns the number of sounding cells outside the range.
    fn render(
        &self,
        rows: &[Vec<u128>],
        start: usize,
        semitones: i8,
        mut out: Option<&mut [u8]>,
    ) -> (Verdict, u64) {
        let lo = self.options.lowest_pitch.index();
        let pitches = self.shape.pitches;
        let mut outside = 0u64;
        let mut sparse = false;
        let mut nonempty = 0;
        for (track, ((rows, info), filter)) in
            rows.iter().zip(&self.tracks).zip(&self.filters).enumerate()
        {
            let shift = if info.is_drum { 0 } else { semitones };
            let (mut union, mut notes, mut active, mut previous) = (0u128, 0usize, 0usize, 0u128);
            let window = rows
                .get(start..)
                .unwrap_or(&[])
                .iter()
                .chain(std::iter::repeat(&0));
            for (step, &row) in window.take(self.window_steps).enumerate() {
                let (moved, lost) = transpose_row(row, shift);
                outside += u64::from(lost) + u64::from((moved & !self.range).count_ones());
                let cells = moved & self.range;
                union |= cells;
                active += usize::from(cells != 0);
                notes += (cells & !previous).count_ones() as usize;
                previous = cells;
                if let Some(out) = out.as_deref_mut() {
                    let offset = (track * self.window_steps + step) * pitches;
                    set_bits(out, offset, cells >> lo);
                }
            }
            nonempty += usize::from(union != 0);
            sparse |= notes < filter.min_notes
                || (union.count_ones() as usize) < filter.min_pitches
                || active < filter.min_active_steps;
        }
        let verdict = if outside > 0 && self.options.out_of_range == OutOfRange::Drop {
            Verdict::OutOfRange
        } else if sparse || nonempty < self.options.min_nonempty_tracks {
            Verdict::TooSparse
        } else {
            Verdict::Keep
        };
        (verdict, outside)
    }
}

/// `row` (bit = MIDI pitch) moved by `semitones`, and how many set bits fell off either end.
fn transpose_row(row: u128, semitones: i8) -> (u128, u32) {
    let k = u32::from(semitones.unsigned_abs());
    match semitones {
        0 => (row, 0),
        _ if k >= 128 => (0, row.count_ones()),
        s if s > 0 => (row << k, (row >> (128 - k)).count_ones()),
        _ => (row >> k, (row & ((1u128 << k) - 1)).count_ones()),
    }
}

/// The steps of the tracks at `sources` merged by maximum (a bit per sounding MIDI pitch), each
/// track first given LPD's one-step gap before every re-struck note when `gap` is set.
fn merged_rows(tracks: &[Track], sources: &[usize], steps: usize, gap: bool) -> Vec<u128> {
    let mut merged = vec![0u128; steps];
    let mut rows = vec![0u128; steps];
    for track in sources.iter().filter_map(|&i| tracks.get(i)) {
        rows.iter_mut().for_each(|r| *r = 0);
        let notes = track.roll.notes();
        for note in &notes {
            let bit = 1u128 << note.pitch.index();
            for row in rows
                .get_mut(note.start..note.end.min(steps))
                .unwrap_or(&mut [])
            {
                *row |= bit;
            }
        }
        if gap {
            // The step before a note start is cleared if it sounds at that pitch: a note ending
            // right there, or one step long, loses that step (as LPD converted MIDI).
            for note in notes.iter().filter(|n| n.start > 0) {
                if let Some(row) = rows.get_mut(note.start - 1) {
                    *row &= !(1u128 << note.pitch.index());
                }
            }
        }
        for (m, r) in merged.iter_mut().zip(&rows) {
            *m |= r;
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Note, Pitch, Program, Roll, RollKind};

    #[test]
    fn transpose_row_counts_what_falls_off() {
        let row = (1u128 << 127) | (1u128 << 60) | 1;
        assert_eq!(transpose_row(row, 0), (row, 0));
        assert_eq!(transpose_row(row, 1), ((1u128 << 61) | 2, 1));
        assert_eq!(transpose_row(row, -1), ((1u128 << 126) | (1u128 << 59), 1));
        assert_eq!(transpose_row(row, -128), (0, 3));
        assert_eq!(transpose_row(row, 127), (1u128 << 127, 2));
    }

    fn note(pitch: u8, start: usize, end: usize) -> Note {
        Note {
            pitch: Pitch::new(pitch).unwrap(),
            start,
            end,
            velocity: 100,
        }
    }

    #[test]
    fn gap_separates_repeated_notes_only() {
        let mut track = Track::new("t", Program::default(), false, 8);
        // C4 0..2 then again 2..4 (re-struck), E4 held 0..4, C4 a one-step note at 5 then 6..8.
        track.roll = Roll::from_notes(
            RollKind::Velocity,
            8,
            [
                note(60, 0, 2),
                note(60, 2, 4),
                note(64, 0, 4),
                note(60, 5, 6),
                note(60, 6, 8),
            ],
        );
        let c = 1u128 << 60;
        let e = 1u128 << 64;
        let with_gap = merged_rows(std::slice::from_ref(&track), &[0], 8, true);
        assert_eq!(with_gap, [c | e, e, c | e, c | e, 0, 0, c, c]);
        let without = merged_rows(std::slice::from_ref(&track), &[0], 8, false);
        assert_eq!(without, [c | e, c | e, c | e, c | e, 0, c, c, c]);
    }

    #[test]
    fn merge_is_per_track_gap_then_max() {
        let mut a = Track::new("a", Program::default(), false, 4);
        a.roll = Roll::from_notes(RollKind::Binary, 4, [note(60, 0, 4)]);
        let mut b = Track::new("b", Program::default(), false, 4);
        b.roll = Roll::from_notes(RollKind::Binary, 4, [note(60, 0, 2), note(60, 2, 3)]);
        let c = 1u128 << 60;
        // b alone gets a gap at step 1; a, held, covers it.
        assert_eq!(
            merged_rows(&[a.clone(), b.clone()], &[1], 4, true),
            [c, 0, c, 0]
        );
        assert_eq!(merged_rows(&[a, b], &[0, 1], 4, true), [c, c, c, c]);
    }
}
