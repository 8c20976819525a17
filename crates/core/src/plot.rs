//! Piano-roll pictures: a multitrack as a PNG-ready RGB image, one horizontal lane per track.
//!
//! The picture follows the MuseGAN figures (one lane per track, time left to right, pitch bottom
//! to top, bar lines) and fixes what goes wrong with pypianoroll's matplotlib plots:
//!
//! - **Nothing disappears when scaling.** Every pixel covers a span of steps (and, with a small
//!   `lane_height`, of pitches) and shows the loudest cell in it: max-pooling, never nearest
//!   neighbour, so a one-step note in a 10 000-step song is still drawn. Short phrases are
//!   upscaled by a whole number of pixels per step (a step is at least 2 px when the width cap
//!   allows), so every step has the same width.
//! - **Only the pitches in use.** The pitch range is the union of the pitched tracks' notes,
//!   widened to whole octaves (C to B), so octave lines and the `C4` labels sit at lane
//!   boundaries. A drum lane uses its own range, since its "pitches" are instruments. Names
//!   follow pretty_midi and music21: MIDI 60 is `C4` (pypianoroll's axis says `C3`).
//! - **Repeated notes stay apart.** When a step is at least 2 px wide, the first pixel column of
//!   every note (from the roll's onset plane, [`Roll::is_onset`](crate::Roll::is_onset)) is drawn
//!   darker, so a note struck twice does not look like one long note.
//! - **Bars are visible.** Bar lines come from [`Multitrack::downbeat_steps`] and are drawn over
//!   the notes (darkening them), so a held chord does not hide the bar structure; lighter beat
//!   lines sit under the notes. At song scale bar lines are thinned to every 2nd, 4th, 8th… bar so
//!   they stay at least a few pixels apart, and bar numbers never overlap.
//! - **Every track is shown.** A silent track keeps its lane, labelled "(silent)".
//!
//! Each track has its own colour (a fixed palette, cycled); in a velocity roll the velocity sets
//! the colour's intensity. Text is set in DejaVu Sans, anti-aliased (the crate's `text` module); the font
//! is compiled in, so no font file or system library is needed.
//!
//! Sizes are bounded: the width never exceeds the cap (4000 px by default), no side exceeds
//! [`MAX_SIDE`] and no picture exceeds [`MAX_PIXELS`], so a hostile multitrack cannot make the
//! renderer allocate gigabytes; it gets an error instead.

use crate::error::{Error, Result};
use crate::multitrack::Multitrack;
use crate::roll::{Roll, RollKind};
use crate::text::{self, Clip, LARGE, SMALL};
use crate::units::{Pitch, N_PITCHES};
use image::{Rgb, RgbImage};
use std::ops::Range;

/// The default cap on a picture's width, in pixels.
pub const DEFAULT_MAX_WIDTH: u32 = 4000;
/// The largest width or height of any picture, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// The largest number of pixels of any picture (about 150 MB of RGB).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The smallest lane height accepted in [`PlotOptions::lane_height`]: a line of small text. Lanes
/// too short for two lines write "(silent)" after a silent track's name instead of under it.
pub const MIN_LANE_HEIGHT: u32 = 22;

/// How to draw a piano-roll.
#[derive(Clone, Debug)]
pub struct PlotOptions {
    /// Cap on the picture's width in pixels (default [`DEFAULT_MAX_WIDTH`]); a short phrase may
    /// come out narrower. For [`render_grid`] it caps the whole grid.
    pub width: Option<u32>,
    /// Height of every lane in pixels (at least [`MIN_LANE_HEIGHT`]). By default each lane gets a
    /// whole number of pixels per pitch, chosen so the picture stays a few thousand pixels tall.
    pub lane_height: Option<u32>,
    /// Draw light lines at the beats when they are at least a few pixels apart (default true).
    pub beat_lines: bool,
}

impl Default for PlotOptions {
    fn default() -> PlotOptions {
        PlotOptions {
            width: None,
            lane_height: None,
            beat_lines: true,
        }
    }
}

/// Draws `multitrack`: a header with its name, one lane per track, bar numbers below.
///
/// Fails on a multitrack without tracks or without steps, on options out of range, and when the
/// picture would exceed [`MAX_SIDE`] or [`MAX_PIXELS`].
///
/// ```
/// use museroll_core::plot::{render, PlotOptions};
/// use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Track};
///
/// let mut song = Multitrack::new(Resolution::new(24)?);
/// let mut piano = Track::new("Piano", Program::new(0).unwrap(), false, 4 * 96);
/// piano.roll.add_note(Note { pitch: Pitch::MIDDLE_C, start: 0, end: 24, velocity: 100 });
/// song.tracks.push(piano);
/// let image = render(&song, &PlotOptions::default())?;
/// assert!(image.width() <= 4000);
/// # Ok::<(), museroll_core::Error>(())
/// ```
pub fn render(multitrack: &Multitrack, options: &PlotOptions) -> Result<RgbImage> {
    let layout = Layout::new(multitrack, options)?;
    check_area(layout.width, layout.height)?;
    let mut image = RgbImage::from_pixel(layout.width, layout.height, BACKGROUND);
    let mut canvas = Canvas {
        image: &mut image,
        left: 0,
        top: 0,
        width: layout.width,
        height: layout.height,
    };
    layout.paint(multitrack, multitrack.name.as_deref(), options, &mut canvas);
    Ok(image)
}

