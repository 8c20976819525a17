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
//!   top-left pixel is (`left`, `top`), x maps to column `left + round((x − x_lo) / (x_hi − x_lo)
//!   · (width − 1))` and y to row `top + round((y_hi − y) / (y_hi − y_lo) · (height − 1))`: the
//!   range's ends are the area's outermost pixels.
//! - **Fast on long runs.** Consecutive points falling into one pixel column are reduced to the
//!   first, lowest, highest and last of them before drawing, which draws the same pixels as the
//!   whole run; a million-point series costs one pass over its points.
//! - **Bounded.** The picture is at most [`MAX_SIDE`] pixels a side and [`MAX_PIXELS`] in all;
//!   larger options are [`Error::Invalid`], as are options that leave no room for a plot.
//!
//! Lines are 1 px Bresenham lines in a fixed palette (the piano-roll track colours of
//! [`plot`], cycled); a reference value (e.g. the training data's value of a metric) is a black
//! dashed line. Text uses the same 8×8 bitmap font as the piano-roll pictures.

use crate::error::{Error, Result};
use crate::plot::{
    self, text_width, track_color, Canvas, BACKGROUND, BORDER, FAINT_TEXT, GLYPH, MAX_PIXELS,
    MAX_SIDE, TEXT,
};
use image::{Rgb, RgbImage};
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
    let mut image = RgbImage::from_pixel(layout.width, layout.height, BACKGROUND);
    for (index, (panel, plan)) in panels.iter().zip(&layout.panels).enumerate() {
        let (row, column) = (index / layout.columns, index % layout.columns);
        let mut canvas = Canvas {
            image: &mut image,
            left: column as u32 * layout.cell_width,
            top: row as u32 * layout.cell_height,
            width: layout.cell_width,
            height: layout.cell_height,
        };
        layout.paint(panel, plan, x_label, &mut canvas);
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
/// Height of a line of text, with its spacing.
const LINE: u32 = GLYPH + 6;
/// Length of a tick mark.
const TICK: u32 = 4;
/// Space between a tick mark and its label.
const TICK_GAP: u32 = 3;
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
const Y_TICK_SPACING: u32 = 3 * GLYPH;

/// Grid lines at the ticks, under the data.
const GRID: Rgb<u8> = Rgb([232, 232, 232]);
/// The reference line.
const REFERENCE: Rgb<u8> = Rgb([0, 0, 0]);

const NO_DATA: &str = "no data";

/// A data range mapped onto pixels, from `lo` to `hi` (finite and different; `hi < lo` for
/// rows, which grow downwards).
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

    /// The same range running from `hi` to `lo`.
    fn flipped(self) -> Scale {
        Scale {
            lo: self.hi,
            hi: self.lo,
        }
    }

    /// Where `v` lies in the range, 0 at `lo` and 1 at `hi` (clamped; computed on halves so a
    /// range spanning most of the doubles does not overflow).
    fn fraction(&self, v: f64) -> f64 {
        ((v / 2.0 - self.lo / 2.0) / (self.hi / 2.0 - self.lo / 2.0)).clamp(0.0, 1.0)
    }

    /// The pixel of `v` among `pixels` (≥ 1), the range's ends on the outermost ones.
    fn pixel(&self, v: f64, pixels: u32) -> u32 {
        (self.fraction(v) * f64::from(pixels - 1)).round() as u32
    }
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
            .saturating_add(text_width(name, 1));
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
    labels.iter().map(|l| text_width(l, 1)).max().unwrap_or(0)
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
        let legend_top = PAD + LINE;
        let y_label_top = legend_rows.saturating_mul(LINE).saturating_add(legend_top);
        let plot_top = y_label_top.saturating_add(LINE);
        let bottom = TICK + TICK_GAP + LINE + GLYPH + PAD;
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

        // The shared x axis: as many ticks as fit with a glyph between labels.
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
            let needed = (widest(&labels) + GLYPH).saturating_mul(labels.len() as u32);
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

    /// The pixel (relative to the panel) of data point (`x`, `y`) in the panel of `plan`.
    fn pixel(&self, plan: &Plan, x: f64, y: f64) -> (u32, u32) {
        let plot = self.plot;
        (
            plot.left + self.x.pixel(x, plot.width),
            plot.top + plan.y.flipped().pixel(y, plot.height),
        )
    }

    fn paint(&self, panel: &Panel, plan: &Plan, x_label: &str, canvas: &mut Canvas) {
        let plot = self.plot;
        let centered = |text: &str| {
            let w = text_width(text, 1);
            plot.left + plot.width.saturating_sub(w) / 2
        };
        canvas.text(centered(&panel.title), PAD, &panel.title, 1, TEXT);
        for entry in &plan.legend {
            let (x, y) = (PAD + entry.x, self.legend_top + entry.row * LINE);
            match entry.mark {
                Mark::Swatch(color) => canvas.fill(x, y + 3, SWATCH, 3, color),
                Mark::Dashes => dashes(canvas, x, y + 4, SWATCH),
            }
            canvas.text(x + SWATCH + SWATCH_GAP, y, &entry.name, 1, TEXT);
        }
        canvas.text(PAD, self.y_label_top, &panel.y_label, 1, FAINT_TEXT);

        // Grid lines and ticks, then the frame around the plot area.
        let (right, bottom) = (plot.left + plot.width, plot.top + plot.height);
        let y_ticks = plan.y_ticks.iter().flat_map(|t| &t.values);
        for (&value, label) in y_ticks.zip(&plan.y_labels) {
            let (_, y) = self.pixel(plan, self.x.lo, value);
            canvas.fill(plot.left, y, plot.width, 1, GRID);
            canvas.fill(plot.left - 1 - TICK, y, TICK, 1, BORDER);
            let x = plot.left - 1 - TICK - TICK_GAP - text_width(label, 1);
            canvas.text(x, y.saturating_sub(GLYPH / 2), label, 1, FAINT_TEXT);
        }
        let x_ticks = self.x_ticks.iter().flat_map(|t| &t.values);
        for (&value, label) in x_ticks.zip(&self.x_labels) {
            let (x, _) = self.pixel(plan, value, plan.y.lo);
            canvas.fill(x, plot.top, 1, plot.height, GRID);
            canvas.fill(x, bottom + 1, 1, TICK, BORDER);
            let w = text_width(label, 1);
            let y = bottom + 1 + TICK + TICK_GAP;
            canvas.text(x.saturating_sub(w / 2), y, label, 1, FAINT_TEXT);
        }
        canvas.fill(plot.left - 1, plot.top - 1, plot.width + 2, 1, BORDER);
        canvas.fill(plot.left - 1, bottom, plot.width + 2, 1, BORDER);
        canvas.fill(plot.left - 1, plot.top - 1, 1, plot.height + 2, BORDER);
        canvas.fill(right, plot.top - 1, 1, plot.height + 2, BORDER);
        let x_label_top = bottom + 1 + TICK + TICK_GAP + LINE;
        canvas.text(centered(x_label), x_label_top, x_label, 1, FAINT_TEXT);

        // The data, the reference over it.
        for (index, series) in panel.series.iter().enumerate() {
            let mut pen = Pen {
                canvas: &mut *canvas,
                color: track_color(index),
                last: None,
                run: 0,
            };
            let mut column: Option<Column> = None;
            for &(x, y) in &series.points {
                if !finite(&(x, y)) {
                    if let Some(c) = column.take() {
                        c.draw(&mut pen);
                    }
                    pen.lift();
                    continue;
                }
                let (px, py) = self.pixel(plan, x, y);
                match &mut column {
                    Some(c) if c.x == px => c.add(py),
                    _ => {
                        if let Some(c) = column.replace(Column::new(px, py)) {
                            c.draw(&mut pen);
                        }
                    }
                }
            }
            if let Some(c) = column {
                c.draw(&mut pen);
            }
            pen.lift();
        }
        if let Some(value) = plan.reference {
            let (_, y) = self.pixel(plan, self.x.lo, value);
            dashes(canvas, plot.left, y, plot.width);
        }
        if !plan.has_data {
            let y = plot.top + plot.height.saturating_sub(GLYPH) / 2;
            canvas.text(centered(NO_DATA), y, NO_DATA, 1, FAINT_TEXT);
        }
    }
}

