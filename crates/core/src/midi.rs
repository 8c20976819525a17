//! Standard MIDI Files: reading one into a [`Multitrack`] and writing one back.
//!
//! MIDI stores notes in *ticks* (a file-chosen number per quarter note) and tempo as events;
//! museroll stores notes in *steps* of a chosen [`Resolution`] and tempo as metadata (symbolic
//! time, as pypianoroll). The conversion is exact in both directions when the grids agree and
//! follows the policies below when they do not. Parsing is done by `midly`; the conversion is
//! O(events) plus the rolls it fills: no per-tick table, so high-PPQ files (music21 writes 10080
//! ticks per quarter) cost no more than others.
//!
//! # Reading: what is accepted
//!
//! - SMF format 0 and 1 (a format-0 file with several tracks is read like format 1; RIFF-wrapped
//!   RMID files are unwrapped by midly). Format 2
//!   (independent sequences) has no common time line to put on one roll and is refused.
//! - Metrical division (ticks per quarter note), any value 1–32767. SMPTE/timecode division
//!   (ticks per frame, absolute time) is refused with an error: symbolic time needs beats.
//! - Running status, note-on with velocity 0 as note-off, sysex, escapes and meta events of any
//!   kind (those not used below are skipped). A track stops at its End-of-Track event; bytes after
//!   it are ignored, and a track without one ends at its last event.
//! - Truncated or malformed files (a chunk longer than the file, fewer tracks than the header
//!   declares, an event cut short or with bad data bytes) are errors, not partial songs.
//!
//! # Reading: policies
//!
//! - **Time.** Tick 0 is the first beat and step 0: nothing is shifted or dropped to find a "first
//!   beat" (pypianoroll's estimate drops early notes). Step = tick · resolution / ticks-per-beat,
//!   rounded half up; both ends of a note are rounded the same way.
//! - **No note vanishes.** A zero-length note (on and off at the same tick) or one shorter than a
//!   step lasts one step. Notes never switched off end at their track's End-of-Track (and still
//!   last at least one step).
//! - **Overlapping notes of the same pitch** on one channel: note-offs close the open notes of
//!   that pitch first-in first-out (mido's and muspy's default; pretty_midi closes all of them at
//!   once). In the roll a later note's onset then ends the earlier one, so both stay distinct
//!   notes; two notes struck on the same step become one note with the later one's velocity and
//!   the longer end (a roll cell holds a single note). Note-offs with no open note are ignored.
//! - **Tracks.** Notes are grouped by (SMF track, channel, program), as pretty_midi does. The
//!   program is the channel's last program change in that SMF track before the note-on (0 before
//!   any), so a program change mid-track starts a new museroll track for the following notes.
//!   Channel 10 (index 9) is drums. Groups without notes are dropped. Tracks come in SMF-track
//!   order, then in order of their first note-on.
//! - **Names.** A track is named after its SMF track's first track-name meta event (UTF-8, or
//!   Latin-1 when not valid UTF-8; trailing NULs removed). When one SMF track yields several museroll
//!   tracks they get a suffix telling them apart: `"Piano (ch 2)"` when the SMF track uses several
//!   channels (1-based, as MIDI users count), `"Piano (program 41)"` when a channel changes
//!   program, or both. The song's [`Multitrack::name`] is the name of the first SMF track when that
//!   track holds no notes (a format-1 conductor track).
//! - **Tempo and meter.** Tempo and time-signature events of *every* track count (pretty_midi warns
//!   and misreads those outside track 0). They are merged by tick; at the same step the later one
//!   wins. 120 qpm and 4/4 apply before the first event, as the MIDI standard says. A time
//!   signature with numerator 0 or a denominator above 128, or a tempo of 0 µs per quarter note,
//!   is an error.
//! - **Length.** Every track has the song's length: the latest note end or End-of-Track over all
//!   SMF tracks, in steps. [`crate::io::check_size`] is called before any roll is allocated, so a
//!   hostile file (a delta time of 2^28 ticks, thousands of tracks) fails cleanly.
//! - Velocities are kept (a velocity roll); control changes, pitch bends and the sustain pedal are
//!   ignored.
//!
//! # Writing
//!
//! - Format 1. The first (conductor) track holds the song name, the time signatures and the tempos
//!   (µs per quarter note rounded to the nearest integer); then one MIDI track per museroll track,
//!   holding its name (when not empty), a program change at tick 0 and its notes.
//! - Channels: drums on channel 10 (index 9); the other tracks in order on channels 1–9, 11–16,
//!   reused from the start when there are more than 15 pitched tracks (each track stays in its own
//!   MIDI track, so readers that group by track, museroll's included, keep them apart).
//! - Ticks per beat: 480 when the resolution divides 480 (every common resolution), otherwise the
//!   smallest multiple of the resolution that is at least 96 (e.g. 98 for 7 steps per beat); a step
//!   is then a whole number of ticks and reading back at the same resolution is exact.
//! - Notes are read from the roll's onset plane, so repeated notes of the same pitch stay distinct:
//!   where one ends and the next begins, the note-off is written before the note-on. Note-offs are
//!   written as note-on with velocity 0 (shorter thanks to running status). A velocity roll keeps
//!   its velocities; a binary roll gets [`WriteOptions::binary_velocity`].
//! - Each track's End-of-Track is at its roll's length, so trailing silence is kept.
//!
//! A round trip Multitrack → MIDI → Multitrack at the same resolution keeps every note (pitch,
//! start, end, velocity), the programs, drum flags, track names, time signatures and tempos (to
//! the µs rounding). It does not keep silent tracks (dropped on reading), a binary roll's kind
//! (read back as velocities) or different track lengths (all tracks get the longest length, which
//! also reaches any tempo or meter change placed after the last step).
//!
//! ```
//! use museroll_core::io::ReadOptions;
//! use museroll_core::midi::{read_midi, write_midi, WriteOptions};
//! use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Track};
//!
//! let mut song = Multitrack::new(Resolution::new(4).unwrap());
//! let c4 = Pitch::new(60).unwrap();
//! let notes = [
//!     Note { pitch: c4, start: 0, end: 4, velocity: 100 },
//!     Note { pitch: c4, start: 4, end: 8, velocity: 80 }, // struck again: a distinct note
//! ];
//! let mut piano = Track::new("Piano", Program::new(0).unwrap(), false, 8);
//! piano.roll = Roll::from_notes(RollKind::Velocity, 8, notes);
//! song.tracks.push(piano);
//!
//! let bytes = write_midi(&song, &WriteOptions::default()).unwrap();
//! let options = ReadOptions { resolution: Resolution::new(4).unwrap() };
//! let back = read_midi(&bytes, &options).unwrap();
//! assert_eq!(back.tracks[0].name, "Piano");
//! assert_eq!(back.tracks[0].roll.notes(), notes);
//! ```

