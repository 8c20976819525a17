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
    // The same piece drawn whole, from bar 0 for 2 and 4 bars, and from bar 2 for 2 bars.
    let plot = |name: &str, extra: &[&str]| -> image::RgbImage {
        let png = dir.path().join(name);
        let mut args: Vec<&std::ffi::OsStr> =
            vec!["plot".as_ref(), midi.as_os_str(), png.as_os_str()];
        args.extend(extra.iter().map(|a| a.as_ref() as &std::ffi::OsStr));
        let out = museroll(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        image::open(&png).unwrap().to_rgb8()
    };
    let whole = plot("whole.png", &[]);
    let two = plot("two.png", &["--bars", "2"]);
    let four = plot("four.png", &["--bars", "4"]);
    let later = plot("later.png", &["--from-bar", "2", "--bars", "2"]);
    assert_eq!(image::open(&png).unwrap().to_rgb8(), two);
    // Every step is drawn the same whole number of pixels wide: 2 more 4/4 bars (192 steps at
    // the default 24 per beat) widen the picture by a multiple of 192 px, and the whole piece is
    // wider still.
    let (w2, w4, whole_w) = (two.width(), four.width(), whole.width());
    assert!(w2 < w4 && w4 < whole_w, "{w2} {w4} {whole_w}");
    assert_eq!((w4 - w2) % 192, 0, "{w2} {w4}");
    assert_eq!(two.height(), four.height());
    // Bars 2–3 drawn as bars 0–1 are: the same size, other notes.
    assert_eq!(later.dimensions(), two.dimensions());
    assert_ne!(later, two);
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
fn dataset_build_counts_skipped_files_and_lists_them_when_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::copy(fixture("midi/bwv66.6.mid"), inputs.join("bwv66.6.mid")).unwrap();
    std::fs::write(inputs.join("broken.mid"), b"MThd\0\0").unwrap();
    let build = |out: &Path, verbose: bool| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "data".as_ref(),
            "build".as_ref(),
            inputs.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--tracks".as_ref(),
            "satb".as_ref(),
            "--bars".as_ref(),
            "2".as_ref(),
            "--steps-per-beat".as_ref(),
            "4".as_ref(),
            "--pitches".as_ref(),
            "48".as_ref(),
            "--lowest-pitch".as_ref(),
            "36".as_ref(),
        ];
        if verbose {
            args.push("--verbose".as_ref());
        }
        let output = museroll(&args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        (String::from_utf8_lossy(&output.stdout).into_owned(), stderr)
    };
    // By default: counts by reason, and where the list is; no line per file.
    let quiet = dir.path().join("quiet");
    let (stdout, stderr) = build(&quiet, false);
    assert!(stdout.contains("skipped 1 file: 1 unreadable"), "{stdout}");
    let manifest = quiet.join("manifest.json");
    assert!(
        stderr.contains(&format!(
            "the list of skipped files is in {}",
            manifest.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("broken.mid"), "{stderr}");
    let listed = std::fs::read_to_string(&manifest).unwrap();
    assert!(listed.contains("broken.mid"), "{listed}");
    // --verbose: one line per skipped file, as it is met.
    let (stdout, stderr) = build(&dir.path().join("verbose"), true);
    assert!(stdout.contains("skipped 1 file: 1 unreadable"), "{stdout}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("skipped "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("broken.mid"), "{stderr}");
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

    // The facts, written out: 10 bars of 4/4 (the pickup padded to a bar) give 9 two-bar windows;
    // a phrase is 4 × 2 × 16 × 48 bits; the SATB layout plays every voice as choir aahs (52).
    let info = run(&["data".as_ref(), "info".as_ref(), ds.as_os_str()]);
    assert!(info.status.success());
    let info = String::from_utf8_lossy(&info.stdout);
    assert_eq!(
        info,
        format!(
            "9 phrases of 4 tracks × 2 bars × 16 steps × 48 pitches (C2–B5), 4 steps per beat, \
             768 bytes each\n\
             tracks: Soprano (program 52), Alto (program 52), Tenor (program 52), Bass (program 52)\n\
             split by song: train 9 phrases from 1 songs, validation 0 phrases from 0 songs\n\
             built from 1 files in {}\n\
             bars: 10 in 4/4, 0 in other meters; windows: 9 considered, 0 out of range, \
             0 too sparse, 0 not drawn\n",
            midi.display()
        )
    );
    // The build printed the same summary before naming the directory.
    assert!(stdout.starts_with(info.as_ref()), "{stdout}");

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
    assert_eq!(phrases, 9);
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

/// Through `museroll`, which hands the neural commands to `museroll-torch` (as every `train` and
/// `generate` test here does).
#[test]
fn model_summary_of_a_preset() {
    let out = run(&["model", "--preset", "tiny", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["family"], "bmusegan", "{value}");
    let networks = value["networks"].as_array().unwrap();
    let names: Vec<&str> = networks
        .iter()
        .map(|n| n["network"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["generator", "refiner", "discriminator"]);
    // Each network's count is the sum of its layers' (times their copies), the total the sum of
    // the networks'; none is empty.
    let params: Vec<i64> = networks
        .iter()
        .map(|n| n["params"].as_i64().unwrap())
        .collect();
    for (net, &p) in networks.iter().zip(&params) {
        let layers: i64 = net["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["params"].as_i64().unwrap() * l["copies"].as_i64().unwrap())
            .sum();
        assert!(p > 0, "{net}");
        assert_eq!(layers, p, "{}", net["network"]);
    }
    let total = value["params"].as_i64().unwrap();
    assert_eq!(total, params.iter().sum::<i64>());
    // The tiny phrase shape: 2 tracks × 2 bars × 8 steps × 24 pitches out of the generator.
    assert_eq!(
        networks[0]["output_shape"],
        serde_json::json!([2, 2, 8, 24])
    );

    // The text form states the same counts.
    let text = run(&["model", "--preset", "tiny"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    for (name, p) in names.iter().zip(&params) {
        assert!(
            text.contains(&format!("\n  {name} parameters: {p}\n")),
            "{name} {p}: {text}"
        );
    }
    assert!(
        text.ends_with(&format!("total parameters: {total}\n")),
        "{text}"
    );
    let bad = run(&["model", "--preset", "huge"]);
    assert_clean_failure(&bad, "huge", "preset");
}

/// pretty_midi's General MIDI SoundFont in the project's venv; missing, the test fails saying
/// to run ./setup.sh (a skipped test would pass without checking anything).
fn venv_soundfont() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    museroll_core::venv::require(workspace, museroll_core::venv::GM_SOUNDFONT)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn render_plays_a_file_into_a_wav() {
    let soundfont = venv_soundfont();
    let dir = tempfile::tempdir().unwrap();
    let midi = fixture("midi/bwv66.6.mid");
    let wav = dir.path().join("chorale.wav");
    // The default SoundFont (the venv's, found from the executable's place), then the same file
    // named explicitly: the two renderings are the same.
    let out = run(&[
        "render".as_ref(),
        midi.as_os_str(),
        wav.as_os_str(),
        "--sample-rate".as_ref(),
        "16000".as_ref(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("chorale.wav") && stderr.contains("16000 Hz"),
        "{stderr}"
    );
    let bytes = std::fs::read(&wav).unwrap();
    let explicit = dir.path().join("explicit.wav");
    let out = run(&[
        "render".as_ref(),
        midi.as_os_str(),
        explicit.as_os_str(),
        "--sample-rate".as_ref(),
        "16000".as_ref(),
        "--soundfont".as_ref(),
        soundfont.as_os_str(),
    ]);
    assert!(out.status.success());
    assert_eq!(std::fs::read(&explicit).unwrap(), bytes);

    // A canonical 44-byte header: PCM, 2 channels, 16 kHz, 16 bits.
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    assert_eq!(
        (u16_at(20), u16_at(22), u32_at(24), u16_at(34)),
        (1, 2, 16_000, 16)
    );
    assert_eq!(&bytes[36..40], b"data");
    // As long as the piece plus a release tail of at most 2 s.
    let info = run(&["info".as_ref(), "--json".as_ref(), midi.as_os_str()]);
    let summary: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let piece = summary["summary"]["seconds"].as_f64().unwrap();
    let seconds = f64::from(u32_at(40)) / 4.0 / 16_000.0;
    assert!(
        piece <= seconds && seconds <= piece + 2.0,
        "{seconds} s for a {piece} s piece"
    );
    // Not silent: the chorale's four voices sound.
    let samples: Vec<i16> = bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert_eq!(peak, (32767.0 * 10f64.powf(-1.0 / 20.0)).round() as u16);
}

#[test]
fn render_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let midi = fixture("midi/bwv66.6.mid");
    let wav = dir.path().join("out.wav");
    let missing = dir.path().join("missing.sf2");
    assert_clean_failure(
        &run(&[
            "render".as_ref(),
            midi.as_os_str(),
            wav.as_os_str(),
            "--soundfont".as_ref(),
            missing.as_os_str(),
        ]),
        "missing.sf2",
        "No such file",
    );
    let garbage = dir.path().join("garbage.sf2");
    std::fs::write(&garbage, b"RIFF\x04\0\0\0WAVE").unwrap();
    assert_clean_failure(
        &run(&[
            "render".as_ref(),
            midi.as_os_str(),
            wav.as_os_str(),
            "--soundfont".as_ref(),
            garbage.as_os_str(),
        ]),
        "garbage.sf2",
        "not a SoundFont 2 file",
    );
    // Checked before anything is read.
    let mp3 = dir.path().join("out.mp3");
    assert_clean_failure(
        &run(&["render".as_ref(), midi.as_os_str(), mp3.as_os_str()]),
        "out.mp3",
        "unsupported output extension (use .wav)",
    );
    assert_clean_failure(
        &run(&[
            "render".as_ref(),
            midi.as_os_str(),
            wav.as_os_str(),
            "--sample-rate".as_ref(),
            "0".as_ref(),
        ]),
        "sample rate 0 Hz",
        "outside 16000–192000 Hz",
    );
    let no_input = dir.path().join("nothing.mid");
    assert_clean_failure(
        &run(&["render".as_ref(), no_input.as_os_str(), wav.as_os_str()]),
        "nothing.mid",
        "No such file",
    );
    assert!(!wav.exists() && !mp3.exists());
}

/// Small songs for the tiny preset: drums on every beat (C4/E4, inside its C4–B5 range) and a
/// melody, 8 bars at 2 steps per beat, in `dir/songs`.
fn tiny_songs(dir: &Path) -> PathBuf {
    write_songs(&dir.join("songs"), false)
}

/// 6 songs of 8 bars at 2 steps per beat into `songs`: drums on every beat (C4/E4) and in the
/// piano a melody of notes 3 steps long, one every 4 steps (`chords` false), or three-note chords
/// one step long on every beat (`chords` true).
fn write_songs(songs: &Path, chords: bool) -> PathBuf {
    use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Track};
    std::fs::create_dir_all(songs).unwrap();
    for i in 0..6u8 {
        let steps = 64;
        let note = |p: u8, start: usize, len: usize| Note {
            pitch: Pitch::new(p).unwrap(),
            start,
            end: start + len,
            velocity: 90,
        };
        let drums = (0..steps / 2).map(|b| note(if b % 2 == 0 { 60 } else { 64 }, b * 2, 1));
        let piano: Vec<Note> = if chords {
            (0..steps / 2)
                .flat_map(|b| [0, 4, 7].map(|d| note(60 + i + d, b * 2, 1)))
                .collect()
        } else {
            (0..steps / 4)
                .map(|k| note(60 + (k * 5 + usize::from(i)) as u8 % 24, k * 4, 3))
                .collect()
        };
        let mut song = Multitrack::new(Resolution::new(2).unwrap());
        let mut d = Track::new("Drums", Program::default(), true, steps);
        d.roll = Roll::from_notes(RollKind::Velocity, steps, drums);
        let mut p = Track::new("Piano", Program::default(), false, steps);
        p.roll = Roll::from_notes(RollKind::Velocity, steps, piano);
        song.tracks = vec![d, p];
        museroll_core::io::write_file(&song, &songs.join(format!("{i}.mid"))).unwrap();
    }
    songs.to_path_buf()
}

/// The tiny preset's dataset built from [`tiny_songs`] with `museroll data build`, in `dir/data`.
fn tiny_dataset(dir: &Path) -> PathBuf {
    let songs = tiny_songs(dir);
    let data = dir.join("data");
    build_tiny(&songs, &data, &[]);
    data
}

/// `museroll data build SONGS --out DATA` in the tiny preset's shape (2 tracks × 2 bars × 8 steps
/// × 24 pitches from C4, a window at every bar), plus `extra` flags; returns its stdout.
fn build_tiny(songs: &Path, data: &Path, extra: &[&str]) -> String {
    let mut args: Vec<&std::ffi::OsStr> = vec![
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
    ];
    if !extra.contains(&"--random") {
        args.extend(["--hop".as_ref(), "1".as_ref()] as [&std::ffi::OsStr; 2]);
    }
    args.extend(extra.iter().map(|a| a.as_ref() as &std::ffi::OsStr));
    let out = museroll(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `data import-musegan` of the MuseGAN fixture (6 phrases, 2 bars × 8 steps × 12 pitches × 5
/// tracks; see `make_musegan.py`), sparse .npz and dense .npy, with an options file: LPD-5's
/// tracks, the options' lowest pitch, songs of 2 phrases split by the options' share; both
/// layouts give the same phrases; an unknown option is one line naming the file.
#[test]
fn data_import_musegan_reads_both_layouts_with_options() {
    let dir = tempfile::tempdir().unwrap();
    let options = dir.path().join("import.toml");
    std::fs::write(
        &options,
        "phrases_per_song = 2\nvalidation_fraction = 0.34\nlowest_pitch = 36\nseed = 3\n",
    )
    .unwrap();
    let import = |file: &str, out: &Path, options: &Path| {
        run(&[
            "data".as_ref(),
            "import-musegan".as_ref(),
            fixture(&format!("dataset/{file}")).as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--options".as_ref(),
            options.as_os_str(),
        ])
    };
    let sparse = dir.path().join("sparse");
    let out = import("musegan_small.npz", &sparse, &options);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "6 phrases of 5 tracks × 2 bars × 8 steps × 12 pitches (C2–B2), 2 steps per beat, \
             120 bytes each\n\
             tracks: Drums (drums), Piano (program 0), Guitar (program 24), Bass (program 32), \
             Strings (program 48)\n\
             split by song: train 4 phrases from 2 songs, validation 2 phrases from 1 songs\n\
             imported from {}\n",
            fixture("dataset/musegan_small.npz").display()
        )
    );
    let dense = dir.path().join("dense");
    let out = import("musegan_small.npy", &dense, &options);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(sparse.join("phrases.bin")).unwrap(),
        std::fs::read(dense.join("phrases.bin")).unwrap()
    );
    // `data info` reads the same facts back.
    let info = run(&["data".as_ref(), "info".as_ref(), dense.as_os_str()]);
    assert!(String::from_utf8_lossy(&info.stdout).contains(
        "split by song: train 4 phrases from 2 songs, validation 2 phrases from 1 songs"
    ));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "colour = 1\n").unwrap();
    let out = import("musegan_small.npz", &dir.path().join("never"), &bad);
    assert_clean_failure(&out, "bad.toml", "unknown field `colour`");
    assert!(!dir.path().join("never").exists());
}

/// `data build`'s window, augmentation and split flags over the 6 tiny songs (8 bars each, 2-bar
/// windows at every bar: 7 per song, 42 in all; the melody spans C4–B5, the range): the counts
/// they must give, in the summary.
#[test]
fn data_build_flags_choose_windows_transpositions_and_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let songs = tiny_songs(dir.path());
    let build = |name: &str, extra: &[&str]| build_tiny(&songs, &dir.path().join(name), extra);
    let lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("built from") && !l.starts_with("tracks:"))
            .map(str::to_owned)
            .collect()
    };
    let head = "phrases of 2 tracks × 2 bars × 8 steps × 24 pitches (C4–B5), 2 steps per beat, \
                96 bytes each";
    // By default a share of 0.1 of the songs is for validation: 1 of 6.
    assert_eq!(
        lines(&build("plain", &[])),
        [
            format!("42 {head}"),
            "split by song: train 35 phrases from 5 songs, validation 7 phrases from 1 songs"
                .into(),
            "bars: 48 in 4/4, 0 in other meters; windows: 42 considered, 0 out of range, \
             0 too sparse, 0 not drawn"
                .into(),
        ]
    );
    // −1, 0, +1 semitone: 3 × 42 windows; those with the melody's C4 (down) or B5 (up) fall out
    // of range (11, counted from the songs' formula), the drums are never transposed.
    assert_eq!(
        lines(&build("transposed", &["--transpose", "-1..1"])),
        [
            format!("115 {head}"),
            "split by song: train 98 phrases from 5 songs, validation 17 phrases from 1 songs"
                .into(),
            "bars: 48 in 4/4, 0 in other meters; windows: 126 considered, 11 out of range, \
             0 too sparse, 0 not drawn"
                .into(),
        ]
    );
    // 2 random windows per song: 12 drawn, 30 not; the same seed draws the same ones.
    let random = build("random", &["--random", "2", "--seed", "7"]);
    assert_eq!(
        lines(&random),
        [
            format!("12 {head}"),
            "split by song: train 10 phrases from 5 songs, validation 2 phrases from 1 songs"
                .into(),
            "bars: 48 in 4/4, 0 in other meters; windows: 42 considered, 0 out of range, \
             0 too sparse, 30 not drawn"
                .into(),
        ]
    );
    build("random-again", &["--random", "2", "--seed", "7"]);
    let phrases = |name: &str| std::fs::read(dir.path().join(name).join("phrases.bin")).unwrap();
    assert_eq!(phrases("random"), phrases("random-again"));
    assert_eq!(
        lines(&build("half", &["--validation", "0.5"]))[1],
        "split by song: train 21 phrases from 3 songs, validation 21 phrases from 3 songs"
    );
    let out = run(&[
        "data".as_ref(),
        "build".as_ref(),
        songs.as_os_str(),
        "--out".as_ref(),
        dir.path().join("bad").as_os_str(),
        "--validation".as_ref(),
        "1.5".as_ref(),
    ]);
    assert_clean_failure(&out, "validation fraction 1.5", "is outside 0..=1");

    // An options file: its 4-bar phrases (a window every 4 bars: 2 per song) and its split, with
    // a flag overriding the file's validation share.
    let options = dir.path().join("build.toml");
    std::fs::write(&options, "bars = 4\nvalidation_fraction = 0.5\n").unwrap();
    let out = run(&[
        "data".as_ref(),
        "build".as_ref(),
        songs.as_os_str(),
        "--out".as_ref(),
        dir.path().join("options").as_os_str(),
        "--options".as_ref(),
        options.as_os_str(),
        "--tracks".as_ref(),
        "Drums=drums,Piano=0-127".as_ref(),
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
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        lines(&String::from_utf8_lossy(&out.stdout)),
        [
            "12 phrases of 2 tracks × 4 bars × 8 steps × 24 pitches (C4–B5), 2 steps per beat, \
             192 bytes each",
            "split by song: train 12 phrases from 6 songs, validation 0 phrases from 0 songs",
            "bars: 48 in 4/4, 0 in other meters; windows: 12 considered, 0 out of range, \
             0 too sparse, 0 not drawn",
        ]
    );
}

/// `data stats DIR --json FILE`: the printed table and the JSON reports.
fn stats(dir: &Path, json: &Path) -> (String, serde_json::Value) {
    let out = run(&[
        "data".as_ref(),
        "stats".as_ref(),
        dir.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), value)
}

/// The cells of the first table row that starts with `| NAME |`.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("| {name} |")))
        .unwrap_or_else(|| panic!("no {name} row in {table}"));
    line.split('|').map(str::trim).collect()
}

/// Two datasets of the same shape and tracks but other music (a melody of single notes 3 steps
/// long vs three-note chords one step long): `eval` puts each one's own numbers (those of
/// `data stats`) in its column, and they differ where the music does (PP, QN, UPC). Samples of
/// another shape or with other tracks are refused in one line.
#[test]
fn eval_compares_two_datasets_with_their_own_numbers_and_refuses_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let melody = tiny_dataset(dir.path());
    let chord_songs = write_songs(&dir.path().join("chord-songs"), true);
    let chords = dir.path().join("chords");
    // All its phrases in the training split: eval measures every phrase of the samples.
    build_tiny(&chord_songs, &chords, &["--validation", "0"]);

    let (melody_table, melody_json) = stats(&melody, &dir.path().join("melody.json"));
    let (chords_table, chords_json) = stats(&chords, &dir.path().join("chords.json"));
    let eval_json = dir.path().join("eval.json");
    let out = run(&[
        "eval".as_ref(),
        chords.as_os_str(),
        "--reference".as_ref(),
        melody.as_os_str(),
        "--json".as_ref(),
        eval_json.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let eval: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&eval_json).unwrap()).unwrap();
    // Column by column, the reports are those of `data stats` of each dataset.
    assert_eq!(
        eval["reports"]["training data"],
        melody_json["reports"]["dataset"]
    );
    assert_eq!(
        eval["reports"]["samples"],
        chords_json["reports"]["dataset"]
    );
    // The printed cells too (the first, aggregate table; then the per-track ones).
    for metric in ["EB", "UPC", "QN", "PP"] {
        let cells = row(&table, metric);
        assert_eq!(cells[2], row(&melody_table, metric)[2], "{metric}: {table}");
        assert_eq!(cells[3], row(&chords_table, metric)[2], "{metric}: {table}");
    }
    // What the music makes them: no empty bars either side; the melody never sounds two notes at
    // once and its notes qualify (≥ 2 steps); the chords (one step on, one off) sound three
    // notes in half the steps and never qualify.
    let aggregate = |v: &serde_json::Value, m: &str| {
        v["reports"]["dataset"]["metrics"][m]["aggregate"]
            .as_f64()
            .unwrap()
    };
    for (v, eb, qn, pp) in [(&melody_json, 0.0, 1.0, 0.0), (&chords_json, 0.0, 0.0, 0.5)] {
        assert_eq!(
            (aggregate(v, "EB"), aggregate(v, "QN"), aggregate(v, "PP")),
            (eb, qn, pp),
            "{v}"
        );
    }
    assert!(aggregate(&chords_json, "UPC") >= 3.0);
    assert!(aggregate(&melody_json, "UPC") <= 2.0);
    let pp = row(&table, "PP");
    assert_ne!(pp[2], pp[3], "{table}");

    // Another shape (36 pitches) and other tracks (Keys for Piano): one line each, naming both.
    let wide = dir.path().join("wide");
    let out = run(&[
        "data".as_ref(),
        "build".as_ref(),
        chord_songs.as_os_str(),
        "--out".as_ref(),
        wide.as_os_str(),
        "--tracks".as_ref(),
        "Drums=drums,Piano=0-127".as_ref(),
        "--bars".as_ref(),
        "2".as_ref(),
        "--steps-per-beat".as_ref(),
        "2".as_ref(),
        "--lowest-pitch".as_ref(),
        "48".as_ref(),
        "--pitches".as_ref(),
        "36".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = dir.path().join("keys");
    let out = run(&[
        "data".as_ref(),
        "build".as_ref(),
        chord_songs.as_os_str(),
        "--out".as_ref(),
        keys.as_os_str(),
        "--tracks".as_ref(),
        "Drums=drums,Keys=0-127".as_ref(),
        "--bars".as_ref(),
        "2".as_ref(),
        "--steps-per-beat".as_ref(),
        "2".as_ref(),
        "--lowest-pitch".as_ref(),
        "60".as_ref(),
        "--pitches".as_ref(),
        "24".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let against = |samples: &Path| {
        run(&[
            "eval".as_ref(),
            samples.as_os_str(),
            "--reference".as_ref(),
            melody.as_os_str(),
        ])
    };
    assert_clean_failure(
        &against(&wide),
        "wide",
        "phrases of 2 tracks × 2 bars × 8 steps × 36 pitches from C3 differ from the \
         reference's 2 tracks × 2 bars × 8 steps × 24 pitches from C4",
    );
    assert_clean_failure(
        &against(&keys),
        "keys",
        "track 'Keys' stands where the reference has 'Piano'",
    );
}

#[test]
fn train_writes_a_run_resumes_it_and_refuses_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_dataset(dir.path());

    let runs = dir.path().join("run");
    let train = |extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> =
            ["train", "--out", "--threads", "1", "--device", "cpu"]
                .iter()
                .map(Into::into)
                .collect();
        args.insert(2, runs.clone().into_os_string());
        args.extend(extra.iter().map(Into::into));
        run(&args)
    };
    let data_arg = data.to_str().unwrap();
    let out = train(&[
        "--data",
        data_arg,
        "--preset",
        "tiny",
        "--steps",
        "2",
        "--refiner-steps",
        "1",
        "--batch",
        "2",
        "--n-critic",
        "1",
        "--set",
        "eval_every=1",
        "--set",
        "eval_samples=4",
        "--set",
        "sample_count=2",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("finished 3 steps"), "{stderr}");
    for file in [
        "config.toml",
        "metrics.jsonl",
        "curves.png",
        "report.md",
        "model.safetensors",
    ] {
        assert!(runs.join(file).is_file(), "{file} missing");
    }
    let config = std::fs::read_to_string(runs.join("config.toml")).unwrap();
    assert!(
        config.contains("eval_samples = 4") && config.contains("n_critic = 1"),
        "{config}"
    );

    // More steps on resume: the run continues from step 3 to 4.
    let out = train(&["--resume", "--refiner-steps", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("finished 4 steps"), "{stderr}");

    // A new run into a used directory, settings a resume cannot take, unknown keys, bad values.
    let used = train(&["--data", data_arg, "--preset", "tiny"]);
    assert_clean_failure(&used, "run", "already holds files");
    let both = train(&["--resume", "--data", data_arg]);
    assert_clean_failure(&both, "--data", "starts a new run");
    let other = dir.path().join("other");
    let fresh = |extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = [
            "train",
            "--threads",
            "1",
            "--device",
            "cpu",
            "--data",
            data_arg,
            "--out",
        ]
        .iter()
        .map(Into::into)
        .collect();
        args.push(other.clone().into_os_string());
        args.extend(extra.iter().map(Into::into));
        run(&args)
    };
    let tiny = |extra: &[&str]| fresh(&[&["--preset", "tiny"], extra].concat());
    assert_clean_failure(
        &tiny(&["--set", "no_such_key=1"]),
        "no_such_key",
        "unknown field",
    );
    assert_clean_failure(
        &tiny(&["--strategy", "sideways"]),
        "sideways",
        "unknown strategy 'sideways' (expected two-stage, joint or end-to-end)",
    );
    assert_clean_failure(&tiny(&["--batch", "1"]), "batch 1", "not in 2..=");
    assert_clean_failure(
        &fresh(&["--preset", "chorale"]),
        "data",
        "does not fit the model",
    );
    assert!(!other.exists() || std::fs::read_dir(&other).unwrap().next().is_none());
    let missing = dir.path().join("nowhere");
    let out = run(&[
        "train".as_ref(),
        "--out".as_ref(),
        other.as_os_str(),
        "--data".as_ref(),
        missing.as_os_str(),
        "--preset".as_ref(),
        "tiny".as_ref(),
    ]);
    assert_clean_failure(&out, "nowhere", "");
}

/// `museroll generate --run RUN --out OUT` on one CPU thread, with `extra` arguments.
fn generate_from(run_dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec![
        "generate".into(),
        "--run".into(),
        run_dir.into(),
        "--out".into(),
        out.into(),
        "--threads".into(),
        "1".into(),
        "--device".into(),
        "cpu".into(),
    ];
    args.extend(extra.iter().map(Into::into));
    run(&args)
}

/// A finished tiny run in `dir/run`: [`tiny_dataset`] → `museroll train --preset tiny` for
/// 2 + 1 steps.
fn generate_tiny_run(dir: &Path) -> PathBuf {
    trained_run(dir, "tiny")
}

/// A finished run of `preset` in `dir/run` on [`tiny_dataset`]: 2 + 1 steps, batch 2, one critic
/// step, 4 evaluation samples, on one CPU thread.
fn trained_run(dir: &Path, preset: &str) -> PathBuf {
    let data = tiny_dataset(dir);
    let out = dir.join("run");
    let train = run(&[
        "train".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--preset".as_ref(),
        preset.as_ref(),
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
    let generate = |out: &Path, extra: &[&str]| generate_from(&run_dir, out, extra);
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
        stderr.contains("wrote 3 samples of 2 bars (refiner binarization"),
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
    // The tiny preset's phrase generator makes 2-bar phrases, nothing longer, and no grids.
    assert_clean_failure(
        &generate(&bad, &["--bars", "8"]),
        "8 bars",
        "longer pieces need a temporal generator",
    );
    assert_clean_failure(
        &generate(&bad, &["--interpolate", "lerp", "--grid", "inter-intra"]),
        "latent grid",
        "needs a temporal generator",
    );
    assert_clean_failure(
        &generate(&bad, &["--grid", "fixed-temporal"]),
        "fixed-temporal",
        "needs an interpolation",
    );
    assert_clean_failure(
        &generate(&bad, &["--bars", "4", "--continuity", "1"]),
        "continuity 1",
        "up to but not including 1",
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

/// The header facts of a canonical 44-byte WAV: (channels, sample rate, bits), and its 16-bit
/// samples; panics unless it is RIFF/WAVE PCM.
fn wav(bytes: &[u8]) -> ((u16, u32, u16), Vec<i16>) {
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(u32_at(4) as usize, bytes.len() - 8);
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    assert_eq!(u16_at(20), 1, "PCM");
    assert_eq!(&bytes[36..40], b"data");
    assert_eq!(u32_at(40) as usize, bytes.len() - 44);
    let samples = bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    ((u16_at(22), u32_at(24), u16_at(34)), samples)
}

/// `generate --audio` puts a playable 22 050 Hz WAV beside every MIDI file, with the venv's
/// SoundFont found by itself or named (the same bytes); `--checkpoint` takes final, latest, best
/// and paths (a file named `best` is reached as `./best`), and the same weights give the same
/// samples whichever way they are named.
#[test]
fn generate_plays_audio_and_chooses_checkpoints() {
    let soundfont = venv_soundfont();
    let dir = tempfile::tempdir().unwrap();
    let run_dir = generate_tiny_run(dir.path());
    let generate = |out: &Path, extra: &[&std::ffi::OsStr], cwd: &Path| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "generate".as_ref(),
            "--run".as_ref(),
            run_dir.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--threads".as_ref(),
            "1".as_ref(),
            "--device".as_ref(),
            "cpu".as_ref(),
            "--n".as_ref(),
            "2".as_ref(),
            "--seed".as_ref(),
            "9".as_ref(),
        ];
        args.extend(extra);
        Command::new(env!("CARGO_BIN_EXE_museroll"))
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap()
    };
    let here = dir.path();

    // Audio, with the default SoundFont and with it named.
    let audio = dir.path().join("audio");
    let out = generate(&audio, &["--audio".as_ref()], here);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let mut mids: Vec<PathBuf> = std::fs::read_dir(&audio)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mid"))
        .collect();
    mids.sort();
    assert_eq!(mids.len(), 2, "{mids:?}");
    assert!(
        stderr.contains(&format!("played {} pieces into .wav", mids.len())),
        "{stderr}"
    );
    for mid in &mids {
        let bytes = std::fs::read(mid.with_extension("wav")).unwrap();
        let (format, samples) = wav(&bytes);
        assert_eq!(format, (2, 22_050, 16), "{}", mid.display());
        // 2 bars at 120 bpm: 4 s, plus at most 2 s of release.
        let seconds = samples.len() as f64 / 2.0 / 22_050.0;
        assert!((4.0..=6.0).contains(&seconds), "{seconds} s");
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak > 1000, "{}: silent (peak {peak})", mid.display());
    }
    let named = dir.path().join("named");
    let out = generate(
        &named,
        &[
            "--audio".as_ref(),
            "--soundfont".as_ref(),
            soundfont.as_os_str(),
        ],
        here,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for mid in &mids {
        let wav = mid.with_extension("wav");
        let name = wav.file_name().unwrap();
        assert_eq!(
            std::fs::read(named.join(name)).unwrap(),
            std::fs::read(&wav).unwrap()
        );
    }
    // Without --audio no WAV; a bad SoundFont fails before anything is written.
    let silent = dir.path().join("silent");
    assert!(generate(&silent, &[], here).status.success());
    assert!(!silent.join("sample-00.wav").exists());
    let garbage = dir.path().join("garbage.sf2");
    std::fs::write(&garbage, b"RIFF\x04\0\0\0WAVE").unwrap();
    let bad = dir.path().join("bad");
    assert_clean_failure(
        &generate(
            &bad,
            &[
                "--audio".as_ref(),
                "--soundfont".as_ref(),
                garbage.as_os_str(),
            ],
            here,
        ),
        "garbage.sf2",
        "not a SoundFont 2 file",
    );
    assert!(!bad.exists());

    // Checkpoints: the run ended at step 3, whose checkpoint is the latest; best is a copy of
    // the best-scoring one. The same weights, named any way, give the same samples.
    let sample = |name: &str, checkpoint: &std::ffi::OsStr, cwd: &Path| {
        let out_dir = dir.path().join(name);
        let out = generate(&out_dir, &["--checkpoint".as_ref(), checkpoint], cwd);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(out_dir.join("samples.npz")).unwrap()
    };
    let step3 = run_dir.join("checkpoints/step-00000003.safetensors");
    let best_file = run_dir.join("checkpoints/best.safetensors");
    assert!(step3.is_file() && best_file.is_file());
    let final_ = sample("final", "final".as_ref(), here);
    assert_eq!(sample("latest", "latest".as_ref(), here), final_);
    assert_eq!(sample("step3", step3.as_os_str(), here), final_);
    let best = sample("best", "best".as_ref(), here);
    assert_eq!(sample("best-path", best_file.as_os_str(), here), best);
    // A file named `best` in the working directory is that file when written `./best`, while
    // `best` alone is still the run's best checkpoint: with step 3's weights in `./best` it gives
    // step 3's samples; with junk in it, `./best` is refused naming it and `best` still works.
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    std::fs::copy(&step3, cwd.join("best")).unwrap();
    assert_eq!(sample("dot-best", "./best".as_ref(), &cwd), final_);
    std::fs::write(cwd.join("best"), b"junk").unwrap();
    let out = generate(
        &dir.path().join("junk"),
        &["--checkpoint".as_ref(), "./best".as_ref()],
        &cwd,
    );
    assert_clean_failure(&out, "./best", "not a readable safetensors");
    assert_eq!(sample("word-best", "best".as_ref(), &cwd), best);
    let out = generate(
        &dir.path().join("missing"),
        &["--checkpoint".as_ref(), "./nothing".as_ref()],
        &cwd,
    );
    assert_clean_failure(&out, "./nothing", "no such checkpoint file");
    // latest in a run without step checkpoints names the checkpoints directory.
    let bare = dir.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    for file in ["config.toml", "model.safetensors"] {
        std::fs::copy(run_dir.join(file), bare.join(file)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_museroll"))
        .args(["generate", "--run"])
        .arg(&bare)
        .args(["--out"])
        .arg(dir.path().join("latest-none"))
        .args(["--checkpoint", "latest", "--device", "cpu"])
        .output()
        .unwrap();
    assert_clean_failure(
        &out,
        "checkpoints",
        "holds no step-*.safetensors checkpoint",
    );
}

/// A temporal (tiny-hybrid) run makes pieces longer than its 2-bar phrase: `generate --bars 5`
/// writes 5-bar MIDI files (the last phrase cut), `--continuity` is taken, and the same seed
/// gives the same piece.
#[test]
fn generate_makes_long_pieces_with_a_temporal_generator() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = trained_run(dir.path(), "tiny-hybrid");
    let generate = |out: &Path, extra: &[&str]| {
        generate_from(
            &run_dir,
            out,
            &[&["--n", "2", "--seed", "5"], extra].concat(),
        )
    };
    let long = dir.path().join("long");
    let out = generate(&long, &["--bars", "5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("wrote 2 samples of 5 bars"), "{stderr}");
    for i in 0..2 {
        let midi = long.join(format!("sample-{i:02}.mid"));
        let info = run(&[
            "info".as_ref(),
            "--json".as_ref(),
            "--resolution".as_ref(),
            "2".as_ref(),
            midi.as_os_str(),
        ]);
        assert!(
            info.status.success(),
            "{}",
            String::from_utf8_lossy(&info.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
        // 5 bars × 4 beats × 2 steps, the length of the piece whatever its last notes.
        assert_eq!(v["summary"]["steps"], 40, "{v}");
        let tracks: Vec<&str> = v["summary"]["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tracks, ["Drums", "Piano"]);
    }
    // The same request again: the same piece; another continuity: accepted.
    let again = dir.path().join("again");
    assert!(generate(&again, &["--bars", "5"]).status.success());
    assert_eq!(
        std::fs::read(again.join("sample-01.mid")).unwrap(),
        std::fs::read(long.join("sample-01.mid")).unwrap()
    );
    let smooth = dir.path().join("smooth");
    let out = generate(&smooth, &["--bars", "4", "--continuity", "0.5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(smooth.join("sample-01.mid").is_file());
}

/// The shared libraries `binary` asks the dynamic loader for (the ELF `NEEDED` entries), read
/// with binutils' `readelf`. A machine without it fails the test rather than skipping it.
fn needed_libraries(binary: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .args(["--dynamic", binary])
        .output()
        .expect("readelf runs (install binutils)");
    assert!(out.status.success(), "{out:?}");
    let needed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| Some(line.split_once('[')?.1.split_once(']')?.0.to_owned()))
        .collect();
    // Every dynamically linked Rust program needs the C library: an empty list is a parse error.
    assert!(
        needed.iter().any(|lib| lib.starts_with("libc.so")),
        "{needed:?}"
    );
    needed
}

/// Whether `library` belongs to libtorch or CUDA.
fn is_torch(library: &str) -> bool {
    ["libtorch", "libc10", "libcu", "libnv", "libnccl", "libgomp"]
        .iter()
        .any(|prefix| library.starts_with(prefix))
}

#[test]
fn museroll_links_no_libtorch_and_museroll_torch_does() {
    let museroll = needed_libraries(env!("CARGO_BIN_EXE_museroll"));
    assert!(!museroll.iter().any(|lib| is_torch(lib)), "{museroll:?}");
    // The check would see libtorch if it were there.
    let torch = needed_libraries(env!("CARGO_BIN_EXE_museroll-torch"));
    assert!(torch.iter().any(|lib| lib == "libtorch.so"), "{torch:?}");
}

#[test]
fn neural_commands_need_museroll_torch_next_to_museroll() {
    // museroll alone, in a directory without museroll-torch.
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("museroll");
    std::fs::copy(env!("CARGO_BIN_EXE_museroll"), &alone).unwrap();
    let museroll = |args: &[&str]| Command::new(&alone).args(args).output().unwrap();

    // museroll lists the neural commands; their grammar (and help) is museroll-torch's.
    let help = museroll(&["--help"]);
    assert!(help.status.success(), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout).to_string();
    for command in ["train", "generate", "model", "migrate"] {
        assert!(
            text.contains(&format!("  {command} ")),
            "{command} missing: {text}"
        );
    }

    // Running one names the missing program.
    let torch = dir.path().join("museroll-torch");
    for args in [&["model", "--preset", "tiny"][..], &["train", "--help"]] {
        assert_clean_failure(
            &museroll(args),
            &torch.display().to_string(),
            "No such file",
        );
    }
    // Through museroll, a neural command's arguments are museroll-torch's, typed by the
    // libraries' choices, and a bad one is one line.
    let out = run(&["generate", "--run", "r", "--out", "o", "--binarize", "soft"]);
    assert_clean_failure(
        &out,
        "soft",
        "unknown binarization 'soft' (expected ht, bs or refiner)",
    );
    let out = run(&["train", "--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--refiner-steps"));
}
