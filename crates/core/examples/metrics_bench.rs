//! Times `museroll_core::metrics::evaluate` on a phrase tensor read from a raw file (one byte per
//! cell, 0 or 1, layout `[sample][track][bar][step][pitch]`), with `MetricsConfig::default()`,
//! lowest pitch C1 (MIDI 24), 24 steps per beat and track 0 the drums (BinaryMuseGAN's 8 tracks).
//! Prints one JSON object: the best wall time of `--repeat` runs (default 5, reading the file is
//! not timed), the rayon thread count, each metric's aggregate and the full report.
//!
//! `cargo run --release -p museroll-core --example metrics_bench -- [--repeat N] FILE SAMPLES
//! TRACKS BARS STEPS PITCHES`

use museroll_core::metrics::{evaluate, MetricsConfig, PhraseShape, PhraseView};
use museroll_core::{Pitch, Resolution};
use std::time::Instant;

fn fail(message: &str) -> ! {
    eprintln!("metrics_bench: {message}");
    std::process::exit(2)
}

fn number(text: &str) -> usize {
    text.parse()
        .unwrap_or_else(|_| fail(&format!("{text:?} is not a whole number")))
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut repeat = 5;
    if args.first().is_some_and(|a| a == "--repeat") && args.len() >= 2 {
        repeat = number(&args[1]).max(1);
        args.drain(..2);
    }
    let [file, samples, tracks, bars, steps, pitches] = args.as_slice() else {
        fail("usage: metrics_bench [--repeat N] FILE SAMPLES TRACKS BARS STEPS PITCHES")
    };
    let shape = PhraseShape {
        samples: number(samples),
        tracks: number(tracks),
        bars: number(bars),
        steps_per_bar: number(steps),
        pitches: number(pitches),
        lowest_pitch: Pitch::new(24).unwrap_or_else(|| fail("bad lowest pitch")),
        resolution: Resolution::new(24).unwrap_or_else(|e| fail(&e.to_string())),
    };
    let data = std::fs::read(file).unwrap_or_else(|e| fail(&format!("{file}: {e}")));
    let is_drum: Vec<bool> = (0..shape.tracks).map(|k| k == 0).collect();
    let view = PhraseView::new(&data, shape, &is_drum).unwrap_or_else(|e| fail(&e.to_string()));
    let config = MetricsConfig::default();
    let mut best = f64::INFINITY;
    let mut report = None;
    for _ in 0..repeat {
        let start = Instant::now();
        let r = evaluate(&view, &config).unwrap_or_else(|e| fail(&e.to_string()));
        best = best.min(start.elapsed().as_secs_f64());
        report = Some(r);
    }
    let Some(report) = report else { fail("no run") };
    let mut aggregate: serde_json::Map<String, serde_json::Value> = report
        .metrics
        .iter()
        .map(|(m, s)| (m.abbreviation().to_string(), serde_json::json!(s.aggregate)))
        .collect();
    aggregate.insert(
        "TD".into(),
        serde_json::json!(report.tonal_distance.aggregate),
    );
    println!(
        "{}",
        serde_json::json!({
            "seconds": best,
            "repeat": repeat,
            "threads": rayon::current_num_threads(),
            "aggregate": aggregate,
            "report": report,
        })
    );
}
