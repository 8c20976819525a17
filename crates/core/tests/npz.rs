//! pypianoroll `.npz` interop: files written by pypianoroll 1.0.4 and in LPD's layout load with
//! exactly the expected contents, and museroll writes what pypianoroll writes.
//!
//! The fixtures come from `fixtures/npz/make_fixtures.py` (see its header for how to re-make
//! them and how to check `from_museroll.npz` with pypianoroll).

use museroll_core::npz::{read_npz, write_npz};
use museroll_core::{
    Multitrack, Note, Pitch, Program, Resolution, RollKind, Tempo, TimeSignature, Track,
};
use std::io::{Cursor, Read};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npz")
        .join(name)
}

fn load(name: &str) -> Multitrack {
    let bytes = std::fs::read(fixture(name)).unwrap();
    read_npz(&bytes).unwrap()
}

fn pitch(n: u8) -> Pitch {
    Pitch::new(n).unwrap()
}

fn note(p: u8, start: usize, end: usize, velocity: u8) -> Note {
    Note {
        pitch: pitch(p),
        start,
        end,
        velocity,
    }
}

/// The song of `make_fixtures.py` (`song()`), built cell by cell as a pypianoroll roll is.
fn reference_song() -> Multitrack {
    let steps = 40;
    let mut m = Multitrack::new(Resolution::new(4).unwrap());
    m.name = Some("Fixture song".into());

    let mut lead = Track::new("Lead", Program::new(81).unwrap(), false, steps);
    lead.roll = museroll_core::Roll::new(RollKind::Binary, steps);
    for (p, start, end) in [
        (72, 0, 4),
        (74, 4, 8),
        (76, 8, 16),
        (72, 16, 24),
        (79, 28, 40),
    ] {
        for t in start..end {
            lead.roll.set(t, pitch(p), 1);
        }
    }

    let mut piano = Track::new("Piano", Program::new(0).unwrap(), false, steps);
    for t in 0..8 {
        for p in [60, 64, 67] {
            piano.roll.set(t, pitch(p), 100);
        }
    }
    for t in 8..12 {
        piano.roll.set(t, pitch(64), 80);
    }
    piano.roll.set(12, pitch(0), 1);
    piano.roll.set(13, pitch(127), 127);
    piano.roll.set(14, pitch(127), 127);
    for (t, v) in (16..20).zip([90, 91, 92, 93]) {
        piano.roll.set(t, pitch(48), v);
    }

    let mut drums = Track::new("Drums", Program::new(0).unwrap(), true, steps);
    for t in (0..steps).step_by(8) {
        drums.roll.set(t, pitch(36), 110);
        drums.roll.set(t + 4, pitch(38), 90);
    }
    for t in (0..steps).step_by(2) {
        drums.roll.set(t, pitch(42), 60);
    }

    m.tracks = vec![lead, piano, drums];
    m.set_tempos([
        Tempo {
            step: 0,
            qpm: 120.0,
        },
        Tempo {
            step: 16,
            qpm: 90.0,
        },
    ])
    .unwrap();
    m.set_time_signatures([
        TimeSignature::COMMON,
        TimeSignature {
            step: 16,
            numerator: 3,
            denominator: 4,
        },
    ])
    .unwrap();
    m
}

/// Name, program, drum flag and roll kind of every track.
fn track_meta(m: &Multitrack) -> Vec<(&str, u8, bool, RollKind)> {
    m.tracks
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.program.number(),
                t.is_drum,
                t.roll.kind(),
            )
        })
        .collect()
}

