//! Times Yang & Lerch's evaluation (`museroll_core::evaluation::yang_lerch`: the features of
//! two sets on every track, then `compare`) on a dataset's first 2N training phrases, set A
//! being phrases 0..N and set B phrases N..2N of the training split. Reading the dataset is not
//! timed. Prints one JSON object: the wall time of one run, the rayon thread count, and the
//! comparison of every feature.
//!
//! `cargo run --release -p museroll-core --example yang_lerch_bench -- DATASET N`

use museroll_core::dataset::{Dataset, Split};
use museroll_core::evaluation::yang_lerch::{compare, features};
use museroll_core::metrics::PhraseView;
use std::path::Path;
use std::time::Instant;

fn fail(message: &str) -> ! {
    eprintln!("yang_lerch_bench: {message}");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, n] = args.as_slice() else {
        fail("usage: yang_lerch_bench DATASET N")
    };
    let n: usize = n
        .parse()
        .unwrap_or_else(|_| fail(&format!("{n:?} is not a whole number")));
    let dataset = Dataset::open(Path::new(dir)).unwrap_or_else(|e| fail(&e.to_string()));
    let train = dataset.split(Split::Train);
    let Some(indices) = train.get(..2 * n) else {
        fail(&format!(
            "{} training phrases, fewer than 2 × {n}",
            train.len()
        ))
    };
    let cells = dataset.phrase_cells();
    let mut data = vec![0u8; indices.len() * cells];
    dataset
        .read_batch(indices, &mut data)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let shape = dataset.manifest().phrase_shape(n);
    let tracks: Vec<usize> = (0..shape.tracks).collect();
    let (a, b) = data.split_at(n * cells);
    let (a, b) = [a, b]
        .map(|part| {
            PhraseView::new(part, shape, dataset.is_drum()).unwrap_or_else(|e| fail(&e.to_string()))
        })
        .into();
    let start = Instant::now();
    let fa = features(&a, &tracks).unwrap_or_else(|e| fail(&e.to_string()));
    let fb = features(&b, &tracks).unwrap_or_else(|e| fail(&e.to_string()));
    let comparison = compare(&fa, &fb).unwrap_or_else(|e| fail(&e.to_string()));
    let seconds = start.elapsed().as_secs_f64();
    let out = serde_json::json!({
        "seconds": seconds,
        "threads": rayon::current_num_threads(),
        "phrases": [n, n],
        "comparison": comparison,
    });
    println!("{out}");
}