use crate::error::{Error, Result};
use crate::multitrack::{Multitrack, Tempo, TimeSignature, DEFAULT_QPM};
use crate::reading::{check_size, ReadOptions, MAX_STEPS};
use crate::roll::{rescale, Note, Roll, RollKind};
use crate::track::Track;
use crate::units::{Pitch, Program, Resolution};
use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Timing, TrackEvent, TrackEventKind};
use std::collections::{HashMap, VecDeque};

/// The drum channel, "channel 10" counted from 1.
const DRUM_CHANNEL: u8 = 9;

/// Channels given to pitched tracks, in order: all but the drum channel.
const PITCHED_CHANNELS: [u8; 15] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15];

/// The channel (0-based) of each track, in order: drums on [`DRUM_CHANNEL`], the other tracks on
/// [`PITCHED_CHANNELS`] in turn, reused from the start past 15. The synthesizer plays them so too.
pub(crate) fn track_channels(tracks: &[Track]) -> impl Iterator<Item = u8> + '_ {
    let mut pitched = 0;
    tracks.iter().map(move |track| {
        if track.is_drum {
            DRUM_CHANNEL
        } else {
            pitched += 1;
            PITCHED_CHANNELS[(pitched - 1) % PITCHED_CHANNELS.len()]
        }
    })
}