/// Concrete checks of the reference song, independent of `reference_song()`.
fn assert_reference_contents(m: &Multitrack) {
    assert_eq!(m.name.as_deref(), Some("Fixture song"));
    assert_eq!(m.resolution().get(), 4);
    assert_eq!(m.len(), 40);
    assert_eq!(
        track_meta(m),
        [
            ("Lead", 81, false, RollKind::Binary),
            ("Piano", 0, false, RollKind::Velocity),
            ("Drums", 0, true, RollKind::Velocity),
        ]
    );
    // The two repeated lead notes at 16..20 and 20..24 are one run in a pypianoroll roll.
    assert_eq!(
        m.tracks[0].roll.notes(),
        [
            note(72, 0, 4, 1),
            note(74, 4, 8, 1),
            note(76, 8, 16, 1),
            note(72, 16, 24, 1),
            note(79, 28, 40, 1),
        ]
    );
    // Runs are notes: E4 at 100 then 80 with no gap is one note, velocity from its first step.
    let piano = &m.tracks[1].roll;
    assert_eq!(
        (piano.get(7, pitch(64)), piano.get(8, pitch(64))),
        (100, 80)
    );
    assert_eq!(
        piano.notes(),
        [
            note(60, 0, 8, 100),
            note(64, 0, 12, 100),
            note(67, 0, 8, 100),
            note(0, 12, 13, 1),
            note(127, 13, 15, 127),
            note(48, 16, 20, 90),
        ]
    );
    assert_eq!(
        (16..20)
            .map(|t| piano.get(t, pitch(48)))
            .collect::<Vec<_>>(),
        [90, 91, 92, 93]
    );
    let drums = &m.tracks[2].roll;
    assert_eq!(drums.note_count(), 5 + 5 + 20);
    assert_eq!(drums.get(32, pitch(36)), 110);
    assert_eq!(drums.get(36, pitch(38)), 90);
    assert_eq!(drums.get(38, pitch(42)), 60);
    assert_eq!(drums.get(39, pitch(42)), 0);
    assert_eq!(
        m.tempos(),
        [
            Tempo {
                step: 0,
                qpm: 120.0
            },
            Tempo {
                step: 16,
                qpm: 90.0
            }
        ]
    );
    assert_eq!(m.downbeat_steps(), [0, 16, 28]);
    assert_eq!(
        m.time_signatures()
            .iter()
            .map(|ts| (ts.step, ts.numerator, ts.denominator))
            .collect::<Vec<_>>(),
        [(0, 4, 4), (16, 3, 4)]
    );
}

#[test]
fn reads_pypianoroll_compressed_with_column_tempo_and_downbeat() {
    let m = load("pypianoroll_compressed.npz");
    assert_reference_contents(&m);
    assert_eq!(m, reference_song());
}

#[test]
fn reads_pypianoroll_uncompressed_with_vector_tempo_and_downbeat() {
    let m = load("pypianoroll_uncompressed.npz");
    assert_reference_contents(&m);
    assert_eq!(m, reference_song());
}

#[test]
fn reads_lpd_style_beat_resolution() {
    let m = load("lpd_style.npz");
    assert_eq!(m.name.as_deref(), Some("b97c529ab9ef783a849b896816001748"));
    assert_eq!(m.resolution().get(), 24);
    assert_eq!(m.len(), 192);
    assert_eq!(
        track_meta(&m),
        [
            ("Drums", 0, true, RollKind::Binary),
            ("Piano", 0, false, RollKind::Binary),
            ("Guitar", 24, false, RollKind::Binary),
            ("Bass", 32, false, RollKind::Binary),
            ("Strings", 48, false, RollKind::Binary),
        ]
    );
    let drums = m.tracks[0].roll.notes();
    assert_eq!(drums.len(), 16);
    assert_eq!(drums[0], note(36, 0, 1, 1));
    assert_eq!(drums[1], note(42, 12, 13, 1));
    // LPD's 1-step gap keeps the re-attacked chord two notes per pitch.
    assert_eq!(
        m.tracks[1].roll.notes(),
        [
            note(60, 0, 95, 1),
            note(64, 0, 95, 1),
            note(67, 0, 95, 1),
            note(60, 96, 192, 1),
            note(64, 96, 192, 1),
            note(67, 96, 192, 1),
        ]
    );
    assert_eq!(m.tracks[2].roll.notes(), [note(55, 48, 144, 1)]);
    assert_eq!(
        m.tracks[3].roll.notes(),
        [note(36, 0, 96, 1), note(43, 96, 192, 1)]
    );
    assert!(m.tracks[4].roll.is_silent());
    assert_eq!(m.tracks[4].roll.len(), 192);
    assert_eq!(
        m.tempos(),
        [
            Tempo {
                step: 0,
                qpm: 100.0
            },
            Tempo {
                step: 96,
                qpm: 110.5
            }
        ]
    );
    // The downbeat array marks only step 0 (pypianoroll 0.x's single-meter bug): read as 4/4.
    assert_eq!(m.time_signatures(), [TimeSignature::COMMON]);
    assert_eq!(m.downbeat_steps(), [0, 96]);
}

