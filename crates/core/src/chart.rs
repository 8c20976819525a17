//! Line charts of training curves: losses, gradient penalties, Wasserstein estimates and metrics
//! against the training step, a grid of panels in one RGB image (like Fig. 9 of the BinaryMuseGAN
//! paper). The training loop writes them to `curves.png` with [`write_png`].
//!
//! Policies, and why:
//!
//! - **Bad values leave gaps, not errors.** A loss can blow up and a metric can be NaN (a sample
//!   with no notes); a point whose x or y is not finite is skipped and the line is broken there,
//!   so the picture shows where it happened. A panel without a single finite point is drawn with
//!   its axes and "no data" instead of failing the whole chart.
//! - **One x axis.** Every panel is plotted against the same steps, so all panels share one x
//!   range (the union of their finite x values, not padded: curves start at the left edge) and
//!   their columns line up. Each panel has its own y range: its finite values and its reference
//!   value, padded by 5% on both sides so extremes do not sit on the frame. A range of one value
//!   (a constant, one point) is widened around the value (by 10% of it, or ±1 around zero).
//! - **Round ticks.** Tick values are the multiples of 1, 2 or 5 × 10ᵏ inside the range, the
//!   finest step that leaves at most a few labels ([`nice_ticks`]); labels never overlap.
//! - **The mapping is exact and documented.** In a plot area `width` × `height` pixels whose
//!   top-left pixel is (`left`, `top`), x maps to column `left + round((x − x_lo) / (x_hi −
//!   x_lo) · (width − 1))` and y to row `top + (height − 1) − round((y − y_lo) / (y_hi − y_lo) ·
//!   (height − 1))` (halves round up): the range's ends are the area's outermost pixels.
//!   plotters draws each plot on a `0..1` × `0..1` chart of the data's fractions of its axes
//!   (computed on halves, so even a range spanning most of the doubles does not overflow),
//!   nudged by half a pixel since plotters rounds down.
//! - **Fast on long runs.** Consecutive points falling into one pixel column are reduced to the
//!   first, lowest, highest and last of them before drawing, which reaches the same rows in
//!   every column as the whole run; a million-point series costs one pass over its points.
//! - **Bounded.** The picture is at most [`MAX_SIDE`] pixels a side and [`MAX_PIXELS`] in all;
//!   larger options are [`Error::Invalid`], as are options that leave no room for a plot.
//!
//! The lines, grid, frame, ticks and legend marks are drawn by the `plotters` crate (its bitmap
//! backend, no system fonts): 1 px anti-aliased lines in a fixed palette (the piano-roll track
//! colours of [`plot`], cycled); a reference value (e.g. the training data's value of a metric)
//! is a black dashed line; a point with no neighbour to join is a small square. This module
//! decides the layout and the ticks. Text is set in DejaVu Sans by the same code as the
//! piano-roll pictures' (the crate's `text` module), after the shapes.

use crate::error::{Error, Result};
use crate::plot::{self, track_color, BORDER, FAINT_TEXT, MAX_PIXELS, MAX_SIDE, TEXT};
use crate::text::{self, Clip, SMALL};
use image::{Rgb, RgbImage};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::{
    BitMapBackend, ChartBuilder, DrawingArea, DrawingAreaErrorKind, DrawingBackend,
    IntoDrawingArea, LineSeries, PathElement, Pixel, RGBColor, Rectangle, ShapeStyle,
};
use plotters::series::DashedLineSeries;
use std::path::Path;

/// One curve: `(x, y)` points drawn in order, joined by straight lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The curve's name in the legend.
    pub name: String,
    /// The points; a point with a non-finite coordinate breaks the line.
    pub points: Vec<(f64, f64)>,
}

/// One plot of the grid: a title, a y axis and its curves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    /// Written above the plot.
    pub title: String,
    /// Written above the y axis.
    pub y_label: String,
    /// The curves, each in its own colour. The legend is shown when there are two or more
    /// entries (curves plus the reference).
    pub series: Vec<Series>,
    /// A horizontal dashed line with its legend name, e.g. `("training data", 0.73)`; ignored
    /// when the value is not finite.
    pub reference: Option<(String, f64)>,
}

/// The chart's size and arrangement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartOptions {
    /// Width of the whole picture in pixels, shared equally by the columns.
    pub width: u32,
    /// Height of every panel in pixels, legend and labels included.
    pub panel_height: u32,
    /// Panels per row (at least 1; fewer panels than columns use the whole width).
    pub columns: usize,
}

impl Default for ChartOptions {
    /// 1200 px wide, 2 columns of 300 px tall panels.
    fn default() -> ChartOptions {
        ChartOptions {
            width: 1200,
            panel_height: 300,
            columns: 2,
        }
    }
}

/// Draws `panels` in a grid, row by row, each with axes, round tick values, `x_label` under its
/// x axis and a legend when it has more than one entry.
///
/// Fails with [`Error::Invalid`] when there are no panels, no columns, or the picture would be
/// larger than [`MAX_SIDE`] a side or [`MAX_PIXELS`], or its panels too small to hold a plot.
///
/// ```
/// use museroll_core::chart::{render_panels, ChartOptions, Panel, Series};
///
/// let loss = Series {
///     name: "generator".into(),
///     points: (0..100).map(|i| (i as f64 * 10.0, 1.0 / (1.0 + i as f64))).collect(),
/// };
/// let panel = Panel { title: "loss".into(), series: vec![loss], ..Panel::default() };
/// let image = render_panels(&[panel], "generator step", &ChartOptions::default())?;
/// assert_eq!((image.width(), image.height()), (1200, 300));
/// # Ok::<(), museroll_core::Error>(())
/// ```
pub fn render_panels(panels: &[Panel], x_label: &str, options: &ChartOptions) -> Result<RgbImage> {
    let layout = Layout::new(panels, options)?;
    let (width, height) = (layout.width, layout.height);
    // White RGB, 3 bytes a pixel, as plotters' bitmap backend and `RgbImage` both lay it out.
    let mut buffer = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        for (index, (panel, plan)) in panels.iter().zip(&layout.panels).enumerate() {
            let (left, top) = layout.cell(index);
            let cell = root.clone().shrink(
                (left as i32, top as i32),
                (layout.cell_width, layout.cell_height),
            );
            layout
                .paint_shapes(panel, plan, &cell)
                .map_err(|e| Error::Image(format!("drawing the chart failed: {e}")))?;
        }
        root.present()
            .map_err(|e| Error::Image(format!("drawing the chart failed: {e}")))?;
    }
    let mut image = RgbImage::from_raw(width, height, buffer)
        .ok_or_else(|| Error::Image("the chart's pixel buffer has the wrong size".into()))?;
    for (index, (panel, plan)) in panels.iter().zip(&layout.panels).enumerate() {
        layout.paint_text(panel, plan, x_label, &mut image, layout.cell(index));
    }
    Ok(image)
}

/// Draws the chart as by [`render_panels`] and writes it to `path` as a PNG, atomically (see
/// [`crate::io::write_atomic`]); errors name the file.
pub fn write_png(
    path: &Path,
    panels: &[Panel],
    x_label: &str,
    options: &ChartOptions,
) -> Result<()> {
    let png = render_panels(panels, x_label, options)
        .and_then(|image| plot::encode_png(&image))
        .map_err(|e| e.in_file(path))?;
    crate::io::write_atomic(path, &png)
}