/// Microseconds per minute, to turn MIDI tempos (µs per quarter note) into qpm and back.
const MICROS_PER_MINUTE: f64 = 60_000_000.0;

/// Options of [`write_midi`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Velocity (1–127) given to the notes of binary rolls, which have none of their own.
    /// Default [`crate::DEFAULT_VELOCITY`] (64, as pypianoroll 1.x).
    pub binary_velocity: u8,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            binary_velocity: crate::DEFAULT_VELOCITY,
        }
    }
}

/// Reads a Standard MIDI File into a multitrack at `options.resolution` steps per beat.
///
/// See the [module documentation](self) for what is accepted and how notes, tracks, names, tempos
/// and time signatures are converted.
///
/// # Errors
///
/// [`Error::Midi`] for a malformed, truncated or unsupported file (format 2, SMPTE division);
/// [`Error::Invalid`] when the song would exceed the size limits of [`crate::io`].
pub fn read_midi(bytes: &[u8], options: &ReadOptions) -> Result<Multitrack> {
    if bytes.starts_with(b"MThd") && bytes.len() < 14 {
        return Err(midi_error(format!(
            "truncated header: {} of 14 bytes",
            bytes.len()
        )));
    }
    let (header, tracks) = midly::parse(bytes).map_err(|e| midi_error(describe(&e)))?;
    if header.format == Format::Sequential {
        return Err(midi_error(
            "format 2 (independent sequences) is not supported, only formats 0 and 1",
        ));
    }
    let ticks_per_beat = match header.timing {
        Timing::Metrical(tpq) if tpq.as_int() > 0 => tpq.as_int(),
        Timing::Metrical(_) => return Err(midi_error("division of 0 ticks per beat")),
        Timing::Timecode(fps, _) => {
            return Err(midi_error(format!(
            "SMPTE timecode division ({} frames per second) is not supported, only ticks per beat",
            fps.as_f32()
        )))
        }
    };
    // midly reports the header's track count as the size hint of its track iterator.
    let declared = tracks.size_hint().0;
    check_chunks(tracks.unread(), declared)?;
    let mut reader = Reader::default();
    for (index, track) in tracks.take(declared).enumerate() {
        let events = track.map_err(|e| midi_error(format!("track {index}: {}", describe(&e))))?;
        reader.read_track(index, events)?;
    }
    reader.into_multitrack(u32::from(ticks_per_beat), options.resolution)
}

/// Writes a multitrack as a format-1 Standard MIDI File.
///
/// See the [module documentation](self) for the layout (conductor track, channels, ticks per beat).
///
/// # Errors
///
/// [`Error::Invalid`] when `options.binary_velocity` is not 1–127 or when the song is too long for
/// MIDI's 28-bit delta times.
pub fn write_midi(multitrack: &Multitrack, options: &WriteOptions) -> Result<Vec<u8>> {
    let binary_velocity = options.binary_velocity;
    if !(1..=127).contains(&binary_velocity) {
        return Err(Error::Invalid(format!(
            "binary velocity {binary_velocity} is outside 1–127"
        )));
    }
    let resolution = multitrack.resolution().get();
    let ticks_per_beat = writer_ticks_per_beat(resolution);
    let ticks_per_step = u64::from(ticks_per_beat / resolution);
    let tick = |step: usize| -> Result<u64> {
        u64::try_from(step)
            .ok()
            .and_then(|s| s.checked_mul(ticks_per_step))
            .ok_or_else(|| Error::Invalid(format!("step {step} is too late for MIDI")))
    };

    let mut tracks = Vec::with_capacity(multitrack.tracks.len() + 1);
    tracks.push(conductor_track(multitrack, &tick)?);
    for (track, channel) in multitrack
        .tracks
        .iter()
        .zip(track_channels(&multitrack.tracks))
    {
        tracks.push(note_track(track, u4::new(channel), binary_velocity, &tick)?);
    }

    let header = Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(ticks_per_beat as u16)),
    );
    let mut bytes = Vec::new();
    midly::write(&header, &tracks, &mut bytes).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(bytes)
}