#[test]
fn reads_other_dtypes_and_missing_fields() {
    let m = load("numpy_dtypes.npz");
    assert_eq!(m.name, None);
    assert_eq!(m.resolution().get(), 2);
    // No tempo, no downbeat: 120 qpm, 4/4.
    assert_eq!(
        m.tempos(),
        [Tempo {
            step: 0,
            qpm: 120.0
        }]
    );
    assert_eq!(m.time_signatures(), [TimeSignature::COMMON]);
    assert_eq!(
        track_meta(&m),
        [
            ("", 5, false, RollKind::Velocity),
            ("", 0, false, RollKind::Velocity)
        ]
    );
    // float32 [99.6, 200, -5, 0.4, 1.5, 2.5]: rounded half to even, clipped to 0–127.
    let column: Vec<u8> = (0..6).map(|t| m.tracks[0].roll.get(t, pitch(60))).collect();
    assert_eq!(column, [100, 127, 0, 0, 2, 2]);
    // Big-endian int16 [300, 7, -1] at (5, 10), (0, 10), (3, 127), indices not sorted.
    let roll = &m.tracks[1].roll;
    assert_eq!(roll.get(5, pitch(10)), 127);
    assert_eq!(roll.get(0, pitch(10)), 7);
    assert_eq!(roll.get(3, pitch(127)), 0);
    assert_eq!(roll.notes(), [note(10, 0, 1, 7), note(10, 5, 6, 127)]);
}

/// The members of a zip archive, decompressed, in order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>, zip::CompressionMethod)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            (file.name().to_string(), content, file.compression())
        })
        .collect()
}

/// Same member names in the same order, the same `.npy` bytes (header and data), the same
/// `info.json` as JSON.
fn assert_same_members(ours: &[u8], theirs: &[u8]) {
    let ours = unzip(ours);
    let theirs = unzip(theirs);
    let names = |members: &[(String, Vec<u8>, _)]| -> Vec<String> {
        members.iter().map(|m| m.0.clone()).collect()
    };
    assert_eq!(names(&ours), names(&theirs));
    for ((name, a, _), (_, b, _)) in ours.iter().zip(&theirs) {
        if name == "info.json" {
            let a: serde_json::Value = serde_json::from_slice(a).unwrap();
            let b: serde_json::Value = serde_json::from_slice(b).unwrap();
            assert_eq!(a, b);
        } else {
            assert_eq!(a, b, "member {name} differs");
        }
    }
}

