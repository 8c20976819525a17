//! MusicXML reader: hand-written scores for each feature, hostile archives, and the Bach chorales
//! of music21's corpus cross-checked against music21.

mod common;

use museroll_core::io::ReadOptions;
use museroll_core::musicxml::{read_musicxml, read_mxl};
use museroll_core::{Multitrack, Resolution, TimeSignature};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads at 4 steps per quarter note (16th notes), small enough to write expectations by hand.
fn read(xml: &str) -> Multitrack {
    read_musicxml(xml.as_bytes(), &at(4)).unwrap_or_else(|e| panic!("{e}"))
}

fn at(resolution: u32) -> ReadOptions {
    ReadOptions {
        resolution: Resolution::new(resolution).unwrap(),
    }
}

fn read_err(xml: &str) -> String {
    read_musicxml(xml.as_bytes(), &at(4))
        .expect_err("the score should be refused")
        .to_string()
}

/// A score of one part "Piano" (P1) holding `measures`.
fn one_part(measures: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><score-partwise version="4.0"><part-list><score-part id="P1">
        <part-name>Piano</part-name></score-part></part-list><part id="P1">{measures}</part>
        </score-partwise>"#
    )
}

/// `(pitch, start, end, velocity)` of every note of track `t`.
fn notes(song: &Multitrack, t: usize) -> Vec<(u8, usize, usize, u8)> {
    song.tracks[t]
        .roll
        .notes()
        .iter()
        .map(|n| (n.pitch.number(), n.start, n.end, n.velocity))
        .collect()
}

/// `(pitch, start, end)` of every note of track `t`.
fn spans(song: &Multitrack, t: usize) -> Vec<(u8, usize, usize)> {
    notes(song, t)
        .into_iter()
        .map(|(p, s, e, _)| (p, s, e))
        .collect()
}

fn ts(step: usize, numerator: u8, denominator: u8) -> TimeSignature {
    TimeSignature {
        step,
        numerator,
        denominator,
    }
}

fn pitch(step: &str, octave: i32) -> String {
    format!("<pitch><step>{step}</step><octave>{octave}</octave></pitch>")
}

/// A note of `duration` divisions; `extra` goes inside the <note> after the duration.
fn note(step: &str, octave: i32, duration: u32, extra: &str) -> String {
    format!(
        "<note>{}<duration>{duration}</duration>{extra}</note>",
        pitch(step, octave)
    )
}

const DIV1_44: &str = "<attributes><divisions>1</divisions><time><beats>4</beats>\
                       <beat-type>4</beat-type></time></attributes>";

// ---------------------------------------------------------------------------------------------
// Fixtures

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/musicxml")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn duet_fixture_reads_parts_programs_ties_chords_and_meter() {
    let song = read_musicxml(&fixture("duet_partwise.musicxml"), &at(4)).unwrap();
    assert_eq!(song.name.as_deref(), Some("Duet"));
    let names: Vec<_> = song.tracks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Violin", "Cello"]);
    // <midi-program> counts from 1: 41 is GM program 40, Violin.
    assert_eq!(song.tracks[0].program.number(), 40);
    assert_eq!(song.tracks[1].program.number(), 42);
    assert!(!song.tracks[0].is_drum);
    // Quarter = 4 steps; the tied G5 spans the barline; F#5 follows a quarter rest.
    assert_eq!(
        spans(&song, 0),
        [
            (76, 0, 4),
            (74, 4, 6),
            (72, 6, 8),
            (79, 8, 16),
            (78, 20, 24)
        ]
    );
    assert_eq!(spans(&song, 1), [(48, 0, 12), (55, 0, 12), (46, 12, 24)]);
    assert_eq!(song.len(), 24);
    assert_eq!(song.time_signatures(), [ts(0, 3, 4)]);
    assert_eq!(song.tempos()[0].qpm, 100.0);
    assert_eq!(song.downbeat_steps(), [0, 12]);
}

#[test]
fn timewise_score_reads_like_its_partwise_twin() {
    let partwise = read_musicxml(&fixture("duet_partwise.musicxml"), &at(12)).unwrap();
    let timewise = read_musicxml(&fixture("duet_timewise.musicxml"), &at(12)).unwrap();
    assert_eq!(timewise, partwise);
}

// ---------------------------------------------------------------------------------------------
// Notes and time

#[test]
fn chord_notes_start_with_the_previous_note_and_do_not_move_time() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}{}{}{}{}</measure>",
        note("C", 4, 1, ""),
        note("E", 4, 1, "").replace("<note>", "<note><chord/>"),
        note("G", 4, 2, "").replace("<note>", "<note><chord/>"),
        note("A", 4, 3, ""),
    )));
    // The chord's longer G4 does not push the cursor: A4 follows after one beat.
    assert_eq!(
        spans(&song, 0),
        [(60, 0, 4), (64, 0, 4), (67, 0, 8), (69, 4, 16)]
    );
}

