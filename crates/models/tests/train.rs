//! Training runs of the tiny preset on a small dataset built from MIDI files: every strategy
//! trains with finite losses and writes its run directory; an interrupted and resumed run ends
//! bit for bit where the uninterrupted run ends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use museroll_core::dataset::{self, BuildOptions, Manifest, NoProgress, Windows};
use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Track};
use museroll_models::engine::{checkpoint, Observer, Outcome, RunConfig, StepReport, Trainer};
use museroll_models::families::bmusegan::{OutputBias, Settings, Strategy};
use museroll_models::families::{create_run, resume_run};
use museroll_models::BinaryMuseGanConfig;
use tch::Device;

/// libtorch's random generator is global: runs in parallel threads would re-seed each other.
static SERIAL: Mutex<()> = Mutex::new(());

/// A song of 8 bars at 2 steps per beat: drums on every beat, a pseudo-random melody.
fn song(seed: u64) -> Multitrack {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let steps = 8 * 8;
    let mut song = Multitrack::new(Resolution::new(2).unwrap());
    let drums: Vec<Note> = (0..steps / 2)
        .map(|beat| Note {
            pitch: Pitch::new(if beat % 2 == 0 { 60 } else { 64 }).unwrap(),
            start: beat * 2,
            end: beat * 2 + 1,
            velocity: 100, // (in the tiny range: C4 and E4)
        })
        .collect();
    let mut melody = Vec::new();
    let mut t = 0;
    while t < steps {
        let len = 1 + next(3) as usize;
        melody.push(Note {
            pitch: Pitch::new(60 + next(24) as u8).unwrap(),
            start: t,
            end: (t + len).min(steps),
            velocity: 90,
        });
        t += len;
    }
    let mut d = Track::new("Drums", Program::default(), true, steps);
    d.roll = Roll::from_notes(RollKind::Velocity, steps, drums);
    let mut p = Track::new("Piano", Program::default(), false, steps);
    p.roll = Roll::from_notes(RollKind::Velocity, steps, melody);
    song.tracks = vec![d, p];
    song
}

/// Builds the dataset of 10 songs (2-bar phrases, C4–B5) in `dir/data`.
fn tiny_dataset(dir: &Path) -> PathBuf {
    let songs = dir.join("songs");
    std::fs::create_dir_all(&songs).unwrap();
    for i in 0..10 {
        museroll_core::io::write_file(&song(i), &songs.join(format!("{i}.mid"))).unwrap();
    }
    let options = BuildOptions {
        tracks: "Drums=drums,Piano=0-127".parse().unwrap(),
        bars: 2,
        steps_per_beat: Resolution::new(2).unwrap(),
        lowest_pitch: Pitch::new(60).unwrap(),
        pitches: 24,
        windows: Windows::Hop(2),
        validation_fraction: 0.2,
        ..BuildOptions::default()
    };
    let data = dir.join("data");
    dataset::build(&[songs], &data, &options, &NoProgress).unwrap();
    data
}

/// The tiny model's settings for `strategy`: 2 critic steps, 2 refiner steps, the slope raised
/// every step.
fn settings(strategy: Strategy) -> Settings {
    let mut s = Settings::new(BinaryMuseGanConfig::tiny());
    s.strategy = strategy;
    s.n_critic = 2;
    s.refiner_steps = 2;
    s.slope_every = 1;
    s
}

fn with_settings(data: PathBuf, settings: &Settings) -> RunConfig {
    let manifest = Manifest::read(&data).unwrap();
    let mut c = RunConfig::new(settings.to_table().unwrap(), data, &manifest);
    c.batch = 4;
    c.steps = 3;
    c.log_every = 1;
    c.eval_every = 2;
    c.sample_every = 2;
    c.checkpoint_every = 2;
    c.keep_checkpoints = 2;
    c.eval_samples = 8;
    c.sample_count = 4;
    c
}

fn config(data: PathBuf, strategy: Strategy) -> RunConfig {
    with_settings(data, &settings(strategy))
}

/// Records the steps; raises `stop` after step `stop_after`.
struct Recorder<'a> {
    steps: Vec<StepReport>,
    stop_after: Option<u64>,
    stop: &'a AtomicBool,
}