#[test]
fn writes_exactly_what_pypianoroll_writes() {
    let pypianoroll = std::fs::read(fixture("pypianoroll_uncompressed.npz")).unwrap();
    for compressed in [true, false] {
        let ours = write_npz(&reference_song(), compressed).unwrap();
        assert_same_members(&ours, &pypianoroll);
        let method = if compressed {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        assert!(unzip(&ours).iter().all(|m| m.2 == method));
        assert_eq!(read_npz(&ours).unwrap(), reference_song());
    }
    // info.json even byte for byte (json.dumps spacing and key order).
    let ours = write_npz(&reference_song(), false).unwrap();
    assert_eq!(
        unzip(&ours).last().unwrap().1,
        unzip(&pypianoroll).last().unwrap().1
    );
}

#[test]
fn committed_museroll_file_is_current() {
    let committed = std::fs::read(fixture("from_museroll.npz")).unwrap();
    assert_eq!(read_npz(&committed).unwrap(), reference_song());
    assert_same_members(&write_npz(&reference_song(), true).unwrap(), &committed);
}

/// Re-makes `from_museroll.npz`, which `make_fixtures.py --check` loads with pypianoroll.
#[test]
#[ignore = "writes a fixture; run by hand, then make_fixtures.py --check"]
fn write_from_museroll_fixture() {
    let bytes = write_npz(&reference_song(), true).unwrap();
    std::fs::write(fixture("from_museroll.npz"), bytes).unwrap();
}

#[test]
fn repeated_notes_merge_as_in_pypianoroll() {
    let mut m = Multitrack::new(Resolution::new(4).unwrap());
    let mut track = Track::new("Piano", Program::default(), false, 12);
    track.roll = museroll_core::Roll::from_notes(
        RollKind::Velocity,
        12,
        [note(60, 0, 4, 100), note(60, 4, 8, 80), note(62, 8, 12, 70)],
    );
    m.tracks.push(track);
    let back = read_npz(&write_npz(&m, true).unwrap()).unwrap();
    // The cells survive; the onset at step 4 does not, so the two C4s become one note.
    assert_eq!(back.tracks[0].roll.steps(), m.tracks[0].roll.steps());
    assert_eq!(
        back.tracks[0].roll.notes(),
        [note(60, 0, 8, 100), note(62, 8, 12, 70)]
    );
}

#[test]
fn meters_survive_as_bar_lengths() {
    // 6/8 and 7/8 at resolution 12, then 2/4: bars of 36, 42 and 24 steps.
    let mut m = Multitrack::new(Resolution::new(12).unwrap());
    m.tracks.push(Track::new(
        "x",
        Program::default(),
        false,
        36 * 2 + 42 + 24 * 2,
    ));
    let ts = |step, numerator, denominator| TimeSignature {
        step,
        numerator,
        denominator,
    };
    m.set_time_signatures([ts(0, 6, 8), ts(72, 7, 8), ts(114, 2, 4)])
        .unwrap();
    let back = read_npz(&write_npz(&m, true).unwrap()).unwrap();
    assert_eq!(back.downbeat_steps(), m.downbeat_steps());
    assert_eq!(back.downbeat_steps(), [0, 36, 72, 114, 138]);
    // 6/8 comes back as 3/4: the same bar, written with the smallest denominator.
    assert_eq!(
        back.time_signatures(),
        [ts(0, 3, 4), ts(72, 7, 8), ts(114, 2, 4)]
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn song() -> impl Strategy<Value = Multitrack> {
        let track = (
            any::<bool>(),
            0usize..48,
            proptest::collection::vec((0usize..48, 0u8..128, 1u8..128), 0..40),
        );
        let meter = (
            0usize..48,
            1u8..8,
            prop::sample::select(vec![2u8, 4, 8, 16]),
        );
        (
            1u32..25,
            proptest::collection::vec(track, 0..4),
            proptest::collection::vec((0usize..48, 30.0f64..240.0), 0..4),
            proptest::collection::vec(meter, 0..3),
        )
            .prop_map(|(resolution, tracks, tempos, meters)| {
                let mut m = Multitrack::new(Resolution::new(resolution).unwrap());
                for (binary, steps, cells) in tracks {
                    let kind = if binary {
                        RollKind::Binary
                    } else {
                        RollKind::Velocity
                    };
                    let mut track = Track::new("t", Program::default(), false, steps);
                    track.roll = museroll_core::Roll::new(kind, steps);
                    for (t, p, v) in cells.into_iter().filter(|c| c.0 < steps) {
                        track.roll.set(t, pitch(p), v);
                    }
                    m.tracks.push(track);
                }
                m.set_tempos(tempos.into_iter().map(|(step, qpm)| Tempo { step, qpm }))
                    .unwrap();
                // Bars of whole steps (fractional bars are approximated: see the npz module
                // documentation): halve the denominator until 4·r·n/d is whole.
                let whole = |n: u8, d: u8| (4 * resolution * u32::from(n)) % u32::from(d) == 0;
                m.set_time_signatures(meters.into_iter().map(
                    |(step, numerator, mut denominator)| {
                        while !whole(numerator, denominator) {
                            denominator /= 2;
                        }
                        TimeSignature {
                            step,
                            numerator,
                            denominator,
                        }
                    },
                ))
                .unwrap();
                m
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Cells, kinds and tempo survive exactly; bars survive up to the last downbeat.
        #[test]
        fn write_then_read(m in song(), compressed in any::<bool>()) {
            let back = read_npz(&write_npz(&m, compressed).unwrap()).unwrap();
            prop_assert_eq!(&back.tracks, &m.tracks);
            prop_assert_eq!(back.resolution(), m.resolution());
            for t in 0..m.len() {
                prop_assert_eq!(back.tempo_at(t), m.tempo_at(t));
            }
            let downbeats = m.downbeat_steps();
            let end = downbeats.last().map_or(0, |&t| t + 1);
            prop_assert_eq!(back.downbeats_until(end), downbeats);
        }
    }
}