#[test]
fn ties_join_notes_across_barlines_including_chains_and_notation_only_ties() {
    let tie = |t: &str| format!("<tie type=\"{t}\"/>");
    let tied = |t: &str| format!("<notations><tied type=\"{t}\"/></notations>");
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}<note><rest/><duration>1</duration></note>{}{}</measure>\
         <measure number=\"2\">{}{}{}{}</measure><measure number=\"3\">{}</measure>",
        note("D", 4, 1, ""),
        note("C", 4, 2, &tie("start")),
        note("C", 4, 1, &tie("stop")),
        note("C", 4, 1, ""), // struck again: a new note
        note("E", 4, 1, &tied("start")),
        note("E", 4, 1, &(tied("stop") + &tied("start"))),
        note("E", 4, 4, &tied("stop")),
    )));
    assert_eq!(
        spans(&song, 0),
        [(62, 4, 8), (60, 8, 20), (60, 20, 24), (64, 24, 48)]
    );
}

#[test]
fn backup_and_forward_place_a_second_voice() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}{}<backup><duration>4</duration></backup>\
         <forward><duration>1</duration><voice>2</voice></forward>{}{}</measure>",
        note("C", 5, 4, "<voice>1</voice>"),
        note("G", 4, 1, "<voice>2</voice>"),
        note("A", 4, 2, "<voice>2</voice>"),
    )));
    assert_eq!(spans(&song, 0), [(72, 0, 16), (67, 4, 8), (69, 8, 16)]);
    assert_eq!(song.len(), 16);
}

#[test]
fn a_backup_past_the_measure_start_stops_there() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}{}<backup><duration>9</duration></backup>{}</measure>",
        note("C", 5, 4, ""),
        note("C", 3, 4, ""),
    )));
    assert_eq!(spans(&song, 0), [(48, 0, 16), (72, 0, 16)]);
}

#[test]
fn two_staves_go_into_one_track() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\"><attributes><divisions>2</divisions><staves>2</staves>\
         </attributes>{}{}<backup><duration>8</duration></backup>{}</measure>",
        note("E", 5, 4, "<voice>1</voice><staff>1</staff>"),
        note("D", 5, 4, "<voice>1</voice><staff>1</staff>"),
        note("C", 3, 8, "<voice>5</voice><staff>2</staff>"),
    )));
    assert_eq!(song.tracks.len(), 1);
    assert_eq!(spans(&song, 0), [(48, 0, 16), (76, 0, 8), (74, 8, 16)]);
}

#[test]
fn divisions_may_change_mid_part_and_positions_stay_exact() {
    let xml = one_part(&format!(
        "<measure number=\"1\"><attributes><divisions>1</divisions><time><beats>2</beats>\
         <beat-type>4</beat-type></time></attributes>{}{}</measure>\
         <measure number=\"2\"><attributes><divisions>3</divisions></attributes>{}{}{}{}</measure>",
        note("C", 4, 1, ""),
        note("D", 4, 1, ""),
        note("E", 4, 1, ""), // triplet eighths: a third of a quarter each
        note("F", 4, 1, ""),
        note("G", 4, 1, ""),
        note("A", 4, 3, ""),
    ));
    // At 12 steps per quarter the triplets are exact.
    let song = read_musicxml(xml.as_bytes(), &at(12)).unwrap();
    assert_eq!(
        spans(&song, 0),
        [
            (60, 0, 12),
            (62, 12, 24),
            (64, 24, 28),
            (65, 28, 32),
            (67, 32, 36),
            (69, 36, 48)
        ]
    );
    // At 4 steps per quarter, 8⅓ → 9⅓ → 10⅔ round to 9 and 11 (halves up), from exact positions.
    let song = read(&xml);
    assert_eq!(
        spans(&song, 0),
        [
            (60, 0, 4),
            (62, 4, 8),
            (64, 8, 9),
            (65, 9, 11),
            (67, 11, 12),
            (69, 12, 16)
        ]
    );
}

#[test]
fn notes_shorter_than_a_step_keep_one_step() {
    // Four 64th notes at 4 steps per quarter: each a quarter of a step.
    let song = read(&one_part(&format!(
        "<measure number=\"1\"><attributes><divisions>16</divisions></attributes>{}{}{}{}</measure>",
        note("C", 4, 1, ""),
        note("D", 4, 1, ""),
        note("E", 4, 1, ""),
        note("F", 4, 1, ""),
    )));
    // Starts 0, 0.25, 0.5, 0.75 round to 0, 0, 1, 1; ends 0.25.. round to 0, 1, 1, 1.
    assert_eq!(
        spans(&song, 0),
        [(60, 0, 1), (62, 0, 1), (64, 1, 2), (65, 1, 2)]
    );
}

#[test]
fn rests_take_time_and_trailing_rests_lengthen_the_song() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}<note><rest measure=\"yes\"/><duration>4</duration></note>\
         </measure><measure number=\"2\">{}<note><rest/><duration>3</duration></note></measure>",
        note("B", 3, 1, ""),
    )));
    assert_eq!(spans(&song, 0), [(59, 16, 20)]);
    assert_eq!(song.len(), 32);
}

