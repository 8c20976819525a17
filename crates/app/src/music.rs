//! Single music files: read on a time grid, inspect, convert, draw.

use crate::error::{Error, Result};
use museroll_core::io::{self, Format, ReadOptions};
use museroll_core::plot::{self, PlotOptions};
use museroll_core::summary::Summary;
use museroll_core::{Multitrack, Resolution};
use std::path::{Path, PathBuf};

/// Reads `path`. MIDI and MusicXML are read at `resolution` steps per beat (default 24); a
/// `.npz` keeps its own resolution unless one is given, and is then converted to it.
pub fn read(path: &Path, resolution: Option<Resolution>) -> Result<(Multitrack, Format)> {
    let options = ReadOptions {
        resolution: resolution.unwrap_or_default(),
    };
    let (mut multitrack, format) = io::read_file(path, &options)?;
    if let Some(resolution) = resolution {
        multitrack.set_resolution(resolution);
    }
    Ok((multitrack, format))
}

/// A file's facts: what `museroll info` shows (its JSON form is this struct's).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Info {
    /// The file, as named.
    pub file: PathBuf,
    /// Its format.
    pub format: Format,
    /// Length, tempo, meter and tracks.
    pub summary: Summary,
}

/// The facts of the file at `path`, read at `resolution` (see [`read`]).
pub fn info(path: &Path, resolution: Option<Resolution>) -> Result<Info> {
    let (multitrack, format) = read(path, resolution)?;
    Ok(Info {
        file: path.to_path_buf(),
        format,
        summary: Summary::of(&multitrack),
    })
}

/// Converts `input` into `output`, in the format `output`'s extension names (checked before
/// anything is read), written atomically.
pub fn convert(input: &Path, output: &Path, resolution: Option<Resolution>) -> Result<()> {
    io::output_format(output, &io::WRITABLE)?;
    let (multitrack, _) = read(input, resolution)?;
    io::write_file(&multitrack, output)?;
    Ok(())
}

/// What part of a piece to draw, and how.
#[derive(Clone, Debug, Default)]
pub struct PlotRequest {
    /// The time grid to read the piece on (see [`read`]).
    pub resolution: Option<Resolution>,
    /// The first bar to draw (0-based).
    pub from_bar: usize,
    /// How many bars to draw (`None`: to the end).
    pub bars: Option<usize>,
    /// Picture size and style.
    pub options: PlotOptions,
}

/// Draws `request`'s bars of `input` as a piano-roll PNG into `output` (its extension is
/// checked before anything is read), written atomically.
pub fn plot(input: &Path, output: &Path, request: &PlotRequest) -> Result<()> {
    io::output_format(output, &[Format::Png])?;
    let (mut multitrack, _) = read(input, request.resolution)?;
    select_bars(&mut multitrack, request.from_bar, request.bars, input)?;
    let image = plot::render(&multitrack, &request.options).map_err(|source| Error::Draw {
        path: input.to_path_buf(),
        source,
    })?;
    io::write_atomic(output, &plot::encode_png(&image)?)?;
    Ok(())
}

/// Keeps bars `from_bar .. from_bar + bars` of `multitrack` (read from `input`, which errors
/// name); `bars: None` keeps everything from `from_bar` on.
pub fn select_bars(
    multitrack: &mut Multitrack,
    from_bar: usize,
    bars: Option<usize>,
    input: &Path,
) -> Result<()> {
    if bars == Some(0) {
        return Err(Error::NoBars);
    }
    if from_bar == 0 && bars.is_none() {
        return Ok(());
    }
    let downbeats = multitrack.downbeat_steps();
    let Some(&start) = downbeats.get(from_bar) else {
        return Err(Error::NoSuchBar {
            path: input.to_path_buf(),
            bar: from_bar,
            bars: downbeats.len(),
        });
    };
    let end = bars
        .and_then(|n| downbeats.get(from_bar + n).copied())
        .unwrap_or(multitrack.len());
    multitrack.trim(start, end);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use museroll_core::{Program, Track};

    /// Four silent 4/4 bars at 4 steps per beat.
    fn four_bars() -> Multitrack {
        let mut multitrack = Multitrack::new(Resolution::new(4).unwrap());
        let piano = Program::new(0).unwrap();
        multitrack
            .tracks
            .push(Track::new("piano", piano, false, 64));
        multitrack
    }

    #[test]
    fn select_bars_keeps_the_bars_asked_for() {
        let mut m = four_bars();
        select_bars(&mut m, 1, Some(2), Path::new("x.mid")).unwrap();
        assert_eq!(m.len(), 32);
        let mut m = four_bars();
        select_bars(&mut m, 3, None, Path::new("x.mid")).unwrap();
        assert_eq!(m.len(), 16);
        // More bars than there are: to the end.
        let mut m = four_bars();
        select_bars(&mut m, 2, Some(10), Path::new("x.mid")).unwrap();
        assert_eq!(m.len(), 32);
    }

    #[test]
    fn select_bars_refuses_zero_bars_and_bars_beyond_the_piece() {
        let mut m = four_bars();
        let e = select_bars(&mut m, 0, Some(0), Path::new("x.mid")).unwrap_err();
        assert_eq!(e.to_string(), "--bars must be at least 1");
        let e = select_bars(&mut m, 4, None, Path::new("x.mid")).unwrap_err();
        assert_eq!(e.to_string(), "x.mid: bar 4 does not exist (4 bars)");
        assert_eq!(m.len(), 64);
    }
}
