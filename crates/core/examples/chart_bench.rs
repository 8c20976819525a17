//! Times `museroll_core::chart::render_panels` on long training runs: one 600 × 320 px panel of
//! a 300 000-point noisy curve (the case a timed test used to check), then a default-sized
//! 4-panel chart like `curves.png` of a long run (two losses per panel over 300 000 steps, a
//! reference line in the metric panels); and, for the text of piano-roll pictures, a sample sheet
//! as training runs draw it (`plot::render_grid` of 16 captioned 4-bar, 4-track phrases in 4
//! columns, 400 px each, 48 px lanes). Each case is drawn `--repeat` times (default 5); prints
//! the best and median wall time per case, and writes the last pictures to `--out DIR` when given.
//!
//! `cargo run --release -p museroll-core --example chart_bench -- [--repeat N] [--out DIR]`

use image::RgbImage;
use museroll_core::chart::{render_panels, ChartOptions, Panel, Series};
use museroll_core::plot::{render_grid, PlotOptions};
use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Track};
use std::time::Instant;

fn fail(message: &str) -> ! {
    eprintln!("chart_bench: {message}");
    std::process::exit(2)
}

fn series(name: &str, n: u32, f: impl Fn(f64) -> f64) -> Series {
    Series {
        name: name.into(),
        points: (0..n).map(|i| (f64::from(i), f(f64::from(i)))).collect(),
    }
}

/// A 4-bar chorale-like phrase: 4 voices of quarter notes, 12 steps a beat, varied by `seed`.
fn phrase(seed: usize) -> Multitrack {
    let steps = 4 * 4 * 12;
    let mut m = Multitrack::new(Resolution::new(12).unwrap());
    for (voice, (name, base)) in [("Soprano", 72), ("Alto", 65), ("Tenor", 57), ("Bass", 45)]
        .into_iter()
        .enumerate()
    {
        let mut track = Track::new(name, Program::new(52).unwrap(), false, steps);
        for beat in 0..16 {
            let pitch = base + ((beat * 7 + voice * 3 + seed * 5) % 9) as u8;
            track.roll.add_note(Note {
                pitch: Pitch::new(pitch).unwrap(),
                start: beat * 12,
                end: beat * 12 + 11,
                velocity: 100,
            });
        }
        m.tracks.push(track);
    }
    m
}

fn time(name: &str, repeat: usize, mut draw: impl FnMut() -> RgbImage) -> RgbImage {
    let mut times = Vec::with_capacity(repeat);
    let mut image = None;
    for _ in 0..repeat {
        let start = Instant::now();
        image = Some(draw());
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{name}: best {:.1} ms, median {:.1} ms ({repeat} runs)",
        times[0],
        times[times.len() / 2]
    );
    image.expect("at least one run")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut repeat, mut out) = (5usize, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| fail("--repeat takes a positive whole number"))
            }
            "--out" => out = Some(args.next().unwrap_or_else(|| fail("--out takes a folder"))),
            other => fail(&format!("unknown argument {other:?}")),
        }
    }
    const N: u32 = 300_000;
    let one = vec![Panel {
        title: "long run".into(),
        y_label: "loss".into(),
        series: vec![series("loss", N, |x| (x * 0.37).sin())],
        reference: None,
    }];
    let one_options = ChartOptions {
        width: 600,
        panel_height: 320,
        columns: 1,
    };
    let noise = |x: f64, k: f64| ((x * k).sin() * 43_758.545).fract() * 0.3;
    let losses = |title: &str| Panel {
        title: title.into(),
        y_label: "loss".into(),
        series: vec![
            series("generator", N, |x| {
                1.0 / (1.0 + x / 5e4) + noise(x, 12.9898)
            }),
            series("discriminator", N, |x| 0.5 + noise(x, 78.233)),
        ],
        reference: None,
    };
    let metric = |title: &str, reference: f64| Panel {
        title: title.into(),
        y_label: "fraction".into(),
        series: vec![series("samples", N, |x| {
            reference * (1.0 - (-x / 8e4).exp()) + noise(x, 39.346) * 0.2
        })],
        reference: Some(("training data".into(), reference)),
    };
    let four = vec![
        losses("losses"),
        losses("Wasserstein estimate"),
        metric("empty bars", 0.42),
        metric("used pitch classes", 0.73),
    ];
    let cases = [
        ("1 panel, 300k points", &one, one_options),
        ("4 panels, 6 × 300k points", &four, ChartOptions::default()),
    ];
    let sheet: Vec<(String, Multitrack)> = (0..16)
        .map(|i| (format!("sample {}", i + 1), phrase(i)))
        .collect();
    let sheet_options = PlotOptions {
        width: Some(4 * 400),
        lane_height: Some(48),
        ..PlotOptions::default()
    };
    let mut images = Vec::new();
    for (name, panels, options) in &cases {
        images.push(time(name, repeat, || {
            render_panels(panels, "generator step", options)
                .unwrap_or_else(|e| fail(&e.to_string()))
        }));
    }
    images.push(time("sample sheet, 16 phrases", repeat, || {
        render_grid(&sheet, 4, &sheet_options).unwrap_or_else(|e| fail(&e.to_string()))
    }));
    if let Some(dir) = &out {
        for (index, image) in images.iter().enumerate() {
            let path = std::path::Path::new(dir).join(format!("chart_bench_{index}.png"));
            image.save(&path).unwrap_or_else(|e| fail(&e.to_string()));
        }
    }
}