fn midi_error(message: impl Into<String>) -> Error {
    Error::Midi(message.into())
}

/// midly's error with its causes (the chain is only kept in debug builds).
fn describe(error: &midly::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.kind().to_string());
        source = cause.source();
    }
    text
}

/// Checks the chunk framing after the header: every chunk fits in the file and the header's
/// track count is there. (midly itself silently cuts a truncated chunk short.)
fn check_chunks(mut rest: &[u8], declared: usize) -> Result<()> {
    let mut found = 0;
    while !rest.is_empty() && found < declared {
        let (Some(id), Some(len)) = (rest.get(..4), rest.get(4..8)) else {
            return Err(midi_error(format!(
                "truncated file: a chunk header is cut after {} bytes",
                rest.len()
            )));
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let available = rest.len() - 8;
        if len > available {
            return Err(midi_error(format!(
                "truncated file: chunk {} declares {len} bytes but only {available} remain",
                found + 1
            )));
        }
        found += usize::from(id == b"MTrk");
        rest = &rest[8 + len..];
    }
    if found < declared {
        return Err(midi_error(format!(
            "truncated file: the header declares {declared} tracks but only {found} are present"
        )));
    }
    Ok(())
}

/// A track name: UTF-8 if valid, else Latin-1, without control characters (some files carry
/// binary junk in their name events; trailing NULs are among them).
fn decode_text(bytes: &[u8]) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().copied().map(char::from).collect(),
    };
    text.chars().filter(|c| !c.is_control()).collect()
}

/// A note as read, in ticks.
#[derive(Clone, Copy, Debug)]
struct RawNote {
    start: u64,
    end: u64,
    /// Order of the note-on in the file, to know which of two notes came later.
    seq: u64,
    pitch: Pitch,
    velocity: u8,
}

/// A note whose note-off has not come yet.
#[derive(Clone, Copy, Debug)]
struct OpenNote {
    start: u64,
    seq: u64,
    velocity: u8,
    instrument: usize,
}

/// The notes of one (SMF track, channel, program).
#[derive(Debug)]
struct Instrument {
    smf_track: usize,
    channel: u8,
    program: u8,
    notes: Vec<RawNote>,
}

/// What the reader collects from the tracks before converting ticks to steps.
#[derive(Debug)]
struct Reader {
    instruments: Vec<Instrument>,
    /// The track-name meta of each SMF track ("" without one).
    track_names: Vec<String>,
    /// The latest End-of-Track (or last event) of all tracks.
    end_tick: u64,
    /// (tick, µs per quarter note), in file order.
    tempos: Vec<(u64, u32)>,
    /// (tick, numerator, denominator), in file order, already validated.
    signatures: Vec<(u64, u8, u8)>,
    /// Open notes of each (channel · 128 + pitch), oldest first; reused from track to track.
    open: Vec<VecDeque<OpenNote>>,
    /// Keys of `open` that received notes in the current track.
    touched: Vec<usize>,
    next_seq: u64,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            instruments: Vec::new(),
            track_names: Vec::new(),
            end_tick: 0,
            tempos: Vec::new(),
            signatures: Vec::new(),
            open: vec![VecDeque::new(); 16 * 128],
            touched: Vec::new(),
            next_seq: 0,
        }
    }
}

