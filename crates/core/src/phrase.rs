//! Generated phrases as music: cells laid out `[sample, track, bar, step, pitch]` (a
//! [`PhraseShape`]) turned into multitracks, sample sheets and MIDI files — what a training run's
//! sample sheets and `generate` both write.

use crate::dataset::{chain_samples, phrase_multitrack, TrackInfo};
use crate::io::{write_bytes, Format};
use crate::metrics::PhraseShape;
use crate::plot::{self, PlotOptions, MAX_SIDE};
use crate::{Multitrack, Result};

/// The phrases of `cells` (laid out as `shape` says) as multitracks, one per sample, their
/// tracks described by `tracks`, at `qpm` quarter notes per minute.
///
/// # Errors
/// As [`phrase_multitrack`].
pub fn phrase_songs(
    cells: &[u8],
    shape: PhraseShape,
    tracks: &[TrackInfo],
    qpm: f64,
) -> Result<Vec<Multitrack>> {
    (0..shape.samples)
        .map(|i| phrase_multitrack(cells, shape, i, tracks, qpm))
        .collect()
}

/// A sample sheet: `items` (caption, piece of `bars` bars) drawn in a grid of `columns`
/// columns, 100 px per bar (at least 400 per piece) with lanes of 48 px, as a PNG.
///
/// # Errors
/// [`crate::Error::Image`] if the grid cannot be drawn (too large, no items).
pub fn sheet_png(items: &[(String, Multitrack)], columns: usize, bars: usize) -> Result<Vec<u8>> {
    let columns = columns.clamp(1, items.len().max(1));
    let column = u32::try_from(bars.saturating_mul(100))
        .unwrap_or(u32::MAX)
        .max(400);
    let options = PlotOptions {
        // The width caps the whole grid.
        width: Some((columns as u32).saturating_mul(column).min(MAX_SIDE)),
        lane_height: Some(48),
        ..PlotOptions::default()
    };
    plot::encode_png(&plot::render_grid(items, columns, &options)?)
}

/// The phrases of `cells` played one after another as one multitrack, `gap_bars` bars of rest
/// after each.
///
/// # Errors
/// As [`chain_samples`] and [`phrase_multitrack`].
pub fn chained_song(
    cells: &[u8],
    shape: PhraseShape,
    tracks: &[TrackInfo],
    qpm: f64,
    gap_bars: usize,
) -> Result<Multitrack> {
    let (chained, chained_shape) = chain_samples(cells, shape, gap_bars)?;
    phrase_multitrack(&chained, chained_shape, 0, tracks, qpm)
}

/// [`chained_song`] as a MIDI file.
///
/// # Errors
/// As [`chained_song`].
pub fn chained_midi(
    cells: &[u8],
    shape: PhraseShape,
    tracks: &[TrackInfo],
    qpm: f64,
    gap_bars: usize,
) -> Result<Vec<u8>> {
    write_bytes(
        &chained_song(cells, shape, tracks, qpm, gap_bars)?,
        Format::Midi,
    )
}
