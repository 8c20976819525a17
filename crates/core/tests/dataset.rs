//! Dataset builder, reader and importer, end to end, on files written by the tests (and the
//! chorale corpus of music21 from the project's venv).

mod common;

use museroll_core::dataset::*;
use museroll_core::metrics::{evaluate, Accumulator, MetricsConfig, Phrase, PhraseView};
use museroll_core::{
    io, Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, TimeSignature, Track,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

type Notes<'a> = &'a [(u8, usize, usize)];

/// A song of `bars` 4/4 bars at `resolution` steps per beat; tracks (name, program, drum, notes
/// as (pitch, start, end)).
fn song(resolution: u32, bars: usize, tracks: &[(&str, u8, bool, Notes)]) -> Multitrack {
    let steps = bars * 4 * resolution as usize;
    let mut song = Multitrack::new(Resolution::new(resolution).unwrap());
    for &(name, program, is_drum, notes) in tracks {
        let mut track = Track::new(name, Program::new(program).unwrap(), is_drum, steps);
        track.roll = Roll::from_notes(
            RollKind::Velocity,
            steps,
            notes.iter().map(|&(pitch, start, end)| Note {
                pitch: Pitch::new(pitch).unwrap(),
                start,
                end,
                velocity: 100,
            }),
        );
        song.tracks.push(track);
    }
    song
}

/// One piano track with a note of pitch `60 + bar % 12` filling each bar (4 steps per bar).
fn bar_song(bars: usize) -> Multitrack {
    let notes: Vec<(u8, usize, usize)> = (0..bars)
        .map(|b| (60 + (b % 12) as u8, 4 * b, 4 * b + 4))
        .collect();
    song(1, bars, &[("Piano", 0, false, &notes)])
}

fn write(dir: &Path, name: &str, song: &Multitrack) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    io::write_file(song, &path).unwrap();
    path
}

/// 2-bar phrases of 4 steps per bar (1 per beat), 12 pitches from C4, one piano track, a window
/// at every bar, no validation.
fn small() -> BuildOptions {
    BuildOptions {
        tracks: Layout::Piano,
        bars: 2,
        steps_per_beat: Resolution::new(1).unwrap(),
        lowest_pitch: Pitch::new(60).unwrap(),
        pitches: 12,
        windows: Windows::Hop(1),
        validation_fraction: 0.0,
        ..BuildOptions::default()
    }
}

fn build_in(dir: &Path, name: &str, inputs: &[PathBuf], options: &BuildOptions) -> Dataset {
    let out = dir.join(name);
    build(inputs, &out, options, &NoProgress).unwrap();
    Dataset::open(&out).unwrap()
}

fn phrase(ds: &Dataset, index: u32) -> Vec<u8> {
    let mut cells = vec![0u8; ds.phrase_cells()];
    ds.read_phrase(index, &mut cells).unwrap();
    cells
}

/// The sounding (track, step within the phrase, pitch column) cells of a phrase.
fn sounding(ds: &Dataset, index: u32) -> Vec<(usize, usize, usize)> {
    let s = ds.manifest().shape;
    let steps = s.bars * s.steps_per_bar;
    phrase(ds, index)
        .iter()
        .enumerate()
        .filter(|(_, &c)| c != 0)
        .map(|(i, _)| {
            (
                i / (steps * s.pitches),
                i / s.pitches % steps,
                i % s.pitches,
            )
        })
        .collect()
}

fn starts(ds: &Dataset) -> Vec<usize> {
    ds.manifest()
        .songs
        .iter()
        .flat_map(|s| s.phrases.iter().map(|o| o.start))
        .collect()
}

#[test]
fn layout_lpd5_merges_families_by_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "band.mid",
        &song(
            1,
            1,
            &[
                ("Kit", 0, true, &[(36, 0, 1), (42, 2, 3)]),
                ("Piano", 0, false, &[(60, 0, 2)]),
                ("E.Piano", 4, false, &[(60, 1, 3), (64, 3, 4)]),
                ("Organ", 16, false, &[(48, 0, 4)]),
                ("Guitar", 25, false, &[(55, 1, 2)]),
                ("Bass", 33, false, &[(28, 0, 4)]),
                ("FX", 100, false, &[(70, 0, 4)]),
            ],
        ),
    );
    let options = BuildOptions {
        bars: 1,
        steps_per_beat: Resolution::new(1).unwrap(),
        windows: Windows::Hop(1),
        validation_fraction: 0.0,
        ..BuildOptions::default()
    };
    let ds = build_in(dir.path(), "ds", &[input], &options);
    let m = ds.manifest();
    assert_eq!(m.shape.tracks, 5);
    let names: Vec<&str> = m.tracks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Drums", "Piano", "Guitar", "Bass", "Strings"]);
    assert_eq!(ds.is_drum(), [true, false, false, false, false]);
    let col = |midi: usize| midi - 24;
    let mut expected = vec![
        (0, 0, col(36)),
        (0, 2, col(42)),
        // the two pianos merged: 60 on steps 0-2 (the one-step gap needs the same track)
        (1, 0, col(60)),
        (1, 1, col(60)),
        (1, 2, col(60)),
        (1, 3, col(64)),
        (2, 1, col(55)),
    ];
    expected.extend((0..4).map(|t| (3, t, col(28))));
    expected.extend((0..4).map(|t| (4, t, col(48)))); // organ → Strings; FX dropped
    expected.sort_unstable();
    assert_eq!(sounding(&ds, 0), expected);
}

