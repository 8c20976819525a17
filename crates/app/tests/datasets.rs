//! The dataset use cases end to end on small files: building with augmentation, a split and
//! random windows, importing a MuseGAN array with a settings file, measuring, and `eval`'s
//! refusals.

use museroll_app::data::{self, BuildRequest};
use museroll_app::eval::eval;
use museroll_app::{Error, NoProgress};
use museroll_core::dataset::{Dataset, Split};
use std::path::{Path, PathBuf};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures")
        .join(relative)
}

/// Bach's chorale bwv66.6 (a one-beat pickup, then 9 bars of 4/4).
fn chorale() -> PathBuf {
    fixture("midi/bwv66.6.mid")
}

/// The chorale settings on 2-bar windows, every window, no validation.
fn satb(inputs: &[PathBuf], out: &Path) -> BuildRequest {
    BuildRequest {
        inputs: inputs.to_vec(),
        out: out.to_path_buf(),
        tracks: Some("satb".into()),
        bars: Some(2),
        steps_per_beat: Some(4),
        lowest_pitch: Some(36),
        pitches: Some(48),
        hop: Some(1),
        validation: Some(0.0),
        ..BuildRequest::default()
    }
}

#[test]
fn transpositions_multiply_the_phrases() {
    let dir = tempfile::tempdir().unwrap();
    let plain = data::build(&satb(&[chorale()], &dir.path().join("plain")), &NoProgress).unwrap();
    let request = BuildRequest {
        transpose: Some("-1..1".into()),
        ..satb(&[chorale()], &dir.path().join("moved"))
    };
    let moved = data::build(&request, &NoProgress).unwrap();
    let n = plain.manifest.phrases;
    assert!(n > 0);
    // The voices stay inside C2–B5 a semitone either way: every window three times.
    assert_eq!(moved.manifest.stats.rejected_range, 0);
    assert_eq!(moved.manifest.phrases, 3 * n);
    assert_eq!(data::info(&moved.dir).unwrap(), moved.manifest);
}

#[test]
fn validation_sets_songs_aside_and_random_draws_windows() {
    let dir = tempfile::tempdir().unwrap();
    let songs: Vec<PathBuf> = ["a", "b", "c", "d"]
        .iter()
        .map(|name| {
            let path = dir.path().join(format!("{name}.mid"));
            std::fs::copy(chorale(), &path).unwrap();
            path
        })
        .collect();
    let request = BuildRequest {
        validation: Some(0.5),
        random: Some(2),
        seed: Some(3),
        ..satb(&songs, &dir.path().join("ds"))
    };
    let report = data::build(&request, &NoProgress).unwrap();
    let split = report.manifest.split;
    assert_eq!((split.train_songs, split.validation_songs), (2, 2));
    // Two windows drawn per song, the rest counted as not drawn.
    assert_eq!(report.manifest.phrases, 8);
    assert_eq!((split.train_phrases, split.validation_phrases), (4, 4));
    assert!(report.manifest.stats.not_drawn > 0);

    // The measured selection is the split asked for.
    let train = data::stats(&report.dir, Some(Split::Train), None).unwrap();
    let all = data::stats(&report.dir, None, None).unwrap();
    assert_eq!(train.columns[0].1.samples, 4);
    assert_eq!(all.columns[0].1.samples, 8);
    assert_eq!(all.tracks, ["Soprano", "Alto", "Tenor", "Bass"]);
    let json: serde_json::Value = serde_json::from_slice(&all.to_json().unwrap()).unwrap();
    assert_eq!(json["reports"]["dataset"]["samples"], 8);
    assert_eq!(json["tracks"][3], "Bass");
}

#[test]
fn a_build_without_phrases_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ds");
    // Windows longer than the chorale: nothing to cut.
    let request = BuildRequest {
        bars: Some(64),
        ..satb(&[chorale()], &out)
    };
    let e = data::build(&request, &NoProgress).unwrap_err();
    assert!(matches!(e, Error::NoPhrasesCut { .. }), "{e}");
    assert!(e.to_string().contains("no phrase could be cut"), "{e}");
    assert!(!out.exists());
}