#[test]
fn grace_notes_are_skipped_and_take_no_time() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}<note><grace slash=\"yes\"/>{}<type>eighth</type></note>\
         <note><grace/><chord/>{}<type>eighth</type></note>{}{}</measure>",
        pitch("D", 5),
        pitch("F", 5),
        note("C", 5, 2, ""),
        note("B", 4, 2, ""),
    )));
    assert_eq!(spans(&song, 0), [(72, 0, 8), (71, 8, 16)]);
}

#[test]
fn cue_notes_take_their_time_but_do_not_sound() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}<note><cue/>{}<duration>2</duration></note>{}</measure>",
        pitch("D", 5),
        note("C", 5, 2, ""),
    )));
    assert_eq!(spans(&song, 0), [(72, 8, 16)]);
}

#[test]
fn repeats_are_not_expanded() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}<barline location=\"left\"><repeat direction=\"forward\"/>\
         </barline>{}</measure><measure number=\"2\"><barline location=\"left\"><ending number=\"1\" \
         type=\"start\"/></barline>{}<barline location=\"right\"><ending number=\"1\" type=\"stop\"/>\
         <repeat direction=\"backward\" times=\"2\"/></barline></measure>\
         <measure number=\"3\"><barline location=\"left\"><ending number=\"2\" type=\"start\"/>\
         </barline>{}</measure>",
        note("C", 4, 4, ""),
        note("D", 4, 4, ""),
        note("E", 4, 4, ""),
    )));
    // Read once, as written: both endings in order, three bars.
    assert_eq!(spans(&song, 0), [(60, 0, 16), (62, 16, 32), (64, 32, 48)]);
    assert_eq!(song.len(), 48);
}

#[test]
fn pitch_follows_step_alter_octave_and_transposition() {
    let alter = |step: &str, alter: &str, octave: i32| {
        format!(
            "<note><pitch><step>{step}</step><alter>{alter}</alter><octave>{octave}</octave>\
             </pitch><duration>1</duration></note>"
        )
    };
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}{}{}{}{}</measure>\
         <measure number=\"2\"><attributes><transpose><diatonic>-1</diatonic>\
         <chromatic>-2</chromatic></transpose></attributes>{}{}</measure>",
        alter("C", "-1", 4),   // C♭4 = B3
        alter("B", "1", 3),    // B♯3 = C4
        alter("A", "0", 0),    // lowest piano key
        alter("G", "-0.5", 9), // a quarter-tone flat rounds to the nearest semitone
        note("D", 4, 1, ""),   // B♭ clarinet: written D4 sounds C4
        note("G", 9, 1, ""),   // sounds F9 = 125
    )));
    let pitches: Vec<u8> = notes(&song, 0).iter().map(|n| n.0).collect();
    assert_eq!(pitches, [59, 60, 21, 126, 60, 125]);
}

#[test]
fn pitches_outside_midi_are_skipped() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}{}{}</measure>",
        note("A", 9, 2, ""), // MIDI 129
        note("C", -1, 2, ""),
    )));
    assert_eq!(spans(&song, 0), [(0, 8, 16)]);
}

// ---------------------------------------------------------------------------------------------
// Tempo, dynamics, parts

#[test]
fn tempo_marks_from_sound_and_metronome() {
    let metronome = |unit: &str, dots: usize, per_minute: &str| {
        format!(
            "<direction-type><metronome><beat-unit>{unit}</beat-unit>{}<per-minute>{per_minute}\
             </per-minute></metronome></direction-type>",
            "<beat-unit-dot/>".repeat(dots)
        )
    };
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}<direction>{}</direction>{}</measure>\
         <measure number=\"2\">{}<direction>{}<sound tempo=\"85\"/></direction>{}\
         <direction>{}</direction>{}</measure>",
        metronome("quarter", 1, "60"), // dotted quarter = 60 → 90 quarters a minute
        note("C", 4, 4, ""),
        note("C", 4, 1, ""),
        metronome("half", 0, "40"), // 80 qpm, but the <sound> of the same direction wins
        note("C", 4, 1, ""),
        metronome("eighth", 0, "c. 100"), // 50 qpm
        note("C", 4, 2, ""),
    )));
    let tempos: Vec<(usize, f64)> = song.tempos().iter().map(|t| (t.step, t.qpm)).collect();
    assert_eq!(tempos, [(0, 90.0), (20, 85.0), (24, 50.0)]);
}

#[test]
fn a_score_without_tempo_marks_plays_at_120() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}{}</measure>",
        note("C", 4, 4, "")
    )));
    let tempos: Vec<(usize, f64)> = song.tempos().iter().map(|t| (t.step, t.qpm)).collect();
    assert_eq!(tempos, [(0, 120.0)]);
}