#[test]
fn only_runs_of_4_4_bars_are_cut_and_other_meters_counted() {
    let dir = tempfile::tempdir().unwrap();
    // 2 bars of 4/4 (steps 0-8), 1 of 3/4 (8-11), 3 of 4/4 (11-23).
    let mut mixed = song(1, 6, &[("Piano", 0, false, &[(60, 0, 23)])]);
    let ts = |step, numerator| TimeSignature {
        step,
        numerator,
        denominator: 4,
    };
    mixed
        .set_time_signatures([ts(0, 4), ts(8, 3), ts(11, 4)])
        .unwrap();
    mixed.trim(0, 23);
    let mut waltz = bar_song(4);
    waltz.set_time_signatures([ts(0, 3)]).unwrap();
    let inputs = [
        write(dir.path(), "mixed.mid", &mixed),
        write(dir.path(), "waltz.mid", &waltz),
        write(dir.path(), "short.mid", &bar_song(1)),
    ];
    let ds = build_in(dir.path(), "ds", &inputs, &small());
    let m = ds.manifest();
    // Windows of 2 bars: bars 0-1, then 3-4 and 4-5; none across the 3/4 bar.
    assert_eq!(starts(&ds), [0, 3, 4]);
    assert_eq!(m.stats.bars_4_4, 5 + 1);
    // The 3/4 bar, and the waltz's 16 steps: 6 bars of 3/4, the last one short.
    assert_eq!(m.stats.bars_other_meter, 1 + 6);
    assert_eq!(m.stats.skipped.get(SkipReason::Meter), 1);
    assert_eq!(m.stats.skipped.get(SkipReason::TooShort), 1);
    let reasons: Vec<(&str, &str)> = m
        .skipped
        .iter()
        .map(|s| (s.path.rsplit('/').next().unwrap(), s.message.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("waltz.mid", "no bar of 4/4 (meters: 3/4)"),
            (
                "short.mid",
                "at most 1 consecutive 4/4 bars, a phrase needs 2"
            )
        ]
    );
    // The phrase from bar 3 starts at step 11.
    let cells = sounding(&ds, 1);
    assert_eq!(cells.len(), 8);
    assert!(cells.iter().all(|&(t, _, p)| t == 0 && p == 0));
}

#[test]
fn midi_npz_and_musicxml_give_the_same_phrases() {
    let dir = tempfile::tempdir().unwrap();
    // C4 for a bar, then D4 for a bar; the npz copy at 4 steps per beat is re-timed.
    let notes: Notes = &[(60, 0, 16), (62, 16, 32)];
    write(
        dir.path(),
        "a.mid",
        &song(4, 2, &[("Piano", 0, false, notes)]),
    );
    write(
        dir.path(),
        "b.npz",
        &song(4, 2, &[("Piano", 0, false, notes)]),
    );
    let measure = |number: u32, step: char, attributes: &str| {
        format!(
            "<measure number=\"{number}\">{attributes}<note><pitch><step>{step}</step>\
             <octave>4</octave></pitch><duration>4</duration></note></measure>"
        )
    };
    let xml = format!(
        "<score-partwise><part-list><score-part id=\"P1\"><part-name>Piano</part-name>\
         </score-part></part-list><part id=\"P1\">{}{}</part></score-partwise>",
        measure(
            1,
            'C',
            "<attributes><divisions>1</divisions><time><beats>4</beats>\
             <beat-type>4</beat-type></time></attributes>"
        ),
        measure(2, 'D', "")
    );
    std::fs::write(dir.path().join("c.musicxml"), xml).unwrap();
    let ds = build_in(dir.path(), "ds", &[dir.path().to_path_buf()], &small());
    assert_eq!(ds.len(), 3);
    let expected: Vec<(usize, usize, usize)> = (0..8).map(|t| (0, t, 2 * (t / 4))).collect();
    for i in 0..3 {
        assert_eq!(sounding(&ds, i), expected, "{:?}", ds.origin(i));
    }
}