/// The most ticks [`nice_ticks`] returns, whatever `max_count` asks.
pub const MAX_TICKS: usize = 1000;

/// Round tick values for an axis from `min` to `max` (in either order): the multiples of the
/// finest step of the form 1, 2 or 5 × 10ᵏ that lie in the range, at most `max_count` of them
/// (and at most [`MAX_TICKS`]), in increasing order.
///
/// A range of one value gives that value. The result is empty when a bound is not finite, when
/// `max_count` is 0, or when the range is too narrow for its magnitude to have distinct ticks.
///
/// ```
/// use museroll_core::chart::nice_ticks;
///
/// assert_eq!(nice_ticks(0.0, 10.0, 6), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
/// assert_eq!(nice_ticks(0.0, 10.0, 5), [0.0, 5.0, 10.0]);
/// assert_eq!(nice_ticks(-0.37, 0.21, 6), [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2]);
/// assert_eq!(nice_ticks(3.0, 3.0, 5), [3.0]);
/// ```
pub fn nice_ticks(min: f64, max: f64, max_count: usize) -> Vec<f64> {
    Ticks::new(min, max, max_count)
        .map(|t| t.values)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Ticks

/// Tick values and the decimal exponent of their step (which sets the labels' precision).
#[derive(Clone, Debug, PartialEq)]
struct Ticks {
    values: Vec<f64>,
    exponent: i32,
}

impl Ticks {
    fn new(min: f64, max: f64, max_count: usize) -> Option<Ticks> {
        let max_count = max_count.min(MAX_TICKS);
        if !min.is_finite() || !max.is_finite() || max_count == 0 {
            return None;
        }
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        if min == max {
            // Three significant digits of the value.
            let exponent = match min {
                0.0 => 0,
                v => decimal_exponent(v) - 2,
            };
            return Some(Ticks {
                values: vec![min],
                exponent,
            });
        }
        // Half the span, which cannot overflow; start a decade below the step that would give
        // `max_count` ticks and go up through 1, 2, 5 × 10ᵏ.
        let half_span = max / 2.0 - min / 2.0;
        let guess = (half_span.log10() + 2f64.log10() - (max_count as f64).log10()).floor();
        let first = (guess as i32).saturating_sub(1);
        for exponent in first..=first.saturating_add(4) {
            for mantissa in [1.0, 2.0, 5.0] {
                let step = mantissa * 10f64.powi(exponent);
                if !step.is_finite() {
                    return None;
                }
                let (low, high) = (min / step, max / step);
                let (low, high) = ((low - slack(low)).ceil(), (high + slack(high)).floor());
                // Beyond 2⁵³ neighbouring multiples are no longer distinct numbers.
                if !(low.abs() < 2f64.powi(53) && high.abs() < 2f64.powi(53)) {
                    return None;
                }
                if high - low + 1.0 <= max_count as f64 {
                    let values = (low as i64..=high as i64)
                        .map(|k| tick_value(k, mantissa, exponent))
                        .collect();
                    return Some(Ticks { values, exponent });
                }
            }
        }
        None
    }

    /// The labels: fixed-point with as many decimals as the step needs, scientific notation for
    /// very large or very small magnitudes.
    fn labels(&self) -> Vec<String> {
        let magnitude = self.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scientific = !(1e-3..1e6).contains(&magnitude);
        self.values
            .iter()
            .map(|&v| match v {
                0.0 => "0".to_string(),
                v if scientific => {
                    let digits = (decimal_exponent(v) - self.exponent).clamp(0, 16) as usize;
                    format!("{v:.digits$e}")
                }
                v => {
                    let digits = self.exponent.saturating_neg().clamp(0, 20) as usize;
                    format!("{v:.digits$}")
                }
            })
            .collect()
    }
}

/// Rounding slack when counting multiples of a step: float division is off by a few ulps.
fn slack(quotient: f64) -> f64 {
    1e-9 * quotient.abs().max(1.0)
}

/// k · mantissa · 10^exponent, as the nearest double to the decimal value when the exponent is
/// negative (so 3 × 0.1 is `0.3`, not `0.30000000000000004`), never `-0.0`.
fn tick_value(k: i64, mantissa: f64, exponent: i32) -> f64 {
    let units = k as f64 * mantissa;
    let value = if exponent < 0 {
        units / 10f64.powi(-exponent)
    } else {
        units * 10f64.powi(exponent)
    };
    value + 0.0
}

/// ⌊log₁₀ |v|⌋ for a nonzero finite `v`, robust to log10 landing just below an integer.
fn decimal_exponent(v: f64) -> i32 {
    (v.abs().log10() + 1e-9).floor() as i32
}

// ---------------------------------------------------------------------------------------------
// Geometry

/// Outer padding of a panel.
const PAD: u32 = 10;
/// Size of panel titles, in pixels per em (other text is [`SMALL`]).
const TITLE: f32 = 13.0;
/// Space between a line of small text and the next.
const LINE_GAP: u32 = 3;
/// Length of a tick mark.
const TICK: u32 = 4;
/// Space between a tick mark and its label.
const TICK_GAP: u32 = 3;
/// The least space between two x tick labels.
const LABEL_GAP: u32 = 10;
/// The smallest plot area side accepted.
const MIN_PLOT: u32 = 32;
/// Width of a legend swatch…
const SWATCH: u32 = 16;
/// …the space between it and its name…
const SWATCH_GAP: u32 = 4;
/// …and the space between legend entries.
const ENTRY_GAP: u32 = 14;
/// The reference line's dashes: `DASH` pixels on…
const DASH: u32 = 6;
/// …`DASH_GAP` off.
const DASH_GAP: u32 = 4;
/// Side of the square marking a point with no neighbour to join.
const MARKER: u32 = 3;
/// Padding of a panel's y range, as a fraction of its span.
const Y_PADDING: f64 = 0.05;
/// The most ticks per axis.
const AXIS_TICKS: usize = 10;
/// The least vertical room per y tick.
const Y_TICK_SPACING: u32 = 24;

/// Grid lines at the ticks, under the data.
const GRID: Rgb<u8> = Rgb([232, 232, 232]);
/// The reference line.
const REFERENCE: Rgb<u8> = Rgb([0, 0, 0]);

const NO_DATA: &str = "no data";

/// Height of a line of small text with the space under it.
fn line() -> u32 {
    text::line_height(SMALL) + LINE_GAP
}

/// The row of a legend entry's mark below the top of its line: the middle of the lower-case
/// letters of its name.
fn mark_row() -> u32 {
    text::ascent(SMALL) - text::cap_height(SMALL) * 3 / 8
}

/// A data range, from `lo` to `hi` (finite and different).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scale {
    lo: f64,
    hi: f64,
}

impl Scale {
    /// The range from `lo` to `hi` (finite, `lo <= hi`) widened by `padding` of its span on
    /// both sides, or around the value when it is a single one.
    fn new(lo: f64, hi: f64, padding: f64) -> Scale {
        let (lo, hi) = if lo < hi {
            let margin = (hi / 2.0 - lo / 2.0) * 2.0 * padding;
            (lo - margin, hi + margin)
        } else {
            let half = match lo {
                0.0 => 1.0,
                v => (v.abs() * 0.1).max(f64::MIN_POSITIVE),
            };
            (lo - half, hi + half)
        };
        Scale {
            lo: lo.max(f64::MIN),
            hi: hi.min(f64::MAX),
        }
    }