impl Observer for Recorder<'_> {
    fn start(&mut self, _: u64, _: u64) {}
    fn step(&mut self, report: &StepReport) {
        if Some(report.step) == self.stop_after {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.steps.push(report.clone());
    }
    fn message(&mut self, _: &str) {}
}

fn run(trainer: &mut Trainer, stop_after: Option<u64>) -> (Outcome, Vec<StepReport>) {
    let stop = AtomicBool::new(false);
    let mut recorder = Recorder {
        steps: Vec::new(),
        stop_after,
        stop: &stop,
    };
    let outcome = trainer.run(&mut recorder, &stop).unwrap();
    (outcome, recorder.steps)
}

fn records(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_strategy_trains_and_writes_its_run_directory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // One thread: libtorch's OpenMP workers spin-wait, which crawls on a busy CI machine.
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());
    for (strategy, stages) in [
        (Strategy::TwoStage, vec!["pretrain", "refine"]),
        (Strategy::Joint, vec!["pretrain", "refine"]),
        (Strategy::EndToEnd, vec!["end-to-end"]),
    ] {
        let out = dir.path().join(format!("{strategy:?}"));
        let mut trainer = create_run(config(data.clone(), strategy), &out, Device::Cpu).unwrap();
        let (outcome, steps) = run(&mut trainer, None);
        assert_eq!(outcome, Outcome::Finished);
        let total = if strategy == Strategy::EndToEnd { 3 } else { 5 };
        assert_eq!(steps.len(), total);
        for s in &steps {
            let l = &s.losses;
            let keys: Vec<&str> = l.values.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys, ["d_loss", "g_loss", "gp", "wasserstein", "slope"]);
            assert!(
                l.values.iter().all(|(_, v)| v.is_finite()),
                "{strategy:?}: {l:?}"
            );
            assert!(l.get("gp").unwrap() >= 0.0);
        }
        // Slope annealing: × 1.1 per refiner step (slope_every 1).
        let slopes: Vec<f64> = steps
            .iter()
            .map(|s| s.losses.get("slope").unwrap())
            .collect();
        if strategy == Strategy::EndToEnd {
            assert!((slopes[2] - 1.21).abs() < 1e-12, "{slopes:?}");
        } else {
            assert_eq!(&slopes[..3], &[1.0; 3]);
            assert!((slopes[4] - 1.1).abs() < 1e-12, "{slopes:?}");
        }

        let records = records(&out);
        let train: Vec<_> = records.iter().filter(|r| r["kind"] == "train").collect();
        let eval: Vec<_> = records.iter().filter(|r| r["kind"] == "eval").collect();
        assert_eq!(train.len(), total, "log_every 1");
        let eval_steps: Vec<u64> = eval.iter().map(|r| r["step"].as_u64().unwrap()).collect();
        assert_eq!(
            eval_steps,
            if total == 5 {
                vec![2, 4, 5]
            } else {
                vec![2, 3]
            }
        );
        let seen: Vec<&str> = train.iter().map(|r| r["stage"].as_str().unwrap()).collect();
        for stage in &stages {
            assert!(seen.contains(stage), "{strategy:?}: stages {seen:?}");
        }
        for r in &eval {
            // EB of binary samples is a rate.
            let eb = r["EB"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&eb), "{r}");
        }

        // Keep 2 checkpoints (+ best), samples every 2 steps and at the end.
        let mut ckpts: Vec<String> = std::fs::read_dir(out.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("step-"))
            .collect();
        ckpts.sort();
        let want = if total == 5 {
            ["step-00000004.safetensors", "step-00000005.safetensors"]
        } else {
            ["step-00000002.safetensors", "step-00000003.safetensors"]
        };
        assert_eq!(ckpts, want);
        assert!(out.join("checkpoints/best.safetensors").is_file());
        let sheet = out.join(format!("samples/step-{total:08}"));
        let picture = image::open(sheet.with_extension("png")).unwrap();
        assert!(picture.width() > 50 && picture.height() > 50);
        let (midi, _) =
            museroll_core::io::read_file(&sheet.with_extension("mid"), &Default::default())
                .unwrap();
        assert_eq!(midi.tracks.len(), 2);
        assert_eq!(midi.tracks[0].name, "Drums");
        assert!(midi.tracks[0].is_drum);
        let curves = image::open(out.join("curves.png")).unwrap();
        assert_eq!(curves.width(), 1200);
        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(
            report.contains("| training data |") || report.contains("training data"),
            "{report}"
        );

        // The weights file holds the networks (no optimiser state) under state_dict names.
        let weights = checkpoint::load(&out.join("model.safetensors")).unwrap();
        assert!(
            weights.contains_key("generator.shared.0.dense.weight"),
            "{:?}",
            weights.keys()
        );
        assert!(
            weights.contains_key("refiner.private.0.0.1.conv.weight"),
            "{:?}",
            weights
                .keys()
                .filter(|k| k.starts_with("refiner"))
                .collect::<Vec<_>>()
        );
        assert!(weights.keys().all(|k| !k.starts_with("optimizer.")));
        // With the inference state a sampler needs: the last stage and slope.
        let stage = weights["state.stage"].int64_value(&[]);
        assert_eq!(stage, if total == 5 { 1 } else { 2 });
        let slope = weights["state.slope"].double_value(&[]);
        assert_eq!(slope, *slopes.last().unwrap());
        let back = RunConfig::read(&out.join("config.toml")).unwrap();
        assert_eq!(back.family().unwrap(), "bmusegan");
        let back = Settings::from_table(back.family_section()).unwrap();
        assert_eq!(back.strategy, strategy);
    }
}