#[test]
fn hop_and_seeded_random_windows() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a/song.mid", &bar_song(8));
    let hop = |h| BuildOptions {
        windows: Windows::Hop(h),
        ..small()
    };
    assert_eq!(
        starts(&build_in(
            dir.path(),
            "hop1",
            std::slice::from_ref(&a),
            &hop(1)
        )),
        [0, 1, 2, 3, 4, 5, 6]
    );
    let ds = build_in(dir.path(), "hop3", std::slice::from_ref(&a), &hop(3));
    assert_eq!(starts(&ds), [0, 3, 6]);
    // Phrase 1 holds bars 3 and 4: pitches 63 then 64.
    assert_eq!(
        sounding(&ds, 1),
        [
            (0, 0, 3),
            (0, 1, 3),
            (0, 2, 3),
            (0, 3, 3),
            (0, 4, 4),
            (0, 5, 4),
            (0, 6, 4),
            (0, 7, 4)
        ]
    );

    let random = |n, seed| BuildOptions {
        windows: Windows::Random(n),
        seed,
        ..small()
    };
    let drawn = starts(&build_in(
        dir.path(),
        "r1",
        std::slice::from_ref(&a),
        &random(3, 1),
    ));
    assert_eq!(drawn.len(), 3);
    assert!(drawn.windows(2).all(|w| w[0] < w[1]) && drawn[2] <= 6);
    let again = build_in(dir.path(), "r2", std::slice::from_ref(&a), &random(3, 1));
    assert_eq!(starts(&again), drawn);
    assert_eq!(again.manifest().stats.not_drawn, 4);
    // The draw depends on the path relative to the input directory, not on where it lies.
    let b = write(dir.path(), "b/song.mid", &bar_song(8));
    let moved = build_in(dir.path(), "r3", &[b], &random(3, 1));
    assert_eq!(starts(&moved), drawn);
    let seeds: Vec<Vec<usize>> = (2..6)
        .map(|seed| {
            starts(&build_in(
                dir.path(),
                &format!("s{seed}"),
                std::slice::from_ref(&a),
                &random(3, seed),
            ))
        })
        .collect();
    assert!(seeds.iter().any(|s| *s != drawn), "{seeds:?}");
    // More windows asked for than the song has: all of them.
    assert_eq!(
        starts(&build_in(dir.path(), "all", &[a], &random(20, 1))),
        [0, 1, 2, 3, 4, 5, 6]
    );
}

#[test]
fn content_filters_per_track_and_nonempty_tracks() {
    let dir = tempfile::tempdir().unwrap();
    // Bass sounds in bars 0 and 3 only; piano strikes C4 twice in bar 1 and holds a chord in
    // bar 2.
    let input = write(
        dir.path(),
        "duo.mid",
        &song(
            1,
            4,
            &[
                (
                    "Piano",
                    0,
                    false,
                    &[(60, 4, 6), (60, 6, 8), (64, 8, 12), (67, 8, 12)],
                ),
                ("Bass", 33, false, &[(48, 0, 4), (48, 12, 16)]),
            ],
        ),
    );
    let base = BuildOptions {
        tracks: "Piano=0-7,Bass=32-39".parse().unwrap(),
        bars: 1,
        lowest_pitch: Pitch::new(48).unwrap(),
        pitches: 24,
        ..small()
    };
    let filters = |piano: ContentFilter, bass: ContentFilter| BuildOptions {
        min_content: vec![piano, bass],
        ..base.clone()
    };
    let none = ContentFilter::default();
    let run = |name: &str, options: BuildOptions| {
        let ds = build_in(dir.path(), name, std::slice::from_ref(&input), &options);
        (starts(&ds), ds.manifest().stats.rejected_content)
    };
    // Default: any sounding track will do.
    assert_eq!(run("any", base.clone()), (vec![0, 1, 2, 3], 0));
    // Two note starts (the re-struck C4 counts twice thanks to the gap), two pitches, four
    // sounding steps.
    let notes = ContentFilter {
        min_notes: 2,
        ..none
    };
    assert_eq!(run("notes", filters(notes, none)), (vec![1, 2], 2));
    let pitches = ContentFilter {
        min_pitches: 2,
        ..none
    };
    assert_eq!(run("pitches", filters(pitches, none)), (vec![2], 3));
    let steps = ContentFilter {
        min_active_steps: 4,
        ..none
    };
    assert_eq!(run("steps", filters(none, steps)), (vec![0, 3], 2));
    // Both tracks must sound: no window qualifies, and the file is skipped.
    let both = BuildOptions {
        min_nonempty_tracks: 2,
        ..base.clone()
    };
    let out = dir.path().join("both");
    let report = build(std::slice::from_ref(&input), &out, &both, &NoProgress).unwrap();
    assert_eq!(report.manifest.phrases, 0);
    assert_eq!(
        report.manifest.skipped[0].message,
        "all 4 windows were rejected (0 out of range, 4 too sparse)"
    );
    assert_eq!(report.manifest.skipped[0].reason, SkipReason::NoPhrases);
    assert!(Dataset::open(&out).unwrap().is_empty());
}

#[test]
fn one_step_gap_between_repeated_notes() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "repeat.mid",
        &song(
            1,
            2,
            &[("Piano", 0, false, &[(60, 0, 3), (60, 3, 5), (62, 5, 8)])],
        ),
    );
    let run = |name: &str, gap: bool| {
        let options = BuildOptions { gap, ..small() };
        let ds = build_in(dir.path(), name, std::slice::from_ref(&input), &options);
        sounding(&ds, 0)
            .into_iter()
            .map(|(_, step, pitch)| (step, pitch))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run("gap", true),
        [(0, 0), (1, 0), (3, 0), (4, 0), (5, 2), (6, 2), (7, 2)]
    );
    assert_eq!(
        run("nogap", false),
        [
            (0, 0),
            (1, 0),
            (2, 0),
            (3, 0),
            (4, 0),
            (5, 2),
            (6, 2),
            (7, 2)
        ]
    );
}

