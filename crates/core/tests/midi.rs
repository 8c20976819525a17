//! MIDI reading and writing: hand-made byte-level files, a real chorale checked against
//! pretty_midi, round trips and hostile input.

use museroll_core::io::ReadOptions;
use museroll_core::midi::{read_midi, write_midi, WriteOptions};
use museroll_core::{
    Error, Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Tempo, TimeSignature,
    Track,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Building files byte by byte.

/// A Standard MIDI File from its header fields and raw track bodies.
fn smf(format: u16, division: u16, tracks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"MThd\0\0\0\x06".to_vec();
    out.extend(format.to_be_bytes());
    out.extend((tracks.len() as u16).to_be_bytes());
    out.extend(division.to_be_bytes());
    for body in tracks {
        out.extend(b"MTrk");
        out.extend((body.len() as u32).to_be_bytes());
        out.extend(body);
    }
    out
}

/// A track-name meta event at delta 0.
fn name(text: &str) -> Vec<u8> {
    let mut out = vec![0x00, 0xFF, 0x03, text.len() as u8];
    out.extend(text.as_bytes());
    out
}

/// End-of-Track at delta 0.
const EOT: [u8; 4] = [0x00, 0xFF, 0x2F, 0x00];

fn track(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn read(bytes: &[u8], resolution: u32) -> museroll_core::Result<Multitrack> {
    let options = ReadOptions {
        resolution: Resolution::new(resolution).unwrap(),
    };
    read_midi(bytes, &options)
}

/// (pitch, start, end, velocity) of a track's notes.
fn notes(track: &Track) -> Vec<(u8, usize, usize, u8)> {
    track
        .roll
        .notes()
        .iter()
        .map(|n| (n.pitch.number(), n.start, n.end, n.velocity))
        .collect()
}

fn tempos(m: &Multitrack) -> Vec<(usize, f64)> {
    m.tempos().iter().map(|t| (t.step, t.qpm)).collect()
}

fn signatures(m: &Multitrack) -> Vec<(usize, u8, u8)> {
    m.time_signatures()
        .iter()
        .map(|t| (t.step, t.numerator, t.denominator))
        .collect()
}

fn midi_message(result: museroll_core::Result<Multitrack>) -> String {
    match result {
        Err(Error::Midi(message)) => message,
        other => panic!("expected a MIDI error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading hand-made files.

#[test]
fn format0_splits_channels_and_marks_drums() {
    // 96 ticks per beat, read at 4 steps per beat: 24 ticks per step.
    let body = track(&[
        &name("Song"),
        &[0x00, 0xC1, 40],      // channel 2: program 40 (violin)
        &[0x00, 0x90, 60, 100], // channel 1: C4 on
        &[0x00, 0x91, 67, 80],  // channel 2: G4 on
        &[0x00, 0x99, 36, 112], // channel 10: kick on
        &[0x18, 0x99, 36, 0],   // tick 24: kick off
        &[0x48, 0x80, 60, 64],  // tick 96: C4 off
        &[0x00, 0x81, 67, 0],   // G4 off
        &EOT,
    ]);
    let m = read(&smf(0, 96, &[body]), 4).unwrap();
    assert_eq!(m.tracks.len(), 3);
    assert_eq!(
        m.name, None,
        "the only track holds notes, it names the tracks"
    );
    let piano = &m.tracks[0];
    assert_eq!(piano.name, "Song (ch 1)");
    assert_eq!((piano.program.number(), piano.is_drum), (0, false));
    assert_eq!(notes(piano), vec![(60, 0, 4, 100)]);
    let violin = &m.tracks[1];
    assert_eq!(violin.name, "Song (ch 2)");
    assert_eq!((violin.program.number(), violin.is_drum), (40, false));
    assert_eq!(notes(violin), vec![(67, 0, 4, 80)]);
    let drums = &m.tracks[2];
    assert_eq!(drums.name, "Song (ch 10)");
    assert!(drums.is_drum);
    assert_eq!(notes(drums), vec![(36, 0, 1, 112)]);
    assert!(m.tracks.iter().all(|t| t.roll.len() == 4));
}

#[test]
fn format1_reads_conductor_and_named_tracks() {
    // 480 ticks per beat read at 24: 20 ticks per step.
    let conductor = track(&[
        &name("Title"),
        &[0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20], // 500000 µs = 120 qpm
        &[0x00, 0xFF, 0x58, 0x04, 3, 2, 24, 8],      // 3/4
        &EOT,
    ]);
    let flute = track(&[
        &name("Flute"),
        &[0x00, 0xC0, 73],
        &[0x00, 0x90, 72, 90],
        &[0x83, 0x60, 0x80, 72, 0], // delta 480
        &[0x00, 0x90, 74, 91],
        &[0x81, 0x70, 0x80, 74, 0], // delta 240
        &EOT,
    ]);
    let bass = track(&[
        &name("Bass"),
        &[0x00, 0xC1, 33],
        &[0x00, 0x91, 36, 70],
        &[0x8B, 0x20, 0x81, 36, 0], // delta 1440
        &EOT,
    ]);
    let m = read(&smf(1, 480, &[conductor, flute, bass]), 24).unwrap();
    assert_eq!(m.name.as_deref(), Some("Title"));
    assert_eq!(tempos(&m), vec![(0, 120.0)]);
    assert_eq!(signatures(&m), vec![(0, 3, 4)]);
    assert_eq!(m.tracks.len(), 2);
    assert_eq!(m.tracks[0].name, "Flute");
    assert_eq!(m.tracks[0].program.number(), 73);
    assert_eq!(notes(&m.tracks[0]), vec![(72, 0, 24, 90), (74, 24, 36, 91)]);
    assert_eq!(m.tracks[1].name, "Bass");
    assert_eq!(m.tracks[1].program.number(), 33);
    assert_eq!(notes(&m.tracks[1]), vec![(36, 0, 72, 70)]);
    assert_eq!(m.len(), 72);
}

#[test]
fn running_status_is_followed() {
    // One 0x90 status byte for a whole C major arpeggio, offs as note-on velocity 0.
    let body = track(&[
        &[0x00, 0x90, 60, 100],
        &[0x00, 64, 101], // running status
        &[0x00, 67, 102],
        &[0x60, 60, 0], // tick 96: offs, still running status
        &[0x00, 64, 0],
        &[0x00, 67, 0],
        &[0x00, 72, 103],
        &[0x60, 72, 0],
        &EOT,
    ]);
    let m = read(&smf(0, 96, &[body]), 4).unwrap();
    assert_eq!(
        notes(&m.tracks[0]),
        vec![
            (60, 0, 4, 100),
            (64, 0, 4, 101),
            (67, 0, 4, 102),
            (72, 4, 8, 103)
        ]
    );
}

#[test]
fn note_on_velocity_zero_is_a_note_off() {
    let body = track(&[
        &[0x00, 0x90, 60, 100],
        &[0x60, 0x90, 60, 0], // tick 96: note-on velocity 0 ends the note
        &[0x00, 0x90, 62, 100],
        &[0x60, 0x80, 62, 0], // true note-off
        &EOT,
    ]);
    let m = read(&smf(0, 96, &[body]), 4).unwrap();
    assert_eq!(notes(&m.tracks[0]), vec![(60, 0, 4, 100), (62, 4, 8, 100)]);
}

#[test]
fn overlapping_same_pitch_notes_pair_fifo_and_stay_distinct() {
    // C4 struck at 0 and again at 240 before any note-off; offs at 480 and 960.
    // FIFO: the first off ends the first note (0..480), the second the second (240..960); the
    // second onset then cuts the first note at step 2. (pretty_midi would close both at 480.)
    let body = track(&[
        &[0x00, 0x90, 60, 100],
        &[0x81, 0x70, 0x90, 60, 50], // tick 240
        &[0x81, 0x70, 0x80, 60, 0],  // tick 480
        &[0x83, 0x60, 0x80, 60, 0],  // tick 960
        &EOT,
    ]);
    let m = read(&smf(0, 480, &[body]), 4).unwrap();
    assert_eq!(notes(&m.tracks[0]), vec![(60, 0, 2, 100), (60, 2, 8, 50)]);
}

#[test]
fn zero_length_and_very_short_notes_last_one_step() {
    let body = track(&[
        &[0x83, 0x60, 0x90, 60, 100], // tick 480: on …
        &[0x00, 0x80, 60, 0],         // … and off at the same tick
        &[0x83, 0x60, 0x90, 62, 90],  // tick 960: a 10-tick note (1/12 of a step)
        &[0x0A, 0x80, 62, 0],
        &EOT,
    ]);
    let m = read(&smf(0, 480, &[body]), 4).unwrap();
    assert_eq!(notes(&m.tracks[0]), vec![(60, 4, 5, 100), (62, 8, 9, 90)]);
}

#[test]
fn notes_never_switched_off_end_at_end_of_track() {
    let body = track(&[
        &[0x00, 0x90, 60, 100],      // never switched off
        &[0x87, 0x40, 0x90, 62, 90], // tick 960, the End-of-Track tick: one step
        &EOT,
    ]);
    let m = read(&smf(0, 480, &[body]), 4).unwrap();
    assert_eq!(notes(&m.tracks[0]), vec![(60, 0, 8, 100), (62, 8, 9, 90)]);
    assert_eq!(m.len(), 9);
}

#[test]
fn several_tempo_and_time_signature_changes() {
    let conductor = track(&[
        &[0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20],  // 120 qpm
        &[0x00, 0xFF, 0x58, 0x04, 4, 2, 24, 8],       // 4/4
        &[0x8F, 0x00, 0xFF, 0x58, 0x04, 3, 2, 24, 8], // tick 1920: 3/4
        &[0x00, 0xFF, 0x51, 0x03, 0x06, 0x1A, 0x80],  // 400000 µs = 150 qpm
        &[0x8B, 0x20, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40], // tick 3360: 60 qpm
        &[0x00, 0xFF, 0x58, 0x04, 6, 3, 36, 8],       // 6/8
        &EOT,
    ]);
    let notes_track = track(&[
        &[0x00, 0x90, 60, 100],
        &[0xA5, 0x40, 0x80, 60, 0], // tick 4800 = step 40
        &EOT,
    ]);
    let m = read(&smf(1, 480, &[conductor, notes_track]), 4).unwrap();
    assert_eq!(tempos(&m), vec![(0, 120.0), (16, 150.0), (28, 60.0)]);
    assert_eq!(signatures(&m), vec![(0, 4, 4), (16, 3, 4), (28, 6, 8)]);
    // Bars: one 4/4 bar (16 steps), one 3/4 bar (12 steps), then 6/8 bars of 12 steps.
    assert_eq!(m.downbeat_steps(), vec![0, 16, 28]);
    assert_eq!(m.len(), 40);
}

#[test]
fn tempo_in_a_non_zero_track_counts() {
    let conductor = track(&[&[0x00, 0xFF, 0x58, 0x04, 2, 2, 24, 8], &EOT]);
    let notes_track = track(&[
        &[0x00, 0xFF, 0x51, 0x03, 0x03, 0xD0, 0x90], // 250000 µs = 240 qpm
        &[0x00, 0x90, 60, 100],
        &[0x60, 0x80, 60, 0],
        &[0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40], // tick 96: 60 qpm
        &EOT,
    ]);
    let m = read(&smf(1, 96, &[conductor, notes_track]), 4).unwrap();
    assert_eq!(tempos(&m), vec![(0, 240.0), (4, 60.0)]);
    assert_eq!(signatures(&m), vec![(0, 2, 4)]);
}

#[test]
fn notes_before_the_first_time_signature_are_kept_from_step_zero() {
    // pypianoroll takes the first time signature as the first beat and drops what precedes it;
    // museroll starts at tick 0 and assumes 4/4 until then.
    let body = track(&[
        &[0x00, 0x90, 60, 100],
        &[0x83, 0x60, 0x80, 60, 0],                  // tick 480
        &[0x00, 0xFF, 0x58, 0x04, 3, 2, 24, 8],      // 3/4 from beat 1
        &[0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40], // 60 qpm from beat 1
        &[0x00, 0x90, 62, 100],
        &[0x83, 0x60, 0x80, 62, 0],
        &EOT,
    ]);
    let m = read(&smf(0, 480, &[body]), 4).unwrap();
    assert_eq!(notes(&m.tracks[0]), vec![(60, 0, 4, 100), (62, 4, 8, 100)]);
    assert_eq!(signatures(&m), vec![(0, 4, 4), (4, 3, 4)]);
    assert_eq!(tempos(&m), vec![(0, 120.0), (4, 60.0)]);
}

#[test]
fn program_change_mid_track_starts_a_new_track() {
    let body = track(&[
        &name("Strings"),
        &[0x00, 0x90, 60, 100],
        &[0x60, 0xC0, 41],      // tick 96: viola …
        &[0x00, 0x80, 60, 0],   // … the sounding note stays with the old program
        &[0x00, 0x90, 62, 100], // this one is a viola note
        &[0x60, 0x80, 62, 0],
        &EOT,
    ]);
    let m = read(&smf(0, 96, &[body]), 4).unwrap();
    assert_eq!(m.tracks.len(), 2);
    assert_eq!(m.tracks[0].name, "Strings (program 0)");
    assert_eq!(m.tracks[0].program.number(), 0);
    assert_eq!(notes(&m.tracks[0]), vec![(60, 0, 4, 100)]);
    assert_eq!(m.tracks[1].name, "Strings (program 41)");
    assert_eq!(m.tracks[1].program.number(), 41);
    assert_eq!(notes(&m.tracks[1]), vec![(62, 4, 8, 100)]);
}

#[test]
fn sysex_and_unknown_meta_events_are_skipped() {
    let body = track(&[
        &[0x00, 0xF0, 0x05, 0x7E, 0x7F, 0x09, 0x01, 0xF7], // GM reset sysex
        &[0x00, 0xFF, 0x7F, 0x02, 0x00, 0x41],             // sequencer-specific
        &[0x00, 0xFF, 0x01, 0x03, b'a', b'b', b'c'],       // text
        &[0x00, 0x90, 60, 100],
        &[0x60, 0x80, 60, 0],
        &EOT,
        &[0x00, 0x12, 0x34], // garbage after End-of-Track is ignored
    ]);
    let m = read(&smf(0, 96, &[body]), 4).unwrap();
    assert_eq!(notes(&m.tracks[0]), vec![(60, 0, 4, 100)]);
}

#[test]
fn smpte_division_is_refused() {
    // 0xE7 = -25 frames per second, 40 ticks per frame.
    let body = track(&[&[0x00, 0x90, 60, 100], &[0x60, 0x80, 60, 0], &EOT]);
    let message = midi_message(read(&smf(0, 0xE728, &[body]), 4));
    assert!(message.contains("SMPTE"), "{message}");
}

#[test]
fn format_2_is_refused() {
    let body = track(&[&[0x00, 0x90, 60, 100], &[0x60, 0x80, 60, 0], &EOT]);
    let message = midi_message(read(&smf(2, 96, &[body.clone(), body]), 4));
    assert!(message.contains("format 2"), "{message}");
}

#[test]
fn truncated_and_malformed_files_are_refused() {
    let body = track(&[&[0x00, 0x90, 60, 100], &[0x60, 0x80, 60, 0], &EOT]);
    let good = smf(1, 96, &[body.clone(), body.clone()]);
    assert!(read(&good, 4).is_ok());

    // Cut inside the last track chunk.
    let message = midi_message(read(&good[..good.len() - 3], 4));
    assert!(message.contains("truncated"), "{message}");
    // Cut right after the first track: the header promises two.
    let message = midi_message(read(&good[..14 + 8 + body.len()], 4));
    assert!(message.contains("declares 2 tracks"), "{message}");
    // Cut inside the header.
    let message = midi_message(read(&good[..10], 4));
    assert!(message.contains("truncated"), "{message}");
    // Not a MIDI file at all.
    assert!(matches!(read(b"RIFF....WAVE", 4), Err(Error::Midi(_))));
    assert!(matches!(read(b"", 4), Err(Error::Midi(_))));

    // A data byte with its top bit set inside a note-on.
    let bad = track(&[&[0x00, 0x90, 60, 0xC8], &EOT]);
    let message = midi_message(read(&smf(0, 96, &[bad]), 4));
    assert!(message.contains("malformed"), "{message}");
    // A data byte with no running status to apply.
    let bad = track(&[&[0x00, 60, 100], &EOT]);
    let message = midi_message(read(&smf(0, 96, &[bad]), 4));
    assert!(message.contains("track 0"), "{message}");
    // A note-on cut short by the end of its chunk.
    let bad = vec![0x00, 0x90, 60];
    assert!(matches!(read(&smf(0, 96, &[bad]), 4), Err(Error::Midi(_))));
    // Zero ticks per beat.
    let message = midi_message(read(&smf(0, 0, &[body]), 4));
    assert!(message.contains("0 ticks"), "{message}");
}

#[test]
fn invalid_meta_values_are_refused() {
    let zero_tempo = track(&[&[0x00, 0xFF, 0x51, 0x03, 0, 0, 0], &EOT]);
    let message = midi_message(read(&smf(0, 96, &[zero_tempo]), 4));
    assert!(message.contains("tempo"), "{message}");
    let zero_numerator = track(&[&[0x00, 0xFF, 0x58, 0x04, 0, 2, 24, 8], &EOT]);
    let message = midi_message(read(&smf(0, 96, &[zero_numerator]), 4));
    assert!(message.contains("time signature"), "{message}");
    let huge_denominator = track(&[&[0x00, 0xFF, 0x58, 0x04, 4, 8, 24, 8], &EOT]);
    assert!(read(&smf(0, 96, &[huge_denominator]), 4).is_err());
}

#[test]
fn hostile_tick_counts_fail_without_allocating() {
    // One tick per beat and a note 2^28 − 1 ticks long: 6.4 billion steps at 24 per beat.
    let body = track(&[
        &[0x00, 0x90, 60, 100],
        &[0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 0],
        &EOT,
    ]);
    assert!(matches!(
        read(&smf(0, 1, &[body]), 24),
        Err(Error::Invalid(_))
    ));

    // A End-of-Track far away and nothing else.
    let body = track(&[&[0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0x2F, 0x00]]);
    assert!(matches!(
        read(&smf(0, 1, &[body]), 24),
        Err(Error::Invalid(_))
    ));

    // Within the step limit, but 16 instruments × 600 000 steps exceed the track-step limit.
    let mut body = Vec::new();
    for channel in 0..16u8 {
        body.extend([0x00, 0x90 | channel, 60, 100]);
    }
    // 25 000 beats at 24 steps per beat = 600 000 steps: delta 25000 = 0x81 0xC3 0x28.
    body.extend([0x81, 0xC3, 0x28, 0xFF, 0x2F, 0x00]);
    assert!(matches!(
        read(&smf(0, 1, &[body]), 24),
        Err(Error::Invalid(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// A real file: bwv66.6 as written by music21 (10080 ticks per beat, 96 qpm, 4/4, 5 tracks, the
// first a conductor track), made with
//   corpus.parse('bach/bwv66.6').write('midi', fp='bwv66.6.mid')
// pretty_midi 0.2.11 reads it as 4 instruments named Soprano/Alto/Tenor/Bass, program 0, not
// drums, velocity 90 everywhere, one tempo (96 qpm) and one time signature (4/4 at 0). Its note
// times (seconds × 96/60 × 24) are whole steps at resolution 24:
//   Soprano 36 notes, Σpitch 2499, Σstart 14004, Σend 14868, first (73, 0, 12), last (66, 840, 864)
//   Alto    42 notes, Σpitch 2690, Σstart 18024, Σend 18888, first (64, 0, 24), last (61, 840, 864)
//   Tenor   44 notes, Σpitch 2618, Σstart 17124, Σend 17988, first (57, 0, 12), last (58, 840, 864)
//   Bass    41 notes, Σpitch 2156, Σstart 15756, Σend 16620, first (57, 0, 12), last (54, 840, 864)
// and its end time (last note-off) is step 864. music21 puts every End-of-Track one beat later
// (tick 372960 = step 888), and museroll keeps that trailing silence.

const BWV66_6: &[u8] = include_bytes!("fixtures/midi/bwv66.6.mid");

#[test]
fn chorale_matches_pretty_midi() {
    let m = read(BWV66_6, 24).unwrap();
    assert_eq!(m.name, None);
    assert_eq!(tempos(&m), vec![(0, 96.0)]);
    assert_eq!(signatures(&m), vec![(0, 4, 4)]);
    assert_eq!(m.len(), 888);
    assert_eq!(m.active_length(), 864);
    let expected = [
        (
            "Soprano",
            36,
            2499,
            14004,
            14868,
            (73, 0, 12),
            (66, 840, 864),
        ),
        ("Alto", 42, 2690, 18024, 18888, (64, 0, 24), (61, 840, 864)),
        ("Tenor", 44, 2618, 17124, 17988, (57, 0, 12), (58, 840, 864)),
        ("Bass", 41, 2156, 15756, 16620, (57, 0, 12), (54, 840, 864)),
    ];
    assert_eq!(m.tracks.len(), expected.len());
    for (track, (name, count, pitches, starts, ends, first, last)) in m.tracks.iter().zip(expected)
    {
        let ns = notes(track);
        assert_eq!(track.name, name);
        assert_eq!((track.program.number(), track.is_drum), (0, false));
        assert_eq!(ns.len(), count, "{name}");
        assert_eq!(
            ns.iter().map(|n| n.0 as usize).sum::<usize>(),
            pitches,
            "{name}"
        );
        assert_eq!(ns.iter().map(|n| n.1).sum::<usize>(), starts, "{name}");
        assert_eq!(ns.iter().map(|n| n.2).sum::<usize>(), ends, "{name}");
        assert!(ns.iter().all(|n| n.3 == 90), "{name}");
        assert_eq!((ns[0].0, ns[0].1, ns[0].2), first, "{name}");
        let l = ns[ns.len() - 1];
        assert_eq!((l.0, l.1, l.2), last, "{name}");
    }
    // pretty_midi's full soprano line (pitch, start, end in steps); note the repeated B4
    // (71 at 312 and 336) and F#4 (66 at 744, 768, 816), which must stay distinct notes.
    let soprano: Vec<(u8, usize, usize)> = notes(&m.tracks[0])
        .iter()
        .map(|n| (n.0, n.1, n.2))
        .collect();
    assert_eq!(
        soprano,
        vec![
            (73, 0, 12),
            (71, 12, 24),
            (69, 24, 48),
            (71, 48, 72),
            (73, 72, 96),
            (76, 96, 120),
            (73, 120, 144),
            (71, 144, 168),
            (69, 168, 192),
            (73, 192, 216),
            (69, 216, 228),
            (71, 228, 240),
            (68, 240, 264),
            (66, 264, 288),
            (69, 288, 312),
            (71, 312, 336),
            (71, 336, 360),
            (66, 360, 384),
            (64, 384, 408),
            (69, 408, 432),
            (71, 432, 456),
            (73, 456, 480),
            (73, 480, 504),
            (69, 504, 528),
            (71, 528, 552),
            (73, 552, 576),
            (69, 576, 600),
            (68, 600, 624),
            (66, 624, 648),
            (68, 648, 696),
            (66, 696, 744),
            (66, 744, 768),
            (66, 768, 816),
            (66, 816, 828),
            (65, 828, 840),
            (66, 840, 864),
        ]
    );
}

#[test]
fn chorale_survives_a_round_trip() {
    let m = read(BWV66_6, 24).unwrap();
    let bytes = write_midi(&m, &WriteOptions::default()).unwrap();
    let back = read(&bytes, 24).unwrap();
    assert_eq!(back, m);
}

// ---------------------------------------------------------------------------------------------
// Writing.

fn pitch(n: u8) -> Pitch {
    Pitch::new(n).unwrap()
}

fn track_with(
    name: &str,
    program: u8,
    is_drum: bool,
    kind: RollKind,
    steps: usize,
    ns: &[Note],
) -> Track {
    Track {
        name: name.to_owned(),
        program: Program::new(program).unwrap(),
        is_drum,
        roll: Roll::from_notes(kind, steps, ns.iter().copied()),
    }
}

fn note(p: u8, start: usize, end: usize, velocity: u8) -> Note {
    Note {
        pitch: pitch(p),
        start,
        end,
        velocity,
    }
}

/// The written file's ticks per beat and, for each track, its (absolute tick, event) list.
fn parse_written(bytes: &[u8]) -> (u16, Vec<Vec<(u64, midly::TrackEventKind<'_>)>>) {
    let smf = midly::Smf::parse(bytes).unwrap();
    assert_eq!(smf.header.format, midly::Format::Parallel);
    let midly::Timing::Metrical(tpq) = smf.header.timing else {
        panic!("timecode")
    };
    let tracks = smf
        .tracks
        .iter()
        .map(|t| {
            let mut tick = 0u64;
            t.iter()
                .map(|e| {
                    tick += u64::from(e.delta.as_int());
                    (tick, e.kind)
                })
                .collect()
        })
        .collect();
    (tpq.as_int(), tracks)
}

#[test]
fn writer_assigns_channels_skipping_drums_and_reusing_them() {
    let mut m = Multitrack::new(Resolution::new(4).unwrap());
    for i in 0..17u8 {
        let ns = [note(60 + i, 0, 2, 100)];
        m.tracks.push(track_with(
            &format!("t{i}"),
            i,
            false,
            RollKind::Velocity,
            4,
            &ns,
        ));
    }
    m.tracks.insert(
        3,
        track_with(
            "drums",
            0,
            true,
            RollKind::Velocity,
            4,
            &[note(36, 0, 1, 127)],
        ),
    );
    let bytes = write_midi(&m, &WriteOptions::default()).unwrap();
    let (tpq, tracks) = parse_written(&bytes);
    assert_eq!(tpq, 480);
    assert_eq!(tracks.len(), 19, "a conductor track, then one per track");
    let channels: Vec<u8> = tracks[1..]
        .iter()
        .map(|events| {
            let channels: Vec<u8> = events
                .iter()
                .filter_map(|(_, kind)| match kind {
                    midly::TrackEventKind::Midi { channel, .. } => Some(channel.as_int()),
                    _ => None,
                })
                .collect();
            assert!(channels.windows(2).all(|w| w[0] == w[1]));
            channels[0]
        })
        .collect();
    assert_eq!(
        channels,
        vec![0, 1, 2, 9, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 0, 1]
    );
    // Reading it back keeps every track apart, drums included.
    let back = read(&bytes, 4).unwrap();
    assert_eq!(back.tracks, m.tracks);
}

#[test]
fn writer_puts_note_off_before_note_on_of_a_repeated_note() {
    let mut m = Multitrack::new(Resolution::new(4).unwrap());
    let ns = [note(60, 0, 2, 100), note(60, 2, 4, 90)];
    m.tracks
        .push(track_with("p", 0, false, RollKind::Velocity, 4, &ns));
    let bytes = write_midi(&m, &WriteOptions::default()).unwrap();
    let (_, tracks) = parse_written(&bytes);
    let note_events: Vec<(u64, u8, u8)> = tracks[1]
        .iter()
        .filter_map(|(tick, kind)| match kind {
            midly::TrackEventKind::Midi {
                message: midly::MidiMessage::NoteOn { key, vel },
                ..
            } => Some((*tick, key.as_int(), vel.as_int())),
            _ => None,
        })
        .collect();
    // 480 ticks per beat at 4 steps per beat: 120 ticks per step.
    assert_eq!(
        note_events,
        vec![(0, 60, 100), (240, 60, 0), (240, 60, 90), (480, 60, 0)]
    );
    // End-of-Track at the roll's length.
    assert_eq!(tracks[1].last().unwrap().0, 480);
}

#[test]
fn writer_gives_binary_rolls_the_default_velocity() {
    let mut m = Multitrack::new(Resolution::new(24).unwrap());
    m.tracks.push(track_with(
        "b",
        0,
        false,
        RollKind::Binary,
        48,
        &[note(60, 0, 24, 1)],
    ));
    let bytes = write_midi(&m, &WriteOptions::default()).unwrap();
    assert_eq!(
        notes(&read(&bytes, 24).unwrap().tracks[0]),
        vec![(60, 0, 24, 64)]
    );
    let loud = WriteOptions {
        binary_velocity: 100,
    };
    let bytes = write_midi(&m, &loud).unwrap();
    assert_eq!(
        notes(&read(&bytes, 24).unwrap().tracks[0]),
        vec![(60, 0, 24, 100)]
    );
    for bad in [0, 128] {
        let options = WriteOptions {
            binary_velocity: bad,
        };
        assert!(matches!(write_midi(&m, &options), Err(Error::Invalid(_))));
    }
}

#[test]
fn writer_ticks_per_beat_follow_the_resolution() {
    for (resolution, expected) in [(24, 480), (4, 480), (7, 98), (100, 100), (960, 960)] {
        let m = Multitrack::new(Resolution::new(resolution).unwrap());
        let bytes = write_midi(&m, &WriteOptions::default()).unwrap();
        assert_eq!(parse_written(&bytes).0, expected, "resolution {resolution}");
    }
}

#[test]
fn writer_conductor_holds_name_meter_and_tempo() {
    let mut m = Multitrack::new(Resolution::new(4).unwrap());
    m.name = Some("Song".to_owned());
    m.set_tempos([
        Tempo {
            step: 0,
            qpm: 100.0,
        },
        Tempo { step: 8, qpm: 72.5 },
    ])
    .unwrap();
    m.set_time_signatures([TimeSignature {
        step: 0,
        numerator: 7,
        denominator: 8,
    }])
    .unwrap();
    m.tracks.push(track_with(
        "",
        5,
        false,
        RollKind::Velocity,
        16,
        &[note(60, 0, 16, 80)],
    ));
    let bytes = write_midi(&m, &WriteOptions::default()).unwrap();
    let (_, tracks) = parse_written(&bytes);
    use midly::{MetaMessage as M, TrackEventKind as K};
    let conductor: Vec<(u64, K)> = tracks[0].clone();
    assert_eq!(
        conductor,
        vec![
            (0, K::Meta(M::TrackName(b"Song"))),
            (0, K::Meta(M::TimeSignature(7, 3, 12, 8))),
            (0, K::Meta(M::Tempo(600_000.into()))),
            (960, K::Meta(M::Tempo(827_586.into()))), // 60e6 / 72.5 = 827586.2
            (960, K::Meta(M::EndOfTrack)),
        ]
    );
    let back = read(&bytes, 4).unwrap();
    assert_eq!(back.name.as_deref(), Some("Song"));
    assert_eq!(back.tracks[0].name, "");
    assert!((back.tempos()[1].qpm - 72.5).abs() < 1e-4);
}

// ---------------------------------------------------------------------------------------------
// Round trip and robustness properties.

#[derive(Debug, Clone)]
struct TrackSpec {
    name: String,
    program: u8,
    is_drum: bool,
    notes: Vec<(u8, usize, usize, u8)>,
}

fn track_spec() -> impl Strategy<Value = TrackSpec> {
    (
        "[A-Za-z ]{0,8}",
        0u8..128,
        prop::bool::weighted(0.25),
        // Few pitches and short notes, so that same-pitch notes repeat, touch and overlap.
        prop::collection::vec((58u8..63, 0usize..48, 1usize..8, 1u8..128), 1..24),
    )
        .prop_map(|(name, program, is_drum, notes)| TrackSpec {
            name,
            program,
            is_drum,
            notes,
        })
}

fn multitrack_spec() -> impl Strategy<Value = Multitrack> {
    (
        prop::sample::select(vec![1u32, 2, 3, 4, 7, 12, 24, 100]),
        48usize..64,
        prop::option::of("[a-z]{1,6}"),
        prop::collection::vec(track_spec(), 1..5),
        prop::collection::vec((0usize..64, 30u32..300), 0..4),
        prop::collection::vec(
            (
                0usize..64,
                1u8..13,
                prop::sample::select(vec![1u8, 2, 4, 8, 16]),
            ),
            0..4,
        ),
    )
        .prop_map(|(resolution, steps, name, specs, tempos, signatures)| {
            let mut m = Multitrack::new(Resolution::new(resolution).unwrap());
            m.name = name;
            for spec in specs {
                let ns: Vec<Note> = spec
                    .notes
                    .iter()
                    .map(|&(p, start, len, v)| note(p, start, start + len, v))
                    .collect();
                m.tracks.push(track_with(
                    &spec.name,
                    spec.program,
                    spec.is_drum,
                    RollKind::Velocity,
                    steps,
                    &ns,
                ));
            }
            m.set_tempos(tempos.into_iter().map(|(step, qpm)| Tempo {
                step: step.min(steps - 1),
                qpm: f64::from(qpm),
            }))
            .unwrap();
            m.set_time_signatures(
                signatures
                    .into_iter()
                    .map(|(step, numerator, denominator)| TimeSignature {
                        step: step.min(steps - 1),
                        numerator,
                        denominator,
                    }),
            )
            .unwrap();
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn round_trip_keeps_everything(m in multitrack_spec()) {
        let bytes = write_midi(&m, &WriteOptions::default()).unwrap();
        let back = read(&bytes, m.resolution().get()).unwrap();
        prop_assert_eq!(&back.name, &m.name);
        prop_assert_eq!(back.time_signatures(), m.time_signatures());
        prop_assert_eq!(back.tempos().len(), m.tempos().len());
        for (a, b) in back.tempos().iter().zip(m.tempos()) {
            prop_assert_eq!(a.step, b.step);
            // µs per quarter note are integers: at most 0.5 µs off.
            let micros = 60e6 / b.qpm;
            prop_assert!((60e6 / a.qpm - micros).abs() <= 0.5, "{} vs {}", a.qpm, b.qpm);
        }
        prop_assert_eq!(back.tracks.len(), m.tracks.len());
        for (a, b) in back.tracks.iter().zip(&m.tracks) {
            prop_assert_eq!(&a.name, &b.name);
            prop_assert_eq!(a.program, b.program);
            prop_assert_eq!(a.is_drum, b.is_drum);
            prop_assert_eq!(a.roll.len(), b.roll.len());
            prop_assert_eq!(a.roll.notes(), b.roll.notes());
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = read(&bytes, 24);
        let mut with_header = b"MThd\0\0\0\x06\0\x01\0\x02\x01\xe0MTrk".to_vec();
        with_header.extend(&bytes);
        let _ = read(&with_header, 24);
    }

    #[test]
    fn damaged_files_never_panic(
        cut in 0usize..2000,
        flips in prop::collection::vec((0usize..2000, any::<u8>()), 0..4),
    ) {
        let mut bytes = BWV66_6.to_vec();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        bytes.truncate(cut.max(1));
        let _ = read(&bytes, 24);
    }
}