fn tensors(path: &Path) -> HashMap<String, Vec<f64>> {
    checkpoint::load(path)
        .unwrap()
        .into_iter()
        .map(|(k, t)| {
            let values = Vec::<f64>::try_from(&t.to_kind(tch::Kind::Double).view([-1])).unwrap();
            (k, values)
        })
        .collect()
}

/// A new run starts G's outputs at each track's density in the training data (by default;
/// `output_bias = "zero"` starts them at ½ as the reference code does): after one step of
/// Adam (lr 1e-3) the output biases are still within 0.01 of where they started.
#[test]
fn a_new_run_starts_the_generator_at_the_data_density() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());
    // Each track's share of active cells, counted here phrase by phrase.
    let ds = dataset::Dataset::open(&data).unwrap();
    let per_track = ds.phrase_cells() / 2;
    let mut on = [0usize; 2];
    let mut cells = vec![0u8; ds.phrase_cells()];
    let train = ds.split(dataset::Split::Train);
    for &i in train {
        ds.read_phrase(i, &mut cells).unwrap();
        for (t, count) in on.iter_mut().enumerate() {
            *count += cells[t * per_track..(t + 1) * per_track]
                .iter()
                .filter(|&&c| c > 0)
                .count();
        }
    }
    let logit = |n: usize| {
        let d = n as f64 / (train.len() * per_track) as f64;
        (d / (1.0 - d)).ln()
    };
    let expected = [logit(on[0]), logit(on[1])];
    assert!(expected.iter().all(|&l| l < -1.0), "{expected:?}");
    for (bias, starts) in [
        (OutputBias::DataDensity, expected),
        (OutputBias::Zero, [0.0, 0.0]),
    ] {
        let mut s = settings(Strategy::EndToEnd);
        s.output_bias = bias;
        let mut c = with_settings(data.clone(), &s);
        c.steps = 1;
        let out = dir.path().join(format!("{bias:?}"));
        let mut trainer = create_run(c, &out, Device::Cpu).unwrap();
        run(&mut trainer, None);
        let weights = tensors(&out.join("model.safetensors"));
        for (t, start) in starts.iter().enumerate() {
            let b = weights[&format!("generator.merged.{t}.0.bn.bias")][0];
            assert!(
                (b - start).abs() < 0.01,
                "{bias:?}, track {t}: {b} vs {start}"
            );
        }
    }
}