impl Reader {
    /// Reads the events of SMF track `index` up to its End-of-Track.
    fn read_track(&mut self, index: usize, mut events: midly::EventIter<'_>) -> Result<()> {
        let mut tick = 0u64;
        let mut name: Option<String> = None;
        let mut programs = [0u8; 16];
        // The instrument each channel's notes go to now; `None` after a program change.
        let mut current: [Option<usize>; 16] = [None; 16];
        let mut by_key: HashMap<(u8, u8), usize> = HashMap::new();
        loop {
            let unread = events.unread().len();
            let event = match events.next() {
                Some(Ok(event)) => event,
                None if unread == 0 => break,
                // midly ends the iteration early (or reports an error) on a malformed event.
                Some(Err(_)) | None => {
                    return Err(midi_error(format!(
                        "track {index}: malformed or truncated event {unread} bytes before the end of the track"
                    )))
                }
            };
            tick = tick.saturating_add(u64::from(event.delta.as_int()));
            match event.kind {
                TrackEventKind::Midi { channel, message } => {
                    let ch = channel.as_int();
                    match message {
                        MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                            let instrument = match current[usize::from(ch)] {
                                Some(i) => i,
                                None => {
                                    let program = programs[usize::from(ch)];
                                    let next = self.instruments.len();
                                    let i = *by_key.entry((ch, program)).or_insert(next);
                                    if i == next {
                                        self.instruments.push(Instrument {
                                            smf_track: index,
                                            channel: ch,
                                            program,
                                            notes: Vec::new(),
                                        });
                                    }
                                    current[usize::from(ch)] = Some(i);
                                    i
                                }
                            };
                            let slot = usize::from(ch) * 128 + usize::from(key.as_int());
                            if self.open[slot].is_empty() {
                                self.touched.push(slot);
                            }
                            self.open[slot].push_back(OpenNote {
                                start: tick,
                                seq: self.next_seq,
                                velocity: vel.as_int(),
                                instrument,
                            });
                            self.next_seq += 1;
                        }
                        MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                            let slot = usize::from(ch) * 128 + usize::from(key.as_int());
                            if let Some(open) = self.open[slot].pop_front() {
                                self.close(open, key, tick);
                            }
                        }
                        MidiMessage::ProgramChange { program } => {
                            programs[usize::from(ch)] = program.as_int();
                            current[usize::from(ch)] = None;
                        }
                        _ => {}
                    }
                }
                TrackEventKind::Meta(meta) => match meta {
                    MetaMessage::TrackName(text) if name.is_none() => {
                        name = Some(decode_text(text));
                    }
                    MetaMessage::Tempo(micros) => {
                        if micros.as_int() == 0 {
                            return Err(midi_error(format!(
                                "track {index}: tempo of 0 µs per quarter note at tick {tick}"
                            )));
                        }
                        self.tempos.push((tick, micros.as_int()));
                    }
                    MetaMessage::TimeSignature(numerator, power, _, _) => {
                        if numerator == 0 || power > 7 {
                            return Err(midi_error(format!(
                                "track {index}: invalid time signature {numerator}/2^{power} at tick {tick}"
                            )));
                        }
                        self.signatures.push((tick, numerator, 1 << power));
                    }
                    MetaMessage::EndOfTrack => break,
                    _ => {}
                },
                TrackEventKind::SysEx(_) | TrackEventKind::Escape(_) => {}
            }
        }
        // Notes never switched off end here.
        let mut touched = std::mem::take(&mut self.touched);
        for slot in touched.drain(..) {
            while let Some(open) = self.open[slot].pop_front() {
                let key = u7::new((slot % 128) as u8);
                self.close(open, key, tick);
            }
        }
        self.touched = touched;
        self.end_tick = self.end_tick.max(tick);
        self.track_names.push(name.unwrap_or_default());
        Ok(())
    }

    fn close(&mut self, open: OpenNote, key: u7, end: u64) {
        if let (Some(instrument), Some(pitch)) = (
            self.instruments.get_mut(open.instrument),
            Pitch::new(key.as_int()),
        ) {
            instrument.notes.push(RawNote {
                start: open.start,
                end,
                seq: open.seq,
                pitch,
                velocity: open.velocity,
            });
        }
    }

    /// Converts ticks to steps and builds the multitrack.
    fn into_multitrack(
        mut self,
        ticks_per_beat: u32,
        resolution: Resolution,
    ) -> Result<Multitrack> {
        let scale = StepScale::new(ticks_per_beat, resolution);
        let notes: Vec<Vec<Note>> = self
            .instruments
            .iter_mut()
            .map(|instrument| notes_in_steps(&mut instrument.notes, &scale))
            .collect();
        let last_note_end = notes.iter().flatten().map(|n| n.end).max().unwrap_or(0);
        let steps = scale.step(self.end_tick).max(last_note_end);
        check_size(steps, self.instruments.len())?;

        let names = track_names(&self.instruments, &self.track_names);
        let mut multitrack = Multitrack::new(resolution);
        multitrack.name = self
            .track_names
            .first()
            .filter(|name| !name.is_empty())
            .filter(|_| self.instruments.first().is_none_or(|i| i.smf_track > 0))
            .cloned();
        for ((instrument, notes), name) in self.instruments.iter().zip(notes).zip(names) {
            multitrack.tracks.push(Track {
                name,
                program: Program::new(instrument.program).unwrap_or_default(),
                is_drum: instrument.channel == DRUM_CHANNEL,
                roll: Roll::from_notes(RollKind::Velocity, steps, notes),
            });
        }

        // Stable sorts: at the same tick, file order (track, then event) is kept and the last wins.
        self.tempos.sort_by_key(|&(tick, _)| tick);
        let tempos = self.tempos.iter().map(|&(tick, micros)| Tempo {
            step: scale.step(tick),
            qpm: MICROS_PER_MINUTE / f64::from(micros),
        });
        let default_tempo = Tempo {
            step: 0,
            qpm: DEFAULT_QPM,
        };
        multitrack.set_tempos(std::iter::once(default_tempo).chain(tempos))?;
        self.signatures.sort_by_key(|&(tick, _, _)| tick);
        let signatures = self
            .signatures
            .iter()
            .map(|&(tick, numerator, denominator)| TimeSignature {
                step: scale.step(tick),
                numerator,
                denominator,
            });
        multitrack.set_time_signatures(std::iter::once(TimeSignature::COMMON).chain(signatures))?;
        Ok(multitrack)
    }
}

