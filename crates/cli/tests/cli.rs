//! The `museroll` binary end to end: conversions between formats, and bad input answered with one
//! line naming the file and a non-zero exit, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn museroll(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_museroll"))
        .args(args)
        .output()
        .expect("museroll runs")
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(AsRef::as_ref).collect();
    museroll(&args)
}

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures")
        .join(relative)
}

/// Asserts a failed run: exit code 1, exactly one line on stderr that names `needle` (the file)
/// and contains `problem`, no panic.
fn assert_clean_failure(out: &Output, needle: &str, problem: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(needle), "{stderr} should name {needle}");
    assert!(stderr.contains(problem), "{stderr} should say {problem}");
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mid");
    assert_clean_failure(
        &run(&["info".as_ref(), missing.as_os_str()]),
        "missing.mid",
        "No such file",
    );

    let empty = dir.path().join("empty.mid");
    std::fs::write(&empty, b"").unwrap();
    assert_clean_failure(
        &run(&["info".as_ref(), empty.as_os_str()]),
        "empty.mid",
        "empty",
    );

    let random = dir.path().join("noise.mid");
    std::fs::write(
        &random,
        (0..500u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_clean_failure(
        &run(&["info".as_ref(), random.as_os_str()]),
        "noise.mid",
        "MIDI",
    );

    let truncated = dir.path().join("truncated.mid");
    std::fs::write(
        &truncated,
        b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x01\x00\x00\x90",
    )
    .unwrap();
    assert_clean_failure(
        &run(&["info".as_ref(), truncated.as_os_str()]),
        "truncated.mid",
        "MIDI",
    );

    // A MIDI file named .npz: the content gives it away.
    let renamed = dir.path().join("song.npz");
    std::fs::write(&renamed, b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60").unwrap();
    assert_clean_failure(
        &run(&["info".as_ref(), renamed.as_os_str()]),
        "song.npz",
        "looks like MIDI",
    );

    let unknown = dir.path().join("notes.txt");
    std::fs::write(&unknown, b"hello").unwrap();
    assert_clean_failure(
        &run(&["info".as_ref(), unknown.as_os_str()]),
        "notes.txt",
        "unsupported format",
    );

    assert_clean_failure(
        &run(&["info".as_ref(), dir.path().as_os_str()]),
        &dir.path().display().to_string(),
        "not a regular file",
    );
}

#[test]
fn bad_outputs_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wav");
    let input = dir.path().join("missing.mid");
    assert_clean_failure(
        &run(&["convert".as_ref(), input.as_os_str(), out.as_os_str()]),
        "out.wav",
        "unsupported output extension",
    );
    assert!(!out.exists());

    let unwritable = dir.path().join("no/such/dir/out.mid");
    let midi = fixture("midi/bwv66.6.mid");
    assert_clean_failure(
        &run(&["convert".as_ref(), midi.as_os_str(), unwritable.as_os_str()]),
        "out.mid",
        "No such file",
    );
}

#[test]
fn convert_round_trips_through_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let midi = fixture("midi/bwv66.6.mid");
    let npz = dir.path().join("a.npz");
    let back = dir.path().join("b.mid");
    let png = dir.path().join("c.png");
    for (input, output) in [(&midi, &npz), (&npz, &back), (&back, &png)] {
        let out = run(&["convert".as_ref(), input.as_os_str(), output.as_os_str()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));

    let info = |path: &Path| -> serde_json::Value {
        let out = run(&["info".as_ref(), "--json".as_ref(), path.as_os_str()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (a, b) = (info(&midi), info(&back));
    assert_eq!(a["summary"]["steps"], b["summary"]["steps"]);
    let notes = |v: &serde_json::Value| -> Vec<u64> {
        v["summary"]["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["notes"].as_u64().unwrap())
            .collect()
    };
    // npz cannot mark repeated notes (pypianoroll's format has no onset plane), so the count may
    // only shrink where a note is struck again right after itself.
    assert_eq!(notes(&a).len(), notes(&b).len());
    assert!(notes(&a)
        .iter()
        .zip(notes(&b))
        .all(|(x, y)| y <= *x && (y == 0) == (*x == 0)));
}

#[test]
fn plot_selects_bars() {
    let dir = tempfile::tempdir().unwrap();
    let midi = fixture("midi/bwv66.6.mid");
    let png = dir.path().join("phrase.png");
    let out = run(&[
        "plot".as_ref(),
        midi.as_os_str(),
        png.as_os_str(),
        "--bars".as_ref(),
        "2".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let out = run(&[
        "plot".as_ref(),
        midi.as_os_str(),
        png.as_os_str(),
        "--from-bar".as_ref(),
        "100000".as_ref(),
    ]);
    assert_clean_failure(&out, "bwv66.6.mid", "bar 100000 does not exist");
}

#[test]
fn dataset_build_info_stats_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let midi = fixture("midi/bwv66.6.mid");
    let build = run(&[
        "data".as_ref(),
        "build".as_ref(),
        midi.as_os_str(),
        "--out".as_ref(),
        ds.as_os_str(),
        "--tracks".as_ref(),
        "satb".as_ref(),
        "--bars".as_ref(),
        "2".as_ref(),
        "--steps-per-beat".as_ref(),
        "4".as_ref(),
        "--lowest-pitch".as_ref(),
        "36".as_ref(),
        "--pitches".as_ref(),
        "48".as_ref(),
        "--hop".as_ref(),
        "1".as_ref(),
        "--validation".as_ref(),
        "0".as_ref(),
    ]);
    let stdout = String::from_utf8_lossy(&build.stdout);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    // bwv66.6 has a one-beat pickup then 9 full 4/4 bars (the padded pickup bar is the 10th):
    // 2-bar windows at every bar over the 4/4 bars.
    assert!(
        stdout.contains("phrases of 4 tracks × 2 bars × 16 steps × 48 pitches"),
        "{stdout}"
    );

    let info = run(&["data".as_ref(), "info".as_ref(), ds.as_os_str()]);
    assert!(info.status.success());
    assert_eq!(
        String::from_utf8_lossy(&info.stdout),
        stdout
            .lines()
            .take_while(|l| !l.starts_with("wrote"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );

    let json = dir.path().join("stats.json");
    let stats = run(&[
        "data".as_ref(),
        "stats".as_ref(),
        ds.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert!(
        stats.status.success(),
        "{}",
        String::from_utf8_lossy(&stats.stderr)
    );
    let table = String::from_utf8_lossy(&stats.stdout);
    assert!(
        table.contains("| metric | dataset |") && table.contains("### Soprano"),
        "{table}"
    );
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    // Every phrase was measured (the training split is all of them here).
    let phrases: u64 = stdout.split_whitespace().next().unwrap().parse().unwrap();
    assert!(phrases > 0);
    assert_eq!(value["reports"]["dataset"]["samples"], phrases);

    // Nothing in the validation split (--validation 0): no table of dashes, an error.
    let empty = run(&[
        "data".as_ref(),
        "stats".as_ref(),
        ds.as_os_str(),
        "--split".as_ref(),
        "validation".as_ref(),
    ]);
    assert_clean_failure(
        &empty,
        &ds.display().to_string(),
        "validation split is empty",
    );

    // The chorale against itself as music files: the same phrases, so the same numbers.
    let eval = run(&[
        "eval".as_ref(),
        midi.as_os_str(),
        "--reference".as_ref(),
        ds.as_os_str(),
    ]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let table = String::from_utf8_lossy(&eval.stdout);
    let qn = table.lines().find(|l| l.starts_with("| QN |")).unwrap();
    let cells: Vec<&str> = qn.split('|').map(str::trim).collect();
    assert_eq!(cells[2], cells[3], "{table}");

    let again = run(&[
        "data".as_ref(),
        "build".as_ref(),
        midi.as_os_str(),
        "--out".as_ref(),
        ds.as_os_str(),
    ]);
    assert_clean_failure(&again, &ds.display().to_string(), "already exists");
}

#[test]
fn model_summary_of_a_preset() {
    let out = run(&["model", "--preset", "tiny", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(value.is_object(), "{value}");
    let bad = run(&["model", "--preset", "huge"]);
    assert_clean_failure(&bad, "huge", "preset");
}

/// A finished tiny run in `dir/run`: four 8-bar songs (drums on the beats, a melody, at 2 steps
/// per beat) → `museroll data build` → `museroll train --preset tiny` for 2 + 1 steps.
fn generate_tiny_run(dir: &Path) -> PathBuf {
    use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Track};
    let songs = dir.join("songs");
    std::fs::create_dir_all(&songs).unwrap();
    let steps = 64;
    for i in 0..4 {
        let note = |p: usize, start: usize, len: usize| Note {
            pitch: Pitch::new(p as u8).unwrap(),
            start,
            end: start + len,
            velocity: 90,
        };
        let drums = (0..steps / 2).map(|b| note(if b % 2 == 0 { 60 } else { 64 }, b * 2, 1));
        let melody = (0..steps / 4).map(|k| note(60 + (k * 5 + i * 7) % 24, k * 4, 3));
        let mut d = Track::new("Drums", Program::default(), true, steps);
        d.roll = Roll::from_notes(RollKind::Velocity, steps, drums);
        let mut p = Track::new("Piano", Program::default(), false, steps);
        p.roll = Roll::from_notes(RollKind::Velocity, steps, melody);
        let mut song = Multitrack::new(Resolution::new(2).unwrap());
        song.tracks = vec![d, p];
        museroll_core::io::write_file(&song, &songs.join(format!("{i}.mid"))).unwrap();
    }
    let data = dir.join("data");
    let build = run(&[
        "data".as_ref(),
        "build".as_ref(),
        songs.as_os_str(),
        "--out".as_ref(),
        data.as_os_str(),
        "--tracks".as_ref(),
        "Drums=drums,Piano=0-127".as_ref(),
        "--bars".as_ref(),
        "2".as_ref(),
        "--steps-per-beat".as_ref(),
        "2".as_ref(),
        "--lowest-pitch".as_ref(),
        "60".as_ref(),
        "--pitches".as_ref(),
        "24".as_ref(),
        "--validation".as_ref(),
        "0".as_ref(),
    ]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let out = dir.join("run");
    let train = run(&[
        "train".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--preset".as_ref(),
        "tiny".as_ref(),
        "--steps".as_ref(),
        "2".as_ref(),
        "--refiner-steps".as_ref(),
        "1".as_ref(),
        "--batch".as_ref(),
        "2".as_ref(),
        "--n-critic".as_ref(),
        "1".as_ref(),
        "--set".as_ref(),
        "eval_samples=4".as_ref(),
        "--threads".as_ref(),
        "1".as_ref(),
        "--device".as_ref(),
        "cpu".as_ref(),
    ]);
    assert!(
        train.status.success(),
        "{}",
        String::from_utf8_lossy(&train.stderr)
    );
    out
}

#[test]
fn generate_writes_samples_and_refuses_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = generate_tiny_run(dir.path());
    let generate = |out: &Path, extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "generate".into(),
            "--run".into(),
            run_dir.clone().into(),
            "--out".into(),
            out.into(),
            "--threads".into(),
            "1".into(),
            "--device".into(),
            "cpu".into(),
        ];
        args.extend(extra.iter().map(Into::into));
        run(&args)
    };
    let out = dir.path().join("gen");
    let ok = generate(
        &out,
        &[
            "--n",
            "3",
            "--seed",
            "4",
            "--interpolate",
            "slerp",
            "--steps",
            "3",
        ],
    );
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{stderr}");
    let table = String::from_utf8_lossy(&ok.stdout);
    assert!(
        table.contains("| training data | samples (binarize refiner) |")
            && table.contains("### Piano"),
        "{table}"
    );
    assert!(
        stderr.contains("wrote 3 samples (refiner binarization"),
        "{stderr}"
    );
    assert!(stderr.contains(&out.display().to_string()), "{stderr}");
    for file in [
        "sample-00.mid",
        "sample-02.png",
        "samples.png",
        "samples.npz",
        "metrics.json",
        "metrics.md",
        "interpolation.mid",
        "interpolation.png",
        "interpolation-02.mid",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let md = std::fs::read_to_string(out.join("metrics.md")).unwrap();
    assert!(md.contains(table.trim()), "{md}");

    // The same seed with --binarize ht, again: the same files; --force replaces the directory.
    let again = generate(&out, &["--n", "3", "--seed", "4"]);
    assert_clean_failure(&again, "gen", "already holds files");
    let ht = dir.path().join("ht");
    assert!(generate(&ht, &["--n", "2", "--binarize", "ht"])
        .status
        .success());
    let first = std::fs::read(ht.join("sample-01.mid")).unwrap();
    assert!(generate(&ht, &["--n", "2", "--binarize", "ht", "--force"])
        .status
        .success());
    assert_eq!(std::fs::read(ht.join("sample-01.mid")).unwrap(), first);
    assert!(!ht.join("sample-02.mid").exists());

    // Bad requests: one line, exit 1, nothing written.
    let bad = dir.path().join("bad");
    assert_clean_failure(
        &generate(&bad, &["--n", "0"]),
        "0 samples",
        "generate 1 to 256",
    );
    assert_clean_failure(
        &generate(&bad, &["--interpolate", "lerp", "--steps", "1"]),
        "interpolation",
        "not 1",
    );
    assert_clean_failure(
        &generate(&bad, &["--binarize", "soft"]),
        "soft",
        "expected ht, bs or refiner",
    );
    assert_clean_failure(
        &generate(&bad, &["--steps", "4"]),
        "--steps",
        "--interpolate",
    );
    assert!(!bad.exists());
    let missing = dir.path().join("nowhere");
    let out = run(&[
        "generate".as_ref(),
        "--run".as_ref(),
        missing.as_os_str(),
        "--out".as_ref(),
        bad.as_os_str(),
    ]);
    assert_clean_failure(&out, "nowhere", "is not a training run");
    let corrupt = run_dir.join("junk.safetensors");
    std::fs::write(&corrupt, b"junk").unwrap();
    let out = generate(&bad, &["--checkpoint", corrupt.to_str().unwrap()]);
    assert_clean_failure(&out, "junk.safetensors", "not a readable safetensors");
    assert!(!bad.exists());
}