    /// The range of the finite `values`, if any, as by [`Scale::new`].
    fn of(values: impl Iterator<Item = f64>, padding: f64) -> Option<Scale> {
        let (lo, hi) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        (lo <= hi).then(|| Scale::new(lo, hi, padding))
    }

    /// Where `v` lies in the range, 0 at `lo` and 1 at `hi` (clamped; computed on halves so a
    /// range spanning most of the doubles does not overflow).
    fn fraction(&self, v: f64) -> f64 {
        ((v / 2.0 - self.lo / 2.0) / (self.hi / 2.0 - self.lo / 2.0)).clamp(0.0, 1.0)
    }
}

/// The pixel offset of `fraction` (0 to 1) of an axis `pixels` long (≥ 1), as plotters maps a
/// value of its `0.0..1.0` coordinate range: `⌊(pixels − 1) · fraction + 0.001⌋`.
fn offset(fraction: f64, pixels: u32) -> u32 {
    (f64::from(pixels - 1) * fraction + 1e-3).floor() as u32
}

/// A rectangle of pixels, relative to its panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Area {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

/// What a legend entry shows before its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    Swatch(Rgb<u8>),
    Dashes,
}

/// A legend entry placed in its panel.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    mark: Mark,
    name: String,
    x: u32,
    row: u32,
}

/// One panel's y axis, legend and whether it has anything to draw.
#[derive(Debug)]
struct Plan {
    y: Scale,
    y_ticks: Option<Ticks>,
    y_labels: Vec<String>,
    legend: Vec<Entry>,
    reference: Option<f64>,
    has_data: bool,
}

/// Where everything goes, the same for every panel but for its y axis and legend.
#[derive(Debug)]
struct Layout {
    width: u32,
    height: u32,
    columns: usize,
    cell_width: u32,
    cell_height: u32,
    legend_top: u32,
    y_label_top: u32,
    plot: Area,
    x: Scale,
    x_ticks: Option<Ticks>,
    x_labels: Vec<String>,
    panels: Vec<Plan>,
}

fn finite(&(x, y): &(f64, f64)) -> bool {
    x.is_finite() && y.is_finite()
}

/// The legend entries of `panel` flowed into rows `room` pixels wide; none with fewer than two.
fn legend(panel: &Panel, reference: Option<f64>, room: u32) -> Vec<Entry> {
    let marks = panel
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (Mark::Swatch(track_color(i)), s.name.as_str()));
    let reference = panel
        .reference
        .as_ref()
        .filter(|_| reference.is_some())
        .map(|(name, _)| (Mark::Dashes, name.as_str()));
    let marks: Vec<(Mark, &str)> = marks.chain(reference).collect();
    if marks.len() < 2 {
        return Vec::new();
    }
    let (mut x, mut row) = (0u32, 0u32);
    let mut entries = Vec::with_capacity(marks.len());
    for (mark, name) in marks {
        let width = SWATCH
            .saturating_add(SWATCH_GAP)
            .saturating_add(text::width(name, SMALL));
        if x > 0 && x.saturating_add(width) > room {
            (x, row) = (0, row + 1);
        }
        entries.push(Entry {
            mark,
            name: name.to_string(),
            x,
            row,
        });
        x = x.saturating_add(width).saturating_add(ENTRY_GAP);
    }
    entries
}

fn widest(labels: &[String]) -> u32 {
    labels
        .iter()
        .map(|l| text::width(l, SMALL))
        .max()
        .unwrap_or(0)
}

impl Layout {
    fn new(panels: &[Panel], options: &ChartOptions) -> Result<Layout> {
        if panels.is_empty() {
            return Err(Error::Invalid("nothing to chart: no panels".into()));
        }
        if options.columns == 0 {
            return Err(Error::Invalid("a chart needs at least one column".into()));
        }
        let columns = options.columns.min(panels.len());
        let rows = panels.len().div_ceil(columns) as u64;
        let (width, panel_height) = (options.width, options.panel_height);
        let height = rows * u64::from(panel_height);
        if width > MAX_SIDE || height > u64::from(MAX_SIDE) {
            return Err(Error::Invalid(format!(
                "a {width}×{height} px chart ({} panels in {rows} rows of {panel_height} px) is \
                 larger than {MAX_SIDE} px a side",
                panels.len()
            )));
        }
        let height = height as u32;
        if u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(Error::Invalid(format!(
                "a {width}×{height} px chart has more than {MAX_PIXELS} pixels"
            )));
        }
        let cell_width = width / columns as u32;

