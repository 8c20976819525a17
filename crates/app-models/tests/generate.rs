//! Generation from tiny training runs and from the committed models: every binarization gives
//! binary samples of the model's shape, reproducible from the seed; walks; pieces longer than a
//! phrase; the files and the output directory's policies; bad weights and requests refused with
//! the file named; the committed models generate the samples they generated before the model
//! families existed, bit for bit.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use museroll_app_models::engine::{checkpoint, Observer, Outcome, RunConfig, StepReport, Weights};
use museroll_app_models::families::bmusegan::{GanSampler, Settings, Strategy};
use museroll_app_models::families::{create_run, open_run, OpenRun};
use museroll_app_models::generate::{generate, GenerateOptions, Generated, Walk};
use museroll_app_models::sample::{
    latents, Binarize, Interpolation, LatentGrid, SampleRequest, MAX_SAMPLES,
};
use museroll_app_models::sink::write_dir;
use museroll_core::dataset::{self, BuildOptions, Manifest, NoProgress, Windows};
use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Track};
use museroll_models::{BinaryMuseGanConfig, BinaryNeuronKind, GeneratorKind, LatentStructure};
use tch::{Device, Tensor};

/// libtorch's random generator is global: runs in parallel threads would re-seed each other.
static SERIAL: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // One thread: libtorch's OpenMP workers spin-wait, which crawls on a busy machine.
    tch::set_num_threads(1);
    guard
}

/// 8 bars at 2 steps per beat: drums (C4, E4) on the beats, a stepping melody.
fn song(seed: usize) -> Multitrack {
    let steps = 64;
    let note = |pitch: usize, start: usize, len: usize| Note {
        pitch: Pitch::new(pitch as u8).unwrap(),
        start,
        end: start + len,
        velocity: 90,
    };
    let drums = (0..steps / 2).map(|b| note(if b % 2 == 0 { 60 } else { 64 }, b * 2, 1));
    let melody = (0..steps / 4).map(|k| note(60 + (k * 5 + seed * 7) % 24, k * 4, 3));
    let mut d = Track::new("Drums", Program::default(), true, steps);
    d.roll = Roll::from_notes(RollKind::Velocity, steps, drums);
    let mut p = Track::new("Piano", Program::new(4).unwrap(), false, steps);
    p.roll = Roll::from_notes(RollKind::Velocity, steps, melody);
    let mut song = Multitrack::new(Resolution::new(2).unwrap());
    song.tracks = vec![d, p];
    song
}

/// The dataset of 6 songs in 2-bar phrases (C4–B5) for the tiny preset, in `dir/data`.
fn tiny_dataset(dir: &Path) -> PathBuf {
    let songs = dir.join("songs");
    std::fs::create_dir_all(&songs).unwrap();
    for i in 0..6 {
        museroll_core::io::write_file(&song(i), &songs.join(format!("{i}.mid"))).unwrap();
    }
    let options = BuildOptions {
        tracks: "Drums=drums,Piano@4=0-127".parse().unwrap(),
        bars: 2,
        steps_per_beat: Resolution::new(2).unwrap(),
        lowest_pitch: Pitch::new(60).unwrap(),
        pitches: 24,
        windows: Windows::Hop(2),
        validation_fraction: 0.0,
        ..BuildOptions::default()
    };
    let data = dir.join("data");
    dataset::build(&[songs], &data, &options, &NoProgress).unwrap();
    data
}

struct Quiet;

impl Observer for Quiet {
    fn start(&mut self, _: u64, _: u64) {}
    fn step(&mut self, _: &StepReport) {}
    fn message(&mut self, _: &str) {}
}

/// A finished tiny run (2 + 1 steps, two-stage) of `model` in `dir/name`.
fn tiny_run(dir: &Path, data: &Path, name: &str, model: BinaryMuseGanConfig) -> PathBuf {
    let mut settings = Settings::new(model);
    settings.strategy = Strategy::TwoStage;
    settings.n_critic = 1;
    settings.refiner_steps = 1;
    let manifest = Manifest::read(data).unwrap();
    let mut c = RunConfig::new(settings.to_table().unwrap(), data.to_path_buf(), &manifest);
    c.batch = 4;
    c.steps = 2;
    c.checkpoint_every = 1;
    c.eval_samples = 4;
    c.sample_count = 2;
    let out = dir.join(name);
    let mut trainer = create_run(c, &out, Device::Cpu).unwrap();
    let outcome = trainer.run(&mut Quiet, &AtomicBool::new(false)).unwrap();
    assert_eq!(outcome, Outcome::Finished);
    out
}

