//! Training-curve charts through the public API: the pixels of known curves, gaps, legends, the
//! PNG file, and the size limits. Data pixels are told apart from text, axes and grid (all grey)
//! by their saturation, so these tests know nothing of the layout's internals. Set
//! `MUSEROLL_PLOT_DIR` to also write some of the pictures there for a look.

use image::{Rgb, RgbImage};
use museroll_core::chart::{render_panels, write_png, ChartOptions, Panel, Series};
use museroll_core::Error;

const FRAME: Rgb<u8> = Rgb([150, 150, 150]);

/// Writes `image` to `$MUSEROLL_PLOT_DIR/name` when that variable is set, for a look.
fn save(name: &str, image: &RgbImage) {
    if let Ok(dir) = std::env::var("MUSEROLL_PLOT_DIR") {
        image.save(std::path::Path::new(&dir).join(name)).unwrap();
    }
}

fn series(name: &str, points: impl IntoIterator<Item = (f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points: points.into_iter().collect(),
    }
}

fn panel(title: &str, series: Vec<Series>) -> Panel {
    Panel {
        title: title.into(),
        y_label: "loss".into(),
        series,
        reference: None,
    }
}

/// y = x on [0, 10], one point per 0.1.
fn diagonal() -> Series {
    series(
        "y = x",
        (0..=100).map(|i| (f64::from(i) / 10.0, f64::from(i) / 10.0)),
    )
}

fn one_column() -> ChartOptions {
    ChartOptions {
        width: 600,
        panel_height: 320,
        columns: 1,
    }
}

fn saturated(c: &Rgb<u8>) -> bool {
    let (max, min) = (c.0.iter().max().unwrap(), c.0.iter().min().unwrap());
    max - min >= 60
}

/// The coloured pixels in rows `rows`.
fn coloured(image: &RgbImage, rows: std::ops::Range<u32>) -> Vec<(u32, u32)> {
    image
        .enumerate_pixels()
        .filter(|&(_, y, c)| rows.contains(&y) && saturated(c))
        .map(|(x, y, _)| (x, y))
        .collect()
}

/// The rows of the first frame line: the first row with a long run of frame pixels.
fn frame_top(image: &RgbImage) -> u32 {
    (0..image.height())
        .find(|&y| {
            (0..image.width())
                .filter(|&x| *image.get_pixel(x, y) == FRAME)
                .count()
                > 200
        })
        .unwrap()
}

/// How much of `colour` pixel `c` holds when it is `colour` blended on white (anti-aliased
/// lines are), else 0.
fn share(c: &Rgb<u8>, colour: &Rgb<u8>) -> f64 {
    let alphas: Vec<f64> = (0..3)
        .filter(|&i| colour.0[i] < 200)
        .map(|i| (255.0 - f64::from(c.0[i])) / (255.0 - f64::from(colour.0[i])))
        .collect();
    let lo = alphas.iter().copied().fold(f64::MAX, f64::min);
    let hi = alphas.iter().copied().fold(f64::MIN, f64::max);
    if hi - lo < 0.05 {
        lo
    } else {
        0.0
    }
}

/// How far `c` is from grey: the spread of its channels.
fn saturation(c: &Rgb<u8>) -> u8 {
    c.0.iter().max().unwrap() - c.0.iter().min().unwrap()
}

/// The most saturated pixel's row in column `x` between rows `rows`: the middle of a line.
fn line_row(image: &RgbImage, x: u32, rows: std::ops::Range<u32>) -> Option<u32> {
    rows.filter(|&y| saturated(image.get_pixel(x, y)))
        .max_by_key(|&y| saturation(image.get_pixel(x, y)))
}

#[test]
fn y_equals_x_is_a_straight_rising_line_spanning_the_plot() {
    let image = render_panels(
        &[panel("diagonal", vec![diagonal()])],
        "step",
        &one_column(),
    )
    .unwrap();
    save("diagonal.png", &image);
    let (top, bottom, frame_left, frame_right) = frame(&image);
    let line = coloured(&image, 0..image.height());
    let left = line.iter().map(|p| p.0).min().unwrap();
    let right = line.iter().map(|p| p.0).max().unwrap();
    // The x range is not padded: the line runs from frame to frame.
    assert_eq!((left, right), (frame_left + 1, frame_right - 1));
    // The y range is padded by 5% of the span on both sides, so the ends are 0.5 / 11 of the
    // plot's height inside the frame, rounded to the nearest pixel.
    let (first, last) = (top + 1, bottom - 1);
    let h = f64::from(last - first);
    let row_of = |y: f64| last - ((y + 0.5) / 11.0 * h).round() as u32;
    let y_left = line_row(&image, left, top..bottom).unwrap();
    let y_right = line_row(&image, right, top..bottom).unwrap();
    assert_eq!((y_left, y_right), (row_of(0.0), row_of(10.0)));
    // Every column of the plot has its line's middle within 1.5 px of the straight line
    // between the ends (points are rounded to pixels, and plotters anti-aliases each segment
    // over two rows), and every line pixel is within 2 px of it.
    let slope = f64::from(y_left - y_right) / f64::from(right - left);
    let expected = |x: u32| f64::from(y_left) - slope * f64::from(x - left);
    for x in left..=right {
        let y = line_row(&image, x, top..bottom).unwrap();
        assert!((f64::from(y) - expected(x)).abs() <= 1.5, "({x}, {y})");
    }
    for &(x, y) in &line {
        assert!((f64::from(y) - expected(x)).abs() <= 2.0, "({x}, {y})");
    }
}

