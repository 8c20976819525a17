//! SoundFont rendering end to end with a SoundFont 2 file built here, byte by byte: one sine
//! sample, looped over whole periods so a held note sustains at a known pitch. The tests check
//! what is heard: pitch (the spectral peak), timing (onsets follow the tempo map), silence where
//! the roll is silent, the level, and the WAV file. One more test uses pretty_midi's General MIDI
//! SoundFont from the project's venv (`./setup.sh` installs it).

mod common;

use museroll_core::synth::{self, Audio, RenderOptions, SoundFont, MAX_FRAMES};
use museroll_core::{Error, Multitrack, Note, Pitch, Program, Resolution, RollKind, Tempo, Track};
use std::f64::consts::PI;

// ---------------------------------------------------------------------------------------------
// A minimal SoundFont 2 file.

/// The sample's rate, and the sine's period: 100 samples, so 440 Hz played at its root key.
const SAMPLE_RATE: u32 = 44_000;
const PERIOD: usize = 100;
/// Eight periods of sine; the loop is periods 2–8, so its end sample (the first of the 46 zero
/// samples that close the data) equals its start sample (sin 0 = 0).
const SAMPLE_LEN: usize = 8 * PERIOD;
const LOOP_START: usize = PERIOD;
/// Volume-envelope release of the instrument, in timecents: 1200 · log2(0.05 s) ≈ −5186.
const RELEASE_TIMECENTS: i16 = -5186;

// SoundFont 2 generator numbers.
const GEN_RELEASE_VOL_ENV: u16 = 38;
const GEN_INSTRUMENT: u16 = 41;
const GEN_SAMPLE_ID: u16 = 53;
const GEN_SAMPLE_MODES: u16 = 54;
const GEN_EXCLUSIVE_CLASS: u16 = 57;

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    assert!(
        body.len().is_multiple_of(2),
        "SoundFont chunks have even sizes"
    );
    let mut out = id.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out
}

fn list(kind: &[u8; 4], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut body = kind.to_vec();
    for c in chunks {
        body.extend_from_slice(c);
    }
    chunk(b"LIST", &body)
}

/// A zero-padded 20-byte name.
fn name20(name: &str) -> Vec<u8> {
    let mut out = name.as_bytes().to_vec();
    out.resize(20, 0);
    out
}

fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A preset header (phdr record, 38 bytes).
fn preset_header(name: &str, preset: u16, bank: u16, bag: u16) -> Vec<u8> {
    let mut out = name20(name);
    out.extend(u16s(&[preset, bank, bag]));
    out.extend([0u8; 12]); // library, genre, morphology
    out
}

/// A sample header (shdr record, 46 bytes).
fn sample_header(name: &str, start: u32, end: u32, loop_start: u32, loop_end: u32) -> Vec<u8> {
    let mut out = name20(name);
    for v in [start, end, loop_start, loop_end, SAMPLE_RATE] {
        out.extend(v.to_le_bytes());
    }
    out.push(69); // original pitch: A4
    out.push(0); // pitch correction
    out.extend(u16s(&[0, 1])); // sample link, sample type (mono)
    out
}

/// The test SoundFont: one preset (bank 0, program 0) playing one instrument whose single zone is
/// the looped sine with root key 69 (A4 = 440 Hz) and a 50 ms release.
fn tiny_sf2() -> Vec<u8> {
    sf2_with_class(None)
}