#[test]
fn an_interrupted_and_resumed_run_equals_the_uninterrupted_run() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // One thread: libtorch's OpenMP workers spin-wait, which crawls on a busy CI machine.
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());
    let config = config(data, Strategy::TwoStage);

    let straight = dir.path().join("straight");
    let mut trainer = create_run(config.clone(), &straight, Device::Cpu).unwrap();
    assert_eq!(run(&mut trainer, None).0, Outcome::Finished);

    // Interrupted after step 1 (mid stage 1, between checkpoints) and after step 3 (at the
    // stage boundary), resumed each time.
    let broken = dir.path().join("broken");
    let mut trainer = create_run(config, &broken, Device::Cpu).unwrap();
    assert_eq!(run(&mut trainer, Some(1)).0, Outcome::Interrupted(1));
    drop(trainer);
    let mut trainer = resume_run(&broken, Device::Cpu, |_| Ok(())).unwrap();
    assert_eq!(trainer.step(), 1);
    assert_eq!(run(&mut trainer, Some(3)).0, Outcome::Interrupted(3));
    let mut trainer = resume_run(&broken, Device::Cpu, |_| Ok(())).unwrap();
    let (outcome, steps) = run(&mut trainer, None);
    assert_eq!(outcome, Outcome::Finished);
    assert_eq!(steps.first().map(|s| s.step), Some(4));

    let a = tensors(&straight.join("model.safetensors"));
    let b = tensors(&broken.join("model.safetensors"));
    assert_eq!(a.len(), b.len());
    for (name, values) in &a {
        assert_eq!(Some(values), b.get(name), "{name} differs");
    }
    let losses = |run: &Path| -> Vec<(u64, String, String)> {
        records(run)
            .iter()
            .filter(|r| r["kind"] == "train")
            .map(|r| {
                (
                    r["step"].as_u64().unwrap(),
                    r["d_loss"].to_string(),
                    r["g_loss"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(losses(&straight), losses(&broken));
}

#[test]
fn bad_runs_are_refused_with_clear_messages() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // One thread: libtorch's OpenMP workers spin-wait, which crawls on a busy CI machine.
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());

    // Networks of another shape than the data's.
    let mut c = config(data.clone(), Strategy::TwoStage);
    c.set("model.networks.pitches", "12").unwrap();
    c.set("model.networks.pitch_layers.first", "1").unwrap();
    let err = create_run(c, &dir.path().join("a"), Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(
            "the dataset does not fit the model: its phrases are tracks × bars × steps × \
             pitches [2, 2, 8, 24], the networks make [2, 2, 8, 12]"
        ),
        "{err}"
    );
    assert!(err.starts_with(&data.display().to_string()), "{err}");

    // A dataset of another shape than the run's music.
    let mut c = config(data.clone(), Strategy::TwoStage);
    c.music.phrase.pitches = 12;
    let err = Trainer::create(
        c,
        &dir.path().join("a2"),
        dataset::Dataset::open(&data).unwrap(),
        Box::new(NoStep),
        Device::Cpu,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("the dataset does not fit the model"), "{err}");
    assert!(err.contains(&data.display().to_string()), "{err}");

    // A directory that already holds a run.
    let out = dir.path().join("b");
    create_run(config(data.clone(), Strategy::TwoStage), &out, Device::Cpu).unwrap();
    let err = create_run(config(data.clone(), Strategy::TwoStage), &out, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("already holds files"), "{err}");

    // Resuming something that is not a run; a corrupt checkpoint.
    let err = resume_run(&data, Device::Cpu, |_| Ok(()))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("is not a training run"), "{err}");
    std::fs::write(out.join("checkpoints/step-00000009.safetensors"), b"junk").unwrap();
    let err = resume_run(&out, Device::Cpu, |_| Ok(()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("step-00000009.safetensors: not a readable safetensors"),
        "{err}"
    );
}

/// A training step that is never run (the run is refused before).
struct NoStep;

impl museroll_models::engine::TrainStep for NoStep {
    fn total_steps(&self) -> u64 {
        1
    }
    fn step(
        &mut self,
        _: u64,
        _: &mut dyn FnMut() -> Result<tch::Tensor, museroll_models::Error>,
    ) -> Result<museroll_models::engine::StepLosses, museroll_models::Error> {
        unreachable!("the run is refused before it starts")
    }
    fn fixed_samples(&self, _: usize) -> Result<Vec<u8>, museroll_models::Error> {
        unreachable!("the run is refused before it starts")
    }
    fn phase(&self) -> &'static str {
        "none"
    }
    fn state(&self) -> Vec<(String, tch::Tensor)> {
        Vec::new()
    }
    fn restore(
        &mut self,
        _: &HashMap<String, tch::Tensor>,
        _: u64,
    ) -> Result<(), museroll_models::Error> {
        Ok(())
    }
    fn weights(&self) -> Vec<(String, tch::Tensor)> {
        Vec::new()
    }
    fn loss_panels(&self) -> Vec<museroll_models::engine::LossPanel> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "nothing".into()
    }
}
