//! Times one training iteration of a BinaryMuseGAN preset — `n_critic` critic updates with the
//! WGAN-GP loss, then one generator update, one batch size — the same iteration as
//! `bench/train_step.py` times in PyTorch, plus a float32 matmul peak measured in the same run.
//!
//! ```text
//! cargo run --release -p museroll-models --example train_bench -- \
//!     --preset chorale --batch 32 --threads 2 --n-critic 5 --iters 5 --warmup 1 [--json FILE]
//! ```
//!
//! The real batch is one random binary tensor (the costs are dense, so its content does not
//! matter); no dataset is read and nothing is written but the optional JSON.

use std::time::Instant;

use museroll_models::families::bmusegan::{Gan, Settings, Stage};
use tch::{Device, Kind, Tensor};

/// Command-line options.
struct Options {
    preset: String,
    batch: Option<u32>,
    threads: i32,
    n_critic: u32,
    iters: usize,
    warmup: usize,
    json: Option<String>,
    divisor: Option<u32>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        preset: "chorale".into(),
        batch: None,
        threads: 2,
        n_critic: 5,
        iters: 5,
        warmup: 1,
        json: None,
        divisor: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |_| format!("{flag} {value}: not a number");
        match flag.as_str() {
            "--preset" => o.preset = value,
            "--batch" => o.batch = Some(value.parse().map_err(bad)?),
            "--threads" => o.threads = value.parse().map_err(bad)?,
            "--n-critic" => o.n_critic = value.parse().map_err(bad)?,
            "--iters" => o.iters = value.parse().map_err(bad)?,
            "--warmup" => o.warmup = value.parse().map_err(bad)?,
            "--json" => o.json = Some(value),
            "--width-divisor" => o.divisor = Some(value.parse().map_err(bad)?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

/// The median and minimum of `times`; the median of an even count is the mean of the middle
/// two, as Python's `statistics.median` (which `bench/train_step.py` reports) takes it.
fn stats(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => times[n / 2],
        _ => (times[n / 2 - 1] + times[n / 2]) / 2.0,
    };
    (median, times.first().copied().unwrap_or(f64::NAN))
}

/// GFLOP/s of 2048 × 2048 float32 matmuls: the best and the median of 10.
fn matmul_peak() -> (f64, f64) {
    let n = 2048;
    let a = Tensor::randn([n, n], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([n, n], (Kind::Float, Device::Cpu));
    let _ = a.matmul(&b);
    let flops = 2.0 * (n as f64).powi(3);
    let mut rates: Vec<f64> = (0..10)
        .map(|_| {
            let t = Instant::now();
            let c = a.matmul(&b);
            let _ = c.double_value(&[0, 0]);
            flops / t.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() - 1], rates[rates.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = options()?;
    tch::set_num_threads(o.threads);
    let (_, preset) = museroll_models::families::preset(&o.preset)?;
    let mut settings = Settings::from_table((preset.section)()?)?;
    if let Some(d) = o.divisor {
        settings.networks.width_divisor = d;
    }
    settings.n_critic = o.n_critic;
    let batch = o
        .batch
        .unwrap_or(if o.preset == "bmusegan" { 16 } else { 32 });
    let mut gan = Gan::new(&settings, 0, batch, Device::Cpu, Stage::Pretrain)?;
    let [t, bars, steps, pitches] = settings.networks.sample_shape();
    tch::manual_seed(1);
    let real = Tensor::rand(
        [i64::from(batch), t, bars, steps, pitches],
        (Kind::Float, Device::Cpu),
    )
    .round();
    let mut times = Vec::new();
    for i in 0..o.warmup + o.iters {
        let start = Instant::now();
        gan.train_step(i as u64, o.n_critic, || Ok(real.shallow_clone()))?;
        if i >= o.warmup {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let (median, min) = stats(&mut times);
    let (peak, peak_median) = matmul_peak();
    println!(
        "museroll {} batch {} n_critic {} threads {}",
        o.preset, batch, o.n_critic, o.threads
    );
    println!(
        "iteration: median {median:.1} ms, min {min:.1} ms ({} timed after {} warm-up)",
        o.iters, o.warmup
    );
    println!("matmul peak (2048×2048 float32): {peak:.1} GFLOP/s best, {peak_median:.1} median");
    if let Some(path) = o.json {
        let json = format!(
            "{{\"preset\":\"{}\",\"batch\":{},\"n_critic\":{},\"threads\":{},\
             \"median_ms\":{median},\"min_ms\":{min},\"matmul_peak_gflops\":{peak},\
             \"matmul_median_gflops\":{peak_median}}}\n",
            o.preset, batch, o.n_critic, o.threads
        );
        std::fs::write(path, json)?;
    }
    Ok(())
}