/// Encodes an image as PNG.
pub fn encode_png(image: &RgbImage) -> Result<Vec<u8>> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder;
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| Error::Image(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

/// Several multitracks (e.g. generated samples) in a grid of `columns` columns, row by row, each
/// drawn as by [`render`] with its caption in place of its name. `options.width` caps the whole
/// grid, so each cell gets an equal share of it.
pub fn render_grid(
    items: &[(String, Multitrack)],
    columns: usize,
    options: &PlotOptions,
) -> Result<RgbImage> {
    if items.is_empty() {
        return Err(Error::Image(
            "nothing to plot: the grid has no items".into(),
        ));
    }
    if columns == 0 {
        return Err(Error::Invalid("a grid needs at least one column".into()));
    }
    let columns = columns.min(items.len());
    let cap = width_cap(options)?;
    let gaps = u32::try_from(columns - 1)
        .ok()
        .and_then(|g| g.checked_mul(GRID_GAP))
        .unwrap_or(u32::MAX);
    let cell_cap = cap.saturating_sub(gaps) / u32::try_from(columns).unwrap_or(u32::MAX);
    let cell_options = PlotOptions {
        width: Some(cell_cap),
        ..options.clone()
    };
    let layouts = items
        .iter()
        .map(|(caption, multitrack)| {
            Layout::new(multitrack, &cell_options).map_err(|e| {
                let message = match e {
                    Error::Image(m) | Error::Invalid(m) => m,
                    other => other.to_string(),
                };
                Error::Image(format!("grid item \"{caption}\": {message}"))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let cell_width = layouts.iter().map(|l| l.width).max().unwrap_or(0);
    let row_heights: Vec<u32> = layouts
        .chunks(columns)
        .map(|row| row.iter().map(|l| l.height).max().unwrap_or(0))
        .collect();
    let width = u64::from(cell_width) * columns as u64 + u64::from(GRID_GAP) * (columns as u64 - 1);
    let height = row_heights.iter().map(|&h| u64::from(h)).sum::<u64>()
        + u64::from(GRID_GAP) * (row_heights.len() as u64 - 1);
    let too_big = || Error::Image(format!("a grid of {} items is too large", items.len()));
    let width = u32::try_from(width).map_err(|_| too_big())?;
    let height = u32::try_from(height).map_err(|_| too_big())?;
    check_area(width, height)?;
    let mut image = RgbImage::from_pixel(width, height, BACKGROUND);
    let mut top = 0;
    let rows = items.chunks(columns).zip(layouts.chunks(columns));
    for ((row, row_layouts), row_height) in rows.zip(row_heights) {
        for (column, ((caption, multitrack), layout)) in row.iter().zip(row_layouts).enumerate() {
            let mut canvas = Canvas {
                image: &mut image,
                left: column as u32 * (cell_width + GRID_GAP),
                top,
                width: layout.width,
                height: layout.height,
            };
            layout.paint(multitrack, Some(caption), &cell_options, &mut canvas);
        }
        top += row_height + GRID_GAP;
    }
    Ok(image)
}

// ---------------------------------------------------------------------------------------------
// Geometry

/// Outer padding.
const PAD: u32 = 10;
/// Width of the colour swatch at the left of each lane.
const SWATCH: u32 = 6;
/// Vertical space between lanes (outside their 1 px borders).
const LANE_GAP: u32 = 8;
/// Space between grid cells.
const GRID_GAP: u32 = 24;
/// Size of track names in lanes tall enough for two lines of them, in pixels per em.
const NAME: f32 = 13.0;
/// Space between two pieces of text on a line.
const TEXT_GAP: u32 = 8;
/// Track names longer than this are shortened.
const NAME_CHARS: usize = 16;
/// Short pieces are upscaled until the roll is about this wide…
const MIN_PLOT_WIDTH: usize = 1200;
/// …but a step never gets wider than this.
const MAX_STEP_PX: usize = 24;
/// The narrowest roll the width cap may leave.
const MIN_PLOT_PX: u32 = 16;
/// Bar lines closer than this are thinned…
const MIN_BAR_PX: f64 = 16.0;
/// …and beat lines closer than this are left out.
const MIN_BEAT_PX: f64 = 10.0;
/// Octave labels at least this far apart.
const MIN_LABEL_SPACING: usize = 10;
/// Automatic lane heights aim to keep the picture below this height.
const AUTO_HEIGHT_BUDGET: u64 = 2400;
/// The pitch range of a picture with no notes at all: C3–B5.
const DEFAULT_RANGE: (u8, u8) = (48, 83);

pub(crate) const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
pub(crate) const TEXT: Rgb<u8> = Rgb([25, 25, 25]);
pub(crate) const FAINT_TEXT: Rgb<u8> = Rgb([120, 120, 120]);
pub(crate) const BORDER: Rgb<u8> = Rgb([150, 150, 150]);
const BAR_LINE: Rgb<u8> = Rgb([120, 120, 120]);
const BEAT_LINE: Rgb<u8> = Rgb([228, 228, 228]);
const OCTAVE_LINE: Rgb<u8> = Rgb([218, 218, 218]);
/// How much a bar line darkens a note it crosses, and how much an onset column is darkened.
const BAR_OVER_NOTE: f32 = 0.72;
const ONSET_SHADE: f32 = 0.55;

/// Track colours, cycled: saturated enough to read on white, distinct from one another.
const PALETTE: [[u8; 3]; 10] = [
    [33, 102, 172], // blue
    [230, 97, 1],   // orange
    [27, 158, 119], // green
    [203, 24, 29],  // red
    [117, 80, 170], // purple
    [140, 86, 60],  // brown
    [222, 45, 138], // pink
    [90, 90, 90],   // grey
    [150, 150, 0],  // olive
    [20, 150, 190], // cyan
];

pub(crate) fn track_color(index: usize) -> Rgb<u8> {
    Rgb(PALETTE[index % PALETTE.len()])
}

/// A mapping between `units` (steps or pitches) and `pixels`, both nonzero. Pixel `x` covers
/// units `x·u/p ..` up to the next pixel's first unit (at least one unit): when downscaling the
/// pixels partition the units, so no unit is skipped; when upscaling each unit gets
/// consecutive pixels.
#[derive(Clone, Copy, Debug)]
struct Axis {
    units: usize,
    pixels: usize,
}

impl Axis {
    /// The units pixel `px` shows.
    fn span(&self, px: usize) -> Range<usize> {
        let (u, p) = (self.units as u128, self.pixels as u128);
        let start = px as u128 * u / p;
        let end = ((px as u128 + 1) * u / p).max(start + 1);
        start as usize..end as usize
    }

    /// The pixels that show `unit`.
    fn pixels_of(&self, unit: usize) -> Range<usize> {
        let (u, p) = (self.units as u128, self.pixels as u128);
        let end = ((unit as u128 + 1) * p).div_ceil(u);
        let start = (unit as u128 * p).div_ceil(u).min(end.saturating_sub(1));
        start as usize..end as usize
    }

    /// True when each unit gets at least `n` pixels.
    fn upscaled(&self, n: usize) -> bool {
        self.pixels >= self.units.saturating_mul(n)
    }
}

/// One track's lane.
#[derive(Debug)]
struct Lane {
    /// Top pixel row, relative to the picture.
    top: u32,
    /// Pitch rows, the highest pitch first.
    rows: Axis,
    low: u8,
    high: u8,
    name: String,
    silent: bool,
}

impl Lane {
    fn height(&self) -> u32 {
        self.rows.pixels as u32
    }

    /// The pixel rows (relative to the lane top) that show `pitch`, which must be in range.
    fn rows_of(&self, pitch: u8) -> Range<usize> {
        self.rows.pixels_of(usize::from(self.high - pitch))
    }
}

/// Where everything goes; computed before any pixel is allocated.
#[derive(Debug)]
struct Layout {
    width: u32,
    height: u32,
    plot_left: u32,
    time: Axis,
    lanes: Vec<Lane>,
    names: Names,
    axis_top: u32,
}

fn width_cap(options: &PlotOptions) -> Result<u32> {
    let cap = options.width.unwrap_or(DEFAULT_MAX_WIDTH);
    if cap > MAX_SIDE {
        return Err(Error::Invalid(format!(
            "plot width {cap} px is above the limit of {MAX_SIDE} px"
        )));
    }
    Ok(cap)
}

fn check_area(width: u32, height: u32) -> Result<()> {
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Error::Image(format!(
            "a {width}×{height} px picture is too large (at most {MAX_SIDE} px a side and \
             {MAX_PIXELS} pixels); use a smaller lane height or width"
        )));
    }
    Ok(())
}

/// The used pitches widened to whole octaves.
fn octave_range(used: &[bool; N_PITCHES]) -> Option<(u8, u8)> {
    let low = used.iter().position(|&u| u)? as u8;
    let high = used.iter().rposition(|&u| u)? as u8;
    Some((
        low - low % 12,
        (high - high % 12).saturating_add(11).min(127),
    ))
}

fn union(a: &mut [bool; N_PITCHES], b: &[bool; N_PITCHES]) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x |= y;
    }
}

/// A track's display name: trimmed, shortened, or "track N" when empty.
fn display_name(name: &str, index: usize) -> String {
    let name = name.trim();
    if name.is_empty() {
        format!("track {}", index + 1)
    } else if name.chars().count() > NAME_CHARS {
        name.chars()
            .take(NAME_CHARS - 2)
            .chain("..".chars())
            .collect()
    } else {
        name.to_string()
    }
}

impl Layout {
    fn new(multitrack: &Multitrack, options: &PlotOptions) -> Result<Layout> {
        if multitrack.tracks.is_empty() {
            return Err(Error::Image(
                "nothing to plot: the multitrack has no tracks".into(),
            ));
        }
        let steps = multitrack.len();
        if steps == 0 {
            return Err(Error::Image(
                "nothing to plot: the multitrack has no time steps".into(),
            ));
        }
        let cap = width_cap(options)?;

        // Pitch ranges: pitched tracks share the union of their notes; drums keep their own.
        let used: Vec<[bool; N_PITCHES]> = multitrack
            .tracks
            .iter()
            .map(|t| t.roll.used_pitches())
            .collect();
        let mut pitched = [false; N_PITCHES];
        let mut all = [false; N_PITCHES];
        for (track, u) in multitrack.tracks.iter().zip(&used) {
            if !track.is_drum {
                union(&mut pitched, u);
            }
            union(&mut all, u);
        }
        let shared = octave_range(&pitched)
            .or_else(|| octave_range(&all))
            .unwrap_or(DEFAULT_RANGE);
        let ranges: Vec<(u8, u8)> = multitrack
            .tracks
            .iter()
            .zip(&used)
            .map(|(track, u)| match track.is_drum {
                true => octave_range(u).unwrap_or(shared),
                false => shared,
            })
            .collect();
        let counts: Vec<u32> = ranges
            .iter()
            .map(|&(low, high)| u32::from(high - low) + 1)
            .collect();

        // Lane heights and the size of the track names.
        let chrome = u64::from(PAD + header_height() + PAD + text::line_height(SMALL) + 4)
            + u64::from(LANE_GAP + 2) * counts.len() as u64;
        let (heights, names_style) = match options.lane_height {
            Some(h) if !(MIN_LANE_HEIGHT..=MAX_SIDE).contains(&h) => {
                return Err(Error::Invalid(format!(
                    "lane height {h} px is outside {MIN_LANE_HEIGHT}..={MAX_SIDE}"
                )))
            }
            Some(h) => (vec![h; counts.len()], Names::fitting(h)),
            None => {
                let min = Names::Two(NAME).height();
                let lane = |n: u32, px: u32| n * px.max(min.div_ceil(n));
                let fits = |px: u32| {
                    chrome + counts.iter().map(|&n| u64::from(lane(n, px))).sum::<u64>()
                        <= AUTO_HEIGHT_BUDGET
                };
                let px = [4, 3, 2].into_iter().find(|&px| fits(px)).unwrap_or(1);
                (
                    counts.iter().map(|&n| lane(n, px)).collect(),
                    Names::Two(NAME),
                )
            }
        };
        let total = chrome + heights.iter().map(|&h| u64::from(h)).sum::<u64>();
        if total > u64::from(MAX_SIDE) {
            return Err(Error::Image(format!(
                "{} tracks need a {total} px tall picture, more than {MAX_SIDE} px",
                counts.len()
            )));
        }

        // The left margin: swatch, names, pitch labels.
        let names: Vec<String> = multitrack
            .tracks
            .iter()
            .enumerate()
            .map(|(i, t)| display_name(&t.name, i))
            .collect();
        let silent: Vec<bool> = used.iter().map(|u| !u.iter().any(|&x| x)).collect();
        let names_width = names
            .iter()
            .zip(&silent)
            .map(|(name, &silent)| names_style.width(name, silent))
            .max()
            .unwrap_or(0);
        let plot_left = PAD + SWATCH + 6 + names_width + 10 + label_column() + 6;

        // Time: upscale short pieces by a whole number of pixels per step, pool long ones.
        let room = cap
            .checked_sub(plot_left + PAD)
            .filter(|&r| r >= MIN_PLOT_PX);
        let Some(room) = room else {
            return Err(Error::Invalid(format!(
                "plot width {cap} px is too narrow: the labels alone need {} px",
                plot_left + PAD + MIN_PLOT_PX
            )));
        };
        let room = room as usize;
        let plot_width = if steps <= room {
            let per_step = MIN_PLOT_WIDTH.div_ceil(steps).clamp(1, MAX_STEP_PX);
            steps * per_step.min(room / steps)
        } else {
            room
        };

        let mut y = PAD + header_height();
        let mut lanes = Vec::with_capacity(counts.len());
        let lane_facts = ranges
            .into_iter()
            .zip(heights)
            .zip(names.into_iter().zip(silent));
        for (((low, high), h), (name, silent)) in lane_facts {
            lanes.push(Lane {
                top: y + 1,
                rows: Axis {
                    units: usize::from(high - low) + 1,
                    pixels: h as usize,
                },
                low,
                high,
                name,
                silent,
            });
            y += h + 2 + LANE_GAP;
        }
        let axis_top = y - LANE_GAP + 4;
        Ok(Layout {
            width: plot_left + plot_width as u32 + PAD,
            height: axis_top + text::line_height(SMALL) + PAD,
            plot_left,
            time: Axis {
                units: steps,
                pixels: plot_width,
            },
            lanes,
            names: names_style,
            axis_top,
        })
    }

    /// Draws the picture onto `canvas` (whose origin is this picture's top-left corner).
    fn paint(
        &self,
        multitrack: &Multitrack,
        title: Option<&str>,
        options: &PlotOptions,
        canvas: &mut Canvas,
    ) {
        let downbeats = downbeats(multitrack);
        let columns = self.column_lines(multitrack, &downbeats, options.beat_lines);

        // Header: title and a summary.
        let title = title.map(str::trim).filter(|t| !t.is_empty());
        let mut x = PAD;
        if let Some(title) = title {
            x += canvas.text(PAD, PAD, title, LARGE, TEXT) + 2 * TEXT_GAP;
        }
        let bars = downbeats.len();
        let summary = format!(
            "{bars} bar{}, {} steps/beat, {} steps",
            if bars == 1 { "" } else { "s" },
            multitrack.resolution().get(),
            self.time.units
        );
        // On the title's baseline.
        let y = PAD + text::ascent(LARGE) - text::ascent(SMALL);
        canvas.text(x, y, &summary, SMALL, FAINT_TEXT);

        for (index, (lane, track)) in self.lanes.iter().zip(&multitrack.tracks).enumerate() {
            let color = track_color(index);
            self.paint_margin(lane, color, canvas);
            self.paint_lane(lane, &track.roll, color, &columns, canvas);
        }
        self.paint_bar_numbers(&downbeats, canvas);
    }

    fn paint_margin(&self, lane: &Lane, color: Rgb<u8>, canvas: &mut Canvas) {
        let (top, height) = (lane.top, lane.height());
        canvas.fill(PAD, top, SWATCH, height, color);
        let x = PAD + SWATCH + 6;
        let size = self.names.size();
        let w = canvas.text(x, top + 2, &lane.name, size, TEXT);
        if lane.silent {
            let (x, y) = match self.names {
                Names::Two(_) => (x, top + 2 + text::line_height(size)),
                Names::One(_) => (x + w + text::width(" ", size), top + 2),
            };
            canvas.text(x, y, SILENT, size, FAINT_TEXT);
        }
        // Octave labels at the C rows, bottom-aligned with the row, far enough apart.
        let octave_px = 12 * lane.rows.pixels / lane.rows.units;
        let every = MIN_LABEL_SPACING.div_ceil(octave_px.max(1));
        let right = self.plot_left - 4;
        for c in (lane.low..=lane.high).step_by(12) {
            if usize::from((c - lane.low) / 12) % every != 0 {
                continue;
            }
            let bottom = lane.rows_of(c).end as u32;
            // The label's baseline on the row's bottom edge, its capitals inside the lane.
            if bottom < text::cap_height(SMALL) {
                continue;
            }
            let label = Pitch::new(c).map(Pitch::name).unwrap_or_default();
            let x = right.saturating_sub(text::width(&label, SMALL));
            let y = (top + bottom).saturating_sub(text::ascent(SMALL));
            canvas.text(x, y, &label, SMALL, FAINT_TEXT);
        }
        // Border around the roll.
        let (left, width) = (self.plot_left - 1, self.time.pixels as u32 + 2);
        canvas.fill(left, top - 1, width, 1, BORDER);
        canvas.fill(left, top + height, width, 1, BORDER);
        canvas.fill(left, top - 1, 1, height + 2, BORDER);
        canvas.fill(left + width - 1, top - 1, 1, height + 2, BORDER);
    }

    /// What each pixel column shows behind (beat) or over (bar) the notes.
    fn column_lines(&self, multitrack: &Multitrack, downbeats: &[usize], beats: bool) -> Vec<Line> {
        let mut columns = vec![Line::None; self.time.pixels];
        let steps = self.time.units;
        let px_per_step = self.time.pixels as f64 / steps as f64;
        if beats {
            let res = u64::from(multitrack.resolution().get());
            let signatures = multitrack.time_signatures();
            for (i, ts) in signatures.iter().enumerate() {
                let end = signatures.get(i + 1).map_or(steps, |n| n.step.min(steps));
                let den = u64::from(ts.denominator);
                let beat_px = (4 * res) as f64 / den as f64 * px_per_step;
                if ts.step >= end || beat_px < MIN_BEAT_PX {
                    continue;
                }
                for j in 1u64.. {
                    // Beat j of the segment starts round(j · 4/den · res) steps in, the same
                    // rounding as the bar lines.
                    let step = ts
                        .step
                        .saturating_add(((2 * j * 4 * res + den) / (2 * den)) as usize);
                    if step >= end {
                        break;
                    }
                    if j % u64::from(ts.numerator) != 0 {
                        if let Some(c) = columns.get_mut(self.time.pixels_of(step).start) {
                            *c = Line::Beat;
                        }
                    }
                }
            }
        }
        for &step in downbeats
            .iter()
            .step_by(self.bar_stride(downbeats.len(), MIN_BAR_PX))
        {
            if step > 0 {
                if let Some(c) = columns.get_mut(self.time.pixels_of(step).start) {
                    *c = Line::Bar;
                }
            }
        }
        columns
    }

    /// The stride (a power of two) at which to draw bars so drawn bars are on average at least
    /// `min_px` apart.
    fn bar_stride(&self, bars: usize, min_px: f64) -> usize {
        let bar_px = self.time.pixels as f64 / bars.max(1) as f64;
        let mut stride = 1;
        while bar_px * (stride as f64) < min_px && stride < bars {
            stride *= 2;
        }
        stride
    }

    fn paint_lane(
        &self,
        lane: &Lane,
        roll: &Roll,
        color: Rgb<u8>,
        columns: &[Line],
        canvas: &mut Canvas,
    ) {
        let n = lane.rows.units;
        let low = usize::from(lane.low);
        // Pool steps into pixel columns: loudest velocity per (column, pitch), and whether the
        // column is the first of a step where a note begins.
        let show_onsets = self.time.upscaled(2);
        let mut pooled = vec![(0u8, false); self.time.pixels * n];
        for (x, cells) in pooled.chunks_mut(n).enumerate() {
            let span = self.time.span(x);
            let first_of_step = x == 0 || self.time.span(x - 1).start != span.start;
            for t in span.clone().filter(|&t| t < roll.len()) {
                for (cell, &v) in cells.iter_mut().zip(&roll.step(t)[low..]) {
                    cell.0 = cell.0.max(v);
                }
            }
            if show_onsets && first_of_step && span.start < roll.len() {
                for (k, cell) in cells.iter_mut().enumerate() {
                    if let Some(p) = Pitch::new((low + k) as u8) {
                        cell.1 = cell.0 > 0 && roll.is_onset(span.start, p);
                    }
                }
            }
        }
        let octave_rows: Vec<bool> = {
            let mut rows = vec![false; lane.rows.pixels];
            for c in (lane.low..=lane.high).step_by(12).skip(1) {
                if let Some(r) = rows.get_mut(lane.rows_of(c).end - 1) {
                    *r = true;
                }
            }
            rows
        };
        let shades = Shades::new(color, roll.kind());
        let mut pixels = vec![BACKGROUND; self.time.pixels];
        let mut previous = None;
        for (y, &octave_row) in octave_rows.iter().enumerate() {
            // Pitch offsets (from `low`) shown by this row; upscaled pitches repeat a row.
            let span = lane.rows.span(y);
            if previous != Some((span.clone(), octave_row)) {
                let offsets = (n - span.end)..(n - span.start);
                for ((pixel, cells), &line) in pixels.iter_mut().zip(pooled.chunks(n)).zip(columns)
                {
                    let (v, onset) = cells[offsets.clone()]
                        .iter()
                        .fold((0u8, false), |(v, o), &(cv, co)| (v.max(cv), o || co));
                    *pixel = match line {
                        _ if v > 0 => shades.note(v, onset, line == Line::Bar),
                        Line::Bar => BAR_LINE,
                        _ if octave_row => OCTAVE_LINE,
                        Line::Beat => BEAT_LINE,
                        Line::None => BACKGROUND,
                    };
                }
                previous = Some((span, octave_row));
            }
            canvas.row(self.plot_left, lane.top + y as u32, &pixels);
        }
    }

    fn paint_bar_numbers(&self, downbeats: &[usize], canvas: &mut Canvas) {
        let right = self.plot_left - 4;
        canvas.text(
            right.saturating_sub(text::width("bar", SMALL)),
            self.axis_top,
            "bar",
            SMALL,
            FAINT_TEXT,
        );
        let widest = text::width(&downbeats.len().to_string(), SMALL);
        let stride = self.bar_stride(downbeats.len(), f64::from(widest + TEXT_GAP));
        let end = self.plot_left + self.time.pixels as u32;
        let mut free = self.plot_left;
        for (i, &step) in downbeats.iter().enumerate().step_by(stride) {
            let label = (i + 1).to_string();
            let x = self.plot_left + self.time.pixels_of(step).start as u32 + 2;
            let w = text::width(&label, SMALL);
            if x >= free && x + w <= end {
                canvas.text(x, self.axis_top, &label, SMALL, FAINT_TEXT);
                free = x + w + TEXT_GAP;
            }
        }
    }
}

const SILENT: &str = "(silent)";

/// Height of the header line (the title) plus its gap.
fn header_height() -> u32 {
    text::line_height(LARGE) + 8
}

/// Width of the pitch-label column: its widest label, "C-1".
fn label_column() -> u32 {
    text::width("C-1", SMALL)
}

/// How a lane's margin shows its track's name and whether it is silent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Names {
    /// The name, and "(silent)" under it, at this size.
    Two(f32),
    /// "Name (silent)" on one line at this size, for lanes too short for two.
    One(f32),
}