#[test]
fn dynamics_set_velocities_from_their_position_on() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\">{DIV1_44}{}<direction><direction-type><dynamics><f/></dynamics>\
         </direction-type><sound dynamics=\"100\"/></direction>{}{}{}\
         <backup><duration>4</duration></backup>{}{}</measure>\
         <measure number=\"2\"><sound dynamics=\"200\"/>{}</measure>",
        note("C", 4, 1, ""), // before any mark: 64
        note("D", 4, 1, ""), // forte: 100% of 90
        note("E", 4, 1, "").replace("<note>", "<note dynamics=\"50\">"), // its own: 45
        note("F", 4, 1, ""),
        note("G", 3, 1, "<voice>2</voice>"), // voice 2 at beat 0, before the mark: 64
        note("A", 3, 3, "<voice>2</voice>"), // at beat 1, after it: 90
        note("B", 3, 4, ""),                 // 180 clamps to 127
    )));
    assert_eq!(
        notes(&song, 0),
        [
            (55, 0, 4, 64),
            (60, 0, 4, 64),
            (57, 4, 16, 90),
            (62, 4, 8, 90),
            (64, 8, 12, 45),
            (65, 12, 16, 90),
            (59, 16, 32, 127)
        ]
    );
}

#[test]
fn missing_part_list_names_tracks_by_part_id() {
    let song = read(&format!(
        "<score-partwise><part id=\"Flute\"><measure number=\"1\">{DIV1_44}{}</measure></part>\
         <part id=\"P9\"><measure number=\"1\">{DIV1_44}{}</measure></part></score-partwise>",
        note("C", 5, 4, ""),
        note("C", 3, 4, ""),
    ));
    let names: Vec<_> = song.tracks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Flute", "P9"]);
    assert!(song
        .tracks
        .iter()
        .all(|t| t.program.number() == 0 && !t.is_drum));
    assert_eq!(spans(&song, 1), [(48, 0, 16)]);
}

#[test]
fn percussion_parts_are_drums_with_midi_unpitched_keys() {
    let xml = format!(
        r#"<score-partwise><part-list><score-part id="P1"><part-name>Drum Set</part-name>
        <score-instrument id="P1-I36"><instrument-name>Bass Drum</instrument-name></score-instrument>
        <score-instrument id="P1-I39"><instrument-name>Snare</instrument-name></score-instrument>
        <midi-instrument id="P1-I36"><midi-channel>10</midi-channel><midi-unpitched>36</midi-unpitched></midi-instrument>
        <midi-instrument id="P1-I39"><midi-channel>10</midi-channel><midi-unpitched>39</midi-unpitched></midi-instrument>
        </score-part><score-part id="P2"><part-name>Bongos</part-name></score-part></part-list>
        <part id="P1"><measure number="1">{DIV1_44}
        <note><unpitched><display-step>F</display-step><display-octave>4</display-octave></unpitched>
          <duration>2</duration><instrument id="P1-I36"/></note>
        <note><unpitched><display-step>C</display-step><display-octave>5</display-octave></unpitched>
          <duration>2</duration><instrument id="P1-I39"/></note></measure></part>
        <part id="P2"><measure number="1">{DIV1_44}
        <note><unpitched><display-step>E</display-step><display-octave>4</display-octave></unpitched>
          <duration>4</duration></note></measure></part></score-partwise>"#
    );
    let song = read(&xml);
    // midi-unpitched counts from 1: 36 is key 35, 39 is key 38.
    assert!(song.tracks[0].is_drum);
    assert_eq!(spans(&song, 0), [(35, 0, 8), (38, 8, 16)]);
    // No channel 10 and no MIDI keys: a drum part by its unpitched notes, at the display pitch.
    assert!(song.tracks[1].is_drum);
    assert_eq!(spans(&song, 1), [(64, 0, 16)]);
}

#[test]
fn part_names_collapse_whitespace() {
    let xml = "<score-partwise><part-list><score-part id=\"P1\"><part-name>Soprano\r\nOboe 1\
               </part-name></score-part></part-list><part id=\"P1\"/></score-partwise>";
    assert_eq!(read(xml).tracks[0].name, "Soprano Oboe 1");
}

// ---------------------------------------------------------------------------------------------
// Bars

#[test]
fn a_pickup_is_padded_so_the_first_full_bar_starts_on_a_downbeat() {
    let measures = |implicit: &str| {
        format!(
            "<measure number=\"0\"{implicit}><attributes><divisions>1</divisions><time>\
             <beats>3</beats><beat-type>4</beat-type></time></attributes>{}</measure>\
             <measure number=\"1\">{}{}{}</measure><measure number=\"2\">{}{}</measure>",
            note("G", 4, 1, ""),
            note("C", 5, 1, ""),
            note("D", 5, 1, ""),
            note("E", 5, 1, ""),
            note("D", 5, 1, ""),
            note("C", 5, 1, ""),
        )
    };
    for implicit in [" implicit=\"yes\"", ""] {
        let song = read(&one_part(&measures(implicit)));
        // The one-beat pickup is preceded by two beats of silence: bar 1 starts at step 12.
        assert_eq!(
            spans(&song, 0),
            [
                (67, 8, 12),
                (72, 12, 16),
                (74, 16, 20),
                (76, 20, 24),
                (74, 24, 28),
                (72, 28, 32)
            ]
        );
        assert_eq!(song.time_signatures(), [ts(0, 3, 4)]);
        assert_eq!(song.downbeat_steps(), [0, 12, 24]);
    }
}