/// The test SoundFont, its zone in `exclusive_class` when given (every key then cuts off the
/// one before it, as a closed hi-hat cuts off an open one).
fn sf2_with_class(exclusive_class: Option<u16>) -> Vec<u8> {
    let mut smpl: Vec<u8> = (0..SAMPLE_LEN)
        .map(|i| (16_000.0 * (2.0 * PI * i as f64 / PERIOD as f64).sin()).round() as i16)
        .flat_map(|s| s.to_le_bytes())
        .collect();
    smpl.extend([0u8; 2 * 46]);

    let info = list(
        b"INFO",
        &[
            chunk(b"ifil", &u16s(&[2, 1])),
            chunk(b"isng", b"EMU8000\0"),
            chunk(b"INAM", b"museroll test\0\0\0"),
        ],
    );
    let sdta = list(b"sdta", &[chunk(b"smpl", &smpl)]);
    let mut generators = vec![
        GEN_SAMPLE_MODES,
        1, // loop continuously
        GEN_RELEASE_VOL_ENV,
        RELEASE_TIMECENTS as u16,
    ];
    if let Some(class) = exclusive_class {
        generators.extend([GEN_EXCLUSIVE_CLASS, class]);
    }
    let zone_generators = generators.len() as u16 / 2 + 1;
    generators.extend([
        GEN_SAMPLE_ID,
        0, // sample 0, last in its zone as the format requires
        0,
        0, // terminal record
    ]);
    let igen = u16s(&generators);
    let pdta = list(
        b"pdta",
        &[
            chunk(
                b"phdr",
                &[
                    preset_header("Sine", 0, 0, 0),
                    preset_header("EOP", 0, 0, 1),
                ]
                .concat(),
            ),
            chunk(b"pbag", &u16s(&[0, 0, 1, 0])),
            chunk(b"pmod", &[0u8; 10]),
            chunk(b"pgen", &u16s(&[GEN_INSTRUMENT, 0, 0, 0])),
            chunk(
                b"inst",
                &[name20("Sine"), u16s(&[0]), name20("EOI"), u16s(&[1])].concat(),
            ),
            chunk(b"ibag", &u16s(&[0, 0, zone_generators, 0])),
            chunk(b"imod", &[0u8; 10]),
            chunk(b"igen", &igen),
            chunk(
                b"shdr",
                &[
                    sample_header(
                        "sine",
                        0,
                        SAMPLE_LEN as u32,
                        LOOP_START as u32,
                        SAMPLE_LEN as u32,
                    ),
                    sample_header("EOS", 0, 0, 0, 0),
                ]
                .concat(),
            ),
        ],
    );
    let mut body = b"sfbk".to_vec();
    body.extend(info);
    body.extend(sdta);
    body.extend(pdta);
    chunk(b"RIFF", &body)
}

fn soundfont() -> SoundFont {
    SoundFont::from_bytes(&tiny_sf2()).expect("the test SoundFont loads")
}

// ---------------------------------------------------------------------------------------------
// Pieces and measurements.

/// Test rendering: 16 kHz, no reverb (so silence is exact), default level and tail.
const RATE: u32 = 16_000;

fn dry() -> RenderOptions {
    RenderOptions {
        sample_rate: RATE,
        reverb: false,
        ..RenderOptions::default()
    }
}

/// Steps per beat of the test pieces: at 120 qpm a step lasts 0.125 s.
const RES: u32 = 4;
const STEP_SECONDS: f64 = 0.125;

fn note(pitch: u8, start: usize, end: usize, velocity: u8) -> Note {
    Note {
        pitch: Pitch::new(pitch).unwrap(),
        start,
        end,
        velocity,
    }
}

fn track(is_drum: bool, steps: usize, notes: &[Note]) -> Track {
    let mut t = Track::new("t", Program::new(0).unwrap(), is_drum, steps);
    for &n in notes {
        t.roll.add_note(n);
    }
    t
}

fn piece(tracks: Vec<Track>) -> Multitrack {
    let mut m = Multitrack::new(Resolution::new(RES).unwrap());
    m.tracks = tracks;
    m
}

/// The frames of `audio` from `from` to `to` seconds.
fn span(audio: &Audio, from: f64, to: f64) -> (&[f32], &[f32]) {
    let rate = f64::from(audio.sample_rate());
    let a = ((from * rate) as usize).min(audio.frames());
    let b = ((to * rate) as usize).min(audio.frames());
    (&audio.left()[a..b], &audio.right()[a..b])
}

fn rms(audio: &Audio, from: f64, to: f64) -> f64 {
    let (l, r) = span(audio, from, to);
    let sum: f64 = l
        .iter()
        .chain(r)
        .map(|&x| f64::from(x) * f64::from(x))
        .sum();
    (sum / (l.len() + r.len()).max(1) as f64).sqrt()
}