        // Legends, then the vertical layout: title, legend rows, y label, plot, x axis.
        let references: Vec<Option<f64>> = panels
            .iter()
            .map(|p| p.reference.as_ref().map(|r| r.1).filter(|v| v.is_finite()))
            .collect();
        let legend_room = cell_width.saturating_sub(2 * PAD);
        let legends: Vec<Vec<Entry>> = panels
            .iter()
            .zip(&references)
            .map(|(p, &r)| legend(p, r, legend_room))
            .collect();
        let legend_rows = legends
            .iter()
            .filter_map(|l| l.last().map(|e| e.row + 1))
            .max()
            .unwrap_or(0);
        let legend_top = PAD + text::line_height(TITLE) + LINE_GAP;
        let y_label_top = legend_rows
            .saturating_mul(line())
            .saturating_add(legend_top);
        let plot_top = y_label_top.saturating_add(line());
        let bottom = TICK + TICK_GAP + line() + text::line_height(SMALL) + PAD;
        let plot_height = panel_height
            .checked_sub(plot_top.saturating_add(bottom))
            .filter(|&h| h >= MIN_PLOT)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "panel height {panel_height} px is too small: titles, {legend_rows} legend \
                     row(s) and labels leave less than {MIN_PLOT} px for the plot"
                ))
            })?;

        // Each panel's y axis.
        let y_count = (plot_height / Y_TICK_SPACING).clamp(2, AXIS_TICKS as u32) as usize;
        let plans: Vec<Plan> = panels
            .iter()
            .zip(references)
            .zip(legends)
            .map(|((panel, reference), legend)| {
                let values = panel
                    .series
                    .iter()
                    .flat_map(|s| s.points.iter().filter(|p| finite(p)).map(|&(_, y)| y));
                let has_data = panel.series.iter().any(|s| s.points.iter().any(finite));
                let y = Scale::of(values.chain(reference), Y_PADDING)
                    .unwrap_or(Scale { lo: 0.0, hi: 1.0 });
                let y_ticks = Ticks::new(y.lo, y.hi, y_count);
                let y_labels = y_ticks.as_ref().map(Ticks::labels).unwrap_or_default();
                Plan {
                    y,
                    y_ticks,
                    y_labels,
                    legend,
                    reference,
                    has_data,
                }
            })
            .collect();
        let label_width = plans.iter().map(|p| widest(&p.y_labels)).max().unwrap_or(0);
        let plot_left = PAD + label_width + TICK_GAP + TICK + 1;

        // The shared x axis: as many ticks as fit with some space between labels.
        let xs = panels
            .iter()
            .flat_map(|p| &p.series)
            .flat_map(|s| s.points.iter().filter(|p| finite(p)).map(|&(x, _)| x));
        let x = Scale::of(xs, 0.0).unwrap_or(Scale { lo: 0.0, hi: 1.0 });
        let room = cell_width.saturating_sub(plot_left + PAD);
        let mut x_ticks = None;
        for count in (2..=AXIS_TICKS).rev() {
            x_ticks = Ticks::new(x.lo, x.hi, count);
            let labels = x_ticks.as_ref().map(Ticks::labels).unwrap_or_default();
            let needed = (widest(&labels) + LABEL_GAP).saturating_mul(labels.len() as u32);
            if needed <= room {
                break;
            }
        }
        let x_labels = x_ticks.as_ref().map(Ticks::labels).unwrap_or_default();
        let right = PAD.max(widest(&x_labels) / 2 + 2);
        let plot_width = cell_width
            .checked_sub(plot_left + right)
            .filter(|&w| w >= MIN_PLOT)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "chart width {width} px is too narrow for {columns} column(s): the labels \
                     leave less than {MIN_PLOT} px for each plot"
                ))
            })?;
        Ok(Layout {
            width,
            height,
            columns,
            cell_width,
            cell_height: panel_height,
            legend_top,
            y_label_top,
            plot: Area {
                left: plot_left,
                top: plot_top,
                width: plot_width,
                height: plot_height,
            },
            x,
            x_ticks,
            x_labels,
            panels: plans,
        })
    }

    /// The top-left pixel of panel `index`'s cell.
    fn cell(&self, index: usize) -> (u32, u32) {
        let (row, column) = (index / self.columns, index % self.columns);
        (
            column as u32 * self.cell_width,
            row as u32 * self.cell_height,
        )
    }

    /// The chart coordinates (as plotters takes them) of data point (`x`, `y`): its fractions
    /// of the axes, each nudged by half a pixel so that plotters' rounding down rounds to the
    /// nearest pixel.
    fn fractions(&self, plan: &Plan, x: f64, y: f64) -> (f64, f64) {
        let nudge = |f: f64, pixels: u32| (f + 0.5 / f64::from(pixels - 1)).min(1.0);
        (
            nudge(self.x.fraction(x), self.plot.width),
            nudge(plan.y.fraction(y), self.plot.height),
        )
    }

    /// The pixel (relative to the panel) of data point (`x`, `y`) in the panel of `plan`.
    fn pixel(&self, plan: &Plan, x: f64, y: f64) -> (u32, u32) {
        let plot = self.plot;
        let (fx, fy) = self.fractions(plan, x, y);
        (
            plot.left + offset(fx, plot.width),
            plot.top + (plot.height - 1) - offset(fy, plot.height),
        )
    }

    /// Draws the panel's lines and shapes with plotters onto `cell`, the panel's drawing area.
    fn paint_shapes<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        plan: &Plan,
        cell: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let plot = self.plot;
        let style = |c: Rgb<u8>| ShapeStyle::from(&RGBColor(c.0[0], c.0[1], c.0[2]));
        let at = |x: u32, y: u32| (x as i32, y as i32);

        // Legend marks.
        for entry in &plan.legend {
            let (x, y) = (
                PAD + entry.x,
                self.legend_top + entry.row * line() + mark_row(),
            );
            match entry.mark {
                // Filled rectangles end before their bottom-right corner.
                Mark::Swatch(color) => cell.draw(&Rectangle::new(
                    [at(x, y - 1), at(x + SWATCH, y + 2)],
                    style(color).filled(),
                ))?,
                Mark::Dashes => cell.draw(&DashedPathElement::new(
                    [at(x, y), at(x + SWATCH - 1, y)],
                    DASH as i32,
                    DASH_GAP as i32,
                    style(REFERENCE),
                ))?,
            }
        }

        // Tick marks outside the plot area and the frame around it.
        let (right, bottom) = (plot.left + plot.width, plot.top + plot.height);
        let y_ticks = plan.y_ticks.iter().flat_map(|t| &t.values);
        for &value in y_ticks.clone() {
            let (_, y) = self.pixel(plan, self.x.lo, value);
            let tick = [at(plot.left - 1 - TICK, y), at(plot.left - 2, y)];
            cell.draw(&PathElement::new(tick, style(BORDER)))?;
        }
        let x_ticks = self.x_ticks.iter().flat_map(|t| &t.values);
        for &value in x_ticks.clone() {
            let (x, _) = self.pixel(plan, value, plan.y.lo);
            let tick = [at(x, bottom + 1), at(x, bottom + TICK)];
            cell.draw(&PathElement::new(tick, style(BORDER)))?;
        }
        cell.draw(&Rectangle::new(
            [at(plot.left - 1, plot.top - 1), at(right, bottom)],
            style(BORDER),
        ))?;

        // The plot: a 0..1 × 0..1 chart on the plot area, so plotters maps data through the
        // overflow-safe `Scale::fraction`.
        let area = cell
            .clone()
            .shrink(at(plot.left, plot.top), (plot.width, plot.height));
        let mut chart = ChartBuilder::on(&area).build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
        for &value in y_ticks {
            let (_, fy) = self.fractions(plan, self.x.lo, value);
            chart.draw_series(LineSeries::new([(0.0, fy), (1.0, fy)], style(GRID)))?;
        }
        for &value in x_ticks {
            let (fx, _) = self.fractions(plan, value, plan.y.lo);
            chart.draw_series(LineSeries::new([(fx, 0.0), (fx, 1.0)], style(GRID)))?;
        }
        for (index, series) in panel.series.iter().enumerate() {
            let color = style(track_color(index));
            for run in self.runs(plan, &series.points) {
                match run[..] {
                    [] => {}
                    [(fx, fy)] => {
                        let x = plot.left + offset(fx, plot.width);
                        let y = plot.top + (plot.height - 1) - offset(fy, plot.height);
                        let half = MARKER / 2;
                        let corners = [at(x - half, y - half), at(x + half + 1, y + half + 1)];
                        cell.draw(&Rectangle::new(corners, color.filled()))?;
                    }
                    _ => {
                        let ends = [run[0], run[run.len() - 1]];
                        chart.draw_series(LineSeries::new(run, color))?;
                        // plotters' anti-aliased lines leave out one end of a sloping
                        // segment; joined segments cover each other's, but not the run's.
                        chart.draw_series(ends.map(|p| Pixel::new(p, color)))?;
                    }
                }
            }
        }
        if let Some(value) = plan.reference {
            let (_, fy) = self.fractions(plan, self.x.lo, value);
            chart.draw_series(DashedLineSeries::new(
                [(0.0, fy), (1.0, fy)],
                DASH as i32,
                DASH_GAP as i32,
                style(REFERENCE),
            ))?;
        }
        Ok(())
    }

    /// The finite stretches of `points` as fractions of the axes, each reduced per pixel column
    /// to its first, lowest, highest and last point: the same pixels as the whole stretch, in
    /// one pass over the points. A stretch that stays on one pixel is a single point.
    fn runs(&self, plan: &Plan, points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
        let (width, height) = (self.plot.width, self.plot.height);
        let mut runs = Vec::new();
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut column: Option<Column> = None;
        let flush = |column: &mut Option<Column>, run: &mut Vec<(f64, f64)>| {
            if let Some(c) = column.take() {
                c.push_to(run);
            }
        };
        for p in points {
            if !finite(p) {
                flush(&mut column, &mut run);
                runs.push(single_pixel(std::mem::take(&mut run), width, height));
                continue;
            }
            let f = self.fractions(plan, p.0, p.1);
            let x = offset(f.0, width);
            match &mut column {
                Some(c) if c.x == x => c.add(f),
                _ => {
                    flush(&mut column, &mut run);
                    column = Some(Column::new(x, f));
                }
            }
        }
        flush(&mut column, &mut run);
        runs.push(single_pixel(run, width, height));
        runs.retain(|r| !r.is_empty());
        runs
    }

    /// Sets the panel's text onto `image`, whose panel has its top-left corner at `origin`.
    fn paint_text(
        &self,
        panel: &Panel,
        plan: &Plan,
        x_label: &str,
        image: &mut RgbImage,
        origin: (u32, u32),
    ) {
        let plot = self.plot;
        let clip = Clip {
            left: origin.0,
            top: origin.1,
            right: origin.0 + self.cell_width,
            bottom: origin.1 + self.cell_height,
        };
        let mut write = |x: u32, y: u32, s: &str, size: f32, color: Rgb<u8>| {
            let at = (
                i64::from(origin.0) + i64::from(x),
                i64::from(origin.1) + i64::from(y),
            );
            text::draw(image, clip, at, s, size, color);
        };
        let centered = |s: &str, size: f32| {
            let w = text::width(s, size);
            plot.left + plot.width.saturating_sub(w) / 2
        };
        write(
            centered(&panel.title, TITLE),
            PAD,
            &panel.title,
            TITLE,
            TEXT,
        );
        for entry in &plan.legend {
            let (x, y) = (PAD + entry.x, self.legend_top + entry.row * line());
            write(x + SWATCH + SWATCH_GAP, y, &entry.name, SMALL, TEXT);
        }
        write(PAD, self.y_label_top, &panel.y_label, SMALL, FAINT_TEXT);
        // Tick labels: y labels centred on their tick, x labels under theirs.
        let middle = text::ascent(SMALL) - text::cap_height(SMALL) / 2;
        let y_ticks = plan.y_ticks.iter().flat_map(|t| &t.values);
        for (&value, label) in y_ticks.zip(&plan.y_labels) {
            let (_, y) = self.pixel(plan, self.x.lo, value);
            let x = plot.left - 1 - TICK - TICK_GAP - text::width(label, SMALL);
            write(x, y.saturating_sub(middle), label, SMALL, FAINT_TEXT);
        }
        let bottom = plot.top + plot.height;
        let x_ticks = self.x_ticks.iter().flat_map(|t| &t.values);
        for (&value, label) in x_ticks.zip(&self.x_labels) {
            let (x, _) = self.pixel(plan, value, plan.y.lo);
            let w = text::width(label, SMALL);
            let y = bottom + 1 + TICK + TICK_GAP;
            write(x.saturating_sub(w / 2), y, label, SMALL, FAINT_TEXT);
        }
        let x_label_top = bottom + 1 + TICK + TICK_GAP + line();
        write(
            centered(x_label, SMALL),
            x_label_top,
            x_label,
            SMALL,
            FAINT_TEXT,
        );
        if !plan.has_data {
            let y = plot.top + plot.height.saturating_sub(text::line_height(SMALL)) / 2;
            write(centered(NO_DATA, SMALL), y, NO_DATA, SMALL, FAINT_TEXT);
        }
    }
}

