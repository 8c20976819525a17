//! Times `museroll_core::chart::render_panels` on long training runs: one 600 × 320 px panel of
//! a 300 000-point noisy curve (the case a timed test used to check), then a default-sized
//! 4-panel chart like `curves.png` of a long run (two losses per panel over 300 000 steps, a
//! reference line in the metric panels). Each case is drawn `--repeat` times (default 5); prints
//! the best and median wall time per case, and writes the last pictures to `--out DIR` when given.
//!
//! `cargo run --release -p museroll-core --example chart_bench -- [--repeat N] [--out DIR]`

use museroll_core::chart::{render_panels, ChartOptions, Panel, Series};
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
            series("generator", N, |x| 1.0 / (1.0 + x / 5e4) + noise(x, 12.9898)),
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
    for (index, (name, panels, options)) in cases.iter().enumerate() {
        let mut times = Vec::with_capacity(repeat);
        let mut image = None;
        for _ in 0..repeat {
            let start = Instant::now();
            let drawn = render_panels(panels, "generator step", options)
                .unwrap_or_else(|e| fail(&e.to_string()));
            times.push(start.elapsed().as_secs_f64() * 1e3);
            image = Some(drawn);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: best {:.1} ms, median {:.1} ms ({repeat} runs)",
            times[0],
            times[times.len() / 2]
        );
        if let (Some(dir), Some(image)) = (&out, image) {
            let path = std::path::Path::new(dir).join(format!("chart_bench_{index}.png"));
            image.save(&path).unwrap_or_else(|e| fail(&e.to_string()));
        }
    }
}