#[test]
fn import_reads_its_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let array = fixture("dataset/musegan_small.npy");
    let settings = dir.path().join("import.toml");
    std::fs::write(
        &settings,
        "resolution = 4\nvalidation_fraction = 0.5\nseed = 1\n",
    )
    .unwrap();
    let out = dir.path().join("imported");
    let report = data::import_musegan(&array, &out, Some(&settings), &NoProgress).unwrap();
    let m = &report.manifest;
    assert_eq!(m.resolution.get(), 4);
    assert_eq!(m.phrases, 6);
    assert_eq!(m.split.train_songs + m.split.validation_songs, 6);
    assert_eq!(m.split.validation_songs, 3);
    assert_eq!(Dataset::open(&out).unwrap().len(), 6);

    // Without settings: the defaults (a quarter of the 8 steps per bar, 10 % for validation).
    let plain = data::import_musegan(&array, &dir.path().join("plain"), None, &NoProgress);
    assert_eq!(plain.unwrap().manifest.resolution.get(), 2);

    std::fs::write(&settings, "resolution = \"four\"\n").unwrap();
    let e = data::import_musegan(&array, &dir.path().join("x"), Some(&settings), &NoProgress)
        .unwrap_err();
    assert!(matches!(e, Error::Settings { .. }), "{e}");
    assert!(e.to_string().starts_with(&settings.display().to_string()));
    assert!(!dir.path().join("x").exists());
}

#[test]
fn eval_compares_like_with_like_only() {
    let dir = tempfile::tempdir().unwrap();
    let reference = data::build(&satb(&[chorale()], &dir.path().join("ref")), &NoProgress)
        .unwrap()
        .dir;

    // A dataset against itself: the same numbers in both columns.
    let table = eval(&reference, &reference, None, None, &NoProgress).unwrap();
    assert_eq!(table.columns[0].0, "training data");
    assert_eq!(table.columns[1].0, "samples");
    // As JSON: a metric no phrase has (drum pattern) is NaN, which equals nothing.
    let json = |column: usize| serde_json::to_value(&table.columns[column].1).unwrap();
    assert_eq!(json(0), json(1));

    // Music files are cut with the reference's settings but one window after another (a sample
    // is measured once), where the reference took a window at every bar.
    let table = eval(&chorale(), &reference, None, None, &NoProgress).unwrap();
    let (data, samples) = (table.columns[0].1.samples, table.columns[1].1.samples);
    assert_eq!(samples, data.div_ceil(2), "{data} reference phrases");

    // One bar per phrase instead of two.
    let short = BuildRequest {
        bars: Some(1),
        ..satb(&[chorale()], &dir.path().join("short"))
    };
    let short = data::build(&short, &NoProgress).unwrap().dir;
    let e = eval(&short, &reference, None, None, &NoProgress).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: phrases of 4 tracks × 1 bars × 16 steps × 48 pitches from C2 differ from the \
             reference's 4 tracks × 2 bars × 16 steps × 48 pitches from C2",
            short.display()
        )
    );

    // Four voices under other names.
    let renamed = BuildRequest {
        tracks: Some("parts:S,A,T,B".into()),
        ..satb(&[chorale()], &dir.path().join("renamed"))
    };
    let renamed = data::build(&renamed, &NoProgress).unwrap().dir;
    let e = eval(&renamed, &reference, None, None, &NoProgress).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: track 'S' stands where the reference has 'Soprano'",
            renamed.display()
        )
    );

    // The reference has no validation split to measure.
    let e = eval(
        &reference,
        &reference,
        Some(Split::Validation),
        None,
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: no phrases to measure (the validation split is empty)",
            reference.display()
        )
    );

    // Music files cannot be cut like an imported reference.
    let imported = dir.path().join("imported");
    let array = fixture("dataset/musegan_small.npy");
    data::import_musegan(&array, &imported, None, &NoProgress).unwrap();
    let e = eval(&chorale(), &imported, None, None, &NoProgress).unwrap_err();
    assert!(matches!(e, Error::ImportedReference { .. }), "{e}");
}

