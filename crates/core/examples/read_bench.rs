//! Times `museroll_core::io::read_file` (file to piano-roll, at 24 steps per beat) on every file
//! given, printing one JSON line per file: `{"file": …, "seconds": …, "notes": …}`. The time is the
//! best of `--repeat` runs (default 5), as `bench/midi_read.py` does for pypianoroll.
//!
//! `cargo run --release -p museroll-core --example read_bench -- [--repeat N] FILES…`

use museroll_core::io::{read_file, ReadOptions};
use std::time::Instant;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut repeat = 5;
    if args.first().is_some_and(|a| a == "--repeat") && args.len() >= 2 {
        repeat = args[1].parse().unwrap_or_else(|_| {
            eprintln!("read_bench: --repeat takes a whole number");
            std::process::exit(2)
        });
        args.drain(..2);
    }
    let options = ReadOptions::default();
    for file in &args {
        let path = std::path::Path::new(file);
        let mut best = f64::INFINITY;
        let mut last = None;
        for _ in 0..repeat.max(1) {
            let start = Instant::now();
            match read_file(path, &options) {
                Ok((m, _)) => {
                    best = best.min(start.elapsed().as_secs_f64());
                    last = Some(m);
                }
                Err(e) => {
                    eprintln!("read_bench: {e}");
                    break;
                }
            }
        }
        if let Some(m) = last {
            let notes: usize = m.tracks.iter().map(|t| t.roll.note_count()).sum();
            println!(
                "{}",
                serde_json::json!({ "file": file, "seconds": best, "notes": notes })
            );
        }
    }
}