impl Names {
    /// The largest style whose text fits in a lane `height` pixels tall.
    fn fitting(height: u32) -> Names {
        [Names::Two(NAME), Names::Two(SMALL)]
            .into_iter()
            .find(|n| n.height() <= height)
            .unwrap_or(Names::One(SMALL))
    }

    fn size(self) -> f32 {
        match self {
            Names::Two(size) | Names::One(size) => size,
        }
    }

    /// The lane height the text needs, with 2 px above it and 2 px below.
    fn height(self) -> u32 {
        let lines = match self {
            Names::Two(_) => 2,
            Names::One(_) => 1,
        };
        lines * text::line_height(self.size()) + 4
    }

    /// The width of a lane's text.
    fn width(self, name: &str, silent: bool) -> u32 {
        let size = self.size();
        match (self, silent) {
            (Names::One(_), true) => text::width(&format!("{name} {SILENT}"), size),
            (_, true) => text::width(name, size).max(text::width(SILENT, size)),
            (_, false) => text::width(name, size),
        }
    }
}

/// Downbeats without duplicates (very short bars at a coarse resolution can round together).
fn downbeats(multitrack: &Multitrack) -> Vec<usize> {
    let mut steps = multitrack.downbeat_steps();
    steps.dedup();
    steps
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    None,
    Beat,
    Bar,
}

