//! Training-curve charts through the public API: the pixels of known curves, gaps, legends, the
//! PNG file, and the size limits. Data pixels are told apart from text, axes and grid (all grey)
//! by their saturation, so these tests know nothing of the layout's internals.

use image::{Rgb, RgbImage};
use museroll_core::chart::{render_panels, write_png, ChartOptions, Panel, Series};
use museroll_core::Error;

const FRAME: Rgb<u8> = Rgb([150, 150, 150]);

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

#[test]
fn y_equals_x_is_a_straight_rising_line_spanning_the_plot() {
    let image = render_panels(
        &[panel("diagonal", vec![diagonal()])],
        "step",
        &one_column(),
    )
    .unwrap();
    let line = coloured(&image, 0..image.height());
    let left = line.iter().map(|p| p.0).min().unwrap();
    let right = line.iter().map(|p| p.0).max().unwrap();
    let at = |x: u32| -> Vec<u32> { line.iter().filter(|p| p.0 == x).map(|p| p.1).collect() };
    let (y_left, y_right) = (at(left)[0], at(right)[0]);
    assert!(y_right < y_left, "the line rises");
    // The x range is not padded: the ends touch the frame's sides.
    assert_eq!(*image.get_pixel(left - 1, y_left), FRAME);
    assert_eq!(*image.get_pixel(right + 1, y_right), FRAME);
    // The y range is padded by 5% of the span on both sides, the ends on the outermost rows: the
    // frame is 0.5 / 11 of the line's height beyond each end.
    let rise = f64::from(y_left - y_right);
    let pad = (rise * 0.5 / 10.0).round() as u32;
    assert_eq!(*image.get_pixel(left + 5, y_right - pad - 1), FRAME);
    assert_eq!(*image.get_pixel(left + 5, y_left + pad + 1), FRAME);
    // Every line pixel is within a pixel of the straight line between the ends, and every
    // column between them has one.
    let slope = rise / f64::from(right - left);
    for &(x, y) in &line {
        let expected = f64::from(y_left) - slope * f64::from(x - left);
        assert!(
            (f64::from(y) - expected).abs() <= 1.0 + slope,
            "({x}, {y}): {expected}"
        );
    }
    assert!((left..=right).all(|x| !at(x).is_empty()));
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
    // Both colours draw a line in the plot too.
    let plot = coloured(&image, frame_top(&image)..image.height());
    for colour in &colours {
        assert!(
            plot.iter()
                .filter(|&&(x, y)| image.get_pixel(x, y) == colour)
                .count()
                > 100
        );
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
    let panels = [
        panel("losses", vec![diagonal()]),
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
    assert_eq!(
        decoded,
        render_panels(&panels, "generator step", &options).unwrap()
    );
    // A file that cannot be written: the error names it.
    let missing = dir.path().join("no such dir").join("curves.png");
    let err = write_png(&missing, &panels, "step", &options).unwrap_err();
    assert!(err.to_string().contains("no such dir"), "{err}");
}

#[test]
fn dense_series_draw_quickly() {
    let noisy = series(
        "loss",
        (0..300_000).map(|i| (f64::from(i), (f64::from(i) * 0.37).sin())),
    );
    let start = std::time::Instant::now();
    let image = render_panels(&[panel("long run", vec![noisy])], "step", &one_column()).unwrap();
    assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
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