/// The run's generator and refiner with `weights`, for checks below the request level.
fn sampler(run: &Path, weights: &Weights) -> GanSampler {
    let config = RunConfig::read(&run.join("config.toml")).unwrap();
    let settings = Settings::from_table(config.family_section()).unwrap();
    let tensors = checkpoint::load(&weights.resolve(run).unwrap()).unwrap();
    GanSampler::load(&settings.networks, config.music, &tensors, Device::Cpu).unwrap()
}

fn cells(t: &Tensor) -> Vec<u8> {
    Vec::<u8>::try_from(&t.flatten(0, -1)).unwrap()
}

fn options(n: usize, seed: u64, binarize: Option<Binarize>) -> GenerateOptions {
    GenerateOptions {
        request: SampleRequest {
            binarize,
            ..SampleRequest::new(n, seed)
        },
        walk: None,
    }
}

/// Generates into `out` (forced or not), as `museroll generate` does.
fn generate_into(
    run: &OpenRun,
    o: &GenerateOptions,
    out: &Path,
    force: bool,
) -> Result<Generated, String> {
    let generated = generate(run, o).map_err(|e| e.to_string())?;
    write_dir(out, &generated.files, force).map_err(|e| e.to_string())?;
    Ok(generated)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The samples of a model that has trained for 3 steps are near-constant: G's evaluation-mode
/// output is about 0.5 everywhere (its batch norms' running statistics have barely moved), so
/// `ht` is checked against its definition on G's probabilities, and the refiner's binary neurons
/// are stochastic (SBN) so that the seed shows in its output.
#[test]
fn samples_files_and_interpolations_of_a_tiny_run() {
    let _serial = lock();
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());
    let mut model = BinaryMuseGanConfig::tiny();
    model.binary_neuron = BinaryNeuronKind::Sbn;
    let run_dir = tiny_run(dir.path(), &data, "run", model);
    let run = open_run(&run_dir, &Weights::Final, Device::Cpu).unwrap();
    assert_eq!(run.weights, run_dir.join("model.safetensors"));
    assert!(run.sampler.notes().is_empty(), "{:?}", run.sampler.notes());
    assert_eq!(run.music().tracks[1].name, "Piano");
    assert_eq!(run.music().tracks[1].program, Program::new(4).unwrap());
    assert!(run.music().tracks[0].is_drum);
    assert_eq!(
        run.sampler.default_binarize(),
        Binarize::Refiner,
        "the run trained a refiner"
    );

    let g = sampler(&run_dir, &Weights::Final);
    let z = g.latents(5, 3).unwrap();
    assert_eq!(z.size(), [3, 16]);
    assert_eq!(
        Vec::<f32>::try_from(&z.flatten(0, -1)).unwrap(),
        latents(5, 3, 16)
    );
    let other = g.latents(6, 3).unwrap();
    for binarize in [Binarize::Hard, Binarize::Bernoulli, Binarize::Refiner] {
        let a = g.binary(&z, binarize, 5).unwrap();
        assert_eq!(a.size(), [3, 2, 2, 8, 24], "{binarize}");
        assert_eq!(a.kind(), tch::Kind::Uint8);
        let a = cells(&a);
        assert!(
            a.iter().all(|&v| v <= 1),
            "{binarize}: values other than 0/1"
        );
        assert_eq!(
            a,
            cells(&g.binary(&z, binarize, 5).unwrap()),
            "{binarize}: same seed"
        );
        if binarize != Binarize::Hard {
            assert!(a.contains(&1) && a.contains(&0), "{binarize}");
            let b = cells(&g.binary(&other, binarize, 6).unwrap());
            assert_ne!(a, b, "{binarize}: other seed");
        }
    }
    // ht is G's output thresholded at 0.5; another seed changes that output.
    let p = g.probabilities(&z).unwrap();
    assert_eq!(p.size(), [3, 2, 2, 8, 24]);
    let above: Vec<u8> = Vec::<f32>::try_from(&p.flatten(0, -1))
        .unwrap()
        .iter()
        .map(|&v| u8::from(v > 0.5))
        .collect();
    assert_eq!(above, cells(&g.binary(&z, Binarize::Hard, 5).unwrap()));
    let q = g.probabilities(&other).unwrap();
    assert!(f64::try_from((&p - &q).abs().max()).unwrap() > 0.0);
    // Bernoulli sampling draws per seed: the same latents binarized with another seed differ.
    assert_ne!(
        cells(&g.binary(&z, Binarize::Bernoulli, 5).unwrap()),
        cells(&g.binary(&z, Binarize::Bernoulli, 7).unwrap())
    );
    // A request's samples are those of its seed's latents.
    let request = run
        .sampler
        .sample(&SampleRequest {
            binarize: Some(Binarize::Bernoulli),
            ..SampleRequest::new(3, 5)
        })
        .unwrap();
    assert_eq!(
        request.cells,
        cells(&g.binary(&z, Binarize::Bernoulli, 5).unwrap())
    );

    // The files, twice from one seed: the same bytes.
    let out = |name: &str| dir.path().join(name);
    let generated = generate_into(
        &run,
        &options(3, 9, Some(Binarize::Bernoulli)),
        &out("a"),
        false,
    )
    .unwrap();
    generate_into(
        &run,
        &options(3, 9, Some(Binarize::Bernoulli)),
        &out("b"),
        false,
    )
    .unwrap();
    assert_eq!(generated.samples.binarize, Binarize::Bernoulli);
    assert_eq!(generated.report.samples, 3);
    assert!(
        generated
            .table
            .contains("| training data | samples (binarize bs) |"),
        "{}",
        generated.table
    );
    assert_eq!(
        names(&out("a")),
        [
            "metrics.json",
            "metrics.md",
            "sample-00.mid",
            "sample-00.png",
            "sample-01.mid",
            "sample-01.png",
            "sample-02.mid",
            "sample-02.png",
            "samples.npz",
            "samples.png"
        ]
    );
    for name in names(&out("a")) {
        assert_eq!(
            std::fs::read(out("a").join(&name)).unwrap(),
            std::fs::read(out("b").join(&name)).unwrap(),
            "{name} differs"
        );
    }
    assert!(!out("a.partial").exists());
    // The MIDI file is the sample: tracks named, program, drums; the npz chains the three.
    let (midi, _) =
        museroll_core::io::read_file(&out("a").join("sample-01.mid"), &Default::default()).unwrap();
    assert_eq!(midi.tracks.len(), 2);
    assert_eq!(
        (midi.tracks[0].name.as_str(), midi.tracks[0].is_drum),
        ("Drums", true)
    );
    assert_eq!(
        (midi.tracks[1].name.as_str(), midi.tracks[1].program),
        ("Piano", Program::new(4).unwrap())
    );
    assert_eq!(midi.tempos()[0].qpm, 100.0);
    let npz = museroll_core::io::read_file(&out("a").join("samples.npz"), &Default::default())
        .unwrap()
        .0;
    assert_eq!(npz.resolution().steps(), 2);
    // Chained without gaps: 3 phrases of 16 steps.
    assert_eq!(npz.len(), 3 * 16);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out("a").join("metrics.json")).unwrap()).unwrap();
    assert_eq!(json["binarize"], "bs");
    assert_eq!(json["reports"]["samples"]["samples"], 3);
    assert!(
        json["reports"]["training data"]["samples"]
            .as_u64()
            .unwrap()
            > 3
    );
    let md = std::fs::read_to_string(out("a").join("metrics.md")).unwrap();
    assert!(
        md.contains("3 samples of 2 bars, seed 9, binarization bs")
            && md.contains(&generated.table),
        "{md}"
    );

    // The default binarization is the refiner's.
    let default = generate(&run, &options(1, 9, None)).unwrap();
    assert_eq!(default.samples.binarize, Binarize::Refiner);

    // A checkpoint of stage 1 (step 2 of a run whose refiner starts at step 3): its refiner is
    // untrained, so ht is the default, and a note says so.
    let early = Weights::Path(run_dir.join("checkpoints/step-00000002.safetensors"));
    let early = open_run(&run_dir, &early, Device::Cpu).unwrap();
    assert_eq!(early.sampler.default_binarize(), Binarize::Hard);
    assert!(early.sampler.notes()[0].contains("not trained yet"));
    let latest = open_run(&run_dir, &Weights::Latest, Device::Cpu).unwrap();
    assert!(latest.weights.ends_with("step-00000003.safetensors"));
    assert_eq!(latest.sampler.default_binarize(), Binarize::Refiner);
    let best = open_run(&run_dir, &Weights::Best, Device::Cpu).unwrap();
    assert!(best.weights.ends_with("best.safetensors"));

    // The dataset gone: the run still knows its music, and generates the same files.
    std::fs::remove_dir_all(&data).unwrap();
    let orphan = open_run(&run_dir, &Weights::Final, Device::Cpu).unwrap();
    assert_eq!(orphan.music(), run.music());
    generate_into(
        &orphan,
        &options(3, 9, Some(Binarize::Bernoulli)),
        &out("d"),
        false,
    )
    .unwrap();
    for name in names(&out("a")) {
        assert_eq!(
            std::fs::read(out("a").join(&name)).unwrap(),
            std::fs::read(out("d").join(&name)).unwrap(),
            "{name} differs without the dataset"
        );
    }

    // Interpolations.
    for kind in [Interpolation::Lerp, Interpolation::Slerp] {
        let path = g.path(41, kind, 5).unwrap();
        assert_eq!(path.size(), [5, 16]);
        let rows: Vec<Vec<f32>> = (0..5)
            .map(|k| Vec::<f32>::try_from(&path.get(k)).unwrap())
            .collect();
        assert_eq!(rows[0], latents(41, 1, 16), "{kind}");
        assert_eq!(rows[4], latents(42, 1, 16), "{kind}");
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let ends = [norm(&rows[0]), norm(&rows[4])];
        let (lo, hi) = (ends[0].min(ends[1]), ends[0].max(ends[1]));
        let mid = norm(&rows[2]);
        match kind {
            Interpolation::Slerp => {
                assert!(mid > 0.95 * lo && mid < 1.05 * hi, "{mid} vs {ends:?}")
            }
            Interpolation::Lerp => assert!(mid < 0.9 * lo, "{mid} vs {ends:?}"),
        }
    }
    for steps in [0, 1, 65] {
        let err = g
            .path(1, Interpolation::Slerp, steps)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("not {steps}")), "{err}");
    }

    let walk_dir = dir.path().join("walk");
    let mut o = options(2, 41, Some(Binarize::Bernoulli));
    o.walk = Some(Walk {
        kind: Interpolation::Slerp,
        steps: 4,
        grid: None,
    });
    generate_into(&run, &o, &walk_dir, false).unwrap();
    let files = names(&walk_dir);
    for name in [
        "interpolation.mid",
        "interpolation.png",
        "interpolation-00.mid",
        "interpolation-03.png",
        "sample-01.mid",
    ] {
        assert!(
            files.contains(&name.to_string()),
            "{name} missing: {files:?}"
        );
    }
    assert!(!files.contains(&"interpolation-04.mid".to_string()));
    // 4 phrases of 2 bars, each followed by a bar of rest: 12 bars of 8 steps.
    let two = museroll_core::io::ReadOptions {
        resolution: Resolution::new(2).unwrap(),
    };
    let (song, _) =
        museroll_core::io::read_file(&walk_dir.join("interpolation.mid"), &two).unwrap();
    assert_eq!(song.len(), 12 * 8);
    assert!(
        song.tracks
            .iter()
            .all(|t| t.roll.notes().iter().all(|n| n.start % 24 < 16)),
        "a note in a rest bar"
    );
    // The ends of the walk are the first samples of the two seeds.
    let walk = g
        .probabilities(&g.path(41, Interpolation::Slerp, 4).unwrap())
        .unwrap();
    for (k, seed) in [(0, 41), (3, 42)] {
        let first = g.probabilities(&g.latents(seed, 1).unwrap()).unwrap();
        let diff = f64::try_from((walk.get(k) - first.get(0)).abs().max()).unwrap();
        assert!(diff < 1e-6, "step {k}: {diff}");
    }
    o.walk = Some(Walk {
        kind: Interpolation::Lerp,
        steps: 1,
        grid: None,
    });
    let err = generate_into(&run, &o, &dir.path().join("bad"), false).unwrap_err();
    assert!(err.contains("2 to 64 steps, not 1"), "{err}");
    assert!(!dir.path().join("bad").exists() && !dir.path().join("bad.partial").exists());
}