#[test]
fn transposition_moves_pitched_tracks_and_drops_what_leaves_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "band.mid",
        &song(
            1,
            1,
            &[
                ("Kit", 0, true, &[(36, 0, 1)]),
                ("Piano", 0, false, &[(105, 0, 4)]),
            ],
        ),
    );
    let options = BuildOptions {
        bars: 1,
        steps_per_beat: Resolution::new(1).unwrap(),
        windows: Windows::Hop(1),
        validation_fraction: 0.0,
        transpositions: vec![0, 3, -5],
        ..BuildOptions::default()
    };
    let ds = build_in(dir.path(), "drop", std::slice::from_ref(&input), &options);
    let m = ds.manifest();
    // A7 (105) + 3 = C8 (108) is above B7: that copy is dropped.
    let transposes: Vec<i8> = m.songs[0].phrases.iter().map(|o| o.transpose).collect();
    assert_eq!(transposes, [0, -5]);
    assert_eq!((m.stats.windows, m.stats.rejected_range), (3, 1));
    let track = |ds: &Dataset, i, t| -> Vec<(usize, usize, usize)> {
        sounding(ds, i).into_iter().filter(|c| c.0 == t).collect()
    };
    let held = |midi: usize| (0..4).map(|t| (1, t, midi - 24)).collect::<Vec<_>>();
    assert_eq!(track(&ds, 0, 1), held(105));
    assert_eq!(track(&ds, 1, 1), held(100));
    // Drums never move.
    assert_eq!(track(&ds, 0, 0), [(0, 0, 36 - 24)]);
    assert_eq!(track(&ds, 1, 0), [(0, 0, 36 - 24)]);

    // Cropping keeps the copy, without the notes that left.
    let crop = BuildOptions {
        out_of_range: OutOfRange::Crop,
        ..options
    };
    let ds = build_in(dir.path(), "crop", &[input], &crop);
    let m = ds.manifest();
    assert_eq!(m.phrases, 3);
    assert_eq!((m.stats.rejected_range, m.stats.cropped_cells), (0, 4));
    assert!(track(&ds, 1, 1).is_empty());
    assert_eq!(track(&ds, 1, 0), [(0, 0, 36 - 24)]);
}

#[test]
fn split_is_by_song_with_every_copy_on_one_side() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = (0..10)
        .map(|i| {
            write(
                dir.path(),
                &format!("corpus/song{i}.mid"),
                &bar_song(3 + i % 3),
            )
        })
        .collect();
    let options = BuildOptions {
        validation_fraction: 0.3,
        transpositions: vec![0, 1],
        seed: 5,
        ..small()
    };
    let ds = build_in(dir.path(), "ds", &[dir.path().join("corpus")], &options);
    let m = ds.manifest();
    assert_eq!(m.songs.len(), 10);
    assert_eq!((m.split.train_songs, m.split.validation_songs), (7, 3));
    let (train, validation) = (ds.split(Split::Train), ds.split(Split::Validation));
    assert_eq!(train.len() + validation.len(), ds.len());
    assert_eq!(
        (m.split.train_phrases, m.split.validation_phrases),
        (train.len(), validation.len())
    );
    for (side, indices) in [(Split::Train, train), (Split::Validation, validation)] {
        for &i in indices {
            let (song, _) = ds.origin(i).unwrap();
            assert_eq!(song.split, side, "phrase {i}");
        }
    }
    // Songs are listed in file order, with their sources.
    let sources: Vec<&str> = m.songs.iter().map(|s| s.source.as_str()).collect();
    let expected: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(sources, expected);
    assert!(ds.origin(ds.len() as u32).is_none());
    // The manifest reads back as written, a song's phrase origins on one line.
    assert_eq!(&Manifest::read(ds.dir()).unwrap(), m);
    let text = std::fs::read_to_string(ds.dir().join(MANIFEST_FILE)).unwrap();
    assert!(
        text.contains("\"phrases\": [[0, 0], [0, 1], [1, 0], [1, 1]]\n"),
        "{text}"
    );
}

/// Records what a build reports.
#[derive(Default)]
struct Recorder {
    total: AtomicU64,
    done: AtomicU64,
    skipped: Mutex<Vec<String>>,
}

impl Progress for Recorder {
    fn start(&self, total: u64) {
        self.total.store(total, Ordering::SeqCst);
    }
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::SeqCst);
    }
    fn skipped(&self, file: &SkippedFile) {
        self.skipped.lock().unwrap().push(file.message.clone());
    }
}

#[test]
fn bad_files_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    write(&corpus, "good.mid", &bar_song(4));
    std::fs::write(corpus.join("garbage.mid"), b"MThd\x00\x00\x00\x06\x00").unwrap();
    std::fs::write(corpus.join("empty.mxl"), b"").unwrap();
    std::fs::write(corpus.join("text.musicxml"), b"<score-partwise><part").unwrap();
    std::fs::write(corpus.join("notes.txt"), b"not music, not even tried").unwrap();
    std::fs::write(corpus.join(".hidden.mid"), b"passed over").unwrap();
    let out = dir.path().join("ds");
    let progress = Recorder::default();
    let report = build(&[corpus], &out, &small(), &progress).unwrap();
    let m = &report.manifest;
    assert_eq!(m.stats.files, 4);
    assert_eq!(m.songs.len(), 1);
    assert_eq!(m.stats.skipped.get(SkipReason::Unreadable), 3);
    assert_eq!(progress.total.load(Ordering::SeqCst), 4);
    assert_eq!(progress.done.load(Ordering::SeqCst), 4);
    let messages = progress.skipped.lock().unwrap().clone();
    assert_eq!(messages.len(), 3);
    // In file-name order: empty.mxl, garbage.mid, text.musicxml.
    assert_eq!(messages[0], "invalid value: the file is empty");
    assert!(messages[1].starts_with("MIDI:"), "{}", messages[1]);
    assert!(messages[2].starts_with("MusicXML:"), "{}", messages[2]);
    let listed: Vec<String> = m.skipped.iter().map(|s| s.message.clone()).collect();
    assert_eq!(listed, messages);
    assert!(m.skipped[1].path.ends_with("garbage.mid"));
}