/// Tick → step conversion, rounded half up.
struct StepScale {
    ticks_per_beat: u32,
    resolution: u32,
    /// Ticks beyond this are past [`MAX_STEPS`] anyway; clamping them keeps the arithmetic small
    /// while the song length still exceeds the limit, so `check_size` refuses it.
    max_tick: u64,
}

impl StepScale {
    fn new(ticks_per_beat: u32, resolution: Resolution) -> StepScale {
        StepScale {
            ticks_per_beat,
            resolution: resolution.get(),
            max_tick: (MAX_STEPS as u64 + 1) * u64::from(ticks_per_beat),
        }
    }

    fn step(&self, tick: u64) -> usize {
        let tick = usize::try_from(tick.min(self.max_tick)).unwrap_or(usize::MAX);
        rescale(tick, self.ticks_per_beat, self.resolution)
    }
}

/// One instrument's notes in steps, sorted by pitch then start, no two of a pitch overlapping:
/// every note lasts at least one step, a later onset ends an earlier note, and notes struck on the
/// same step merge (the later velocity, the longer end).
fn notes_in_steps(raw: &mut [RawNote], scale: &StepScale) -> Vec<Note> {
    raw.sort_unstable_by_key(|n| (n.pitch, n.start, n.seq));
    let mut notes: Vec<Note> = Vec::with_capacity(raw.len());
    for n in raw.iter() {
        let start = scale.step(n.start);
        let end = scale.step(n.end).max(start + 1);
        match notes.last_mut() {
            Some(prev) if prev.pitch == n.pitch && prev.start == start => {
                prev.end = prev.end.max(end);
                prev.velocity = n.velocity;
            }
            Some(prev) => {
                if prev.pitch == n.pitch {
                    prev.end = prev.end.min(start);
                }
                notes.push(Note {
                    pitch: n.pitch,
                    start,
                    end,
                    velocity: n.velocity,
                });
            }
            None => notes.push(Note {
                pitch: n.pitch,
                start,
                end,
                velocity: n.velocity,
            }),
        }
    }
    notes
}