/// `run` as one point when all its points fall on one pixel of a `width` × `height` plot.
fn single_pixel(run: Vec<(f64, f64)>, width: u32, height: u32) -> Vec<(f64, f64)> {
    let pixel = |&(fx, fy): &(f64, f64)| (offset(fx, width), offset(fy, height));
    match run.first() {
        Some(first) if run.iter().all(|p| pixel(p) == pixel(first)) => vec![*first],
        _ => run,
    }
}

/// Consecutive points in one pixel column (as fractions of the axes): the first, lowest,
/// highest and last.
struct Column {
    x: u32,
    first: (f64, f64),
    low: (f64, f64),
    high: (f64, f64),
    last: (f64, f64),
}

impl Column {
    fn new(x: u32, p: (f64, f64)) -> Column {
        Column {
            x,
            first: p,
            low: p,
            high: p,
            last: p,
        }
    }

    fn add(&mut self, p: (f64, f64)) {
        if p.1 < self.low.1 {
            self.low = p;
        }
        if p.1 > self.high.1 {
            self.high = p;
        }
        self.last = p;
    }

    /// Appends first → lowest → highest → last (each once): joined, they cover every row the
    /// column's points reach.
    fn push_to(&self, run: &mut Vec<(f64, f64)>) {
        for p in [self.first, self.low, self.high, self.last] {
            if run.last() != Some(&p) {
                run.push(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::BACKGROUND;
    use proptest::prelude::*;

    fn series(name: &str, points: impl IntoIterator<Item = (f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points: points.into_iter().collect(),
        }
    }

    fn panel(series: Vec<Series>) -> Panel {
        Panel {
            title: "loss".into(),
            y_label: "value".into(),
            series,
            reference: None,
        }
    }

    /// y = x at the integers 0..=10.
    fn diagonal() -> Series {
        series("y = x", (0..=10).map(|i| (f64::from(i), f64::from(i))))
    }

    fn options() -> ChartOptions {
        ChartOptions {
            width: 500,
            panel_height: 260,
            columns: 1,
        }
    }

    fn draw(panels: &[Panel]) -> (RgbImage, Layout) {
        (
            render_panels(panels, "generator step", &options()).unwrap(),
            Layout::new(panels, &options()).unwrap(),
        )
    }

    #[test]
    fn ticks_are_round_numbers_in_the_range() {
        assert_eq!(nice_ticks(0.0, 10.0, 6), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(10.0, 0.0, 6), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.0, 10.0, 11).len(), 11);
        assert_eq!(nice_ticks(0.0, 10.0, 2), [0.0, 10.0]);
        assert_eq!(nice_ticks(0.0, 10.0, 1), [0.0]);
        assert_eq!(nice_ticks(-3.7, 2.1, 6), [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0]);
        assert_eq!(nice_ticks(-7.0, -1.5, 4), [-6.0, -4.0, -2.0]);
        assert_eq!(
            nice_ticks(0.0, 1e-4, 6),
            [0.0, 2e-5, 4e-5, 6e-5, 8e-5, 1e-4]
        );
        assert_eq!(nice_ticks(0.0, 1e-4, 5), [0.0, 5e-5, 1e-4]);
        assert_eq!(nice_ticks(0.1, 0.35, 4), [0.1, 0.2, 0.3]);
        assert_eq!(nice_ticks(1000.2, 1001.9, 4), [1000.5, 1001.0, 1001.5]);
        assert_eq!(
            nice_ticks(0.0, 2.5e6, 6),
            [0.0, 5e5, 1e6, 1.5e6, 2e6, 2.5e6]
        );
        assert_eq!(nice_ticks(4.0, 4.0, 5), [4.0]);
        assert_eq!(nice_ticks(0.0, 0.0, 5), [0.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(nice_ticks(0.0, f64::INFINITY, 5).is_empty());
        assert!(nice_ticks(0.0, 1.0, 0).is_empty());
        // At most MAX_TICKS: a step of 0.001 would give 1001, so the step is 0.002.
        assert_eq!(nice_ticks(0.0, 1.0, usize::MAX).len(), 501);
        assert_eq!(nice_ticks(-f64::MAX, f64::MAX, 5).len(), 3);
        // Too narrow for its magnitude: no two distinct multiples.
        assert!(nice_ticks(1e20, 1e20 + 1e5, 5).is_empty());
    }

    #[test]
    fn labels_have_the_precision_of_the_step() {
        let labels = |min, max, count| Ticks::new(min, max, count).unwrap().labels();
        assert_eq!(labels(0.0, 10.0, 6), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(
            labels(-0.37, 0.21, 6),
            ["-0.3", "-0.2", "-0.1", "0", "0.1", "0.2"]
        );
        assert_eq!(labels(0.0, 1.0, 3), ["0", "0.5", "1.0"]);
        assert_eq!(labels(1000.2, 1001.9, 4), ["1000.5", "1001.0", "1001.5"]);
        assert_eq!(
            labels(0.0, 1e-4, 6),
            ["0", "2e-5", "4e-5", "6e-5", "8e-5", "1.0e-4"]
        );
        assert_eq!(labels(0.0, 2.5e6, 3), ["0", "1e6", "2e6"]);
        assert_eq!(labels(0.0, 1.5e6, 4), ["0", "5e5", "1.0e6", "1.5e6"]);
        assert_eq!(labels(0.123456, 0.123456, 4), ["0.123"]);
    }

    proptest! {
        #[test]
        fn ticks_are_evenly_spaced_multiples_inside_the_range(
            a in -1e7f64..1e7, span in 1e-6f64..1e7, count in 2usize..12,
        ) {
            let b = a + span;
            let ticks = nice_ticks(a, b, count);
            prop_assert!(!ticks.is_empty() && ticks.len() <= count, "{:?}", ticks);
            let tolerance = 1e-9 * a.abs().max(b.abs()).max(span);
            prop_assert!(ticks[0] >= a - tolerance && ticks[ticks.len() - 1] <= b + tolerance);
            if let [first, second, ..] = ticks[..] {
                let step = second - first;
                let decade = 10f64.powf(step.log10().floor());
                let mantissa = step / decade;
                prop_assert!(
                    [1.0, 2.0, 5.0, 10.0].iter().any(|m| (mantissa - m).abs() < 1e-6),
                    "{} {:?}", step, ticks
                );
                for pair in ticks.windows(2) {
                    prop_assert!((pair[1] - pair[0] - step).abs() <= 1e-6 * step);
                }
                // The finest such step: half (or 2/5) of it would give too many ticks.
                prop_assert!(span / step > (count as f64 - 1.0) / 2.5 - 1.0);
            }
        }
    }

    /// How much of `color` pixel (`x`, `y`) holds when it is `color` blended on white or on a
    /// grid line: 1 for the colour itself, 0 for paper or any pixel that is not such a blend.
    fn coverage(image: &RgbImage, xy: (u32, u32), color: Rgb<u8>) -> f64 {
        [BACKGROUND, GRID]
            .into_iter()
            .map(|under| blended(image, xy, color, under))
            .fold(0.0, f64::max)
    }

    fn blended(image: &RgbImage, (x, y): (u32, u32), color: Rgb<u8>, under: Rgb<u8>) -> f64 {
        let pixel = image.get_pixel(x, y);
        let alphas: Vec<f64> = (0..3)
            .filter(|&i| color.0[i].abs_diff(under.0[i]) >= 50)
            .map(|i| {
                (f64::from(under.0[i]) - f64::from(pixel.0[i]))
                    / (f64::from(under.0[i]) - f64::from(color.0[i]))
            })
            .collect();
        let (lo, hi) = alphas
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        if hi - lo < 0.05 && lo > 0.02 {
            hi.min(1.0)
        } else {
            0.0
        }
    }

    /// The pixels of the plot area of the first panel with at least half of `color`.
    fn inked(image: &RgbImage, layout: &Layout, color: Rgb<u8>) -> Vec<(u32, u32)> {
        let p = layout.plot;
        (p.top..p.top + p.height)
            .flat_map(|y| (p.left..p.left + p.width).map(move |x| (x, y)))
            .filter(|&xy| coverage(image, xy, color) >= 0.5)
            .collect()
    }

    #[test]
    fn the_mapping_is_plotters_own() {
        // `Layout::pixel` and plotters' chart agree on every pixel of a plot area.
        let (width, height) = (537u32, 211u32);
        let mut buffer = vec![255u8; 600 * 300 * 3];
        let root = BitMapBackend::with_buffer(&mut buffer, (600, 300)).into_drawing_area();
        let area = root.shrink((31, 17), (width, height));
        let chart = ChartBuilder::on(&area)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .unwrap();
        for i in 0..=2000 {
            let f = f64::from(i) / 2000.0;
            let (x, y) = chart.backend_coord(&(f, 1.0 - f));
            assert_eq!(x, 31 + offset(f, width) as i32, "{f}");
            assert_eq!(y, 17 + (height - 1 - offset(1.0 - f, height)) as i32, "{f}");
        }
        assert_eq!(chart.backend_coord(&(0.0, 0.0)), (31, 17 + 210));
        assert_eq!(chart.backend_coord(&(1.0, 1.0)), (31 + 536, 17));
    }

    #[test]
    fn y_equals_x_is_drawn_where_the_mapping_says() {
        let (image, layout) = draw(&[panel(vec![diagonal()])]);
        let plan = &layout.panels[0];
        // x is not padded; y is padded by 5% of its span.
        assert_eq!(layout.x, Scale { lo: 0.0, hi: 10.0 });
        assert_eq!(plan.y, Scale { lo: -0.5, hi: 10.5 });
        let plot = layout.plot;
        let color = track_color(0);
        // The documented mapping, independently.
        let expected = |x: f64, y: f64| {
            let col = plot.left + (x / 10.0 * f64::from(plot.width - 1)).round() as u32;
            let from_bottom = ((y + 0.5) / 11.0 * f64::from(plot.height - 1)).round();
            (col, plot.top + plot.height - 1 - from_bottom as u32)
        };
        for i in 0..=10 {
            let v = f64::from(i);
            let (x, y) = expected(v, v);
            assert_eq!(layout.pixel(plan, v, v), (x, y));
            // The points are the segments' ends: drawn in the full colour.
            assert_eq!(*image.get_pixel(x, y), color, "point {i}");
        }
        // The ends are on the plot area's edges, so the line spans its whole width.
        assert_eq!(expected(0.0, 0.0).0, plot.left);
        assert_eq!(expected(10.0, 10.0).0, plot.left + plot.width - 1);
        // Every column has line pixels, all within a pixel of the diagonal, and the line's
        // anti-aliased coverage adds up to about one pixel per column.
        let slope = f64::from(plot.height - 1) / 11.0 * 10.0 / f64::from(plot.width - 1);
        assert!(slope < 1.0, "a shallow line: one column, two rows per step");
        for x in plot.left..plot.left + plot.width {
            let data_x = f64::from(x - plot.left) / f64::from(plot.width - 1) * 10.0;
            let row = f64::from(plot.top + plot.height - 1)
                - (data_x + 0.5) / 11.0 * f64::from(plot.height - 1);
            let mut total = 0.0;
            for y in plot.top..plot.top + plot.height {
                let c = coverage(&image, (x, y), color);
                if c > 0.0 {
                    assert!((f64::from(y) - row).abs() <= 2.0, "({x}, {y}) vs row {row}");
                    total += c;
                }
            }
            assert!((0.9..=2.1).contains(&total), "column {x}: {total}");
        }
    }

    #[test]
    fn a_nan_or_an_infinity_leaves_a_gap() {
        for bad in [f64::NAN, f64::INFINITY] {
            let mut s = diagonal();
            s.points[5].1 = bad;
            let (image, layout) = draw(&[panel(vec![s])]);
            let plan = &layout.panels[0];
            let (x4, _) = layout.pixel(plan, 4.0, 4.0);
            let (x6, _) = layout.pixel(plan, 6.0, 6.0);
            let columns: Vec<u32> = inked(&image, &layout, track_color(0))
                .into_iter()
                .map(|p| p.0)
                .collect();
            assert!(columns.contains(&x4) && columns.contains(&x6));
            let plot = layout.plot;
            for x in x4 + 1..x6 {
                for y in plot.top..plot.top + plot.height {
                    assert_eq!(coverage(&image, (x, y), track_color(0)), 0.0, "({x}, {y})");
                }
            }
            // The bad value does not stretch the y range.
            assert_eq!(plan.y, Scale { lo: -0.5, hi: 10.5 });
        }
    }

    #[test]
    fn legend_marks_have_the_series_colours_and_names_follow() {
        let mut p = panel(vec![
            diagonal(),
            series("discriminator", [(0.0, 3.0), (10.0, 1.0)]),
        ]);
        p.reference = Some(("training data".into(), 5.0));
        let (image, layout) = draw(&[p]);
        let legend = &layout.panels[0].legend;
        let marks: Vec<Mark> = legend.iter().map(|e| e.mark).collect();
        assert_eq!(
            marks,
            [
                Mark::Swatch(track_color(0)),
                Mark::Swatch(track_color(1)),
                Mark::Dashes
            ]
        );
        for entry in legend {
            let (x, y) = (PAD + entry.x, layout.legend_top + entry.row * line());
            let at = |dx: u32, dy: u32| *image.get_pixel(x + dx, y + dy);
            let m = mark_row();
            match entry.mark {
                Mark::Swatch(color) => {
                    // A 3 px tall bar across the swatch width.
                    for dy in [m - 1, m, m + 1] {
                        assert!((0..SWATCH).all(|dx| at(dx, dy) == color), "{entry:?}");
                    }
                    assert_eq!(at(0, m - 2), BACKGROUND);
                    assert_eq!(at(0, m + 2), BACKGROUND);
                    assert_eq!(at(SWATCH, m), BACKGROUND);
                }
                Mark::Dashes => {
                    // plotters' dashes: DASH + 1 pixels on (both ends drawn), then off.
                    for dx in 0..SWATCH {
                        let on = dx % (DASH + DASH_GAP) <= DASH;
                        assert_eq!(at(dx, m) == REFERENCE, on, "{dx}");
                    }
                }
            }
            // The name follows in text colour, as wide as the font sets it.
            let name_left = x + SWATCH + SWATCH_GAP;
            let name_width = text::width(&entry.name, SMALL);
            let ink: Vec<u32> = (name_left - 1..name_left + name_width + 2)
                .filter(|&xx| {
                    (y..y + text::line_height(SMALL))
                        .any(|yy| *image.get_pixel(xx, yy) != BACKGROUND)
                })
                .collect();
            assert!(ink.len() as u32 > name_width / 2, "{entry:?}");
            assert!(ink[0] >= name_left && ink[0] <= name_left + 2, "{entry:?}");
            assert!(
                *ink.last().unwrap() + 4 >= name_left + name_width,
                "{entry:?}"
            );
        }
        assert_ne!(track_color(0), track_color(1));
        // Both curves are drawn, each in its colour.
        assert!(!inked(&image, &layout, track_color(1)).is_empty());
        // One series and no reference: no legend.
        let layout = Layout::new(&[panel(vec![diagonal()])], &options()).unwrap();
        assert!(layout.panels[0].legend.is_empty());
    }

    #[test]
    fn long_legends_wrap_and_every_panel_makes_room_for_the_longest() {
        let many = (0..12)
            .map(|i| series(&format!("series number {i}"), [(0.0, f64::from(i))]))
            .collect();
        let layout = Layout::new(&[panel(many), panel(vec![diagonal()])], &options()).unwrap();
        let legend = &layout.panels[0].legend;
        let rows = legend.last().unwrap().row + 1;
        assert!(rows >= 3, "{rows}");
        assert!(legend
            .iter()
            .all(|e| e.x + SWATCH + SWATCH_GAP + text::width(&e.name, SMALL) <= 500 - 2 * PAD));
        assert_eq!(layout.y_label_top, layout.legend_top + rows * line());
        assert_eq!(layout.plot.top, layout.y_label_top + line());
    }

    #[test]
    fn the_reference_is_a_dashed_line_at_its_value() {
        let mut p = panel(vec![series("d", [(0.0, 0.0), (10.0, 2.0)])]);
        p.reference = Some(("training data".into(), 8.0));
        let (image, layout) = draw(&[p]);
        let plan = &layout.panels[0];
        // The range takes in the reference: 0..8 padded.
        assert_eq!(plan.y, Scale { lo: -0.4, hi: 8.4 });
        let plot = layout.plot;
        let from_bottom = (8.4 / 8.8 * f64::from(plot.height - 1)).round() as u32;
        let row = plot.top + plot.height - 1 - from_bottom;
        assert_eq!(layout.pixel(plan, 0.0, 8.0).1, row);
        for i in 0..plot.width {
            let on = *image.get_pixel(plot.left + i, row) == REFERENCE;
            assert_eq!(on, i % (DASH + DASH_GAP) <= DASH, "column {i}");
        }
        for y in [row - 1, row + 1] {
            assert!((0..plot.width).all(|i| *image.get_pixel(plot.left + i, y) != REFERENCE));
        }
        // A non-finite reference is ignored: no line, no legend entry.
        let mut p = panel(vec![series("d", [(0.0, 0.0), (10.0, 2.0)])]);
        p.reference = Some(("training data".into(), f64::NAN));
        let (image, layout) = draw(&[p]);
        assert!(inked(&image, &layout, REFERENCE).is_empty());
        assert!(layout.panels[0].legend.is_empty());
        assert_eq!(layout.panels[0].y, Scale { lo: -0.1, hi: 2.1 });
    }

    #[test]
    fn a_panel_without_finite_points_says_no_data() {
        let nan = series("nan", [(0.0, f64::NAN), (f64::NAN, 1.0)]);
        let panels = [panel(vec![diagonal()]), panel(vec![nan]), panel(vec![])];
        let options = ChartOptions {
            columns: 3,
            width: 1200,
            ..options()
        };
        let image = render_panels(&panels, "step", &options).unwrap();
        let layout = Layout::new(&panels, &options).unwrap();
        let plot = layout.plot;
        for (index, plan) in layout.panels.iter().enumerate() {
            assert_eq!(plan.has_data, index == 0);
            let left = index as u32 * layout.cell_width + plot.left;
            let pixels: Vec<(u32, u32)> = (plot.top..plot.top + plot.height)
                .flat_map(|y| (left..left + plot.width).map(move |x| (x, y)))
                .collect();
            let text = pixels
                .iter()
                .filter(|&&xy| coverage(&image, xy, FAINT_TEXT) > 0.5)
                .count();
            let line = pixels
                .iter()
                .filter(|&&xy| coverage(&image, xy, track_color(0)) > 0.25)
                .count();
            if index == 0 {
                assert_eq!(text, 0);
                assert!(line > 100);
            } else {
                assert!(text > 40, "{text}");
                assert_eq!(line, 0);
            }
        }
    }

    #[test]
    fn degenerate_ranges_are_widened_around_the_value() {
        // A constant: a flat line in the middle, one full-colour row across the plot.
        let flat = series("flat", (0..5).map(|i| (f64::from(i), 5.0)));
        let (image, layout) = draw(&[panel(vec![flat])]);
        let plan = &layout.panels[0];
        assert_eq!(plan.y, Scale { lo: 4.5, hi: 5.5 });
        let plot = layout.plot;
        let row = plot.top + plot.height - 1 - (f64::from(plot.height - 1) / 2.0).round() as u32;
        assert_eq!(layout.pixel(plan, 0.0, 5.0).1, row);
        assert!(row.abs_diff(plot.top + (plot.height - 1) / 2) <= 1);
        let line = inked(&image, &layout, track_color(0));
        assert_eq!(line.len() as u32, plot.width);
        assert!(line.iter().all(|&(_, y)| y == row));
        // One point: a marker in the middle of both axes.
        let (image, layout) = draw(&[panel(vec![series("one", [(100.0, 0.0)])])]);
        assert_eq!(
            layout.x,
            Scale {
                lo: 90.0,
                hi: 110.0
            }
        );
        assert_eq!(layout.panels[0].y, Scale { lo: -1.0, hi: 1.0 });
        let (x, y) = layout.pixel(&layout.panels[0], 100.0, 0.0);
        let mut marker = inked(&image, &layout, track_color(0));
        marker.sort();
        let square: Vec<(u32, u32)> = (x - 1..=x + 1)
            .flat_map(|xx| (y - 1..=y + 1).map(move |yy| (xx, yy)))
            .collect();
        assert_eq!(marker, square);
        // Points all on one pixel are one marker too.
        let (image, layout) = draw(&[panel(vec![series("twice", [(100.0, 0.0), (100.0, 0.0)])])]);
        assert_eq!(inked(&image, &layout, track_color(0)).len(), 9);
        // Extreme values stay finite.
        let huge = Scale::new(f64::MAX, f64::MAX, Y_PADDING);
        assert!(huge.lo < huge.hi && huge.hi.is_finite());
        let tiny = Scale::new(5e-324, 5e-324, Y_PADDING);
        assert!(tiny.lo < tiny.hi);
        let wide = Scale::new(-f64::MAX, f64::MAX, Y_PADDING);
        assert_eq!((wide.lo, wide.hi), (f64::MIN, f64::MAX));
        assert_eq!(wide.fraction(0.0), 0.5);
        // …and draw.
        let extremes = series("extremes", [(0.0, -f64::MAX), (1.0, f64::MAX)]);
        let (image, layout) = draw(&[panel(vec![extremes])]);
        assert!(inked(&image, &layout, track_color(0)).len() as u32 >= layout.plot.height);
    }

    #[test]
    fn dense_series_are_reduced_per_column_without_losing_extremes() {
        // 300 000 points alternating between 0 and 1, one spike to 3 in the middle.
        let mut points: Vec<(f64, f64)> = (0..300_000)
            .map(|i| (f64::from(i), f64::from(i % 2)))
            .collect();
        points[150_001].1 = 3.0;
        let s = series("noisy", points);
        let (image, layout) = draw(&[panel(vec![s.clone()])]);
        let plan_drawn = &layout.panels[0];
        // One run, at most 4 points a column.
        let runs = layout.runs(plan_drawn, &s.points);
        assert_eq!(runs.len(), 1);
        assert!(
            runs[0].len() <= 4 * layout.plot.width as usize,
            "{}",
            runs[0].len()
        );
        let plot = layout.plot;
        let (_, zero) = layout.pixel(plan_drawn, 0.0, 0.0);
        let (_, one) = layout.pixel(plan_drawn, 0.0, 1.0);
        let color = track_color(0);
        for x in plot.left..plot.left + plot.width {
            assert_eq!(*image.get_pixel(x, zero), color, "column {x}");
            assert_eq!(*image.get_pixel(x, one), color, "column {x}");
        }
        let (spike_x, spike_y) = layout.pixel(plan_drawn, 150_001.0, 3.0);
        assert_eq!(*image.get_pixel(spike_x, spike_y), color);
        let from_bottom = (3.15 / 3.3 * f64::from(plot.height - 1)).round() as u32;
        assert_eq!(spike_y, plot.top + plot.height - 1 - from_bottom);
    }

    #[test]
    fn panels_fill_the_grid_row_by_row() {
        let panels = vec![panel(vec![diagonal()]); 3];
        let options = ChartOptions {
            width: 900,
            panel_height: 200,
            columns: 2,
        };
        let image = render_panels(&panels, "step", &options).unwrap();
        assert_eq!(image.dimensions(), (900, 400));
        let layout = Layout::new(&panels, &options).unwrap();
        assert_eq!(layout.cell_width, 450);
        // The third panel is the first one, one row down (but for the rounding of anti-aliased
        // edges); the fourth cell stays blank.
        let close =
            |a: &Rgb<u8>, b: &Rgb<u8>| a.0.iter().zip(b.0).all(|(&p, q)| p.abs_diff(q) <= 2);
        for y in 0..200 {
            for x in 0..450 {
                assert!(
                    close(image.get_pixel(x, y + 200), image.get_pixel(x, y)),
                    "({x}, {y})"
                );
                assert_eq!(*image.get_pixel(x + 450, y + 200), BACKGROUND);
            }
        }
        // Fewer panels than columns: the one panel takes the whole width.
        let layout = Layout::new(&panels[..1], &options).unwrap();
        assert_eq!((layout.columns, layout.cell_width), (1, 900));
    }

    #[test]
    fn bad_options_are_invalid() {
        let one = [panel(vec![diagonal()])];
        let invalid = |panels: &[Panel], width, panel_height, columns| {
            let options = ChartOptions {
                width,
                panel_height,
                columns,
            };
            match render_panels(panels, "step", &options) {
                Err(Error::Invalid(message)) => message,
                Err(other) => panic!("{width}×{panel_height}/{columns}: {other}"),
                Ok(_) => panic!("{width}×{panel_height}/{columns}: drawn"),
            }
        };
        assert!(invalid(&[], 800, 300, 1).contains("no panels"));
        assert!(invalid(&one, 800, 300, 0).contains("column"));
        assert!(invalid(&one, MAX_SIDE + 1, 300, 1).contains("larger than"));
        assert!(invalid(&one, 800, MAX_SIDE + 1, 1).contains("larger than"));
        let many = vec![panel(vec![]); 100];
        assert!(invalid(&many, 800, 200, 1).contains("100 panels"));
        assert!(invalid(&one, MAX_SIDE, MAX_SIDE, 1).contains("pixels"));
        assert!(invalid(&one, 800, 60, 1).contains("too small"));
        assert!(invalid(&one, 60, 300, 1).contains("too narrow"));
        let twenty = vec![panel(vec![diagonal()]); 20];
        assert!(invalid(&twenty, 800, 300, 20).contains("20 column(s)"));
        // A legend that eats the panel.
        let crowded = (0..200).map(|i| series(&i.to_string(), [])).collect();
        assert!(invalid(&[panel(crowded)], 400, 300, 1).contains("legend"));
    }
}