#[test]
fn build_refuses_bad_outputs_options_and_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "a.mid", &bar_song(4));
    let err = |inputs: &[PathBuf], out: &Path, options: &BuildOptions| {
        build(inputs, out, options, &NoProgress)
            .unwrap_err()
            .to_string()
    };
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    assert!(err(std::slice::from_ref(&input), &existing, &small()).contains("already exists"));
    let bad = BuildOptions { bars: 0, ..small() };
    let out = dir.path().join("out");
    assert!(err(std::slice::from_ref(&input), &out, &bad).contains("at least 1 bar"));
    assert!(err(&[dir.path().join("missing")], &out, &small()).contains("missing"));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(err(&[empty], &out, &small()).contains("no MIDI, MusicXML or npz file"));
    assert!(!out.exists());
    assert!(!dir.path().join("out.partial").exists());
    // A leftover partial build is replaced; a directory of other files is not.
    let partial = dir.path().join("out.partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::write(partial.join(PHRASES_FILE), b"old").unwrap();
    build(std::slice::from_ref(&input), &out, &small(), &NoProgress).unwrap();
    assert!(!partial.exists());
    std::fs::create_dir(dir.path().join("mine.partial")).unwrap();
    std::fs::write(dir.path().join("mine.partial/thesis.tex"), b"precious").unwrap();
    let message = err(
        std::slice::from_ref(&input),
        &dir.path().join("mine"),
        &small(),
    );
    assert!(message.contains("not replacing it"), "{message}");
    assert!(dir.path().join("mine.partial/thesis.tex").exists());
    // An output that cannot be created is named as given, not by its temporary sibling.
    let unwritable = dir.path().join("no-such-parent").join("sub").join("ds");
    std::fs::write(dir.path().join("no-such-parent"), b"a file").unwrap();
    let message = err(&[input], &unwritable, &small());
    assert!(
        message.starts_with(&format!("{}: ", unwritable.display())),
        "{message}"
    );
}

#[test]
fn same_bytes_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    for i in 0..14 {
        let song = bar_song(4 + i % 5);
        let extension = if i % 3 == 0 { "npz" } else { "mid" };
        write(&corpus, &format!("s{i:02}.{extension}"), &song);
    }
    std::fs::write(corpus.join("s99.mid"), b"broken").unwrap();
    let options = BuildOptions {
        windows: Windows::Random(2),
        transpositions: vec![0, -2, 2],
        validation_fraction: 0.25,
        seed: 11,
        ..small()
    };
    let run = |threads: usize| {
        let out = dir.path().join(format!("t{threads}"));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| build(std::slice::from_ref(&corpus), &out, &options, &NoProgress))
            .unwrap();
        (
            std::fs::read(out.join(PHRASES_FILE)).unwrap(),
            std::fs::read(out.join(MANIFEST_FILE)).unwrap(),
        )
    };
    let one = run(1);
    assert!(one.0.len() > 14 * 12, "{}", one.0.len());
    assert_eq!(one, run(4));
}