#[test]
fn bad_weights_requests_and_outputs_are_refused() {
    let _serial = lock();
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());
    let mut model = BinaryMuseGanConfig::tiny();
    model.refiner = false;
    let run_dir = tiny_run(dir.path(), &data, "plain", model);
    let run = open_run(&run_dir, &Weights::Final, Device::Cpu).unwrap();
    assert_eq!(run.sampler.default_binarize(), Binarize::Hard);
    let out = dir.path().join("out");
    let err =
        generate_into(&run, &options(2, 0, Some(Binarize::Refiner)), &out, false).unwrap_err();
    assert_eq!(err, "this model has no refiner; use --binarize ht or bs");
    assert!(!out.exists());

    // Counts out of range.
    for n in [0, MAX_SAMPLES + 1] {
        let err = generate_into(&run, &options(n, 0, None), &out, false).unwrap_err();
        assert!(err.contains(&format!("{n} samples asked for")), "{err}");
    }
    assert!(!out.exists());

    // Weights of another model (a larger latent): the file and the tensor are named.
    let mut other = BinaryMuseGanConfig::tiny();
    other.latent = 32;
    let foreign_run = tiny_run(dir.path(), &data, "foreign", other);
    let foreign = foreign_run.join("model.safetensors");
    let err = open_run(&run_dir, &Weights::Path(foreign.clone()), Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.starts_with(&foreign.display().to_string()), "{err}");
    assert!(
        err.contains("'generator.shared.0.dense.weight' has shape [512, 32]"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // The plain run's weights in a run with a refiner: the missing tensor is named.
    let refined_config = std::fs::read_to_string(run_dir.join("config.toml"))
        .unwrap()
        .replace("refiner = false", "refiner = true");
    let refined = dir.path().join("refined");
    std::fs::create_dir(&refined).unwrap();
    std::fs::write(refined.join("config.toml"), refined_config).unwrap();
    let plain_weights = Weights::Path(run_dir.join("model.safetensors"));
    let err = open_run(&refined, &plain_weights, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("the checkpoint has no 'refiner."),
        "{err}"
    );
    // No weights at all, corrupt weights, missing best, not a run.
    let err = open_run(&refined, &Weights::Final, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("has no weights yet"), "{err}");
    std::fs::write(refined.join("model.safetensors"), b"junk").unwrap();
    let err = open_run(&refined, &Weights::Final, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("model.safetensors: not a readable safetensors"),
        "{err}"
    );
    let err = open_run(&refined, &Weights::Best, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("best.safetensors: no such checkpoint file"),
        "{err}"
    );
    let err = open_run(&data, &Weights::Final, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("is not a training run"), "{err}");

    // Output directories: one holding files is refused without force; with force only if
    // generate wrote them all; an empty one is used; an unwritable one is named.
    generate_into(&run, &options(1, 0, None), &out, false).unwrap();
    let err = generate_into(&run, &options(2, 0, None), &out, false).unwrap_err();
    assert!(err.contains("already holds files"), "{err}");
    generate_into(&run, &options(2, 1, None), &out, true).unwrap();
    assert!(out.join("sample-01.mid").is_file());
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    let err = generate_into(&run, &options(2, 1, None), &out, true).unwrap_err();
    assert!(
        err.contains("holds files that generate did not write"),
        "{err}"
    );
    assert!(out.join("notes.txt").is_file() && !dir.path().join("out.partial").exists());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    generate_into(&run, &options(1, 0, None), &empty, false).unwrap();
    assert!(empty.join("samples.png").is_file());
    let blocked = out.join("notes.txt").join("sub");
    let err = generate_into(&run, &options(1, 0, None), &blocked, false).unwrap_err();
    assert!(err.contains("sub: cannot be created"), "{err}");
}

/// The rows of a `[n, latent]` tensor.
fn rows(z: &Tensor) -> Vec<Vec<f32>> {
    (0..z.size()[0])
        .map(|i| Vec::<f32>::try_from(&z.get(i)).unwrap())
        .collect()
}
/// A temporal (hybrid) run: pieces longer than a phrase continue the bar sequence phrase by
/// phrase (each phrase is what one phrase's latents make, the refiner works per phrase), and
/// 2-D grids move the latent groups separately. A phrase generator refuses both.
#[test]
fn long_pieces_and_latent_grids_of_a_temporal_run() {
    let _serial = lock();
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());
    let model = BinaryMuseGanConfig::tiny_hybrid();
    assert_eq!(model.binary_neuron, BinaryNeuronKind::Dbn);
    let run_dir = tiny_run(dir.path(), &data, "hybrid", model);
    let run = open_run(&run_dir, &Weights::Final, Device::Cpu).unwrap();
    assert_eq!(run.music().phrase.bars, 2);
    let g = sampler(&run_dir, &Weights::Final);
    // Layout of the flat latent: shared 0..8, private 8..24, temporal shared 24..32, temporal
    // private 32..48.
    let z = g.piece_latents(3, 2, 5, 0.5).unwrap();
    assert_eq!(z.size(), [2, 3, 48]);
    let first = latents(3, 2, 48);
    for i in 0..2i64 {
        let piece = rows(&z.get(i));
        assert_eq!(piece[0], first[i as usize * 48..(i as usize + 1) * 48]);
        for phrase in &piece[1..] {
            assert_eq!(
                phrase[..24],
                piece[0][..24],
                "time-independent latents kept"
            );
        }
        assert_ne!(piece[1][24..], piece[0][24..]);
        assert_ne!(piece[2][24..], piece[1][24..]);
    }
    for binarize in [Binarize::Hard, Binarize::Refiner] {
        let long = g.binary(&z, binarize, 3).unwrap();
        assert_eq!(long.size(), [2, 2, 6, 8, 24], "{binarize}");
        // Phrase p of piece i is the one-phrase sample of phrase 0's time-independent latents
        // and phrase p's time-dependent ones (the refiner refines phrase by phrase).
        for p in 0..3i64 {
            let single = Tensor::cat(
                &[
                    z.select(1, 0).narrow(1, 0, 24),
                    z.select(1, p).narrow(1, 24, 24),
                ],
                1,
            );
            let phrase = g.binary(&single, binarize, 3).unwrap();
            assert_eq!(
                cells(&long.narrow(2, 2 * p, 2)),
                cells(&phrase),
                "{binarize}, phrase {p}"
            );
        }
    }

    let out = dir.path().join("long");
    let mut o = options(2, 3, Some(Binarize::Bernoulli));
    o.request.bars = Some(5);
    o.request.continuity = 0.5;
    generate_into(&run, &o, &out, false).unwrap();
    let two = museroll_core::io::ReadOptions {
        resolution: Resolution::new(2).unwrap(),
    };
    let (npz, _) = museroll_core::io::read_file(&out.join("samples.npz"), &two).unwrap();
    assert_eq!(
        npz.len(),
        2 * 5 * 8,
        "two pieces of 5 bars, cut from 3 phrases"
    );
    let expected = cells(
        &g.binary(&z, Binarize::Bernoulli, 3)
            .unwrap()
            .narrow(2, 0, 5),
    );
    let (song, _) = museroll_core::io::read_file(&out.join("sample-01.mid"), &two).unwrap();
    assert_eq!(song.tracks[1].name, "Piano");
    let piano: Vec<u8> = (0..40)
        .flat_map(|s| (60..84).map(move |p| (s, p)))
        .map(|(s, p)| u8::from(song.tracks[1].roll.get(s, Pitch::new(p).unwrap()) > 0))
        .collect();
    let piece = &expected[2 * 40 * 24..];
    assert_eq!(piano, piece[40 * 24..], "sample 1's piano part");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(
        (json["bars"].as_u64(), json["continuity"].as_f64()),
        (Some(5), Some(0.5))
    );
    let md = std::fs::read_to_string(out.join("metrics.md")).unwrap();
    assert!(
        md.contains("2 samples of 5 bars (3 phrases of 2, continuity 0.5), seed 3"),
        "{md}"
    );

    // Grids: the corners are the two seeds' latents and their mixtures.
    let a = latents(41, 1, 48);
    let b = latents(42, 1, 48);
    let mix = |rows_from: &[f32], columns_from: &[f32], rows_group: &[std::ops::Range<usize>]| {
        (0..48)
            .map(|i| {
                if rows_group.iter().any(|r| r.contains(&i)) {
                    rows_from[i]
                } else {
                    columns_from[i]
                }
            })
            .collect::<Vec<f32>>()
    };
    for (grid, rows_group) in [
        (LatentGrid::InterIntra, vec![0..8, 24..32]),
        (LatentGrid::FixedTemporal, vec![0..8, 8..24]),
    ] {
        let cell = rows(&g.grid(41, Interpolation::Slerp, grid, 3).unwrap());
        assert_eq!(cell.len(), 9);
        assert_eq!(cell[0], a, "{grid}");
        assert_eq!(cell[8], b, "{grid}");
        assert_eq!(cell[2], mix(&a, &b, &rows_group), "{grid}: top right");
        assert_eq!(cell[6], mix(&b, &a, &rows_group), "{grid}: bottom left");
        // With lerp the diagonal is the path.
        let diagonal = rows(&g.grid(41, Interpolation::Lerp, grid, 3).unwrap());
        let path = rows(&g.path(41, Interpolation::Lerp, 3).unwrap());
        assert_eq!(
            [&diagonal[0], &diagonal[4], &diagonal[8]],
            [&path[0], &path[1], &path[2]]
        );
    }
    let out = dir.path().join("grid");
    let mut o = options(1, 41, Some(Binarize::Bernoulli));
    o.walk = Some(Walk {
        kind: Interpolation::Slerp,
        steps: 3,
        grid: Some(LatentGrid::InterIntra),
    });
    let generated = generate_into(&run, &o, &out, false).unwrap();
    assert!(generated
        .notes
        .iter()
        .any(|n| n.contains("rows move the inter-track")));
    let (song, _) = museroll_core::io::read_file(&out.join("grid.mid"), &two).unwrap();
    assert_eq!(
        song.len(),
        9 * 3 * 8,
        "9 phrases of 2 bars, a bar of rest after each"
    );
    let picture = image::open(out.join("grid.png")).unwrap();
    assert!(picture.width() > 1000, "three columns: {}", picture.width());
    for bad in [0, 17] {
        let mut o = o.clone();
        o.walk = Some(Walk {
            kind: Interpolation::Lerp,
            steps: bad,
            grid: Some(LatentGrid::InterIntra),
        });
        let err = generate_into(&run, &o, &dir.path().join("x"), false).unwrap_err();
        assert!(err.contains("a latent grid has 2 to 16 steps"), "{err}");
    }

    // A jamming model has no inter-track latents.
    let jamming = BinaryMuseGanConfig {
        latent: 32,
        generator: GeneratorKind::Temporal {
            structure: LatentStructure::Jamming,
            shared: 0,
            private: 8,
            temporal_shared: 0,
            temporal_private: 8,
            bar_channels: 64,
            temporal_channels: 16,
        },
        ..BinaryMuseGanConfig::tiny()
    };
    let jam = sampler(
        &tiny_run(dir.path(), &data, "jam", jamming),
        &Weights::Final,
    );
    let err = jam
        .grid(1, Interpolation::Lerp, LatentGrid::InterIntra, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no inter-track latents"), "{err}");
    assert_eq!(
        jam.grid(1, Interpolation::Lerp, LatentGrid::FixedTemporal, 3)
            .unwrap()
            .size(),
        [9, 32]
    );

    // A phrase generator makes one phrase per latent.
    let plain_dir = tiny_run(dir.path(), &data, "plain", BinaryMuseGanConfig::tiny());
    let plain = open_run(&plain_dir, &Weights::Final, Device::Cpu).unwrap();
    let mut o = options(1, 1, None);
    o.request.bars = Some(3);
    let err = generate_into(&plain, &o, &dir.path().join("y"), false).unwrap_err();
    assert!(
        err.contains("longer pieces need a temporal generator"),
        "{err}"
    );
    assert!(!dir.path().join("y").exists() && !dir.path().join("y.partial").exists());
    o.request.bars = Some(1);
    generate_into(&plain, &o, &dir.path().join("one-bar"), false).unwrap();
    let err = sampler(&plain_dir, &Weights::Final)
        .grid(1, Interpolation::Lerp, LatentGrid::FixedTemporal, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a temporal generator"), "{err}");
    for bars in [0, 257] {
        let mut r = o.request.clone();
        r.bars = Some(bars);
        let err = r.validate().unwrap_err().to_string();
        assert!(err.contains("a piece has 1 to 256 bars"), "{err}");
    }
    for continuity in [-0.1, 1.0, f64::NAN] {
        let mut r = o.request.clone();
        r.continuity = continuity;
        assert!(r.validate().is_err(), "{continuity}");
    }
}

/// The committed models in `models/` generate what they generated before the model families
/// existed, bit for bit: the fixtures are the `samples.npz` (and walk MIDI files) that the
/// previous code wrote for these requests (`museroll generate --run models/M --n N --seed S …`).
#[test]
fn the_committed_models_generate_the_same_samples_as_before() {
    let _serial = lock();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/before");
    // (fixture, model, n, seed, binarization, bars, continuity)
    type Case = (
        &'static str,
        &'static str,
        usize,
        u64,
        Option<Binarize>,
        Option<usize>,
        f64,
    );
    let cases: [Case; 5] = [
        (
            "chorale-ht",
            "chorale",
            6,
            7,
            Some(Binarize::Hard),
            None,
            0.0,
        ),
        (
            "chorale-bs",
            "chorale",
            6,
            7,
            Some(Binarize::Bernoulli),
            None,
            0.0,
        ),
        ("chorale-refiner", "chorale", 6, 7, None, None, 0.0),
        (
            "hybrid-refiner-10bars",
            "chorale-hybrid",
            3,
            11,
            None,
            Some(10),
            0.5,
        ),
        (
            "hybrid-ht-walk",
            "chorale-hybrid",
            2,
            3,
            Some(Binarize::Hard),
            None,
            0.0,
        ),
    ];
    let read = |path: &Path| {
        let resolution = Resolution::new(4).unwrap();
        museroll_core::io::read_file(path, &museroll_core::io::ReadOptions { resolution })
            .unwrap()
            .0
    };
    // Every cell of every track, in the order of the tracks.
    let piano_roll = |song: &Multitrack| -> Vec<Vec<bool>> {
        song.tracks
            .iter()
            .map(|t| {
                (0..song.len())
                    .flat_map(|s| (0..128u8).map(move |p| (s, p)))
                    .map(|(s, p)| t.roll.get(s, Pitch::new(p).unwrap()) > 0)
                    .collect()
            })
            .collect()
    };
    for (fixture, model, n, seed, binarize, bars, continuity) in cases {
        let run = open_run(
            &root.join("models").join(model),
            &Weights::Final,
            Device::Cpu,
        )
        .unwrap();
        let mut o = options(n, seed, binarize);
        o.request.bars = bars;
        o.request.continuity = continuity;
        let generated = generate(&run, &o).unwrap();
        let npz = &generated
            .files
            .iter()
            .find(|(n, _)| n == "samples.npz")
            .unwrap()
            .1;
        let path = std::env::temp_dir().join(format!("museroll-before-{fixture}.npz"));
        std::fs::write(&path, npz).unwrap();
        let now = read(&path);
        let before = read(&fixtures.join(format!("{fixture}.npz")));
        assert_eq!(now.len(), before.len(), "{fixture}");
        assert_eq!(piano_roll(&now), piano_roll(&before), "{fixture}");
        std::fs::remove_file(path).unwrap();
    }
    // A walk and a latent grid of the hybrid model.
    let run = open_run(
        &root.join("models/chorale-hybrid"),
        &Weights::Final,
        Device::Cpu,
    )
    .unwrap();
    let mut o = options(2, 3, Some(Binarize::Hard));
    o.walk = Some(Walk {
        kind: Interpolation::Slerp,
        steps: 3,
        grid: Some(LatentGrid::FixedTemporal),
    });
    let generated = generate(&run, &o).unwrap();
    for name in ["interpolation.mid", "grid.mid"] {
        let now = &generated.files.iter().find(|(n, _)| n == name).unwrap().1;
        let path = std::env::temp_dir().join(format!("museroll-before-{name}"));
        std::fs::write(&path, now).unwrap();
        let before = fixtures.join(format!("hybrid-ht-walk-{name}"));
        assert_eq!(
            piano_roll(&read(&path)),
            piano_roll(&read(&before)),
            "{name}"
        );
        std::fs::remove_file(path).unwrap();
    }
}