/// A 4/4 part whose measures last `beats` quarter notes each, one whole-measure note apiece.
fn measures_of(beats: &[u32]) -> Multitrack {
    let measures: String = beats
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let head = if i == 0 { DIV1_44 } else { "" };
            format!(
                "<measure number=\"{i}\">{head}{}</measure>",
                note("C", 4, b, "")
            )
        })
        .collect();
    read(&one_part(&measures))
}

#[test]
fn a_bar_split_at_a_repeat_keeps_the_meter() {
    // 3 + 1 beats: one bar written as two measures.
    let song = measures_of(&[4, 3, 1, 4]);
    assert_eq!(song.time_signatures(), [ts(0, 4, 4)]);
    assert_eq!(song.downbeat_steps(), [0, 16, 32]);
}

#[test]
fn barlines_that_leave_the_meter_get_bars_of_their_own() {
    // A short bar never made up, then a bar of 6 beats in 4/4: downbeats stay on the barlines.
    let song = measures_of(&[4, 2, 4, 6, 4]);
    assert_eq!(
        song.time_signatures(),
        [
            ts(0, 4, 4),
            ts(16, 2, 4),
            ts(24, 4, 4),
            ts(40, 6, 4),
            ts(64, 4, 4)
        ]
    );
    assert_eq!(song.downbeat_steps(), [0, 16, 24, 40, 64]);
}

#[test]
fn meter_changes_and_compound_meters() {
    let song = read(&one_part(&format!(
        "<measure number=\"1\"><attributes><divisions>2</divisions><time><beats>6</beats>\
         <beat-type>8</beat-type></time></attributes>{}</measure><measure number=\"2\">\
         <attributes><time><beats>3+2</beats><beat-type>4</beat-type></time></attributes>{}\
         </measure><measure number=\"3\"><attributes><time><beats>2</beats><beat-type>4</beat-type>\
         <beats>3</beats><beat-type>8</beat-type></time></attributes>{}</measure>",
        note("C", 4, 6, ""),
        note("C", 4, 10, ""),
        note("C", 4, 7, ""),
    )));
    assert_eq!(
        song.time_signatures(),
        [ts(0, 6, 8), ts(12, 5, 4), ts(32, 7, 8)]
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed and hostile input

#[test]
fn malformed_xml_is_an_error_not_a_panic() {
    assert!(read_err("<score-partwise><part-list>").contains("malformed XML"));
    assert!(read_err("").contains("malformed XML"));
    let garbage: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert!(read_musicxml(&garbage, &at(4)).is_err());
    assert!(read_err("<opus><title>x</title></opus>").contains("<opus>"));
    assert!(read_err("<score-partwise><part-list/></score-partwise>").contains("no parts"));
}

#[test]
fn invalid_values_name_the_part_and_measure() {
    let err = read_err(&one_part(
        "<measure number=\"7\"><attributes><divisions>1</divisions></attributes>\
         <note><rest/><duration>two</duration></note></measure>",
    ));
    assert_eq!(
        err,
        "MusicXML: part P1: measure 7: <duration> 'two' is not a number"
    );
    let err = read_err(&one_part(&format!(
        "<measure>{}</measure>",
        note("C", 4, 1, "")
    )));
    assert!(err.contains("before any <divisions>"), "{err}");
    let err = read_err(&one_part(
        "<measure><attributes><divisions>0</divisions></attributes></measure>",
    ));
    assert!(
        err.contains("<divisions> '0' is not a positive number"),
        "{err}"
    );
    let err = read_err(&one_part(&format!(
        "<measure>{DIV1_44}<note><pitch><step>H</step><octave>4</octave></pitch>\
         <duration>1</duration></note></measure>"
    )));
    assert!(err.contains("bad pitch"), "{err}");
}

#[test]
fn absurd_durations_and_divisions_are_refused_before_allocating() {
    // 2^40 quarter notes.
    let err = read_err(&one_part(&format!(
        "<measure>{DIV1_44}{}</measure>",
        note("C", 4, 1, "").replace("<duration>1<", "<duration>1099511627776<")
    )));
    assert!(err.contains("exceed the limit"), "{err}");
    // Tiny divisions make an ordinary duration enormous.
    let err = read_err(&one_part(&format!(
        "<measure><attributes><divisions>0.000001</divisions></attributes>{}</measure>",
        note("C", 4, 1000, "")
    )));
    assert!(err.contains("exceed the limit"), "{err}");
    // Many parts of a long song: within the per-track limit, over the total.
    let part = |i: usize| {
        format!(
            "<part id=\"P{i}\"><measure><attributes><divisions>1</divisions></attributes>\
             <note><rest/><duration>40000</duration></note></measure></part>"
        )
    };
    let xml = format!(
        "<score-partwise>{}</score-partwise>",
        (0..40).map(part).collect::<String>()
    );
    let err = read_musicxml(xml.as_bytes(), &at(24))
        .unwrap_err()
        .to_string();
    assert!(err.contains("track-steps"), "{err}");
}

#[test]
fn deep_nesting_is_refused_or_read_never_a_stack_overflow() {
    let depth = 100_000;
    let xml = one_part(&format!(
        "<measure>{DIV1_44}<direction>{}{}</direction>{}</measure>",
        "<words>".repeat(depth),
        "</words>".repeat(depth),
        note("C", 4, 4, "")
    ));
    match read_musicxml(xml.as_bytes(), &at(4)) {
        Ok(song) => assert_eq!(spans(&song, 0), [(60, 0, 16)]),
        Err(e) => assert!(e.to_string().contains("XML"), "{e}"),
    }
}

#[test]
fn utf16_documents_with_a_byte_order_mark_are_read() {
    let xml = one_part(&format!(
        "<measure>{DIV1_44}{}</measure>",
        note("C", 4, 4, "")
    ))
    .replace("Piano", "Klavier für Anfänger");
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
    let song = read_musicxml(&bytes, &at(4)).unwrap();
    assert_eq!(song.tracks[0].name, "Klavier für Anfänger");
    assert_eq!(spans(&song, 0), [(60, 0, 16)]);
    let mut latin1 = xml.into_bytes();
    latin1.push(0xfc);
    assert!(read_musicxml(&latin1, &at(4))
        .unwrap_err()
        .to_string()
        .contains("not UTF-8"));
}

// ---------------------------------------------------------------------------------------------
// Compressed archives

/// A zip of `(name, contents)` members, deflated.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, contents) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(contents).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn container(path: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><container><rootfiles>
        <rootfile full-path="{path}" media-type="application/vnd.recordare.musicxml+xml"/>
        <rootfile full-path="score.pdf" media-type="application/pdf"/></rootfiles></container>"#
    )
}