#[test]
fn packed_phrases_read_back_as_the_song_cut_into_windows() {
    let dir = tempfile::tempdir().unwrap();
    // Two parts, 6 bars of 4/4 at 2 steps per beat; no repeated notes, so the gap changes
    // nothing.
    let notes_a: Vec<(u8, usize, usize)> = (0..24)
        .map(|k| (60 + (k * 5 % 12) as u8, 2 * k, 2 * k + 1))
        .collect();
    let notes_b: Vec<(u8, usize, usize)> = (0..12)
        .map(|k| (48 + (k * 7 % 12) as u8, 4 * k, 4 * k + 3))
        .collect();
    let original = song(
        2,
        6,
        &[("A", 0, false, &notes_a), ("B", 0, false, &notes_b)],
    );
    let input = write(dir.path(), "song.mid", &original);
    let options = BuildOptions {
        tracks: "parts:A,B".parse().unwrap(),
        steps_per_beat: Resolution::new(2).unwrap(),
        lowest_pitch: Pitch::new(48).unwrap(),
        pitches: 24,
        windows: Windows::Hop(2),
        ..small()
    };
    let ds = build_in(dir.path(), "ds", &[input], &options);
    assert_eq!(ds.len(), 3);
    // The whole song as one tensor [track][bar][step][pitch]; phrase k is bars 2k and 2k + 1.
    let whole = Phrase::from_multitrack(&original, Pitch::new(48).unwrap(), 24).unwrap();
    let bar_cells = 8 * 24;
    let mut expected = Vec::new();
    for k in 0..3 {
        for track in 0..2 {
            let from = (track * 6 + 2 * k) * bar_cells;
            let bars = &whole.data()[from..from + 2 * bar_cells];
            expected.extend(bars.iter().map(|&c| u8::from(c > 0)));
        }
    }
    let cells = ds.phrase_cells();
    assert_eq!(cells, 2 * 2 * 8 * 24);
    let mut all = vec![0u8; 3 * cells];
    ds.read_batch(&[0, 1, 2], &mut all).unwrap();
    assert_eq!(all, expected);
    // Any order, any cell type; packed bytes are the bits, LSB first.
    let mut floats = vec![0f32; 2 * cells];
    ds.read_batch(&[2, 0], &mut floats).unwrap();
    let from_floats: Vec<u8> = floats.iter().map(|&f| f as u8).collect();
    assert_eq!(from_floats[..cells], expected[2 * cells..]);
    assert_eq!(from_floats[cells..], expected[..cells]);
    let mut bools = vec![false; cells];
    ds.read_phrase(1, &mut bools).unwrap();
    let second = &expected[cells..2 * cells];
    assert!(bools.iter().zip(second).all(|(&b, &e)| b == (e == 1)));
    let mut packed = vec![0u8; ds.phrase_bytes()];
    ds.read_packed(1, &mut packed).unwrap();
    for (i, &e) in second.iter().enumerate() {
        assert_eq!((packed[i / 8] >> (i % 8)) & 1, e, "bit {i}");
    }
    // Wrong sizes and indices are errors, not panics.
    let message = ds
        .read_phrase(3, &mut vec![0u8; cells])
        .unwrap_err()
        .to_string();
    assert!(message.contains("phrase 3 does not exist"), "{message}");
    assert!(ds.read_batch(&[0], &mut vec![0u8; cells - 1]).is_err());
    assert!(ds.read_packed(0, &mut [0u8; 3]).is_err());
}

#[test]
fn metrics_streamed_in_chunks_equal_one_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = (0..4)
        .map(|i| write(dir.path(), &format!("s{i}.mid"), &bar_song(6 + i)))
        .collect();
    let options = BuildOptions {
        transpositions: vec![0, 1, 2],
        validation_fraction: 0.25,
        ..small()
    };
    let ds = build_in(dir.path(), "ds", &inputs, &options);
    assert_eq!(ds.len(), 3 * (5 + 6 + 7 + 8));
    let config = MetricsConfig::default();
    let indices = ds.indices(None);
    let mut all = vec![0u8; ds.len() * ds.phrase_cells()];
    ds.read_batch(&indices, &mut all).unwrap();
    let view = PhraseView::new(&all, ds.shape(), ds.is_drum()).unwrap();
    // Reports hold NaN (never equal to itself): compare their JSON, where NaN is null.
    let json =
        |report: &museroll_core::metrics::MetricsReport| serde_json::to_string(report).unwrap();
    let expected = json(&evaluate(&view, &config).unwrap());
    assert_eq!(
        json(&dataset_metrics(&ds, None, &config).unwrap()),
        expected
    );
    // Chunks of 8 through an accumulator give the very same report.
    let mut accumulator = Accumulator::new(&config, ds.shape(), ds.is_drum()).unwrap();
    for chunk in ds.chunks(&indices, 8) {
        accumulator.add(&chunk.unwrap().view().unwrap()).unwrap();
    }
    assert_eq!(json(&accumulator.report()), expected);
    // One side of the split.
    let validation = ds.split(Split::Validation);
    let mut cells = vec![0u8; validation.len() * ds.phrase_cells()];
    ds.read_batch(validation, &mut cells).unwrap();
    let shape = ds.manifest().phrase_shape(validation.len());
    let view = PhraseView::new(&cells, shape, ds.is_drum()).unwrap();
    let expected = evaluate(&view, &config).unwrap();
    assert_eq!(expected.samples, validation.len());
    assert_eq!(
        json(&dataset_metrics(&ds, Some(Split::Validation), &config).unwrap()),
        json(&expected)
    );
}

#[test]
fn open_names_the_damaged_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "a.mid", &bar_song(6));
    let out = dir.path().join("ds");
    build(&[input], &out, &small(), &NoProgress).unwrap();
    assert_eq!(Dataset::open(&out).unwrap().len(), 5);
    let err = |dir: &Path| Dataset::open(dir).unwrap_err().to_string();

    let phrases = out.join(PHRASES_FILE);
    let bytes = std::fs::read(&phrases).unwrap();
    std::fs::write(&phrases, &bytes[..bytes.len() - 1]).unwrap();
    let message = err(&out);
    assert!(
        message.contains("phrases.bin: invalid value: 59 bytes, but the manifest describes 5 phrases of 12 bytes (60 bytes)"),
        "{message}"
    );
    std::fs::write(&phrases, &bytes).unwrap();

    let manifest = out.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let with = |from: &str, to: &str| {
        assert!(text.contains(from));
        std::fs::write(&manifest, text.replace(from, to)).unwrap();
        err(&out)
    };
    let message = with("\"phrases\": 5", "\"phrases\": 6");
    assert!(
        message.contains(
            "manifest.json: invalid value: the songs list 5 phrases, the manifest says 6"
        ),
        "{message}"
    );
    assert!(with("\"phrase_bytes\": 12", "\"phrase_bytes\": 13")
        .contains("phrase_bytes 13 does not fit"));
    assert!(with("\"version\": 1", "\"version\": 2").contains("version 2"));
    assert!(with("\"pitches\": 12", "\"pitches\": 129").contains("run past MIDI 127"));
    std::fs::write(&manifest, b"\x00garbage").unwrap();
    let message = err(&out);
    assert!(
        message.contains("manifest.json") && message.contains("not a museroll dataset manifest"),
        "{message}"
    );
    std::fs::write(&manifest, &text).unwrap();
    assert!(Dataset::open(&out).is_ok());
    std::fs::remove_file(&phrases).unwrap();
    assert!(err(&out).contains("phrases.bin"));
    assert!(err(&dir.path().join("nowhere")).contains("manifest.json"));
}

fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

fn i64_npy(shape: &[usize], values: &[i64]) -> Vec<u8> {
    let mut out = npy_header("<i8", shape);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in members {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dataset")
        .join(name)
}

/// The dense fixture's cells, `[phrase][bar][step][pitch][track]`.
fn fixture_cells() -> Vec<u8> {
    let bytes = std::fs::read(fixture("musegan_small.npy")).unwrap();
    let header = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[header..].to_vec()
}

#[test]
fn musegan_arrays_import_sparse_and_dense_alike() {
    let dir = tempfile::tempdir().unwrap();
    let options = ImportOptions {
        validation_fraction: 0.0,
        ..ImportOptions::default()
    };
    let progress = Recorder::default();
    let sparse = dir.path().join("sparse");
    import_musegan(&fixture("musegan_small.npz"), &sparse, &options, &progress).unwrap();
    assert_eq!(progress.total.load(Ordering::SeqCst), 6);
    assert_eq!(progress.done.load(Ordering::SeqCst), 6);
    let dense = dir.path().join("dense");
    import_musegan(&fixture("musegan_small.npy"), &dense, &options, &NoProgress).unwrap();
    let (a, b) = (
        Dataset::open(&sparse).unwrap(),
        Dataset::open(&dense).unwrap(),
    );
    let m = a.manifest();
    let shape = DatasetShape {
        tracks: 5,
        bars: 2,
        steps_per_bar: 8,
        pitches: 12,
    };
    assert_eq!(m.shape, shape);
    assert_eq!(m.resolution.get(), 2);
    assert_eq!(m.lowest_pitch.number(), 24);
    assert_eq!(m.tracks, Layout::Lpd5.tracks());
    assert_eq!(m.songs.len(), 6);
    assert_eq!(
        std::fs::read(sparse.join(PHRASES_FILE)).unwrap(),
        std::fs::read(dense.join(PHRASES_FILE)).unwrap()
    );
    // Re-laid out from [bar][step][pitch][track] to [track][bar][step][pitch].
    let source = fixture_cells();
    let mut cells = vec![0u8; 6 * b.phrase_cells()];
    b.read_batch(&b.indices(None), &mut cells).unwrap();
    let mut ones = 0;
    for n in 0..6 {
        for bar in 0..2 {
            for step in 0..8 {
                for pitch in 0..12 {
                    for track in 0..5 {
                        let from = (((n * 2 + bar) * 8 + step) * 12 + pitch) * 5 + track;
                        let to = n * 960 + ((track * 2 + bar) * 8 + step) * 12 + pitch;
                        assert_eq!(cells[to], source[from]);
                        ones += usize::from(source[from]);
                    }
                }
            }
        }
    }
    assert_eq!(ones, 354); // what numpy counted
    assert!(cells[2 * 960..3 * 960].iter().all(|&c| c == 0)); // phrase 2 is silent
    assert!(cells[5 * 960..].iter().all(|&c| c == 0)); // and so is the last one
}

#[test]
fn musegan_import_groups_songs_and_refuses_damage() {
    let dir = tempfile::tempdir().unwrap();
    // A 6-D dense array: 3 songs × 2 phrases × 1 bar × 4 steps × 2 pitches × 1 track.
    let mut npy = npy_header("|b1", &[3, 2, 1, 4, 2, 1]);
    npy.extend((0..48).map(|i| u8::from(i % 7 == 0)));
    let path = dir.path().join("songs.npy");
    std::fs::write(&path, &npy).unwrap();
    let options = ImportOptions {
        validation_fraction: 0.34,
        ..ImportOptions::default()
    };
    let report = import_musegan(&path, &dir.path().join("songs"), &options, &NoProgress).unwrap();
    let m = &report.manifest;
    assert_eq!(m.songs.len(), 3);
    assert!(m.songs.iter().all(|s| s.phrases.len() == 2));
    assert_eq!(
        (m.split.validation_songs, m.split.validation_phrases),
        (1, 2)
    );
    assert_eq!(m.resolution.get(), 1);
    assert_eq!(m.tracks[0].name, "Track 0");
    let starts: Vec<usize> = m
        .songs
        .iter()
        .flat_map(|s| s.phrases.iter().map(|o| o.start))
        .collect();
    assert_eq!(starts, [0, 1, 2, 3, 4, 5]);
    let conflicting = ImportOptions {
        phrases_per_song: Some(3),
        ..options.clone()
    };
    let e = import_musegan(&path, &dir.path().join("x"), &conflicting, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("holds 2 per song"), "{e}");

    let import_err = |name: &str, members: &[(&str, Vec<u8>)]| {
        let path = dir.path().join(name);
        std::fs::write(&path, zip_of(members)).unwrap();
        let out = dir.path().join(format!("{name}.out"));
        let e = import_musegan(&path, &out, &ImportOptions::default(), &NoProgress).unwrap_err();
        assert!(!out.exists());
        assert!(!dir.path().join(format!("{name}.out.partial")).exists());
        let message = e.to_string();
        assert!(message.contains(name), "{message}");
        message
    };
    let shape = |dims: &[i64]| ("shape.npy", i64_npy(&[dims.len()], dims));
    // Cells (phrase, bar, step, pitch, track) listed as numpy.nonzero does: one row per axis.
    let nonzero = |coords: &[[i64; 5]]| {
        let mut values = Vec::new();
        for axis in 0..5 {
            values.extend(coords.iter().map(|c| c[axis]));
        }
        ("nonzero.npy", i64_npy(&[5, coords.len()], &values))
    };
    let dims = [2, 1, 4, 2, 1];
    let unsorted = nonzero(&[[1, 0, 0, 0, 0], [0, 0, 1, 1, 0]]);
    let message = import_err("unsorted.npz", &[shape(&dims), unsorted]);
    assert!(message.contains("row-major order"), "{message}");
    let outside = nonzero(&[[0, 0, 4, 0, 0]]);
    let message = import_err("outside.npz", &[shape(&dims), outside]);
    assert!(
        message.contains("coordinate 4 of cell 0 is outside axis 2 of length 4"),
        "{message}"
    );
    let message = import_err("noshape.npz", &[nonzero(&[])]);
    assert!(message.contains("no 'shape' array"), "{message}");
    let message = import_err("rank.npz", &[shape(&[2, 2]), nonzero(&[])]);
    assert!(message.contains("expected (phrases, bars"), "{message}");
    let short = ("nonzero.npy", i64_npy(&[5, 2], &[0, 0, 0]));
    let message = import_err("short.npz", &[shape(&dims), short]);
    assert!(message.contains("the data ends"), "{message}");
    let text = dir.path().join("text.npy");
    std::fs::write(&text, b"hello").unwrap();
    let out = dir.path().join("t");
    let e = import_musegan(&text, &out, &ImportOptions::default(), &NoProgress).unwrap_err();
    assert!(
        e.to_string()
            .contains("neither an .npz archive nor an .npy array"),
        "{e}"
    );

    // A well-formed sparse file: phrase 0 empty, phrase 1 with two cells.
    let path = dir.path().join("ok.npz");
    let cells = nonzero(&[[1, 0, 0, 1, 0], [1, 0, 1, 0, 0]]);
    std::fs::write(&path, zip_of(&[shape(&dims), cells])).unwrap();
    let out = dir.path().join("ok");
    let options = ImportOptions {
        resolution: Some(Resolution::new(3).unwrap()),
        ..ImportOptions::default()
    };
    import_musegan(&path, &out, &options, &NoProgress).unwrap();
    let ds = Dataset::open(&out).unwrap();
    assert_eq!(ds.manifest().resolution.get(), 3);
    assert_eq!(sounding(&ds, 0), []);
    assert_eq!(sounding(&ds, 1), [(0, 0, 1), (0, 1, 0)]);
}

/// The default corpus, with the counts measured on music21 9's chorales (see the module
/// documentation of `dataset`).
#[test]
fn chorale_corpus() {
    let corpus = common::venv_data(museroll_core::venv::BACH_CORPUS);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chorales");
    let options = BuildOptions::chorales();
    let report = build(&[corpus], &out, &options, &NoProgress).unwrap();
    let m = &report.manifest;
    assert_eq!(m.stats.files, 410);
    assert_eq!(m.stats.skipped.get(SkipReason::Tracks), 45);
    assert_eq!(m.stats.skipped.get(SkipReason::Meter), 37);
    assert_eq!(m.stats.skipped.total(), 82);
    assert_eq!(m.songs.len(), 328);
    assert_eq!(m.phrases, 3553);
    assert_eq!((m.split.train_songs, m.split.validation_songs), (295, 33));
    assert_eq!(
        (m.split.train_phrases, m.split.validation_phrases),
        (3158, 395)
    );
    assert_eq!((m.stats.bars_4_4, m.stats.bars_other_meter), (4552, 861));
    assert_eq!((m.stats.rejected_content, m.stats.rejected_range), (0, 0));
    let ds = Dataset::open(&out).unwrap();
    let size = std::fs::metadata(out.join(PHRASES_FILE)).unwrap().len();
    assert_eq!(size, 3553 * 1536);
    // bwv10.7 opens on the soprano's D5 for two beats, then F5 (as music21 reads it).
    let mut first = 0;
    for song in &m.songs {
        if song.source.ends_with("bwv10.7.mxl") {
            break;
        }
        first += song.phrases.len();
    }
    let soprano: Vec<usize> = sounding(&ds, first as u32)
        .into_iter()
        .filter(|&(track, step, _)| track == 0 && step < 12)
        .map(|(_, _, column)| column + 36)
        .collect();
    assert_eq!(soprano, [74, 74, 74, 74, 74, 74, 74, 74, 77, 77, 77, 77]);
}