#[test]
fn a_nan_breaks_the_line() {
    let mut s = diagonal();
    s.points[50].1 = f64::NAN; // x = 5.0
    let image = render_panels(&[panel("gap", vec![s])], "step", &one_column()).unwrap();
    let columns: Vec<u32> = coloured(&image, 0..image.height())
        .into_iter()
        .map(|p| p.0)
        .collect();
    let (left, right) = (
        *columns.iter().min().unwrap(),
        *columns.iter().max().unwrap(),
    );
    let column_of = |x: f64| left + (x / 10.0 * f64::from(right - left)).round() as u32;
    let (before, after) = (column_of(4.9), column_of(5.1));
    assert!(columns.contains(&before) && columns.contains(&after));
    assert!(
        !columns.iter().any(|&x| x > before && x < after),
        "line pixels between x = 4.9 and x = 5.1"
    );
}

#[test]
fn a_legend_shows_each_series_colour_above_the_plot() {
    let curves = vec![
        diagonal(),
        series(
            "discriminator",
            (0..=10).map(|i| (f64::from(i), 10.0 - f64::from(i))),
        ),
    ];
    let image = render_panels(&[panel("losses", curves)], "step", &one_column()).unwrap();
    let legend_colours = |image: &RgbImage| {
        let mut colours: Vec<Rgb<u8>> = coloured(image, 0..frame_top(image))
            .into_iter()
            .map(|(x, y)| *image.get_pixel(x, y))
            .collect();
        colours.sort_by_key(|c| c.0);
        colours.dedup();
        colours
    };
    let colours = legend_colours(&image);
    assert_eq!(colours.len(), 2, "{colours:?}");
    // Both colours draw a line in the plot too: at least one pixel a column (of about 550)
    // holds half of it or more.
    let (top, bottom, left, right) = frame(&image);
    for colour in &colours {
        let columns = (left + 1..right)
            .filter(|&x| (top + 1..bottom).any(|y| share(image.get_pixel(x, y), colour) >= 0.5))
            .count();
        assert!(columns > 500, "{colour:?}: {columns}");
    }
    // A single series needs no legend.
    let image = render_panels(&[panel("one", vec![diagonal()])], "step", &one_column()).unwrap();
    assert!(legend_colours(&image).is_empty());
}

#[test]
fn the_png_file_decodes_to_the_grid_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    let mut metric = panel(
        "empty bars",
        vec![series("EB", [(0.0, 0.2), (1000.0, 0.4)])],
    );
    metric.reference = Some(("training data".into(), 0.42));
    // Losses with a blow-up (a NaN gap) and a lone point after it.
    let mut generator = series(
        "generator",
        (0..=100).map(|i| (f64::from(i) * 10.0, 2.0 / (1.0 + f64::from(i) / 10.0))),
    );
    generator.points[60].1 = f64::NAN;
    generator.points[62].1 = f64::NAN;
    let discriminator = series(
        "discriminator",
        (0..=100).map(|i| (f64::from(i) * 10.0, 0.5 + 0.1 * (f64::from(i) / 3.0).sin())),
    );
    let panels = [
        panel("losses", vec![generator, discriminator]),
        metric,
        panel("nothing yet", vec![]),
    ];
    let options = ChartOptions {
        width: 800,
        panel_height: 250,
        columns: 2,
    };
    write_png(&path, &panels, "generator step", &options).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let decoded = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(decoded.dimensions(), (800, 500));
    save("curves.png", &decoded);
    assert_eq!(
        decoded,
        render_panels(&panels, "generator step", &options).unwrap()
    );
    // A file that cannot be written: the error names it.
    let missing = dir.path().join("no such dir").join("curves.png");
    let err = write_png(&missing, &panels, "step", &options).unwrap_err();
    assert!(err.to_string().contains("no such dir"), "{err}");
}

/// How long this takes is measured by the `chart_bench` example (BENCHMARKS.md), not here.
#[test]
fn a_dense_noisy_series_is_a_solid_band() {
    let noisy = series(
        "loss",
        (0..300_000).map(|i| (f64::from(i), (f64::from(i) * 0.37).sin())),
    );
    let image = render_panels(&[panel("long run", vec![noisy])], "step", &one_column()).unwrap();
    // Each column reaches both extremes: the plot is a solid band.
    let line = coloured(&image, 0..image.height());
    let (top, bottom) = (
        line.iter().map(|p| p.1).min().unwrap(),
        line.iter().map(|p| p.1).max().unwrap(),
    );
    let left = line.iter().map(|p| p.0).min().unwrap();
    let band = line.iter().filter(|p| p.0 == left + 100).count() as u32;
    assert!(band + 1 >= bottom - top, "{band} of {}", bottom - top);
}