/// Four-voice datasets get the voice-leading table: Bach's own chorale is nearly free of
/// parallel fifths and octaves and mostly in chords, and the same chorale with its alto moved up
/// by a fifth (parallel fifths wherever it moved in octaves or unisons with another voice, notes
/// off the chords, the alto above the soprano) is measured as worse; a table of other phrases has no voice-leading part.
#[test]
fn four_voice_tables_judge_voice_leading() {
    let dir = tempfile::tempdir().unwrap();
    let bach = data::build(&satb(&[chorale()], &dir.path().join("bach")), &NoProgress).unwrap();
    let table = data::stats(&bach.dir, None, None).unwrap();
    assert_eq!(table.voice_leading.len(), 1);
    let rates = table.voice_leading[0];
    assert!(rates.chord_tone_ratio > 0.7, "{rates:?}");
    assert!(rates.parallels_per_100_moves < 2.0, "{rates:?}");
    assert_eq!(rates.phrases_all_voices_ratio, 1.0);
    let text = table.markdown();
    assert!(
        text.contains("## Voice leading (soprano, alto, tenor, bass)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "| chord-tone ratio (of those steps) | {:.3} |",
            rates.chord_tone_ratio
        )),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_slice(&table.to_json().unwrap()).unwrap();
    assert_eq!(
        json["voice_leading"]["dataset"]["chord_tone_ratio"].as_f64(),
        Some(rates.chord_tone_ratio)
    );

    // The alto a fifth up: a different texture, measured as worse.
    let (mut song, _) = museroll_core::io::read_file(&chorale(), &Default::default()).unwrap();
    let alto = song
        .tracks
        .iter_mut()
        .find(|t| t.name.to_lowercase().contains("alto"))
        .expect("the chorale has an alto part");
    alto.roll.transpose(7);
    let moved_file = dir.path().join("moved.mid");
    museroll_core::io::write_file(&song, &moved_file).unwrap();
    let moved = data::build(&satb(&[moved_file], &dir.path().join("moved")), &NoProgress).unwrap();
    let worse = data::stats(&moved.dir, None, None).unwrap().voice_leading[0];
    assert!(
        worse.chord_tone_ratio < rates.chord_tone_ratio,
        "{worse:?} vs {rates:?}"
    );
    assert!(
        worse.parallels_per_100_moves > rates.parallels_per_100_moves + 1.0,
        "{worse:?}"
    );
    // A fifth up, the alto lies above the soprano most of the time.
    assert!(
        worse.crossing_ratio > rates.crossing_ratio + 0.3,
        "{worse:?}"
    );

    // The voices merged into one track: no voice-leading table.
    let piano = BuildRequest {
        tracks: Some("piano".into()),
        ..satb(&[chorale()], &dir.path().join("piano"))
    };
    let piano = data::build(&piano, &NoProgress).unwrap();
    let table = data::stats(&piano.dir, None, None).unwrap();
    assert!(table.voice_leading.is_empty());
    assert!(!table.markdown().contains("Voice leading"));
}

/// `eval`'s comparison: a set compared with itself copies every phrase and overlaps the
/// reference's distributions; the chorale with its alto a fifth up copies nothing and overlaps
/// less on the pitch features.
#[test]
fn eval_compares_distributions_copies_and_variety() {
    let dir = tempfile::tempdir().unwrap();
    let bach = data::build(&satb(&[chorale()], &dir.path().join("bach")), &NoProgress).unwrap();
    let same = eval(&bach.dir, &bach.dir, None, None, &NoProgress).unwrap();
    let c = same.comparison.as_ref().unwrap();
    let n = bach.manifest.phrases;
    assert_eq!(c.reference_phrases, n);
    assert_eq!(c.memorization.phrases, n);
    assert_eq!(c.memorization.exact_copies, n);
    assert_eq!(c.memorization.near_copy_share, 1.0);
    assert!(c.validation_baseline.is_none(), "no validation split");
    assert_eq!(c.samples_diversity, c.reference_diversity);
    assert_eq!(c.yang_lerch.len(), 12);
    for f in &c.yang_lerch {
        assert!(
            f.overlap_area_a > 0.8,
            "{:?}: {}",
            f.feature,
            f.overlap_area_a
        );
    }
    let text = same.markdown();
    for heading in ["## Distributions", "## Memorization", "## Diversity"] {
        assert!(text.contains(heading), "{heading} missing: {text}");
    }
    let json: serde_json::Value = serde_json::from_slice(&same.to_json().unwrap()).unwrap();
    assert_eq!(
        json["comparison"]["memorization"]["exact_copies"].as_u64(),
        Some(n as u64)
    );

    let (mut song, _) = museroll_core::io::read_file(&chorale(), &Default::default()).unwrap();
    for track in song
        .tracks
        .iter_mut()
        .filter(|t| t.name.to_lowercase().contains("alto"))
    {
        track.roll.transpose(7);
    }
    let moved_file = dir.path().join("moved.mid");
    museroll_core::io::write_file(&song, &moved_file).unwrap();
    let moved = data::build(&satb(&[moved_file], &dir.path().join("moved")), &NoProgress).unwrap();
    let other = eval(&moved.dir, &bach.dir, None, None, &NoProgress).unwrap();
    let o = other.comparison.unwrap();
    assert_eq!(o.memorization.exact_copies, 0);
    assert!(
        o.memorization.mean_relative_distance > 0.1,
        "{:?}",
        o.memorization
    );
    let oa = |c: &museroll_app::compare::Comparison, name: &str| {
        c.yang_lerch
            .iter()
            .find(|f| f.feature.name() == name)
            .unwrap()
            .overlap_area_a
    };
    let (moved_oa, same_oa) = (oa(&o, "pitch_range"), oa(c, "pitch_range"));
    assert!(moved_oa < same_oa, "pitch range: {moved_oa} vs {same_oa}");
}