/// Names of the museroll tracks: the SMF track's name, with a suffix when that SMF track was
/// split (see the module documentation).
fn track_names(instruments: &[Instrument], smf_names: &[String]) -> Vec<String> {
    let mut names = Vec::with_capacity(instruments.len());
    // Instruments of one SMF track are contiguous: tracks are read one after the other.
    for group in instruments.chunk_by(|a, b| a.smf_track == b.smf_track) {
        let base = smf_names.get(group[0].smf_track).map_or("", String::as_str);
        let several_channels = group.iter().any(|i| i.channel != group[0].channel);
        for instrument in group {
            let several_programs = group
                .iter()
                .any(|i| i.channel == instrument.channel && i.program != instrument.program);
            let mut parts = Vec::new();
            if several_channels {
                parts.push(format!("ch {}", instrument.channel + 1));
            }
            if several_programs {
                parts.push(format!("program {}", instrument.program));
            }
            names.push(match (parts.is_empty(), base.is_empty()) {
                (true, _) => base.to_owned(),
                (false, true) => parts.join(", "),
                (false, false) => format!("{base} ({})", parts.join(", ")),
            });
        }
    }
    names
}

/// Ticks per beat of written files: 480 when the resolution divides it, else the smallest multiple
/// of the resolution that is at least 96.
fn writer_ticks_per_beat(resolution: u32) -> u32 {
    if 480 % resolution == 0 {
        480
    } else {
        resolution * 96u32.div_ceil(resolution)
    }
}

/// Events at absolute ticks, sorted, turned into delta-timed events ending with End-of-Track at
/// `end` (or at the last event, if later).
fn delta_timed<'a>(
    events: Vec<(u64, TrackEventKind<'a>)>,
    end: u64,
) -> Result<Vec<TrackEvent<'a>>> {
    let mut out = Vec::with_capacity(events.len() + 1);
    let mut last = 0u64;
    let end_of_track = (end, TrackEventKind::Meta(MetaMessage::EndOfTrack));
    for (tick, kind) in events.into_iter().chain(std::iter::once(end_of_track)) {
        let tick = tick.max(last);
        let delta = u32::try_from(tick - last)
            .ok()
            .and_then(u28::try_from)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "a gap of {} ticks exceeds MIDI's longest delta time",
                    tick - last
                ))
            })?;
        out.push(TrackEvent { delta, kind });
        last = tick;
    }
    Ok(out)
}

/// The first track: song name, time signatures and tempos.
fn conductor_track<'a>(
    multitrack: &'a Multitrack,
    tick: &impl Fn(usize) -> Result<u64>,
) -> Result<Vec<TrackEvent<'a>>> {
    let mut events = Vec::new();
    if let Some(name) = multitrack.name.as_deref().filter(|n| !n.is_empty()) {
        events.push((
            0,
            TrackEventKind::Meta(MetaMessage::TrackName(name.as_bytes())),
        ));
    }
    for ts in multitrack.time_signatures() {
        let power = ts.denominator.trailing_zeros() as u8;
        let clocks_per_click = (96 / ts.denominator).max(1);
        let meta = MetaMessage::TimeSignature(ts.numerator, power, clocks_per_click, 8);
        events.push((tick(ts.step)?, TrackEventKind::Meta(meta)));
    }
    for tempo in multitrack.tempos() {
        let micros = (MICROS_PER_MINUTE / tempo.qpm)
            .round()
            .clamp(1.0, 16_777_215.0) as u32;
        let meta = MetaMessage::Tempo(u24::new(micros));
        events.push((tick(tempo.step)?, TrackEventKind::Meta(meta)));
    }
    events.sort_by_key(|&(t, _)| t);
    delta_timed(events, 0)
}