/// A dashed horizontal line from (`x`, `y`), `length` pixels long, starting with a dash.
fn dashes(canvas: &mut Canvas, x: u32, y: u32, length: u32) {
    for i in (0..length).filter(|i| i % (DASH + DASH_GAP) < DASH) {
        canvas.set(x + i, y, REFERENCE);
    }
}

/// Consecutive points in one pixel column: the rows of the first, lowest, highest and last.
struct Column {
    x: u32,
    first: u32,
    top: u32,
    bottom: u32,
    last: u32,
}

impl Column {
    fn new(x: u32, y: u32) -> Column {
        Column {
            x,
            first: y,
            top: y,
            bottom: y,
            last: y,
        }
    }

    fn add(&mut self, y: u32) {
        self.top = self.top.min(y);
        self.bottom = self.bottom.max(y);
        self.last = y;
    }

    /// Joins first → top → bottom → last, which covers every row the column's points reach.
    fn draw(&self, pen: &mut Pen) {
        for y in [self.first, self.top, self.bottom, self.last] {
            pen.to(self.x, y);
        }
    }
}

/// Draws polylines point by point; a run of a single pixel is drawn as a small square.
struct Pen<'c, 'a> {
    canvas: &'c mut Canvas<'a>,
    color: Rgb<u8>,
    last: Option<(u32, u32)>,
    /// Distinct pixels in the current run.
    run: usize,
}