#[test]
fn nothing_to_draw_or_absurd_sizes_are_invalid() {
    let one = [panel("one", vec![diagonal()])];
    let invalid = |panels: &[Panel], options: ChartOptions| {
        matches!(
            render_panels(panels, "step", &options),
            Err(Error::Invalid(_))
        )
    };
    assert!(invalid(&[], ChartOptions::default()));
    for (width, panel_height, columns) in [
        (16_385, 300, 1),
        (800, 16_385, 1),
        (800, 300, 0),
        (10, 300, 1),
        (800, 10, 1),
    ] {
        let options = ChartOptions {
            width,
            panel_height,
            columns,
        };
        assert!(invalid(&one, options), "{width} {panel_height} {columns}");
    }
    // 60 panels of 320 px in one column: 19 200 px tall.
    let many = vec![panel("p", vec![]); 60];
    let err = render_panels(&many, "step", &one_column()).unwrap_err();
    assert!(err.to_string().contains("60 panels in 60 rows"), "{err}");
}

/// The rows of the frame's top and bottom lines and its left and right columns.
fn frame(image: &RgbImage) -> (u32, u32, u32, u32) {
    let top = frame_top(image);
    let run = |y: u32| {
        (0..image.width())
            .filter(|&x| *image.get_pixel(x, y) == FRAME)
            .count()
    };
    let bottom = (top + 1..image.height())
        .filter(|&y| run(y) > 200)
        .max()
        .unwrap();
    let left = (0..image.width())
        .find(|&x| *image.get_pixel(x, top + 5) == FRAME)
        .unwrap();
    let right = (0..image.width())
        .rev()
        .find(|&x| *image.get_pixel(x, top + 5) == FRAME)
        .unwrap();
    (top, bottom, left, right)
}

#[test]
fn constant_series_are_horizontal_lines_at_their_rows() {
    // Two constants, 0 and 10: the y range is −0.5..10.5, so the lines are 0.5 / 11 of the
    // plot's height above its bottom and below its top.
    let curves = vec![
        series("low", (0..50).map(|i| (f64::from(i), 0.0))),
        series("high", (0..50).map(|i| (f64::from(i), 10.0))),
    ];
    let image = render_panels(&[panel("flat", curves)], "step", &one_column()).unwrap();
    let (top, bottom, left, right) = frame(&image);
    let (first, last) = (top + 1, bottom - 1);
    let h = f64::from(last - first);
    let row_of = |y: f64| last - ((y + 0.5) / 11.0 * h).round() as u32;
    let lines = coloured(&image, top + 1..bottom);
    let rows: std::collections::BTreeSet<u32> = lines.iter().map(|p| p.1).collect();
    assert_eq!(
        rows.into_iter().collect::<Vec<_>>(),
        [row_of(10.0), row_of(0.0)]
    );
    // Each line spans the plot from frame to frame.
    for row in [row_of(10.0), row_of(0.0)] {
        let columns: Vec<u32> = lines.iter().filter(|p| p.1 == row).map(|p| p.0).collect();
        assert_eq!(columns.len() as u32, right - left - 1, "row {row}");
        assert_eq!(
            (columns[0], *columns.last().unwrap()),
            (left + 1, right - 1)
        );
    }
}

#[test]
fn titles_are_set_in_text_above_the_plot() {
    let dark = |c: &Rgb<u8>| c.0.iter().all(|&v| v < 120);
    let title_ink = |title: &str| {
        let image =
            render_panels(&[panel(title, vec![diagonal()])], "step", &one_column()).unwrap();
        let top = frame_top(&image);
        let ink: Vec<(u32, u32)> = image
            .enumerate_pixels()
            .filter(|&(_, y, c)| y < top && dark(c))
            .map(|(x, y, _)| (x, y))
            .collect();
        // Anti-aliased: grey edge pixels between ink and paper.
        let edges = image
            .enumerate_pixels()
            .filter(|&(_, y, c)| y < top && c.0[0] > 60 && c.0[0] < 200 && c.0[0] == c.0[2])
            .count();
        (ink, edges)
    };
    let (short, edges) = title_ink("loss");
    let (long, _) = title_ink("generator and discriminator losses");
    assert!(short.len() > 20, "{}", short.len());
    assert!(edges > 10, "{edges}");
    assert!(
        long.len() > 3 * short.len(),
        "{} vs {}",
        long.len(),
        short.len()
    );
    // Centred over the plot: the long title spreads further both ways.
    let span = |ink: &[(u32, u32)]| {
        (
            ink.iter().map(|p| p.0).min().unwrap(),
            ink.iter().map(|p| p.0).max().unwrap(),
        )
    };
    let ((a, b), (c, d)) = (span(&short), span(&long));
    assert!(c < a && d > b);
    assert!(((a + b) / 2).abs_diff((c + d) / 2) <= 3);
}