/// One track's name, program and notes on `channel`.
fn note_track<'a>(
    track: &'a Track,
    channel: u4,
    binary_velocity: u8,
    tick: &impl Fn(usize) -> Result<u64>,
) -> Result<Vec<TrackEvent<'a>>> {
    let notes = track.roll.notes();
    let mut events = Vec::with_capacity(2 * notes.len() + 2);
    if !track.name.is_empty() {
        let meta = MetaMessage::TrackName(track.name.as_bytes());
        events.push((0, TrackEventKind::Meta(meta)));
    }
    let program = MidiMessage::ProgramChange {
        program: u7::new(track.program.number()),
    };
    events.push((
        0,
        TrackEventKind::Midi {
            channel,
            message: program,
        },
    ));
    // (tick, 0 for note-off / 1 for note-on, pitch, velocity): sorting puts offs before ons.
    let mut note_events = Vec::with_capacity(2 * notes.len());
    for note in &notes {
        let velocity = match track.roll.kind() {
            RollKind::Velocity => note.velocity,
            RollKind::Binary => binary_velocity,
        };
        note_events.push((tick(note.start)?, 1u8, note.pitch.number(), velocity));
        note_events.push((tick(note.end)?, 0u8, note.pitch.number(), 0));
    }
    note_events.sort_unstable();
    events.extend(note_events.into_iter().map(|(t, _, pitch, velocity)| {
        let message = MidiMessage::NoteOn {
            key: u7::new(pitch),
            vel: u7::new(velocity),
        };
        (t, TrackEventKind::Midi { channel, message })
    }));
    delta_timed(events, tick(track.roll.len())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_ticks_per_beat_divides_into_whole_steps() {
        assert_eq!(writer_ticks_per_beat(24), 480);
        assert_eq!(writer_ticks_per_beat(4), 480);
        assert_eq!(writer_ticks_per_beat(480), 480);
        assert_eq!(writer_ticks_per_beat(7), 98);
        assert_eq!(writer_ticks_per_beat(100), 100);
        assert_eq!(writer_ticks_per_beat(960), 960);
        for res in 1..=Resolution::MAX {
            let tpq = writer_ticks_per_beat(res);
            assert_eq!(tpq % res, 0, "resolution {res}");
            assert!((96..=32767).contains(&tpq), "resolution {res}");
        }
    }

    #[test]
    fn names_decode_utf8_or_latin1() {
        assert_eq!(decode_text("Flûte".as_bytes()), "Flûte");
        assert_eq!(decode_text(b"Fl\xfbte\0"), "Flûte");
        // Binary junk in a name event: the control characters go.
        assert_eq!(decode_text(b"x\x01[\x1fg "), "x[g ");
    }

    #[test]
    fn steps_round_half_up_and_clamp() {
        let scale = StepScale::new(480, Resolution::new(4).unwrap());
        assert_eq!(scale.step(59), 0);
        assert_eq!(scale.step(60), 1); // half a step
        assert_eq!(scale.step(480), 4);
        assert!(scale.step(u64::MAX) > MAX_STEPS);
    }

    fn raw(pitch: u8, start: u64, end: u64, seq: u64, velocity: u8) -> RawNote {
        RawNote {
            start,
            end,
            seq,
            pitch: Pitch::new(pitch).unwrap(),
            velocity,
        }
    }

    #[test]
    fn same_pitch_notes_are_cut_or_merged() {
        let scale = StepScale::new(4, Resolution::new(4).unwrap());
        let mut notes = vec![
            raw(60, 0, 6, 0, 10),
            raw(60, 3, 4, 1, 20),
            raw(60, 3, 9, 2, 30), // same step as the previous one: merged
            raw(61, 5, 5, 3, 40), // zero length: one step
        ];
        let got: Vec<(u8, usize, usize, u8)> = notes_in_steps(&mut notes, &scale)
            .iter()
            .map(|n| (n.pitch.number(), n.start, n.end, n.velocity))
            .collect();
        assert_eq!(got, vec![(60, 0, 3, 10), (60, 3, 9, 30), (61, 5, 6, 40)]);
    }

    #[test]
    fn split_tracks_get_suffixes() {
        let inst = |smf_track, channel, program| Instrument {
            smf_track,
            channel,
            program,
            notes: Vec::new(),
        };
        let instruments = [
            inst(0, 0, 0),
            inst(1, 0, 0),
            inst(1, 1, 40),
            inst(1, 1, 41),
            inst(2, 9, 0),
        ];
        let names = ["Solo", "Band", ""].map(String::from);
        assert_eq!(
            track_names(&instruments, &names),
            vec![
                "Solo",
                "Band (ch 1)",
                "Band (ch 2, program 40)",
                "Band (ch 2, program 41)",
                ""
            ]
        );
    }
}