fn mxl_err(bytes: &[u8]) -> String {
    read_mxl(bytes, &at(4))
        .expect_err("the archive should be refused")
        .to_string()
}

#[test]
fn mxl_reads_the_rootfile_named_by_the_container() {
    let score = fixture("duet_partwise.musicxml");
    let decoy = one_part("");
    let bytes = zip_of(&[
        ("mimetype", b"application/vnd.recordare.musicxml"),
        (
            "META-INF/container.xml",
            container("music/duet.musicxml").as_bytes(),
        ),
        ("a_decoy.xml", decoy.as_bytes()),
        ("music/duet.musicxml", &score),
    ]);
    let song = read_mxl(&bytes, &at(4)).unwrap();
    assert_eq!(song, read_musicxml(&score, &at(4)).unwrap());
}

#[test]
fn mxl_without_a_container_reads_the_first_score_outside_meta_inf() {
    let score = fixture("duet_partwise.musicxml");
    let bytes = zip_of(&[
        ("META-INF/other.xml", b"<not-a-score/>"),
        ("cover.png", b"\x89PNG"),
        ("Duet.MusicXML", &score),
        ("later.xml", b"<not-a-score/>"),
    ]);
    assert_eq!(read_mxl(&bytes, &at(4)).unwrap().tracks.len(), 2);
    let err = mxl_err(&zip_of(&[("readme.txt", b"hello")]));
    assert!(
        err.contains("no META-INF/container.xml and no .xml"),
        "{err}"
    );
}

#[test]
fn mxl_container_naming_a_missing_member_is_an_error() {
    let bytes = zip_of(&[("META-INF/container.xml", container("gone.xml").as_bytes())]);
    let err = mxl_err(&bytes);
    assert!(
        err.contains("names 'gone.xml', which is not in the archive"),
        "{err}"
    );
}

#[test]
fn not_a_zip_and_zip_given_as_xml_are_errors() {
    assert!(mxl_err(b"<score-partwise/>").contains("not a readable zip"));
    let zip = zip_of(&[("score.xml", b"<score-partwise/>")]);
    let err = read_musicxml(&zip, &at(4)).unwrap_err().to_string();
    assert!(err.contains("zip archive"), "{err}");
}