/// Energy of the left channel at `hz` between `from` and `to` seconds (Goertzel, Hann window).
fn energy_at(audio: &Audio, hz: f64, from: f64, to: f64) -> f64 {
    let (l, _) = span(audio, from, to);
    let n = l.len() as f64;
    let coeff = 2.0 * (2.0 * PI * hz / f64::from(audio.sample_rate())).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for (i, &x) in l.iter().enumerate() {
        let window = 0.5 - 0.5 * (2.0 * PI * i as f64 / n).cos();
        let s = f64::from(x) * window + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The frequency (1 Hz steps over 100–2000 Hz) with the most energy between `from` and `to`.
fn spectral_peak(audio: &Audio, from: f64, to: f64) -> f64 {
    (100..=2000)
        .map(|hz| (f64::from(hz), energy_at(audio, f64::from(hz), from, to)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0
}

/// The first time after `from` seconds where the output exceeds 1 % of full scale.
fn onset_after(audio: &Audio, from: f64) -> f64 {
    let rate = f64::from(audio.sample_rate());
    let start = (from * rate) as usize;
    let i = audio.left()[start..]
        .iter()
        .position(|x| x.abs() > 0.01)
        .expect("a note sounds");
    (start + i) as f64 / rate
}

// ---------------------------------------------------------------------------------------------
// Behaviour.

#[test]
fn a_held_note_sounds_at_its_pitch() {
    let sf = soundfont();
    for (pitch, hz) in [(69u8, 440.0), (72, 523.25), (57, 220.0)] {
        let m = piece(vec![track(false, 4, &[note(pitch, 0, 4, 100)])]);
        let audio = synth::render(&m, &sf, &dry()).unwrap();
        // The sustain part of the half-second note: after the attack, before the release.
        let peak = spectral_peak(&audio, 0.1, 0.45);
        assert!(
            (peak - hz).abs() <= 2.0,
            "MIDI {pitch}: spectral peak at {peak} Hz, expected {hz}"
        );
        let at = energy_at(&audio, hz, 0.1, 0.45);
        for off in [
            hz * 0.75,
            hz * 2f64.powf(-1.0 / 12.0),
            hz * 2f64.powf(1.0 / 12.0),
            hz * 1.5,
        ] {
            let e = energy_at(&audio, off, 0.1, 0.45);
            assert!(
                at > 1000.0 * e,
                "MIDI {pitch}: {hz} Hz {at} vs {off} Hz {e}"
            );
        }
    }
}

#[test]
fn silent_steps_are_silent_and_the_tail_ends_when_the_sound_does() {
    let sf = soundfont();
    // Steps 0–2 and 6–8: 0–0.25 s and 0.75–1 s, with a half-second gap.
    let m = piece(vec![track(
        false,
        8,
        &[note(69, 0, 2, 100), note(69, 6, 8, 100)],
    )]);
    let audio = synth::render(&m, &sf, &dry()).unwrap();
    assert!(rms(&audio, 0.02, 0.23) > 0.2);
    assert!(rms(&audio, 0.77, 0.98) > 0.2);
    // The 50 ms release is over well before 0.4 s.
    assert_eq!(rms(&audio, 0.4, 0.72), 0.0);
    // The tail: the release (50 ms, down to −80 dB a little later), not the 2 s allowed.
    let seconds = audio.seconds();
    assert!((1.0..1.25).contains(&seconds), "{seconds} s");
    assert!(rms(&audio, 1.0, 1.02) > 0.0, "the release is kept");
}

#[test]
fn a_silent_piece_stays_silent_and_lasts_its_steps() {
    let sf = soundfont();
    let m = piece(vec![track(false, 8, &[])]);
    let audio = synth::render(
        &m,
        &sf,
        &synth::RenderOptions {
            sample_rate: RATE,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(audio.frames(), RATE as usize); // 8 steps of 0.125 s
    assert_eq!(audio.peak(), 0.0);
    assert!(audio.left().iter().chain(audio.right()).all(|&x| x == 0.0));

    let empty = synth::render(&piece(vec![]), &sf, &dry()).unwrap();
    assert_eq!(empty.frames(), 0);
}

#[test]
fn the_peak_is_normalised_and_never_clips() {
    let sf = soundfont();
    // A dense chord of 24 notes: the raw sum is far above full scale.
    let chord: Vec<Note> = (48..72).map(|p| note(p, 0, 8, 127)).collect();
    let loud = piece(vec![track(false, 8, &chord)]);
    let quiet = piece(vec![track(false, 8, &[note(60, 0, 8, 20)])]);
    for m in [&loud, &quiet] {
        let audio = synth::render(m, &sf, &dry()).unwrap();
        let target = 10f32.powf(-1.0 / 20.0);
        assert!((audio.peak() - target).abs() < 1e-4, "{}", audio.peak());

        let full = RenderOptions {
            peak_dbfs: 0.0,
            ..dry()
        };
        let audio = synth::render(m, &sf, &full).unwrap();
        assert!(
            audio.peak() <= 1.0 && audio.peak() > 0.999,
            "{}",
            audio.peak()
        );
        let quieter = RenderOptions {
            peak_dbfs: -20.0,
            ..dry()
        };
        let audio = synth::render(m, &sf, &quieter).unwrap();
        assert!((audio.peak() - 0.1).abs() < 1e-4, "{}", audio.peak());
    }
}

#[test]
fn velocities_set_loudness_and_binary_rolls_play_at_the_default_velocity() {
    let sf = soundfont();
    let m = piece(vec![track(
        false,
        8,
        &[note(69, 0, 4, 120), note(69, 4, 8, 30)],
    )]);
    let audio = synth::render(&m, &sf, &dry()).unwrap();
    let (strong, weak) = (rms(&audio, 0.1, 0.45), rms(&audio, 0.6, 0.95));
    assert!(strong > 3.0 * weak && weak > 0.0, "{strong} vs {weak}");

    // A binary roll sounds exactly as a velocity roll at DEFAULT_VELOCITY.
    let notes = [note(69, 0, 3, 1), note(64, 2, 6, 1)];
    let mut binary = track(false, 8, &[]);
    binary.roll = museroll_core::Roll::from_notes(RollKind::Binary, 8, notes);
    let velocity = track(
        false,
        8,
        &notes.map(|n| Note {
            velocity: museroll_core::DEFAULT_VELOCITY,
            ..n
        }),
    );
    let a = synth::render(&piece(vec![binary]), &sf, &dry()).unwrap();
    let b = synth::render(&piece(vec![velocity]), &sf, &dry()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn onsets_follow_the_tempo_map() {
    let sf = soundfont();
    let mut m = piece(vec![track(
        false,
        16,
        &[
            note(69, 2, 3, 100),
            note(69, 8, 9, 100),
            note(69, 12, 13, 100),
        ],
    )]);
    // 120 qpm for steps 0–8 (0.125 s a step), then 60 qpm (0.25 s a step).
    m.set_tempos([
        Tempo {
            step: 0,
            qpm: 120.0,
        },
        Tempo { step: 8, qpm: 60.0 },
    ])
    .unwrap();
    let audio = synth::render(&m, &sf, &dry()).unwrap();
    // Block-accurate: within half a 64-frame block (2 ms at 16 kHz), plus the ~1 ms attack.
    for (from, expected) in [(0.0, 2.0 * STEP_SECONDS), (0.5, 1.0), (1.5, 2.0)] {
        let onset = onset_after(&audio, from);
        assert!(
            (onset - expected).abs() < 0.004,
            "onset at {onset} s, expected {expected}"
        );
    }
    let expected_end = m.seconds_at(16);
    assert_eq!(expected_end, 3.0);
    assert!(audio.seconds() >= 3.0);
}

#[test]
fn repeated_notes_are_struck_again() {
    let sf = soundfont();
    // Two notes of the same pitch back to back: the first one's release overlaps the second's
    // attack, so the level dips at the boundary only if the note is struck anew.
    let struck = piece(vec![track(
        false,
        8,
        &[note(69, 0, 4, 100), note(69, 4, 8, 100)],
    )]);
    let held = piece(vec![track(false, 8, &[note(69, 0, 8, 100)])]);
    let a = synth::render(&struck, &sf, &dry()).unwrap();
    let b = synth::render(&held, &sf, &dry()).unwrap();
    assert_ne!(a.left()[..RATE as usize], b.left()[..RATE as usize]);
    // Both sound throughout.
    assert!(rms(&a, 0.45, 0.5) > 0.1);
    assert!(rms(&a, 0.55, 0.95) > 0.1);
}

#[test]
fn drums_and_tracks_that_share_a_channel_sound() {
    let sf = soundfont();
    // The test SoundFont has no drum kit: the synthesizer falls back to its first preset, so drum
    // notes sound as the sine (the point is that the drum channel plays).
    let drums = piece(vec![track(true, 4, &[note(69, 0, 2, 100)])]);
    let audio = synth::render(&drums, &sf, &dry()).unwrap();
    assert!(rms(&audio, 0.02, 0.23) > 0.1);

    // 16 pitched tracks: tracks 1 and 16 share channel 1. Track 1 holds A4 for steps 0–4,
    // track 16 holds A4 for steps 2–8: the note goes on until step 8 although track 1's ends.
    let mut tracks: Vec<Track> = (0..16).map(|_| track(false, 8, &[])).collect();
    tracks[0] = track(false, 8, &[note(69, 0, 4, 100)]);
    tracks[15] = track(false, 8, &[note(69, 2, 8, 100)]);
    let audio = synth::render(&piece(tracks), &sf, &dry()).unwrap();
    assert!(rms(&audio, 0.7, 0.95) > 0.1);
    assert!(audio.seconds() < 1.2);
}

#[test]
fn wav_files_round_trip_through_hound() {
    let sf = soundfont();
    let m = piece(vec![track(
        false,
        8,
        &[note(69, 0, 4, 100), note(76, 4, 8, 80)],
    )]);
    let audio = synth::render(&m, &sf, &dry()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.WAV");
    synth::write_wav(&path, &audio).unwrap();

    let mut reader = hound::WavReader::open(&path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.channels, 2);
    assert_eq!(spec.sample_rate, RATE);
    assert_eq!(spec.bits_per_sample, 16);
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    assert_eq!(reader.duration() as usize, audio.frames());
    // The piece (1 s) and its short release.
    let seconds = f64::from(reader.duration()) / f64::from(RATE);
    assert!((1.0..1.25).contains(&seconds), "{seconds}");
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    for (i, pair) in samples.chunks_exact(2).enumerate() {
        let expected = [audio.left()[i], audio.right()[i]].map(|x| (x * 32767.0).round() as i16);
        assert_eq!(pair, expected, "frame {i}");
    }
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert_eq!(peak, (32767.0 * 10f32.powf(-1.0 / 20.0)).round() as u16);

    // Only .wav is written.
    let err = synth::write_wav(&dir.path().join("out.mp3"), &audio).unwrap_err();
    assert!(err.to_string().contains("out.mp3"), "{err}");
    assert!(err.to_string().contains("use .wav"), "{err}");
}

/// The test SoundFont played by rustysynth itself, every note in one synthesizer, as a MIDI
/// player would: note-offs then note-ons at the block boundary nearest each step (notes of one
/// key must not overlap). Returns the left channel, rendered until the sound has died.
fn played_together(notes: &[Note]) -> Vec<f32> {
    let sf = std::sync::Arc::new(rustysynth::SoundFont::new(&mut &tiny_sf2()[..]).unwrap());
    let mut settings = rustysynth::SynthesizerSettings::new(RATE as i32);
    settings.enable_reverb_and_chorus = false;
    let mut synth = rustysynth::Synthesizer::new(&sf, &settings).unwrap();
    // Steps of 0.125 s: 2000 frames at 16 kHz.
    let block = |step: usize| (step * 2000 + 32) / 64;
    let last = notes.iter().map(|n| block(n.end)).max().unwrap();
    let mut left = Vec::new();
    let (mut l, mut r) = ([0f32; 64], [0f32; 64]);
    for b in 0..last + 16_000 / 64 {
        for n in notes.iter().filter(|n| block(n.end) == b) {
            synth.note_off(0, i32::from(n.pitch.number()));
        }
        for n in notes.iter().filter(|n| block(n.start) == b) {
            synth.note_on(0, i32::from(n.pitch.number()), i32::from(n.velocity));
        }
        synth.render(&mut l, &mut r);
        left.extend_from_slice(&l);
    }
    left
}

#[test]
fn mixing_notes_synthesized_alone_equals_playing_them_together() {
    let sf = soundfont();
    // A chord, a melody over it and a repeated key, at several velocities.
    let notes = [
        note(57, 0, 8, 90),
        note(64, 0, 4, 70),
        note(64, 4, 8, 100),
        note(69, 1, 3, 120),
        note(72, 3, 6, 60),
        note(76, 5, 7, 110),
    ];
    let audio = synth::render(&piece(vec![track(false, 8, &notes)]), &sf, &dry()).unwrap();
    let reference = played_together(&notes);
    let reference_peak = reference.iter().fold(0f32, |m, x| m.max(x.abs()));
    let left_peak = audio.left().iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = left_peak / reference_peak;
    // Both normalised alike: sample by sample, the same signal.
    let worst = audio
        .left()
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b * scale).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-5, "largest difference {worst}");
    // And the rendering lasts as long as the reference sounds (within its −80 dB cut).
    let reference_end = reference
        .iter()
        .rposition(|x| x.abs() > reference_peak * 1e-4)
        .unwrap();
    assert!(
        audio.frames().abs_diff(reference_end + 1) <= 64,
        "{} frames vs {}",
        audio.frames(),
        reference_end + 1
    );
}

#[test]
fn several_pieces_render_as_each_alone_and_a_bad_one_fails_alone() {
    let sf = soundfont();
    let a = piece(vec![track(
        false,
        8,
        &[note(69, 0, 4, 100), note(72, 2, 8, 90)],
    )]);
    let b = piece(vec![track(
        false,
        6,
        &[note(72, 2, 8, 90), note(57, 0, 6, 64)],
    )]);
    let mut long = piece(vec![track(false, 4, &[note(60, 0, 1, 100)])]);
    long.set_tempos([Tempo { step: 0, qpm: 1e-6 }]).unwrap();
    let all = synth::render_many(&[&a, &long, &b], &sf, &dry()).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[0].as_ref().unwrap(),
        &synth::render(&a, &sf, &dry()).unwrap()
    );
    assert!(matches!(all[1], Err(Error::Invalid(_))));
    assert_eq!(
        all[2].as_ref().unwrap(),
        &synth::render(&b, &sf, &dry()).unwrap()
    );
    // Options are checked before anything is rendered.
    let bad = RenderOptions {
        sample_rate: 1,
        ..dry()
    };
    assert!(synth::render_many(&[&a], &sf, &bad).is_err());
}

#[test]
fn the_reverb_adds_a_decaying_tail_and_keeps_the_pitch() {
    let sf = soundfont();
    // A quarter-second A4, then silence to the end of the 1-second piece.
    let m = piece(vec![track(false, 8, &[note(69, 0, 2, 100)])]);
    let dry_audio = synth::render(&m, &sf, &dry()).unwrap();
    let wet = RenderOptions {
        reverb: true,
        ..dry()
    };
    let wet_audio = synth::render(&m, &sf, &wet).unwrap();
    // Dry, the note's 50 ms release is over by 0.35 s; the reverb still sounds, decaying.
    assert_eq!(rms(&dry_audio, 0.35, 0.6), 0.0);
    let (early, late) = (rms(&wet_audio, 0.35, 0.6), rms(&wet_audio, 1.2, 1.45));
    assert!(early > 1e-3, "{early}");
    assert!(late < early / 4.0 && late > 0.0, "{early} then {late}");
    // The dry piece lasts its steps; the reverb rings on after them. The channels differ (the
    // right channel's delays are longer).
    assert_eq!(dry_audio.seconds(), 1.0);
    assert!(wet_audio.seconds() > 1.5, "{} s", wet_audio.seconds());
    assert_ne!(wet_audio.left(), wet_audio.right());
    // The note itself still sounds at 440 Hz.
    let peak = spectral_peak(&wet_audio, 0.05, 0.25);
    assert!((peak - 440.0).abs() <= 2.0, "{peak} Hz");
}

#[test]
fn a_note_of_an_exclusive_class_cuts_off_the_one_before() {
    // A4 held for steps 0–8, E5 from step 4: with an exclusive class, A4 stops at step 4.
    let notes = [note(69, 0, 8, 100), note(76, 4, 8, 100)];
    let m = piece(vec![track(false, 8, &notes)]);
    let free = synth::render(&m, &SoundFont::from_bytes(&tiny_sf2()).unwrap(), &dry()).unwrap();
    let classed = SoundFont::from_bytes(&sf2_with_class(Some(1))).unwrap();
    let cut = synth::render(&m, &classed, &dry()).unwrap();
    for audio in [&free, &cut] {
        assert!(energy_at(audio, 440.0, 0.1, 0.45) > 1.0);
        assert!(energy_at(audio, 659.26, 0.6, 0.95) > 1.0);
    }
    let (a_free, a_cut) = (
        energy_at(&free, 440.0, 0.6, 0.95),
        energy_at(&cut, 440.0, 0.6, 0.95),
    );
    assert!(a_free > 1.0 && a_cut < a_free * 1e-4, "{a_free} vs {a_cut}");
}

// ---------------------------------------------------------------------------------------------
// Bad input.

#[test]
fn bad_options_and_long_pieces_are_refused() {
    let sf = soundfont();
    let m = piece(vec![track(false, 4, &[note(69, 0, 4, 100)])]);
    let bad = [
        RenderOptions {
            sample_rate: 0,
            ..dry()
        },
        RenderOptions {
            sample_rate: 8_000,
            ..dry()
        },
        RenderOptions {
            sample_rate: 400_000,
            ..dry()
        },
        RenderOptions {
            peak_dbfs: 3.0,
            ..dry()
        },
        RenderOptions {
            peak_dbfs: f64::NAN,
            ..dry()
        },
        RenderOptions {
            max_tail: -1.0,
            ..dry()
        },
        RenderOptions {
            max_tail: f64::INFINITY,
            ..dry()
        },
    ];
    for options in bad {
        match synth::render(&m, &sf, &options) {
            Err(Error::Invalid(message)) => assert!(!message.is_empty()),
            other => panic!("{options:?}: {other:?}"),
        }
    }
    let err = synth::render(
        &m,
        &sf,
        &RenderOptions {
            sample_rate: 0,
            ..dry()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value: sample rate 0 Hz is outside 16000–192000 Hz"
    );

    // Four hours (14 400 beats at 60 qpm): 230 million frames at 16 kHz, refused before
    // anything is allocated.
    let mut long = Multitrack::new(Resolution::new(1).unwrap());
    long.set_tempos([Tempo { step: 0, qpm: 60.0 }]).unwrap();
    long.tracks = vec![track(false, 14_400, &[note(60, 0, 1, 100)])];
    let err = match synth::render(&long, &sf, &dry()) {
        Err(e) => e.to_string(),
        Ok(audio) => panic!("rendered {} frames", audio.frames()),
    };
    assert!(err.contains(&MAX_FRAMES.to_string()), "{err}");
    // A very slow tempo makes a short roll long too.
    let mut slow = piece(vec![track(false, 4, &[note(60, 0, 1, 100)])]);
    slow.set_tempos([Tempo { step: 0, qpm: 1e-6 }]).unwrap();
    assert!(matches!(
        synth::render(&slow, &sf, &dry()),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn corrupt_soundfonts_are_errors_not_panics() {
    let good = tiny_sf2();
    // Not a SoundFont at all.
    for bytes in [&b""[..], b"RIFF", b"RIFF\x10\0\0\0WAVEfmt ", &[0x55; 300]] {
        let err = SoundFont::from_bytes(bytes).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SoundFont: not a SoundFont 2 file"),
            "{err}"
        );
    }
    // Every truncation.
    for len in 0..good.len() {
        assert!(
            SoundFont::from_bytes(&good[..len]).is_err(),
            "truncated at {len}"
        );
    }
    // A chunk size claiming 4 GB: refused by the structure check, nothing allocated.
    let smpl = good.windows(4).position(|w| w == b"smpl").unwrap();
    let mut huge = good.clone();
    huge[smpl + 4..smpl + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let err = SoundFont::from_bytes(&huge).unwrap_err().to_string();
    assert!(err.contains("'smpl' claims 4294967280 bytes"), "{err}");
    // A bag index past the generator list (rustysynth would index out of bounds).
    let ibag = good.windows(4).position(|w| w == b"ibag").unwrap();
    let mut bad_bag = good.clone();
    bad_bag[ibag + 12..ibag + 14].copy_from_slice(&9u16.to_le_bytes());
    let err = SoundFont::from_bytes(&bad_bag).unwrap_err().to_string();
    assert!(
        err.contains("'ibag' points to record 9 of 'igen', which has 4"),
        "{err}"
    );

    // A sample rate that would send the oscillator far past its loop.
    let shdr = good.windows(4).position(|w| w == b"shdr").unwrap();
    let mut fast = good.clone();
    fast[shdr + 8 + 36..shdr + 8 + 40].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = SoundFont::from_bytes(&fast).unwrap_err().to_string();
    assert!(
        err.contains("sample 0 has a sample rate of 4294967295 Hz"),
        "{err}"
    );

    // Every byte outside the sample data set to extreme values: whatever loads must also render
    // a note (no panic caught inside, no hang).
    let data = good.windows(4).position(|w| w == b"smpl").unwrap() + 8;
    let data_end = data + 2 * (SAMPLE_LEN + 46);
    let m = piece(vec![track(false, 1, &[note(69, 0, 1, 100)])]);
    let options = RenderOptions {
        max_tail: 0.1,
        ..dry()
    };
    let mut loaded = 0;
    for i in (0..good.len()).filter(|i| !(data..data_end).contains(i)) {
        for value in [0x00, 0x7F, 0x80, 0xFF] {
            let mut bytes = good.clone();
            bytes[i] = value;
            if let Ok(sf) = SoundFont::from_bytes(&bytes) {
                loaded += 1;
                if let Err(e) = synth::render(&m, &sf, &options) {
                    panic!("byte {i} set to {value:#x}: {e}");
                }
            }
        }
    }
    assert!(loaded > 100, "{loaded}");
}

#[test]
fn soundfont_files_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sf2");
    let err = SoundFont::open(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.sf2"), "{err}");

    let garbage = dir.path().join("garbage.sf2");
    std::fs::write(&garbage, b"MThd\0\0\0\x06").unwrap();
    let err = SoundFont::open(&garbage).unwrap_err().to_string();
    assert!(
        err.contains("garbage.sf2: SoundFont: not a SoundFont 2 file"),
        "{err}"
    );

    let good = dir.path().join("tiny.sf2");
    std::fs::write(&good, tiny_sf2()).unwrap();
    let sf = SoundFont::open(&good).unwrap();
    assert_eq!(sf.name(), "museroll test");
}

// ---------------------------------------------------------------------------------------------
// A real General MIDI SoundFont.

#[test]
fn a_general_midi_soundfont_plays_drums_and_piano() {
    let path = common::venv_data(museroll_core::venv::GM_SOUNDFONT);
    let sf = SoundFont::open(&path).unwrap();
    // Kick, snare, kick, snare at 0–0.5 s; a piano middle C at 1–1.5 s.
    let drums = track(
        true,
        16,
        &[
            note(36, 0, 1, 110),
            note(38, 1, 2, 110),
            note(36, 2, 3, 110),
            note(38, 3, 4, 110),
        ],
    );
    let piano = track(false, 16, &[note(60, 8, 12, 100)]);
    let options = RenderOptions {
        sample_rate: RATE,
        ..RenderOptions::default()
    };
    let audio = synth::render(&piece(vec![drums, piano]), &sf, &options).unwrap();
    let (drums_rms, piano_rms) = (rms(&audio, 0.0, 0.5), rms(&audio, 1.0, 1.5));
    assert!(drums_rms > 0.01, "drums: {drums_rms}");
    assert!(piano_rms > 0.01, "piano: {piano_rms}");
    // The piano note's fundamental (261.6 Hz) stands out over the neighbouring semitones.
    let c4 = energy_at(&audio, 261.63, 1.05, 1.45);
    for off in [246.94, 277.18] {
        assert!(c4 > 10.0 * energy_at(&audio, off, 1.05, 1.45));
    }
    assert!((audio.peak() - 10f32.powf(-1.0 / 20.0)).abs() < 1e-4);
}