/// A track's note colours by velocity, plain, at an onset, under a bar line, or both.
struct Shades([[Rgb<u8>; 4]; 128]);

impl Shades {
    fn new(color: Rgb<u8>, kind: RollKind) -> Shades {
        let mut shades = [[color; 4]; 128];
        for (v, shade) in shades.iter_mut().enumerate() {
            // Velocity 1 is faint but visible; 127 is the full colour.
            let base = match kind {
                RollKind::Velocity => mix(BACKGROUND, color, 0.3 + 0.7 * v as f32 / 127.0),
                RollKind::Binary => color,
            };
            let onset = darken(base, ONSET_SHADE);
            *shade = [
                base,
                onset,
                darken(base, BAR_OVER_NOTE),
                darken(onset, BAR_OVER_NOTE),
            ];
        }
        Shades(shades)
    }

    fn note(&self, velocity: u8, onset: bool, bar: bool) -> Rgb<u8> {
        self.0[usize::from(velocity.min(127))][usize::from(onset) | usize::from(bar) << 1]
    }
}

fn mix(a: Rgb<u8>, b: Rgb<u8>, alpha: f32) -> Rgb<u8> {
    let channel =
        |i: usize| (f32::from(a.0[i]) * (1.0 - alpha) + f32::from(b.0[i]) * alpha).round() as u8;
    Rgb([channel(0), channel(1), channel(2)])
}