#[test]
fn mxl_with_too_many_entries_is_refused() {
    let names: Vec<String> = (0..1001).map(|i| format!("f{i}.txt")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    assert!(mxl_err(&zip_of(&members)).contains("1001 entries"));
}

/// Rewrites the uncompressed size that the only member of `zip` declares, in its local header
/// (at the start) and its central-directory entry (found through the end record).
fn declare_size(zip: &mut [u8], size: u32) {
    assert_eq!(&zip[..4], b"PK\x03\x04");
    zip[22..26].copy_from_slice(&size.to_le_bytes());
    let end = zip.len() - 22;
    assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
    let directory = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
    assert_eq!(&zip[directory..directory + 4], b"PK\x01\x02");
    zip[directory + 24..directory + 28].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn zip_bombs_are_refused() {
    // 65 MiB of blanks deflate to a few hundred kilobytes.
    let blanks = vec![b' '; 65 << 20];
    let mut bomb = zip_of(&[("score.xml", &blanks)]);
    // Declared honestly: refused before inflating.
    let err = mxl_err(&bomb);
    assert!(
        err.contains("declares 68157440 bytes, over the limit"),
        "{err}"
    );
    // Declared as 1 kB: inflation stops at the limit.
    declare_size(&mut bomb, 1000);
    let err = mxl_err(&bomb);
    assert!(
        err.contains("inflates past the limit of 67108864 bytes"),
        "{err}"
    );
    // A member declaring 2 GB is refused whatever it holds.
    let mut liar = zip_of(&[("score.xml", b"<score-partwise/>")]);
    declare_size(&mut liar, 2_000_000_000);
    assert!(mxl_err(&liar).contains("declares 2000000000 bytes"));
}

// ---------------------------------------------------------------------------------------------
// The Bach chorales of music21's corpus

/// music21's Bach chorales in the project's venv.
fn bach() -> PathBuf {
    common::venv_data(museroll_core::venv::BACH_CORPUS)
}

/// Reads one chorale of music21's corpus at 24 steps per quarter.
fn chorale(name: &str) -> Multitrack {
    let path = bach().join(format!("{name}.mxl"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    read_mxl(&bytes, &at(24)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_bach_chorale_of_the_music21_corpus_imports() {
    let dir = std::fs::read_dir(bach()).unwrap();
    let mut paths: Vec<_> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mxl"))
        .collect();
    paths.sort();
    let (mut imported, mut four_tracks) = (0, 0);
    let mut failures = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        match read_mxl(&bytes, &at(24)) {
            Ok(song) => {
                imported += 1;
                four_tracks += usize::from(song.tracks.len() == 4);
                assert!(song.active_length() > 0, "{}: no notes", path.display());
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                failures.push(format!("{}: {e}", path.display()));
            }
        }
    }
    println!(
        "{} chorales: {imported} imported ({four_tracks} with 4 tracks), {} failed",
        paths.len(),
        failures.len()
    );
    for failure in &failures {
        println!("  {failure}");
    }
    // Measured: all 408 .mxl files import; 364 are 4-voice chorales (the rest add instruments).
    assert_eq!(paths.len(), 408);
    assert!(imported >= 408, "{failures:?}");
    assert!(four_tracks >= 364);
}

#[test]
fn the_plain_xml_chorales_of_the_corpus_import() {
    let read = |name: &str| {
        let bytes = std::fs::read(bach().join(name)).unwrap();
        read_musicxml(&bytes, &at(24)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let (bwv67, bwv69) = (read("bwv67.4.xml"), read("bwv69.6.xml"));
    let names = |song: &Multitrack| {
        song.tracks
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&bwv67), ["Soprano", "Alto", "Tenor", "Bass"]);
    assert_eq!(bwv69.tracks.len(), 8);
    assert_eq!(names(&bwv69)[3], "Timpani");
}

/// Per part: `(name, notes, Σ pitch, Σ onset, Σ duration)`, onsets and durations in steps at 24
/// per quarter, onsets counted from the first measure (before the pickup padding).
type PartSums = (&'static str, usize, usize, usize, usize);

fn part_sums(song: &Multitrack, padding: usize) -> Vec<(String, usize, usize, usize, usize)> {
    song.tracks
        .iter()
        .map(|t| {
            let notes = t.roll.notes();
            (
                t.name.clone(),
                notes.len(),
                notes.iter().map(|n| usize::from(n.pitch.number())).sum(),
                notes.iter().map(|n| n.start - padding).sum(),
                notes.iter().map(|n| n.duration()).sum(),
            )
        })
        .collect()
}

fn assert_sums(name: &str, padding: usize, expected: &[PartSums]) {
    let song = chorale(name);
    let got = part_sums(&song, padding);
    let expected: Vec<_> = expected
        .iter()
        .map(|&(n, c, p, o, d)| (n.to_owned(), c, p, o, d))
        .collect();
    assert_eq!(got, expected, "{name}");
}

// The expected numbers below come from music21 10.5.1 (the project venv) on the same files:
//   s = music21.corpus.parse('bach/<name>')
//   for each part: notes = [(p.midi, n.offset, n.quarterLength)
//                           for n in part.flatten().stripTies().notes if not n.duration.isGrace
//                           for p in n.pitches]
//   print(len(notes), sum of midi, sum of offsets × 24, sum of quarterLengths × 24)
// and the padding is music21's `paddingLeft` of the first measure × 24 (its offsets start at the
// pickup; ours start a whole bar earlier).

#[test]
fn bwv66_6_matches_music21_note_for_note() {
    let song = chorale("bwv66.6");
    // Pickup of one beat in 4/4: three beats (72 steps) of silence first.
    assert_eq!(song.time_signatures(), [ts(0, 4, 4)]);
    assert_eq!(song.tempos()[0].qpm, 96.0);
    // music21: 36 quarters from the pickup; + 3 padding + 1 for the final <forward>.
    assert_eq!(song.len(), 40 * 24);
    // Soprano as music21 has it: (midi, offset × 24, quarterLength × 24).
    let soprano = [
        (73, 0, 12),
        (71, 12, 12),
        (69, 24, 24),
        (71, 48, 24),
        (73, 72, 24),
        (76, 96, 24),
        (73, 120, 24),
        (71, 144, 24),
        (69, 168, 24),
        (73, 192, 24),
        (69, 216, 12),
        (71, 228, 12),
        (68, 240, 24),
        (66, 264, 24),
        (69, 288, 24),
        (71, 312, 24),
        (71, 336, 24),
        (66, 360, 24),
        (64, 384, 24),
        (69, 408, 24),
        (71, 432, 24),
        (73, 456, 24),
        (73, 480, 24),
        (69, 504, 24),
        (71, 528, 24),
        (73, 552, 24),
        (69, 576, 24),
        (68, 600, 24),
        (66, 624, 24),
        (68, 648, 48),
        (66, 696, 48),
        (66, 744, 24),
        (66, 768, 48),
        (66, 816, 12),
        (65, 828, 12),
        (66, 840, 24),
    ];
    let got: Vec<(u8, usize, usize)> = song.tracks[0]
        .roll
        .notes()
        .iter()
        .map(|n| (n.pitch.number(), n.start - 72, n.duration()))
        .collect();
    assert_eq!(got, soprano);
    assert_sums(
        "bwv66.6",
        72,
        &[
            ("Soprano", 36, 2499, 14004, 864),
            ("Alto", 42, 2690, 18024, 864),
            ("Tenor", 44, 2618, 17124, 864),
            ("Bass", 41, 2156, 15756, 864),
        ],
    );
}

#[test]
fn chorales_with_divisions_changes_grace_notes_and_endings_match_music21() {
    // bwv1.6: five parts, <divisions> 1, 2 and 4; pickup of one beat.
    assert_sums(
        "bwv1.6",
        72,
        &[
            ("Horn 2", 147, 9515, 133680, 1896),
            ("Soprano", 70, 4957, 62784, 1896),
            ("Alto", 89, 5840, 84150, 1896),
            ("Tenor", 92, 5458, 85854, 1896),
            ("Bass", 93, 4866, 88836, 1896),
        ],
    );
    // bwv299: 3/4 with a one-beat pickup (two beats of padding) and grace notes.
    assert_sums(
        "bwv299",
        48,
        &[
            ("Soprano", 55, 3980, 31860, 1152),
            ("Alto", 49, 3275, 26244, 1152),
            ("Tenor", 50, 2986, 26124, 1152),
            ("Bass", 55, 2827, 29448, 1152),
        ],
    );
    // bwv8.6: no pickup, first and second endings read as written.
    assert_sums(
        "bwv8.6",
        0,
        &[
            ("Soprano", 62, 4328, 45714, 1416),
            ("Alto", 58, 3802, 43794, 1320),
            ("Tenor", 54, 3316, 42516, 1248),
            ("Bass", 65, 3260, 47436, 1416),
            ("Continuo", 67, 3333, 49416, 1464),
        ],
    );
}

#[test]
fn bwv41_6_meter_changes_and_split_bars_keep_downbeats_on_barlines() {
    assert_sums(
        "bwv41.6",
        72,
        &[
            ("Trumpet 1", 48, 3660, 66210, 504),
            ("Trumpet 2", 48, 3492, 66210, 504),
            ("Trumpet 3", 45, 2946, 62964, 396),
            ("Timpani", 45, 2160, 62964, 396),
            ("Oboe 3", 100, 6454, 139254, 2280),
            ("Soprano Oboe 1 Violin1", 81, 5959, 112392, 2688),
            ("Alto Oboe 2 Viloin 2", 101, 6821, 143832, 2688),
            ("Tenor Viola", 107, 6554, 153132, 2688),
            ("Bass Continuo", 124, 6557, 186900, 2688),
        ],
    );
    let song = chorale("bwv41.6");
    // Written: 4/4; at beat 56 (after padding) a bar split 3 + 1 whose second half starts 3/4;
    // at beat 105 a 3/4 bar split 2 + 1 whose second half starts 4/4. Each half-bar that begins a
    // new meter becomes a one-beat bar, so every later downbeat is a written barline.
    assert_eq!(
        song.time_signatures(),
        [
            ts(0, 4, 4),
            ts(59 * 24, 1, 4),
            ts(60 * 24, 3, 4),
            ts(107 * 24, 1, 4),
            ts(108 * 24, 4, 4)
        ]
    );
}

#[test]
fn bwv846_two_staves_make_one_piano_track() {
    let song = chorale("bwv846");
    assert_eq!(song.tracks.len(), 1);
    // music21 splits the piano into two staves of 403 and 132 notes after stripTies(), but leaves
    // two tie chains of the left hand (stop-and-start in the middle, across voices) unjoined: B2
    // at offset 130 and C3 at 126 continue notes that began earlier. Joined, 535 − 2 = 533.
    let notes = song.tracks[0].roll.notes();
    assert_eq!(notes.len(), 533);
    let b2_chain: Vec<_> = notes
        .iter()
        .filter(|n| n.pitch.number() == 47 && n.start >= 128 * 24)
        .map(|n| (n.start, n.end))
        .collect();
    // Rest of a 16th, then B2 tied to the end of the bar: 128¼ to 132 quarters.
    assert_eq!(b2_chain, [(3078, 3168)]);
}