impl Pen<'_, '_> {
    fn to(&mut self, x: u32, y: u32) {
        match self.last {
            Some(last) if last == (x, y) => return,
            Some((x0, y0)) => self.line(x0, y0, x, y),
            None => {}
        }
        self.last = Some((x, y));
        self.run += 1;
    }

    /// Ends the current run.
    fn lift(&mut self) {
        if let (Some((x, y)), 1) = (self.last, self.run) {
            let half = MARKER / 2;
            let (x, y) = (x.saturating_sub(half), y.saturating_sub(half));
            self.canvas.fill(x, y, MARKER, MARKER, self.color);
        }
        self.last = None;
        self.run = 0;
    }

    /// Bresenham's line, both ends included.
    fn line(&mut self, x0: u32, y0: u32, x1: u32, y1: u32) {
        let (mut x, mut y) = (i64::from(x0), i64::from(y0));
        let (x1, y1) = (i64::from(x1), i64::from(y1));
        let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
        let (sx, sy) = ((x1 - x).signum(), (y1 - y).signum());
        let mut error = dx + dy;
        loop {
            // Within the panel: every coordinate came from a u32.
            self.canvas.set(x as u32, y as u32, self.color);
            if x == x1 && y == y1 {
                break;
            }
            let doubled = 2 * error;
            if doubled >= dy {
                error += dy;
                x += sx;
            }
            if doubled <= dx {
                error += dx;
                y += sy;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// The pixels of `color` in the plot area of the first panel.
    fn pixels_of(image: &RgbImage, layout: &Layout, color: Rgb<u8>) -> Vec<(u32, u32)> {
        let p = layout.plot;
        (p.top..p.top + p.height)
            .flat_map(|y| (p.left..p.left + p.width).map(move |x| (x, y)))
            .filter(|&(x, y)| *image.get_pixel(x, y) == color)
            .collect()
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
            let row = plot.top + ((10.5 - y) / 11.0 * f64::from(plot.height - 1)).round() as u32;
            (col, row)
        };
        for i in 0..=10 {
            let v = f64::from(i);
            let (x, y) = expected(v, v);
            assert_eq!(layout.pixel(plan, v, v), (x, y));
            assert_eq!(*image.get_pixel(x, y), color, "point {i}");
        }
        // The ends are on the plot area's edges, so the line spans its whole width.
        assert_eq!(expected(0.0, 0.0).0, plot.left);
        assert_eq!(expected(10.0, 10.0).0, plot.left + plot.width - 1);
        // Every line pixel is within a pixel of the diagonal, and every column has one.
        let line = pixels_of(&image, &layout, color);
        let slope = f64::from(plot.height - 1) / 11.0 * 10.0 / f64::from(plot.width - 1);
        for &(x, y) in &line {
            let data_x = f64::from(x - plot.left) / f64::from(plot.width - 1) * 10.0;
            let (_, row) = expected(data_x, data_x);
            assert!(
                y.abs_diff(row) <= 1 + slope as u32,
                "({x}, {y}) vs row {row}"
            );
        }
        let columns: std::collections::BTreeSet<u32> = line.iter().map(|p| p.0).collect();
        assert_eq!(columns.len() as u32, plot.width);
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
            let columns: Vec<u32> = pixels_of(&image, &layout, track_color(0))
                .into_iter()
                .map(|p| p.0)
                .collect();
            assert!(columns.contains(&x4) && columns.contains(&x6));
            assert!(
                !columns.iter().any(|&x| x > x4 && x < x6),
                "line pixels in the gap"
            );
            // The bad value does not stretch the y range.
            assert_eq!(plan.y, Scale { lo: -0.5, hi: 10.5 });
        }
    }

    #[test]
    fn legend_swatches_have_the_series_colours() {
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
            let (x, y) = (PAD + entry.x, layout.legend_top + entry.row * LINE);
            let at = |dx: u32, dy: u32| *image.get_pixel(x + dx, y + dy);
            match entry.mark {
                Mark::Swatch(color) => {
                    assert!((0..SWATCH).all(|dx| at(dx, 4) == color), "{entry:?}");
                    assert_eq!(at(0, 1), BACKGROUND);
                }
                Mark::Dashes => {
                    assert_eq!(at(0, 4), REFERENCE);
                    assert_eq!(at(DASH, 4), BACKGROUND);
                }
            }
            // The name follows in text colour.
            let name = (x + SWATCH + SWATCH_GAP..x + SWATCH + SWATCH_GAP + 16)
                .flat_map(|xx| (y..y + GLYPH).map(move |yy| (xx, yy)));
            assert!(name
                .into_iter()
                .any(|(xx, yy)| *image.get_pixel(xx, yy) == TEXT));
        }
        assert_ne!(track_color(0), track_color(1));
        // Both curves are drawn, each in its colour.
        assert!(!pixels_of(&image, &layout, track_color(1)).is_empty());
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
            .all(|e| e.x + SWATCH + SWATCH_GAP + text_width(&e.name, 1) <= 500 - 2 * PAD));
        assert_eq!(layout.y_label_top, layout.legend_top + rows * LINE);
        assert_eq!(layout.plot.top, layout.y_label_top + LINE);
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
        let row = plot.top + (0.4 / 8.8 * f64::from(plot.height - 1)).round() as u32;
        assert_eq!(layout.pixel(plan, 0.0, 8.0).1, row);
        for i in 0..plot.width {
            let on = *image.get_pixel(plot.left + i, row) == REFERENCE;
            assert_eq!(on, i % (DASH + DASH_GAP) < DASH, "column {i}");
        }
        for y in [row - 1, row + 1] {
            assert!((0..plot.width).all(|i| *image.get_pixel(plot.left + i, y) != REFERENCE));
        }
        // A non-finite reference is ignored: no line, no legend entry.
        let mut p = panel(vec![series("d", [(0.0, 0.0), (10.0, 2.0)])]);
        p.reference = Some(("training data".into(), f64::NAN));
        let (image, layout) = draw(&[p]);
        assert!(pixels_of(&image, &layout, REFERENCE).is_empty());
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
            let mut colors = (plot.top..plot.top + plot.height)
                .flat_map(|y| (left..left + plot.width).map(move |x| (x, y)))
                .map(|(x, y)| *image.get_pixel(x, y));
            if index == 0 {
                assert!(!colors.any(|c| c == FAINT_TEXT));
            } else {
                let colors: Vec<Rgb<u8>> = colors.collect();
                assert!(colors.iter().filter(|&&c| c == FAINT_TEXT).count() > 40);
                assert!(!colors.contains(&track_color(0)));
            }
        }
    }

    #[test]
    fn degenerate_ranges_are_widened_around_the_value() {
        // A constant: a flat line in the middle.
        let flat = series("flat", (0..5).map(|i| (f64::from(i), 5.0)));
        let (image, layout) = draw(&[panel(vec![flat])]);
        let plan = &layout.panels[0];
        assert_eq!(plan.y, Scale { lo: 4.5, hi: 5.5 });
        let row = layout.plot.top + (layout.plot.height - 1) / 2;
        assert!(layout.pixel(plan, 0.0, 5.0).1.abs_diff(row) <= 1);
        let line = pixels_of(&image, &layout, track_color(0));
        assert_eq!(line.len() as u32, layout.plot.width);
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
        let mut marker = pixels_of(&image, &layout, track_color(0));
        marker.sort();
        let square: Vec<(u32, u32)> = (x - 1..=x + 1)
            .flat_map(|xx| (y - 1..=y + 1).map(move |yy| (xx, yy)))
            .collect();
        assert_eq!(marker, square);
        // Extreme values stay finite.
        let huge = Scale::new(f64::MAX, f64::MAX, Y_PADDING);
        assert!(huge.lo < huge.hi && huge.hi.is_finite());
        let tiny = Scale::new(5e-324, 5e-324, Y_PADDING);
        assert!(tiny.lo < tiny.hi);
        let wide = Scale::new(-f64::MAX, f64::MAX, Y_PADDING);
        assert_eq!((wide.lo, wide.hi), (f64::MIN, f64::MAX));
        assert_eq!(wide.fraction(0.0), 0.5);
    }

    #[test]
    fn dense_series_are_reduced_per_column_without_losing_extremes() {
        // 300 000 points alternating between 0 and 1, one spike to 3 in the middle.
        let mut points: Vec<(f64, f64)> = (0..300_000)
            .map(|i| (f64::from(i), f64::from(i % 2)))
            .collect();
        points[150_001].1 = 3.0;
        let (image, layout) = draw(&[panel(vec![series("noisy", points)])]);
        let plan = &layout.panels[0];
        let plot = layout.plot;
        let (_, zero) = layout.pixel(plan, 0.0, 0.0);
        let (_, one) = layout.pixel(plan, 0.0, 1.0);
        let color = track_color(0);
        for x in plot.left..plot.left + plot.width {
            assert_eq!(*image.get_pixel(x, zero), color, "column {x}");
            assert_eq!(*image.get_pixel(x, one), color, "column {x}");
        }
        let (spike_x, spike_y) = layout.pixel(plan, 150_001.0, 3.0);
        assert_eq!(*image.get_pixel(spike_x, spike_y), color);
        assert_eq!(
            spike_y,
            plot.top + (0.15 / 3.3 * f64::from(plot.height - 1)).round() as u32
        );
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
        // The third panel is the first one, one row down; the fourth cell stays blank.
        for y in 0..200 {
            for x in 0..450 {
                assert_eq!(image.get_pixel(x, y + 200), image.get_pixel(x, y));
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