fn darken(c: Rgb<u8>, factor: f32) -> Rgb<u8> {
    mix(Rgb([0, 0, 0]), c, factor)
}

// ---------------------------------------------------------------------------------------------
// Drawing

/// A picture, or one cell of a grid: a `width` × `height` window of `image` at (`left`, `top`).
/// Coordinates are relative to the window, and pixels outside it are ignored, so a long title
/// cannot spill into the next cell.
pub(crate) struct Canvas<'a> {
    pub(crate) image: &'a mut RgbImage,
    pub(crate) left: u32,
    pub(crate) top: u32,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

impl Canvas<'_> {
    pub(crate) fn set(&mut self, x: u32, y: u32, color: Rgb<u8>) {
        if x >= self.width || y >= self.height {
            return;
        }
        let (x, y) = (self.left.saturating_add(x), self.top.saturating_add(y));
        if let Some(p) = self.image.get_pixel_mut_checked(x, y) {
            *p = color;
        }
    }

    /// Copies `pixels` into row `y` from column `x` on.
    fn row(&mut self, x: u32, y: u32, pixels: &[Rgb<u8>]) {
        if x >= self.width || y >= self.height {
            return;
        }
        let visible = pixels.len().min((self.width - x) as usize);
        let (x, y) = (self.left.saturating_add(x), self.top.saturating_add(y));
        let (width, height) = self.image.dimensions();
        if x >= width || y >= height {
            return;
        }
        let start = (y as usize * width as usize + x as usize) * 3;
        let len = visible.min((width - x) as usize) * 3;
        let raw: &mut [u8] = self.image;
        if let Some(out) = raw.get_mut(start..start + len) {
            for (out, pixel) in out.chunks_exact_mut(3).zip(pixels) {
                out.copy_from_slice(&pixel.0);
            }
        }
    }

    pub(crate) fn fill(&mut self, x: u32, y: u32, width: u32, height: u32, color: Rgb<u8>) {
        for yy in y..y.saturating_add(height) {
            for xx in x..x.saturating_add(width) {
                self.set(xx, yy, color);
            }
        }
    }

    /// Draws `text` at `size` (pixels per em) with the top-left corner of its line box at
    /// (`x`, `y`), clipped to the window; returns its width, as [`text::width`].
    pub(crate) fn text(&mut self, x: u32, y: u32, text: &str, size: f32, color: Rgb<u8>) -> u32 {
        let clip = Clip {
            left: self.left,
            top: self.top,
            right: self.left.saturating_add(self.width),
            bottom: self.top.saturating_add(self.height),
        };
        let at = (
            i64::from(self.left) + i64::from(x),
            i64::from(self.top) + i64::from(y),
        );
        text::draw(self.image, clip, at, text, size, color)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Note, Program, Resolution, TimeSignature, Track};
    use proptest::prelude::*;

    const RES: u32 = 4; // 16 steps a 4/4 bar

    fn note(pitch: u8, start: usize, end: usize, velocity: u8) -> Note {
        Note {
            pitch: Pitch::new(pitch).unwrap(),
            start,
            end,
            velocity,
        }
    }

    fn track(name: &str, drum: bool, steps: usize, notes: &[Note]) -> Track {
        let mut t = Track::new(name, Program::new(0).unwrap(), drum, steps);
        for &n in notes {
            t.roll.add_note(n);
        }
        t
    }

    fn song(tracks: Vec<Track>) -> Multitrack {
        let mut m = Multitrack::new(Resolution::new(RES).unwrap());
        m.tracks = tracks;
        m
    }

    fn no_beats() -> PlotOptions {
        PlotOptions {
            beat_lines: false,
            ..PlotOptions::default()
        }
    }

    /// The picture and its layout.
    fn draw(m: &Multitrack, options: &PlotOptions) -> (RgbImage, Layout) {
        (
            render(m, options).unwrap(),
            Layout::new(m, options).unwrap(),
        )
    }

    /// Absolute pixel columns of `step` and rows of `pitch` in lane `lane`.
    fn cell(layout: &Layout, lane: usize, step: usize, pitch: u8) -> (Range<u32>, Range<u32>) {
        let xs = layout.time.pixels_of(step);
        let lane = &layout.lanes[lane];
        let ys = lane.rows_of(pitch);
        let x0 = layout.plot_left;
        (
            x0 + xs.start as u32..x0 + xs.end as u32,
            lane.top + ys.start as u32..lane.top + ys.end as u32,
        )
    }

    fn colors_in(image: &RgbImage, xs: Range<u32>, ys: Range<u32>) -> Vec<Rgb<u8>> {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
            .map(|(x, y)| *image.get_pixel(x, y))
            .collect()
    }

    #[test]
    fn a_note_fills_its_cells_with_the_track_colour_and_nothing_else() {
        let m = song(vec![
            track("Piano", false, 64, &[note(62, 4, 8, 127)]),
            track("Bass", false, 64, &[note(48, 0, 2, 127)]),
        ]);
        let (image, layout) = draw(&m, &no_beats());
        let piano = track_color(0);
        // Steps 5–7 are entirely the piano colour; step 4 begins with the darker onset column.
        let (xs, ys) = cell(&layout, 0, 5, 62);
        let (xe, _) = cell(&layout, 0, 7, 62);
        assert!(colors_in(&image, xs.start..xe.end, ys.clone())
            .iter()
            .all(|&c| c == piano));
        let (x4, _) = cell(&layout, 0, 4, 62);
        assert_eq!(
            *image.get_pixel(x4.start, ys.start),
            darken(piano, ONSET_SHADE)
        );
        assert_eq!(*image.get_pixel(x4.start + 1, ys.start), piano);
        // Around it: silence before and after, and the neighbouring pitches.
        for (step, pitch) in [(3, 62), (8, 62), (5, 61), (5, 63)] {
            let (xs, ys) = cell(&layout, 0, step, pitch);
            assert!(
                colors_in(&image, xs, ys).iter().all(|&c| c == BACKGROUND),
                "{step} {pitch}"
            );
        }
        // The other lane has its own colour, and nothing where the piano plays.
        let (xs, ys) = cell(&layout, 1, 1, 48);
        assert!(colors_in(&image, xs, ys)
            .iter()
            .all(|&c| c == track_color(1)));
        let (xs, ys) = cell(&layout, 1, 5, 62);
        assert!(colors_in(&image, xs, ys).iter().all(|&c| c == BACKGROUND));
        assert_ne!(track_color(0), track_color(1));
    }

    #[test]
    fn bar_lines_sit_at_the_downbeats_and_beat_lines_between() {
        let mut m = song(vec![track("Silence", false, 64, &[])]);
        let row = |layout: &Layout| layout.lanes[0].top + 1;
        let (image, layout) = draw(&m, &PlotOptions::default());
        let column = |step: usize| layout.plot_left + layout.time.pixels_of(step).start as u32;
        assert_eq!(*image.get_pixel(column(16), row(&layout)), BAR_LINE);
        assert_eq!(*image.get_pixel(column(48), row(&layout)), BAR_LINE);
        assert_eq!(*image.get_pixel(column(20), row(&layout)), BEAT_LINE);
        assert_eq!(*image.get_pixel(column(16) + 1, row(&layout)), BACKGROUND);
        assert_eq!(*image.get_pixel(column(12), row(&layout)), BEAT_LINE);
        // Without beat lines the beat column is background.
        let (image, _) = draw(&m, &no_beats());
        assert_eq!(*image.get_pixel(column(20), row(&layout)), BACKGROUND);
        assert_eq!(*image.get_pixel(column(16), row(&layout)), BAR_LINE);
        // In 3/4 the bars start every 12 steps.
        m.set_time_signatures([TimeSignature {
            step: 0,
            numerator: 3,
            denominator: 4,
        }])
        .unwrap();
        let (image, layout) = draw(&m, &PlotOptions::default());
        assert_eq!(*image.get_pixel(column(12), row(&layout)), BAR_LINE);
        assert_eq!(*image.get_pixel(column(16), row(&layout)), BEAT_LINE);
    }

    #[test]
    fn a_bar_line_darkens_a_note_but_does_not_hide_it() {
        let m = song(vec![track("Pad", false, 64, &[note(60, 0, 64, 127)])]);
        let (image, layout) = draw(&m, &no_beats());
        let (xs, ys) = cell(&layout, 0, 16, 60);
        let expected = darken(track_color(0), BAR_OVER_NOTE);
        assert_eq!(*image.get_pixel(xs.start, ys.start), expected);
    }

    #[test]
    fn pooling_keeps_a_one_step_note_in_a_long_song() {
        let steps = 10_000;
        let m = song(vec![
            track("A", false, steps, &[note(48, 0, 8, 100)]),
            track("B", false, steps, &[]),
            track("C", false, steps, &[note(60, 5003, 5004, 127)]),
            track("D", false, steps, &[note(72, 9000, 9100, 100)]),
        ]);
        let (image, layout) = draw(&m, &no_beats());
        assert_eq!(image.width(), DEFAULT_MAX_WIDTH);
        assert!(!layout.time.upscaled(1));
        let color = track_color(2);
        let (xs, ys) = cell(&layout, 2, 5003, 60);
        assert_eq!(xs.len(), 1, "a pooled column holds several steps");
        let shown = *image.get_pixel(xs.start, ys.start);
        assert!(
            shown == color || shown == darken(color, BAR_OVER_NOTE),
            "{shown:?}"
        );
        // It is the lane's only note pixel column.
        let lane = &layout.lanes[2];
        let x_range = layout.plot_left..layout.plot_left + layout.time.pixels as u32;
        let columns: std::collections::BTreeSet<u32> = x_range
            .flat_map(|x| (lane.top..lane.top + lane.height()).map(move |y| (x, y)))
            .filter(|&(x, y)| *image.get_pixel(x, y) == color)
            .map(|(x, _)| x)
            .collect();
        assert!(
            columns.len() <= 1 && columns.iter().all(|&x| x == xs.start),
            "{columns:?}"
        );
    }

    #[test]
    fn pictures_stay_within_their_bounds() {
        for (steps, width) in [(30_000, None), (30_000, Some(1500)), (3, Some(300))] {
            let m = song(vec![track("A", false, steps, &[note(60, 1, 2, 90)])]);
            let options = PlotOptions {
                width,
                ..PlotOptions::default()
            };
            let image = render(&m, &options).unwrap();
            assert!(
                image.width() <= width.unwrap_or(DEFAULT_MAX_WIDTH),
                "{steps} {width:?}"
            );
            assert!(image.height() < 400);
        }
        // A short phrase is upscaled by a whole number of pixels per step, at least 2.
        let m = song(vec![track("A", false, 4 * 96, &[])]);
        let layout = Layout::new(&m, &PlotOptions::default()).unwrap();
        assert_eq!(layout.time.pixels % layout.time.units, 0);
        assert!(layout.time.upscaled(2));
        // Hundreds of tracks: an error by default, fine with a small lane height.
        let many = song(
            (0..300)
                .map(|i| track(&i.to_string(), false, 16, &[]))
                .collect(),
        );
        let err = render(&many, &PlotOptions::default()).unwrap_err();
        assert!(err.to_string().contains("300 tracks"), "{err}");
        let small = PlotOptions {
            lane_height: Some(MIN_LANE_HEIGHT),
            ..PlotOptions::default()
        };
        assert!(render(&many, &small).unwrap().height() <= MAX_SIDE);
    }

    /// Pixels within 40 levels of `color` (anti-aliased text is solid only in its strokes).
    fn near(a: Rgb<u8>, b: Rgb<u8>) -> bool {
        a.0.iter().zip(b.0).all(|(&x, y)| x.abs_diff(y) <= 40)
    }

    #[test]
    fn track_names_and_silence_are_written_in_the_margin() {
        let m = song(vec![
            track("Piano", false, 32, &[note(60, 0, 4, 100)]),
            track("Guitar", false, 32, &[]),
        ]);
        let (image, layout) = draw(&m, &PlotOptions::default());
        assert_eq!(layout.names, Names::Two(NAME));
        let left = PAD + SWATCH + 6;
        let line = text::line_height(NAME);
        let count = |lane: usize, line_no: u32, color: Rgb<u8>| {
            let top = layout.lanes[lane].top + 2 + line_no * line;
            let names = left..left + text::width(SILENT, NAME);
            colors_in(&image, names, top..top + line)
                .iter()
                .filter(|&&c| near(c, color))
                .count()
        };
        assert!(count(0, 0, TEXT) > 30, "Piano");
        assert!(count(1, 0, TEXT) > 30, "Guitar");
        assert!(count(1, 1, FAINT_TEXT) > 30, "(silent)");
        assert_eq!(count(0, 1, FAINT_TEXT), 0, "a playing track is not silent");
        assert_eq!(count(0, 1, TEXT), 0);
        // "Guitar" is wider than "Piano": its ink reaches further right.
        let rightmost = |lane: usize| {
            let top = layout.lanes[lane].top + 2;
            (left..layout.plot_left)
                .filter(|&x| (top..top + line).any(|y| near(*image.get_pixel(x, y), TEXT)))
                .max()
                .unwrap()
        };
        assert!(rightmost(1) > rightmost(0));
        assert!(rightmost(0) < left + text::width("Piano", NAME) + 1);
        // The colour swatch matches the lane.
        assert_eq!(*image.get_pixel(PAD, layout.lanes[1].top), track_color(1));
    }

    #[test]
    fn short_lanes_put_silent_after_the_name() {
        let m = song(vec![track("Guitar", false, 32, &[])]);
        for (height, names) in [
            (MIN_LANE_HEIGHT, Names::One(SMALL)),
            (Names::Two(SMALL).height(), Names::Two(SMALL)),
            (Names::Two(NAME).height(), Names::Two(NAME)),
        ] {
            let options = PlotOptions {
                lane_height: Some(height),
                ..PlotOptions::default()
            };
            let (image, layout) = draw(&m, &options);
            assert_eq!(layout.names, names, "{height}");
            assert!(names.height() <= height);
            // Every text pixel of the margin is inside the lane's rows.
            let lane = &layout.lanes[0];
            let left = PAD + SWATCH + 6;
            let label_x = layout.plot_left - 4 - label_column();
            for y in PAD + header_height()..layout.axis_top {
                for x in left..label_x {
                    let inked = *image.get_pixel(x, y) != BACKGROUND;
                    assert!(
                        !inked || (lane.top..lane.top + height).contains(&y),
                        "({x}, {y})"
                    );
                }
            }
        }
        // Side by side, "(silent)" starts after the name.
        let options = PlotOptions {
            lane_height: Some(MIN_LANE_HEIGHT),
            ..PlotOptions::default()
        };
        let (image, layout) = draw(&m, &options);
        let left = PAD + SWATCH + 6;
        let name_end = left + text::width("Guitar ", SMALL);
        let top = layout.lanes[0].top;
        let faint = colors_in(
            &image,
            name_end..layout.plot_left,
            top..top + MIN_LANE_HEIGHT,
        )
        .into_iter()
        .filter(|&c| near(c, FAINT_TEXT))
        .count();
        assert!(faint > 30, "{faint}");
    }

    #[test]
    fn canvas_text_stays_in_its_window() {
        let mut image = RgbImage::from_pixel(200, 40, BACKGROUND);
        let mut canvas = Canvas {
            image: &mut image,
            left: 50,
            top: 10,
            width: 60,
            height: 20,
        };
        let w = canvas.text(2, 2, "a caption far too long", SMALL, TEXT);
        assert_eq!(w, text::width("a caption far too long", SMALL));
        assert!(w > 60);
        let inked: Vec<(u32, u32)> = image
            .enumerate_pixels()
            .filter(|(_, _, &c)| c != BACKGROUND)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(inked.len() > 50);
        assert!(inked
            .iter()
            .all(|&(x, y)| (50..110).contains(&x) && (10..30).contains(&y)));
        // The text starts at the window's x + 2: "a" has ink within its first advance.
        assert!(inked.iter().any(|&(x, _)| x < 52 + text::width("a", SMALL)));
    }

    #[test]
    fn repeated_notes_are_told_apart_from_one_held_note() {
        let m = song(vec![
            track(
                "Twice",
                false,
                32,
                &[note(60, 0, 4, 127), note(60, 4, 8, 127)],
            ),
            track("Once", false, 32, &[note(60, 0, 8, 127)]),
        ]);
        let (image, layout) = draw(&m, &no_beats());
        let edge = |lane: usize| {
            let (before, ys) = cell(&layout, lane, 3, 60);
            let (at, _) = cell(&layout, lane, 4, 60);
            (
                *image.get_pixel(before.end - 1, ys.start),
                *image.get_pixel(at.start, ys.start),
            )
        };
        let (before, at) = edge(0);
        assert_eq!(before, track_color(0));
        assert_eq!(at, darken(track_color(0), ONSET_SHADE));
        let (before, at) = edge(1);
        assert_eq!(before, at, "a held note has no mark inside");
    }

    #[test]
    fn higher_pitches_are_drawn_higher() {
        let m = song(vec![track(
            "Piano",
            false,
            16,
            &[note(60, 0, 4, 127), note(72, 8, 12, 127)],
        )]);
        let (image, layout) = draw(&m, &PlotOptions::default());
        let (x60, y60) = cell(&layout, 0, 1, 60);
        let (x72, y72) = cell(&layout, 0, 9, 72);
        assert!(y72.end <= y60.start);
        assert_eq!(*image.get_pixel(x60.start, y60.start), track_color(0));
        assert_eq!(*image.get_pixel(x72.start, y72.start), track_color(0));
        // The range is whole octaves: C4–B5.
        assert_eq!((layout.lanes[0].low, layout.lanes[0].high), (60, 83));
    }

    #[test]
    fn drums_keep_their_own_range_and_silent_lanes_the_shared_one() {
        let m = song(vec![
            track("Keys", false, 16, &[note(62, 0, 4, 90), note(77, 0, 4, 90)]),
            track("Drums", true, 16, &[note(36, 0, 1, 90), note(42, 2, 3, 90)]),
            track("Tacet", false, 16, &[]),
            track("Tacet drums", true, 16, &[]),
        ]);
        let layout = Layout::new(&m, &PlotOptions::default()).unwrap();
        let ranges: Vec<(u8, u8)> = layout.lanes.iter().map(|l| (l.low, l.high)).collect();
        assert_eq!(ranges, [(60, 83), (36, 47), (60, 83), (60, 83)]);
        // Every lane gets a whole number of pixels per pitch.
        assert!(layout
            .lanes
            .iter()
            .all(|l| l.rows.upscaled(1) && l.rows.pixels % l.rows.units == 0));
        let nothing = song(vec![track("Tacet", false, 16, &[])]);
        let layout = Layout::new(&nothing, &PlotOptions::default()).unwrap();
        assert_eq!((layout.lanes[0].low, layout.lanes[0].high), DEFAULT_RANGE);
    }

    #[test]
    fn a_small_lane_height_pools_pitches_without_losing_any() {
        let notes = [
            note(36, 0, 4, 127),
            note(61, 4, 8, 127),
            note(83, 8, 12, 127),
        ];
        let m = song(vec![track("Keys", false, 16, &notes)]);
        let options = PlotOptions {
            lane_height: Some(MIN_LANE_HEIGHT),
            ..no_beats()
        };
        let (image, layout) = draw(&m, &options);
        assert_eq!(layout.lanes[0].height(), MIN_LANE_HEIGHT);
        assert_eq!(layout.lanes[0].rows.units, 48);
        for n in notes {
            let (xs, ys) = cell(&layout, 0, n.start + 1, n.pitch.number());
            assert_eq!(ys.len(), 1);
            assert_eq!(
                *image.get_pixel(xs.start, ys.start),
                track_color(0),
                "{n:?}"
            );
        }
    }

    #[test]
    fn velocity_sets_the_intensity() {
        let m = song(vec![track(
            "Keys",
            false,
            16,
            &[note(60, 0, 4, 20), note(60, 8, 12, 127)],
        )]);
        let (image, layout) = draw(&m, &no_beats());
        let brightness = |step| {
            let (xs, ys) = cell(&layout, 0, step, 60);
            image
                .get_pixel(xs.start, ys.start)
                .0
                .iter()
                .map(|&c| u32::from(c))
                .sum::<u32>()
        };
        let white = 3 * 255;
        assert!(brightness(1) < white && brightness(1) > brightness(9) + 100);
        // Binary rolls use the full colour.
        let mut binary = m.clone();
        binary.binarize(0);
        let (image, layout) = draw(&binary, &no_beats());
        let (xs, ys) = cell(&layout, 0, 1, 60);
        assert_eq!(*image.get_pixel(xs.start, ys.start), track_color(0));
    }

    #[test]
    fn tracks_of_different_lengths_are_drawn() {
        let m = song(vec![
            track("Short", false, 8, &[note(60, 0, 8, 127)]),
            track("Long", false, 64, &[note(60, 60, 64, 127)]),
        ]);
        let (image, layout) = draw(&m, &no_beats());
        assert_eq!(layout.time.units, 64);
        let (xs, ys) = cell(&layout, 0, 30, 60);
        assert!(colors_in(&image, xs, ys).iter().all(|&c| c == BACKGROUND));
    }

    #[test]
    fn nothing_to_draw_is_an_error() {
        let none = song(vec![]);
        let err = render(&none, &PlotOptions::default()).unwrap_err();
        assert!(err.to_string().contains("no tracks"), "{err}");
        let empty = song(vec![track("A", false, 0, &[])]);
        let err = render(&empty, &PlotOptions::default()).unwrap_err();
        assert!(err.to_string().contains("no time steps"), "{err}");
        let err = render_grid(&[], 2, &PlotOptions::default()).unwrap_err();
        assert!(err.to_string().contains("no items"), "{err}");
        let one = song(vec![track("A", false, 16, &[])]);
        let items = [("x".to_string(), one), ("empty".to_string(), empty)];
        assert!(render_grid(&items, 0, &PlotOptions::default()).is_err());
        let err = render_grid(&items, 2, &PlotOptions::default()).unwrap_err();
        assert!(err.to_string().contains("\"empty\""), "{err}");
    }

    #[test]
    fn options_out_of_range_are_errors() {
        let m = song(vec![track("A", false, 16, &[])]);
        for options in [
            PlotOptions {
                width: Some(60),
                ..PlotOptions::default()
            },
            PlotOptions {
                width: Some(MAX_SIDE + 1),
                ..PlotOptions::default()
            },
            PlotOptions {
                lane_height: Some(MIN_LANE_HEIGHT - 1),
                ..PlotOptions::default()
            },
        ] {
            assert!(
                matches!(render(&m, &options), Err(Error::Invalid(_))),
                "{options:?}"
            );
        }
    }

    #[test]
    fn grid_cells_sit_side_by_side() {
        let a = song(vec![track("A", false, 16, &[note(60, 0, 4, 127)])]);
        let mut items: Vec<(String, Multitrack)> =
            (0..3).map(|i| (format!("sample {i}"), a.clone())).collect();
        items[0].0 = "a caption far too long for its cell ".repeat(10);
        let cell = render(
            &a,
            &PlotOptions {
                width: Some((DEFAULT_MAX_WIDTH - GRID_GAP) / 2),
                ..PlotOptions::default()
            },
        )
        .unwrap();
        let grid = render_grid(&items, 2, &PlotOptions::default()).unwrap();
        assert_eq!(grid.width(), 2 * cell.width() + GRID_GAP);
        assert_eq!(grid.height(), 2 * cell.height() + GRID_GAP);
        // The second cell is the first one's picture (bar the caption), shifted right.
        let dx = cell.width() + GRID_GAP;
        let top = PAD + header_height();
        for y in top..cell.height() {
            for x in 0..cell.width() {
                assert_eq!(grid.get_pixel(x + dx, y), cell.get_pixel(x, y));
            }
        }
        // The long caption is clipped at its cell's edge: the gap stays blank.
        assert!(colors_in(&grid, cell.width()..dx, 0..grid.height())
            .iter()
            .all(|&c| c == BACKGROUND));
        // The fourth slot stays empty.
        let dy = cell.height() + GRID_GAP;
        assert!(colors_in(&grid, dx..grid.width(), dy..grid.height())
            .iter()
            .all(|&c| c == BACKGROUND));
    }

    proptest! {
        #[test]
        fn axis_spans_cover_every_unit(units in 1usize..5000, pixels in 1usize..5000) {
            let axis = Axis { units, pixels };
            let mut next = 0;
            for px in 0..pixels {
                let span = axis.span(px);
                prop_assert!(span.start < span.end && span.end <= units);
                // Downscaled spans partition the units; upscaled ones repeat a unit.
                prop_assert!(span.start == next || span.start + 1 == next);
                next = span.end;
            }
            prop_assert_eq!(next, units);
            for unit in [0, units / 3, units - 1] {
                let pxs = axis.pixels_of(unit);
                prop_assert!(!pxs.is_empty() && pxs.end <= pixels);
                for px in pxs.clone() {
                    prop_assert!(axis.span(px).contains(&unit), "{} {:?}", unit, pxs);
                }
                if pxs.start > 0 {
                    prop_assert!(!axis.span(pxs.start - 1).contains(&unit));
                }
            }
        }
    }
}
