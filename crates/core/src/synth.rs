//! Audio: a multitrack played by a SoundFont 2 synthesizer (rustysynth), and 16-bit WAV files.
//!
//! # Policies
//!
//! - **Synthesis, note by note.** The synthesizer (rustysynth) plays each *distinct* note — its
//!   program (or the drum kit), key, velocity and length in blocks — once, alone, from a reset
//!   state; a piece is the sum of its notes' sounds, each shifted to its start. Why: a voice's
//!   sound depends only on its own note (channels keep their default controllers), events land
//!   on block boundaries, and mixing is addition, so the sum equals what one synthesizer playing
//!   all the notes makes (a test checks it sample by sample), while dense pieces repeat the same
//!   notes over and over: 16 generated chorale phrases hold 5 600 notes but only ~550 distinct
//!   ones, which [`render_many`] synthesizes once for all the pieces, in parallel (rayon), then
//!   mixes. The cost is that of the distinct notes plus an addition per sample of each note.
//!   Differences from a live synthesizer, all for the better or inaudible: no voice is ever stolen
//!   for lack of polyphony; two tracks that share a channel (more than 15 pitched tracks) and hold
//!   the same key each sound for their own note's length (a channel's note-off would end both);
//!   exclusive classes (a closed hi-hat cutting off an open one) are applied per note: a note is
//!   cut where the next note of its channel sharing one of its classes begins.
//! - **Channels** are laid out as the MIDI writer lays them out: drum tracks on channel 10, which
//!   plays the percussion bank (kit 0, the GM standard kit: a drum track's program is ignored, as
//!   everywhere in museroll); pitched tracks each with their own program.
//! - **Timing** follows the tempo map ([`Multitrack::seconds_at`]). The synthesizer renders blocks
//!   of [`BLOCK_FRAMES`] frames and takes events between blocks, so rendering is *block-accurate*:
//!   a note starts and ends on the block boundary nearest its time, within ±32 frames (±2 ms at
//!   16 kHz, ±0.7 ms at 44.1 kHz); a note shorter than half a block is released at once (the
//!   synthesizer still sounds it for 2 ms).
//! - **Reverb** ([`RenderOptions::reverb`]): one reverb over each mixed piece, not rustysynth's
//!   (which is private and would run over every note's sound instead of once over the mix): a
//!   Schroeder–Moorer reverb in Freeverb's layout with rustysynth's default settings, fed at the
//!   General MIDI default send (40 of 127) of every channel. Sends a SoundFont sets per
//!   instrument are ignored, and there is no chorus (channels send nothing to it by default).
//! - **Velocity**: a velocity roll's notes keep theirs; notes of binary rolls get
//!   [`crate::DEFAULT_VELOCITY`], as in the MIDI writer, so a file sounds the same rendered
//!   directly or through MIDI. (The synthesizer's velocity curve is 40·log10(v/127) dB and it
//!   drops voices below −60 dB, so velocities of about 5 and less are inaudible.)
//! - **Length**: the audio lasts the piece (every step, trailing rests included) plus a release
//!   tail up to its last sample above −80 dB of its peak, [`RenderOptions::max_tail`] seconds at
//!   most. Each note's sound is synthesized until it has stayed below −80 dB of its own peak for
//!   0.1 s after its release begins (10 s at most) and cut after its last sample above that level.
//! - **Level**: the output is normalised so that its peak is [`RenderOptions::peak_dbfs`] (−1 dBFS
//!   by default). A synthesizer's raw level depends on the SoundFont and on how many notes sound at
//!   once, so any fixed gain either clips or wastes range; normalising never clips. A silent piece
//!   stays silent.
//! - **Bounds**: a piece is refused before anything is allocated for it when its audio would exceed
//!   [`MAX_FRAMES`] frames (one hour at 44.1 kHz, 1.3 GB of samples). SoundFont files are read up
//!   to [`MAX_SOUNDFONT_BYTES`]. Notes are synthesized in batches of about 16 M samples (128 MB)
//!   before they are mixed, so memory stays bounded beside the pieces' own. Before rustysynth
//!   parses a SoundFont, its RIFF structure is checked: every chunk fits in its parent (so no
//!   size field makes the parser allocate more than the file holds), the preset, instrument and zone records point inside their lists, and sample rates
//!   are at most 384 kHz. rustysynth is third-party code that can still panic on a SoundFont that
//!   passes these checks and its own (a loop shorter than the stride of a very high note through
//!   it, an arithmetic overflow); such a panic becomes an [`Error::SoundFont`], not a crash.
//!
//! # Example
//!
//! ```no_run
//! use museroll_core::io::{read_file, ReadOptions};
//! use museroll_core::synth::{render, write_wav, RenderOptions, SoundFont};
//! use std::path::Path;
//!
//! let soundfont = SoundFont::open(Path::new("/usr/share/sounds/sf2/FluidR3_GM.sf2"))?;
//! let (song, _) = read_file(Path::new("song.mid"), &ReadOptions::default())?;
//! let audio = render(&song, &soundfont, &RenderOptions::default())?;
//! write_wav(Path::new("song.wav"), &audio)?;
//! # Ok::<(), museroll_core::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::multitrack::Multitrack;
use crate::roll::RollKind;
use rayon::prelude::*;
use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;

/// The lowest sample rate rendered (rustysynth's lower limit), in Hz.
pub const MIN_SAMPLE_RATE: u32 = 16_000;

/// The highest sample rate rendered (rustysynth's upper limit), in Hz.
pub const MAX_SAMPLE_RATE: u32 = 192_000;

/// The most frames (samples per channel) a rendering may have: one hour at 44.1 kHz.
pub const MAX_FRAMES: usize = 3600 * 44_100;

/// The largest SoundFont file read: 1 GiB (General MIDI SoundFonts take 6–150 MB).
pub const MAX_SOUNDFONT_BYTES: u64 = 1 << 30;

/// Frames per synthesizer block: events take effect at block boundaries.
pub const BLOCK_FRAMES: usize = 64;

/// Voices of one note (rustysynth's maximum; notes are synthesized alone, so no voice is ever
/// taken from another note).
const POLYPHONY: usize = 256;

/// Samples (per channel) of the notes synthesized at once before they are mixed: 16 M, 128 MB.
const BATCH_FRAMES: usize = 1 << 24;

/// The level, relative to the peak, below which the tail counts as silent (−80 dB).
const SILENCE_LEVEL: f32 = 1e-4;

/// How long the tail must stay below [`SILENCE_LEVEL`] for rendering to stop, in seconds.
const SILENCE_SECONDS: f64 = 0.1;

/// The longest release tail [`RenderOptions::max_tail`] may ask for, in seconds.
const MAX_TAIL_SECONDS: f64 = 10.0;

/// The quietest peak [`RenderOptions::peak_dbfs`] may ask for, in dBFS.
const MIN_PEAK_DBFS: f64 = -60.0;

/// The highest sample rate accepted in a SoundFont's sample headers (real ones use 8–96 kHz).
const MAX_SAMPLE_HEADER_RATE: u32 = 384_000;

/// A SoundFont 2 bank, parsed and checked, ready to render with (cheap to clone).
#[derive(Clone)]
pub struct SoundFont(Arc<rustysynth::SoundFont>);

impl SoundFont {
    /// Parses a SoundFont 2 file's bytes. Errors ([`Error::SoundFont`]) say what is wrong, without
    /// a path: [`SoundFont::open`] adds it.
    pub fn from_bytes(bytes: &[u8]) -> Result<SoundFont> {
        check_riff(bytes).map_err(Error::SoundFont)?;
        let parsed = guarded(|| rustysynth::SoundFont::new(&mut Cursor::new(bytes)))?;
        let soundfont = parsed.map_err(|e| Error::SoundFont(e.to_string()))?;
        Ok(SoundFont(Arc::new(soundfont)))
    }

    /// Reads and parses a SoundFont 2 file (`.sf2`); errors name the file.
    pub fn open(path: &Path) -> Result<SoundFont> {
        let read = || -> Result<SoundFont> {
            let meta = std::fs::metadata(path)?;
            if !meta.is_file() {
                return Err(Error::Invalid("not a regular file".into()));
            }
            if meta.len() > MAX_SOUNDFONT_BYTES {
                return Err(Error::SoundFont(format!(
                    "{} bytes exceed the limit of {MAX_SOUNDFONT_BYTES}",
                    meta.len()
                )));
            }
            SoundFont::from_bytes(&std::fs::read(path)?)
        };
        read().map_err(|e| e.in_file(path))
    }

    /// The bank's name (its `INAM` field; may be empty).
    pub fn name(&self) -> &str {
        self.0.get_info().get_bank_name()
    }
}

impl std::fmt::Debug for SoundFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not derived: rustysynth's Debug would list every sample of the bank.
        f.debug_struct("SoundFont")
            .field("name", &self.name())
            .field("presets", &self.0.get_presets().len())
            .finish()
    }
}

/// Options of [`render`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderOptions {
    /// Frames per second, [`MIN_SAMPLE_RATE`]–[`MAX_SAMPLE_RATE`]. Default 44 100.
    pub sample_rate: u32,
    /// The output's peak level in dBFS, −60 to 0. Default −1.
    pub peak_dbfs: f64,
    /// The longest release tail after the last step, in seconds, 0 to 10 (see the module
    /// documentation). Default 2.
    pub max_tail: f64,
    /// A light reverb over the mix (see the module documentation). Default on.
    pub reverb: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            sample_rate: 44_100,
            peak_dbfs: -1.0,
            max_tail: 2.0,
            reverb: true,
        }
    }
}

impl RenderOptions {
    /// [`Error::Invalid`] naming the first option out of its range.
    ///
    /// ```
    /// use museroll_core::synth::RenderOptions;
    /// assert!(RenderOptions::default().check().is_ok());
    /// let slow = RenderOptions { sample_rate: 8000, ..RenderOptions::default() };
    /// assert_eq!(
    ///     slow.check().unwrap_err().to_string(),
    ///     "invalid value: sample rate 8000 Hz is outside 16000–192000 Hz"
    /// );
    /// ```
    pub fn check(&self) -> Result<()> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&self.sample_rate) {
            return Err(Error::Invalid(format!(
                "sample rate {} Hz is outside {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz",
                self.sample_rate
            )));
        }
        if !(MIN_PEAK_DBFS..=0.0).contains(&self.peak_dbfs) {
            return Err(Error::Invalid(format!(
                "peak level {} dBFS is outside {MIN_PEAK_DBFS}–0 dBFS",
                self.peak_dbfs
            )));
        }
        if !(0.0..=MAX_TAIL_SECONDS).contains(&self.max_tail) {
            return Err(Error::Invalid(format!(
                "release tail {} s is outside 0–{MAX_TAIL_SECONDS} s",
                self.max_tail
            )));
        }
        Ok(())
    }
}

/// Stereo audio: two channels of equal length, samples in −1..=1.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    sample_rate: u32,
    left: Vec<f32>,
    right: Vec<f32>,
}

impl Audio {
    /// Frames per second.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The left channel.
    pub fn left(&self) -> &[f32] {
        &self.left
    }

    /// The right channel.
    pub fn right(&self) -> &[f32] {
        &self.right
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.left.len()
    }

    /// Duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }

    /// The largest absolute sample of either channel (0 for silence).
    pub fn peak(&self) -> f32 {
        peak(&self.left).max(peak(&self.right))
    }
}

fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Plays `multitrack` with `soundfont` (see the module documentation for the policies): one
/// piece of [`render_many`].
///
/// Errors: [`Error::Invalid`] for options out of range or a piece longer than [`MAX_FRAMES`];
/// [`Error::SoundFont`] when the synthesizer fails on the SoundFont.
pub fn render(
    multitrack: &Multitrack,
    soundfont: &SoundFont,
    options: &RenderOptions,
) -> Result<Audio> {
    let mut audio = render_many(&[multitrack], soundfont, options)?;
    audio
        .pop()
        .unwrap_or_else(|| Err(Error::Invalid("nothing rendered".into())))
}

/// Plays several pieces with `soundfont`, in parallel (rayon): each distinct note of all of them
/// is synthesized once (see the module documentation). Returns one result per piece, in order: a
/// piece too long fails alone.
///
/// Errors: [`Error::Invalid`] for options out of range (then nothing is rendered);
/// [`Error::SoundFont`] when the synthesizer fails on the SoundFont.
pub fn render_many(
    pieces: &[&Multitrack],
    soundfont: &SoundFont,
    options: &RenderOptions,
) -> Result<Vec<Result<Audio>>> {
    options.check()?;
    let rate = f64::from(options.sample_rate);
    let tail = (options.max_tail * rate).round() as usize;
    // Each piece's length in frames, or why it is refused, before anything is allocated.
    let lengths: Vec<Result<usize>> = pieces
        .iter()
        .map(|m| {
            let seconds = m.seconds_at(m.len());
            let total = (seconds + options.max_tail) * rate;
            if !total.is_finite() || total > MAX_FRAMES as f64 {
                return Err(Error::Invalid(format!(
                    "{:.1} s of audio (with the release tail) at {} Hz exceed the limit of \
                     {MAX_FRAMES} frames (one hour at 44.1 kHz)",
                    seconds + options.max_tail,
                    options.sample_rate
                )));
            }
            Ok((seconds * rate).round() as usize)
        })
        .collect();

    // The notes of every piece that can be played, and the distinct sounds among them, in order.
    let mut placed: Vec<Vec<Placed>> = pieces
        .iter()
        .zip(&lengths)
        .map(|(m, length)| match length {
            Ok(_) => schedule(m, rate),
            Err(_) => Vec::new(),
        })
        .collect();
    let mut sounds: Vec<Sound> = placed.iter().flatten().map(|p| p.sound).collect();
    sounds.sort_unstable();
    sounds.dedup();
    let presets = Presets::new(&soundfont.0);
    let classes: Vec<Vec<i32>> = sounds
        .iter()
        .map(|s| presets.exclusive_classes(&soundfont.0, s))
        .collect();
    for notes in &mut placed {
        for note in notes.iter_mut() {
            // Found: every placed sound is among `sounds`.
            note.index = sounds.binary_search(&note.sound).unwrap_or(0);
        }
        choke(notes, &classes, &sounds);
        notes.sort_by_key(|n| n.index);
    }

    let mut outputs: Vec<(Vec<f32>, Vec<f32>)> = lengths
        .iter()
        .map(|l| {
            let frames = l.as_ref().map_or(0, |piece| piece + tail);
            (vec![0.0; frames], vec![0.0; frames])
        })
        .collect();
    let mut settings = rustysynth::SynthesizerSettings::new(options.sample_rate as i32);
    settings.block_size = BLOCK_FRAMES;
    settings.maximum_polyphony = POLYPHONY;
    settings.enable_reverb_and_chorus = false; // the reverb is applied to each mix, once
    rustysynth::Synthesizer::new(&soundfont.0, &settings)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let max_release = (MAX_TAIL_SECONDS * rate).round() as usize;
    let silence = (SILENCE_SECONDS * rate).round() as usize;
    let mut first = 0;
    while first < sounds.len() {
        // A batch of sounds whose samples fit in the budget (at least one sound).
        let mut end = first + 1;
        let mut budget = sounds[first].frames().saturating_add(max_release);
        while end < sounds.len() && budget < BATCH_FRAMES {
            budget = budget.saturating_add(sounds[end].frames().saturating_add(max_release));
            end += 1;
        }
        let batch = first..end;
        let rendered: Vec<(Vec<f32>, Vec<f32>)> = sounds[batch.clone()]
            .par_iter()
            .map_init(
                || rustysynth::Synthesizer::new(&soundfont.0, &settings),
                |synth, sound| match synth {
                    Ok(synth) => guarded(|| play(synth, sound, max_release, silence)),
                    Err(e) => Err(Error::Invalid(e.to_string())),
                },
            )
            .collect::<Result<_>>()?;
        outputs
            .par_iter_mut()
            .zip(&placed)
            .for_each(|((left, right), notes)| {
                let from = notes.partition_point(|n| n.index < batch.start);
                let to = notes.partition_point(|n| n.index < batch.end);
                for note in notes.get(from..to).unwrap_or_default() {
                    let (l, r) = &rendered[note.index - batch.start];
                    let start = note.start.min(left.len());
                    let len = l.len().min(note.cut).min(left.len() - start);
                    add(&mut left[start..start + len], &l[..len]);
                    add(&mut right[start..start + len], &r[..len]);
                }
            });
        first = end;
    }

    Ok(outputs
        .into_par_iter()
        .zip(lengths)
        .map(|((mut left, mut right), length)| {
            let length = length?;
            if options.reverb {
                Reverb::new(options.sample_rate).apply(&mut left, &mut right);
            }
            Ok(finish(left, right, length, tail, options))
        })
        .collect())
}

/// The reverb send of every note: the General MIDI default of channels (40 of 127).
const REVERB_SEND: f32 = 40.0 / 127.0;

/// A Schroeder–Moorer reverb as Jezar's Freeverb lays it out, at its default settings (room size
/// 0.5, damping 0.5, full width), which are rustysynth's: per channel eight low-passed feedback
/// comb filters in parallel, then four all-pass filters in series. It is linear and time
/// invariant, so reverberating the mix equals mixing each note's reverberation.
struct Reverb {
    /// Per channel (left, right): the combs (delay line, position, low-pass state).
    combs: [Vec<(Vec<f32>, usize, f32)>; 2],
    /// Per channel: the all-passes (delay line, position).
    allpasses: [Vec<(Vec<f32>, usize)>; 2],
}

impl Reverb {
    /// Comb and all-pass delays at 44.1 kHz, in frames; the right channel's are 23 longer.
    const COMBS: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
    const ALLPASSES: [usize; 4] = [556, 441, 341, 225];
    const SPREAD: usize = 23;
    /// Input gain, comb feedback (room size 0.5) and low-pass damping (0.5) of the defaults.
    const INPUT_GAIN: f32 = 0.015;
    const FEEDBACK: f32 = 0.84;
    const DAMP: f32 = 0.2;

    fn new(sample_rate: u32) -> Reverb {
        let scale = |frames: usize| {
            ((frames as f64 * f64::from(sample_rate) / 44_100.0).round() as usize).max(1)
        };
        let channel = |spread: usize| {
            (
                Self::COMBS
                    .iter()
                    .map(|&d| (vec![0.0; scale(d + spread)], 0, 0.0))
                    .collect(),
                Self::ALLPASSES
                    .iter()
                    .map(|&d| (vec![0.0; scale(d + spread)], 0))
                    .collect(),
            )
        };
        let (left, right) = (channel(0), channel(Self::SPREAD));
        Reverb {
            combs: [left.0, right.0],
            allpasses: [left.1, right.1],
        }
    }

    /// Adds the reverberation of the mix (`left` + `right`, sent at [`REVERB_SEND`]) to it.
    fn apply(mut self, left: &mut [f32], right: &mut [f32]) {
        let gain = Self::INPUT_GAIN * REVERB_SEND;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let input = (*l + *r) * gain;
            for (side, out) in [l, r].into_iter().enumerate() {
                let mut wet = 0.0;
                for (line, at, low) in &mut self.combs[side] {
                    let delayed = line[*at];
                    *low = delayed * (1.0 - Self::DAMP) + *low * Self::DAMP;
                    line[*at] = input + *low * Self::FEEDBACK;
                    *at = if *at + 1 == line.len() { 0 } else { *at + 1 };
                    wet += delayed;
                }
                for (line, at) in &mut self.allpasses[side] {
                    let delayed = line[*at];
                    line[*at] = wet + delayed * 0.5;
                    *at = if *at + 1 == line.len() { 0 } else { *at + 1 };
                    wet = delayed - wet;
                }
                *out += wet;
            }
        }
    }
}

/// Adds `source` into `target` (of the same length).
fn add(target: &mut [f32], source: &[f32]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t += s;
    }
}

/// A mixed piece made audio: cut after its last audible frame (but not inside the piece, nor
/// more than `tail` frames after it) and normalised.
fn finish(
    mut left: Vec<f32>,
    mut right: Vec<f32>,
    piece: usize,
    tail: usize,
    options: &RenderOptions,
) -> Audio {
    for x in left.iter_mut().chain(right.iter_mut()) {
        if !x.is_finite() {
            *x = 0.0;
        }
    }
    let peak = peak(&left).max(peak(&right));
    let len = audible_end(&left, &right, peak * SILENCE_LEVEL).clamp(piece, piece + tail);
    left.truncate(len);
    right.truncate(len);
    if peak > 0.0 {
        // In f64, so that even a vanishingly small peak gives a finite gain.
        let gain = 10f64.powf(options.peak_dbfs / 20.0) / f64::from(peak);
        for x in left.iter_mut().chain(right.iter_mut()) {
            // The clamp only absorbs rounding: |x| ≤ peak, so |x · gain| ≤ the target level ≤ 1.
            *x = (f64::from(*x) * gain).clamp(-1.0, 1.0) as f32;
        }
    }
    Audio {
        sample_rate: options.sample_rate,
        left,
        right,
    }
}

/// Everything a note's sound depends on: the synthesizer renders it alone, once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Sound {
    /// Played from the percussion bank (on the drum channel), else with `program`.
    drum: bool,
    program: u8,
    key: u8,
    velocity: u8,
    /// How long the key is held, in blocks (0: released at once).
    blocks: usize,
}

impl Sound {
    /// The frames the key is held.
    fn frames(&self) -> usize {
        self.blocks.saturating_mul(BLOCK_FRAMES)
    }
}

/// A note of a piece: its sound, where it starts and, when a later note of its exclusive class
/// cuts it off, after how many frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Placed {
    sound: Sound,
    /// The first frame, a multiple of [`BLOCK_FRAMES`].
    start: usize,
    /// The MIDI channel (0-based) it would have in a MIDI file.
    channel: u8,
    /// Frames it may sound at most (`usize::MAX` when nothing cuts it off).
    cut: usize,
    /// Its sound's index among the distinct sounds of the batch (set once they are known).
    index: usize,
}

/// The notes of every track, block-aligned, ordered by start (and by track at the same start).
fn schedule(multitrack: &Multitrack, sample_rate: f64) -> Vec<Placed> {
    let clock = Clock::new(multitrack);
    // The block boundary nearest a step's time.
    let block = |step: usize| {
        ((clock.seconds(step) * sample_rate).round() as usize + BLOCK_FRAMES / 2) / BLOCK_FRAMES
    };
    let mut placed = Vec::new();
    let channels = crate::midi::track_channels(&multitrack.tracks);
    for (track, channel) in multitrack.tracks.iter().zip(channels) {
        let binary = track.roll.kind() == RollKind::Binary;
        for note in track.roll.notes() {
            let velocity = if binary {
                crate::DEFAULT_VELOCITY
            } else {
                note.velocity
            };
            let start = block(note.start);
            placed.push(Placed {
                sound: Sound {
                    drum: track.is_drum,
                    program: if track.is_drum {
                        0
                    } else {
                        track.program.number()
                    },
                    key: note.pitch.number(),
                    velocity,
                    blocks: block(note.end).saturating_sub(start),
                },
                start: start * BLOCK_FRAMES,
                channel,
                cut: usize::MAX,
                index: 0,
            });
        }
    }
    placed.sort_by_key(|p| p.start); // stable
    placed
}

/// Cuts each note off where the next note of the same channel that shares one of its exclusive
/// classes starts (`notes` in order of start; `classes` per sound index).
fn choke(notes: &mut [Placed], classes: &[Vec<i32>], sounds: &[Sound]) {
    // The last note of each (channel, class) so far.
    let mut last: Vec<((u8, i32), usize)> = Vec::new();
    for i in 0..notes.len() {
        let note = notes[i];
        let Some(own) = classes.get(note.index) else {
            continue;
        };
        debug_assert_eq!(sounds.get(note.index), Some(&note.sound));
        for &class in own {
            let key = (note.channel, class);
            match last.iter_mut().find(|(k, _)| *k == key) {
                Some((_, previous)) => {
                    let earlier = &mut notes[*previous];
                    earlier.cut = earlier.cut.min(note.start - earlier.start);
                    *previous = i;
                }
                None => last.push((key, i)),
            }
        }
    }
}

/// Seconds at steps, by the tempo map: the sum [`Multitrack::seconds_at`] makes, with the time of
/// each tempo change computed once, so that n notes cost O(n log tempos) rather than O(n · tempos).
struct Clock {
    /// Per tempo change: its step, its time in seconds, and the seconds per step from there.
    segments: Vec<(usize, f64, f64)>,
}

impl Clock {
    fn new(multitrack: &Multitrack) -> Clock {
        let resolution = f64::from(multitrack.resolution().get());
        let mut segments: Vec<(usize, f64, f64)> = Vec::with_capacity(multitrack.tempos().len());
        for tempo in multitrack.tempos() {
            let seconds = segments.last().map_or(0.0, |&(step, seconds, per_step)| {
                seconds + (tempo.step - step) as f64 * per_step
            });
            segments.push((tempo.step, seconds, 60.0 / (tempo.qpm * resolution)));
        }
        Clock { segments }
    }

    fn seconds(&self, step: usize) -> f64 {
        let i = self
            .segments
            .partition_point(|&(start, _, _)| start <= step);
        i.checked_sub(1)
            .and_then(|i| self.segments.get(i))
            .map_or(0.0, |&(start, seconds, per_step)| {
                seconds + (step - start) as f64 * per_step
            })
    }
}

/// The synthesizer's preset lookup, to find the regions that play a sound as it does.
struct Presets {
    /// Preset index by (bank, patch); of duplicates the last one, as in rustysynth.
    by_id: std::collections::HashMap<(i32, i32), usize>,
    /// The preset of a (bank, patch) the SoundFont lacks: the first of the lowest.
    default: Option<usize>,
}

impl Presets {
    fn new(soundfont: &rustysynth::SoundFont) -> Presets {
        let ids = soundfont
            .get_presets()
            .iter()
            .map(|p| (p.get_bank_number(), p.get_patch_number()));
        let default = ids
            .clone()
            .enumerate()
            .min_by_key(|&(_, id)| id)
            .map(|(i, _)| i);
        Presets {
            by_id: ids.enumerate().map(|(i, id)| (id, i)).collect(),
            default,
        }
    }

    /// The exclusive classes (non-zero) of the regions that play `sound`, sorted.
    fn exclusive_classes(&self, soundfont: &rustysynth::SoundFont, sound: &Sound) -> Vec<i32> {
        let (bank, patch) = if sound.drum {
            (128, 0)
        } else {
            (0, i32::from(sound.program))
        };
        let preset = self.by_id.get(&(bank, patch)).copied().or(self.default);
        let (key, velocity) = (i32::from(sound.key), i32::from(sound.velocity));
        let mut classes: Vec<i32> = preset
            .and_then(|i| soundfont.get_presets().get(i))
            .map(|preset| {
                preset
                    .get_regions()
                    .iter()
                    .filter(|r| r.contains(key, velocity))
                    .filter_map(|r| soundfont.get_instruments().get(r.get_instrument_id()))
                    .flat_map(|inst| inst.get_regions())
                    .filter(|r| r.contains(key, velocity))
                    .map(|r| r.get_exclusive_class())
                    .filter(|&c| c != 0)
                    .collect()
            })
            .unwrap_or_default();
        classes.sort_unstable();
        classes.dedup();
        classes
    }
}

/// Plays `sound` alone from a reset synthesizer: the key held for its blocks, then released until
/// the output has stayed below [`SILENCE_LEVEL`] of its peak for `silence` frames, or for
/// `max_release` frames at most. Returns the channels cut after their last frame above that level.
fn play(
    synth: &mut rustysynth::Synthesizer,
    sound: &Sound,
    max_release: usize,
    silence: usize,
) -> (Vec<f32>, Vec<f32>) {
    synth.reset();
    let (channel, key) = (if sound.drum { 9 } else { 0 }, i32::from(sound.key));
    if !sound.drum {
        synth.process_midi_message(channel, 0xC0, i32::from(sound.program), 0);
    }
    synth.note_on(channel, key, i32::from(sound.velocity));
    let held = sound.frames();
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let mut block_left = [0f32; BLOCK_FRAMES];
    let mut block_right = [0f32; BLOCK_FRAMES];
    let mut peak = 0f32;
    // One past the last frame above the silence level (relative to the peak so far).
    let mut loud_until = 0;
    loop {
        let start = left.len();
        if start == held {
            synth.note_off(channel, key);
        }
        if start >= held && (start >= held + max_release || start >= loud_until + silence) {
            break;
        }
        synth.render(&mut block_left, &mut block_right);
        for (i, (l, r)) in block_left.iter().zip(&block_right).enumerate() {
            let level = l.abs().max(r.abs());
            peak = peak.max(level);
            if level > peak * SILENCE_LEVEL {
                loud_until = start + i + 1;
            }
        }
        left.extend_from_slice(&block_left);
        right.extend_from_slice(&block_right);
    }
    left.truncate(loud_until);
    right.truncate(loud_until);
    (left, right)
}

/// One past the last frame where either channel exceeds `level` (0 when none does).
fn audible_end(left: &[f32], right: &[f32], level: f32) -> usize {
    left.iter()
        .zip(right)
        .rposition(|(l, r)| l.abs() > level || r.abs() > level)
        .map_or(0, |i| i + 1)
}

/// Runs third-party synthesizer code, turning a panic into an [`Error::SoundFont`].
fn guarded<T>(work: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Error::SoundFont(format!(
            "the synthesizer failed on this SoundFont ({message})"
        ))
    })
}

/// A RIFF chunk: its four-character id and its body.
type Chunk<'a> = ([u8; 4], &'a [u8]);

/// Splits `data` into the chunks that fill it exactly. Sizes must be even: SoundFont 2 chunks are,
/// and rustysynth reads no pad bytes.
fn chunks(mut data: &[u8]) -> std::result::Result<Vec<Chunk<'_>>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (header, rest) = data
            .split_first_chunk::<8>()
            .ok_or("the file ends inside a chunk header")?;
        let (id, size) = header.split_at(4);
        let id: [u8; 4] = id.try_into().map_err(|_| "bad chunk header")?;
        let size = u32::from_le_bytes(size.try_into().map_err(|_| "bad chunk header")?);
        let name = String::from_utf8_lossy(&id).into_owned();
        let size = usize::try_from(size).map_err(|_| format!("chunk '{name}' is too large"))?;
        if !size.is_multiple_of(2) {
            return Err(format!("chunk '{name}' has an odd size ({size} bytes)"));
        }
        if size > rest.len() {
            return Err(format!(
                "chunk '{name}' claims {size} bytes but only {} remain",
                rest.len()
            ));
        }
        let (body, next) = rest.split_at(size);
        out.push((id, body));
        data = next;
    }
    Ok(out)
}

/// Checks a SoundFont 2 file's RIFF structure as far as rustysynth relies on it without checking
/// (see the module documentation). rustysynth reports everything else.
fn check_riff(bytes: &[u8]) -> std::result::Result<(), String> {
    let not_sf2 = || "not a SoundFont 2 file (no RIFF 'sfbk' header)".to_string();
    let (riff, rest) = bytes.split_first_chunk::<12>().ok_or_else(not_sf2)?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"sfbk" {
        return Err(not_sf2());
    }
    // rustysynth reads three lists in this order and ignores anything after them (and the RIFF
    // size); each must fit in the file.
    let mut rest = rest;
    let mut lists = Vec::with_capacity(3);
    for kind in [b"INFO", b"sdta", b"pdta"] {
        let name = String::from_utf8_lossy(kind);
        let (header, after) = rest
            .split_first_chunk::<12>()
            .ok_or_else(|| format!("the '{name}' list is missing"))?;
        if &header[..4] != b"LIST" || &header[8..] != kind {
            return Err(format!("the '{name}' list is missing"));
        }
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let body_size = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_sub(4))
            .filter(|&s| s <= after.len())
            .ok_or_else(|| {
                format!("the '{name}' list's size ({size} bytes) does not fit the file")
            })?;
        let (body, next) = after.split_at(body_size);
        lists.push(chunks(body)?);
        rest = next;
    }
    // rustysynth reads versions as 4 bytes whatever their size says.
    if let Some((id, _)) = lists[0]
        .iter()
        .find(|(id, body)| matches!(id, b"ifil" | b"iver") && body.len() != 4)
    {
        return Err(format!(
            "the '{}' version is not 4 bytes long",
            String::from_utf8_lossy(id)
        ));
    }
    let pdta = &lists[2];
    // rustysynth keeps the last chunk of each kind.
    let find = |id: &[u8; 4]| pdta.iter().rev().find(|(i, _)| i == id).map(|(_, b)| *b);
    // Headers point into bags (the index at `offset` of each `size`-byte record), bags into
    // generators: every index must name a record of its target list (the last one, the list's
    // terminal record, ends the previous span).
    for (headers, size, offset, bags, generators) in [
        (b"phdr", 38, 24, b"pbag", b"pgen"),
        (b"inst", 22, 20, b"ibag", b"igen"),
    ] {
        if let (Some(h), Some(b), Some(g)) = (find(headers), find(bags), find(generators)) {
            check_links(h, size, offset, b.len() / 4, headers, bags)?;
            check_links(b, 4, 0, g.len() / 4, bags, generators)?;
        }
    }
    // rustysynth steps through a sample at its rate relative to the output's: a negative rate (as
    // it reads the field) runs before the data, an absurd one far past its loop.
    if let Some(headers) = find(b"shdr") {
        let real = (headers.len() / 46).saturating_sub(1); // all but the terminal record
        for (i, header) in headers.chunks_exact(46).take(real).enumerate() {
            let rate = u32::from_le_bytes([header[36], header[37], header[38], header[39]]);
            if rate > MAX_SAMPLE_HEADER_RATE {
                return Err(format!(
                    "sample {i} has a sample rate of {rate} Hz (more than {MAX_SAMPLE_HEADER_RATE})"
                ));
            }
        }
    }
    Ok(())
}

/// Checks that the little-endian u16 at `offset` of every `size`-byte record of `records` is below
/// `targets`.
fn check_links(
    records: &[u8],
    size: usize,
    offset: usize,
    targets: usize,
    from: &[u8; 4],
    to: &[u8; 4],
) -> std::result::Result<(), String> {
    for (i, record) in records.chunks_exact(size).enumerate() {
        let index = record
            .get(offset..offset + 2)
            .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
        if index >= targets {
            return Err(format!(
                "record {i} of '{}' points to record {index} of '{}', which has {targets}",
                String::from_utf8_lossy(from),
                String::from_utf8_lossy(to)
            ));
        }
    }
    Ok(())
}

/// Encodes `audio` as a WAV file: 16-bit PCM, stereo, at its sample rate (the canonical 44-byte
/// RIFF header, then the interleaved samples).
pub fn encode_wav(audio: &Audio) -> Result<Vec<u8>> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let samples = audio
        .frames()
        .checked_mul(2)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Error::Invalid("WAV: too long for a WAV file (4 GB)".into()))?;
    let mut cursor = Cursor::new(Vec::with_capacity(44 + audio.frames() * 4));
    let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(wav_error)?;
    // hound's 16-bit writer: a buffer of the known length, no per-sample checks.
    let mut fast = writer.get_i16_writer(samples);
    for (&l, &r) in audio.left.iter().zip(&audio.right) {
        for x in [l, r] {
            fast.write_sample((x.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16);
        }
    }
    fast.flush().map_err(wav_error)?;
    writer.finalize().map_err(wav_error)?;
    Ok(cursor.into_inner())
}

fn wav_error(error: hound::Error) -> Error {
    match error {
        hound::Error::IoError(e) => Error::Io(e),
        other => Error::Invalid(format!("WAV: {other}")),
    }
}

/// Refuses an output path whose extension is not `.wav` (case-insensitive), naming the file.
/// Callers check this before any work is done.
pub fn check_wav_path(path: &Path) -> Result<()> {
    let is_wav = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if is_wav {
        Ok(())
    } else {
        Err(
            Error::UnsupportedFormat("unsupported output extension (use .wav)".into())
                .in_file(path),
        )
    }
}

/// Writes `audio` to `path` (which must end in `.wav`) as 16-bit PCM stereo, atomically.
pub fn write_wav(path: &Path, audio: &Audio) -> Result<()> {
    check_wav_path(path)?;
    let bytes = encode_wav(audio).map_err(|e| e.in_file(path))?;
    crate::staging::atomic_write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Note, Pitch, Program, Resolution, Roll, Tempo, Track};

    fn track(is_drum: bool, program: u8, roll: Roll) -> Track {
        Track {
            name: String::new(),
            program: Program::new(program).unwrap(),
            is_drum,
            roll,
        }
    }

    fn note(pitch: u8, start: usize, end: usize, velocity: u8) -> Note {
        Note {
            pitch: Pitch::new(pitch).unwrap(),
            start,
            end,
            velocity,
        }
    }

    #[test]
    fn the_clock_agrees_with_seconds_at() {
        let mut m = Multitrack::new(Resolution::new(24).unwrap());
        m.set_tempos([
            Tempo { step: 0, qpm: 90.0 },
            Tempo {
                step: 7,
                qpm: 200.0,
            },
            Tempo {
                step: 30,
                qpm: 45.5,
            },
            Tempo {
                step: 31,
                qpm: 120.0,
            },
        ])
        .unwrap();
        let clock = Clock::new(&m);
        for step in 0..100 {
            let (a, b) = (clock.seconds(step), m.seconds_at(step));
            assert!((a - b).abs() < 1e-12, "step {step}: {a} vs {b}");
        }
        // One step at 90 qpm and 24 steps per beat lasts 60 / (90 · 24) s.
        assert!((clock.seconds(1) - 60.0 / 2160.0).abs() < 1e-15);
    }

    #[test]
    fn notes_land_on_the_nearest_block_boundary() {
        // Resolution 4 at 120 qpm: a step is 0.125 s, 2000 frames at 16 kHz, 31.25 blocks.
        let mut m = Multitrack::new(Resolution::new(4).unwrap());
        let roll = Roll::from_notes(
            RollKind::Velocity,
            8,
            [note(60, 0, 2, 90), note(60, 2, 4, 70), note(64, 1, 3, 50)],
        );
        m.tracks = vec![track(false, 33, roll)];
        let placed = schedule(&m, 16_000.0);
        let summary: Vec<(usize, u8, u8, usize)> = placed
            .iter()
            .map(|p| (p.start, p.sound.key, p.sound.velocity, p.sound.blocks))
            .collect();
        // Steps 1, 2, 3, 4 are frames 2000, 4000, 6000, 8000: blocks 31 (1984), 63 (4032),
        // 94 (6016), 125 (8000), each within half a block.
        assert_eq!(
            summary,
            [
                (0, 60, 90, 63),
                (1984, 64, 50, 63),
                (4032, 60, 70, 62), // the repeated C is a note of its own
            ]
        );
        assert!(placed
            .iter()
            .all(|p| p.channel == 0 && p.sound.program == 33 && !p.sound.drum));
        assert!(placed.iter().all(|p| p.cut == usize::MAX));
    }

    #[test]
    fn channels_follow_the_midi_layout_and_binary_notes_get_the_default_velocity() {
        let mut m = Multitrack::new(Resolution::new(4).unwrap());
        let one = |kind| Roll::from_notes(kind, 1, [note(40, 0, 1, 100)]);
        m.tracks = vec![track(true, 5, one(RollKind::Binary))];
        m.tracks
            .extend((0..16).map(|i| track(false, i, one(RollKind::Velocity))));
        let placed = schedule(&m, 16_000.0);
        let notes: Vec<(u8, bool, u8, u8)> = placed
            .iter()
            .map(|p| (p.channel, p.sound.drum, p.sound.program, p.sound.velocity))
            .collect();
        // The drum track: channel 9, the percussion bank (its program ignored), binary →
        // DEFAULT_VELOCITY.
        assert_eq!(notes[0], (9, true, 0, crate::DEFAULT_VELOCITY));
        let channels: Vec<u8> = notes[1..].iter().map(|o| o.0).collect();
        assert_eq!(
            channels,
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 0]
        );
        assert_eq!(notes[16], (0, false, 15, 100)); // the 16th pitched track keeps its program
    }

    #[test]
    fn a_note_shorter_than_a_block_is_released_at_once() {
        let mut m = Multitrack::new(Resolution::new(960).unwrap());
        m.set_tempos([Tempo { step: 0, qpm: 1e6 }]).unwrap();
        m.tracks = vec![track(
            false,
            0,
            Roll::from_notes(
                RollKind::Velocity,
                2,
                [note(60, 0, 1, 64), note(60, 1, 2, 64)],
            ),
        )];
        let placed: Vec<(usize, usize)> = schedule(&m, 16_000.0)
            .iter()
            .map(|p| (p.start, p.sound.blocks))
            .collect();
        assert_eq!(placed, [(0, 0), (0, 0)]);
    }

    #[test]
    fn a_note_is_cut_off_by_the_next_of_its_exclusive_class_on_its_channel() {
        let sound = |key| Sound {
            drum: true,
            program: 0,
            key,
            velocity: 100,
            blocks: 10,
        };
        let sounds = [sound(42), sound(44), sound(46), sound(49)];
        // Hi-hats 42, 44, 46 share class 1; 46 also has class 2; the cymbal 49 has none.
        let classes = [vec![1], vec![1], vec![1, 2], vec![]];
        let at = |index: usize, start, channel| Placed {
            sound: sounds[index],
            start,
            channel,
            cut: usize::MAX,
            index,
        };
        let mut notes = [
            at(2, 0, 9),   // open hi-hat, cut by the pedal hi-hat at 640
            at(3, 64, 9),  // cymbal: never cut
            at(0, 64, 8),  // another channel: not cut by channel 9's notes
            at(1, 640, 9), // pedal hi-hat, cut by the closed one at 1280
            at(0, 1280, 9),
        ];
        choke(&mut notes, &classes, &sounds);
        let cuts: Vec<usize> = notes.iter().map(|n| n.cut).collect();
        assert_eq!(cuts, [640, usize::MAX, usize::MAX, 640, usize::MAX]);
    }

    #[test]
    fn options_are_checked() {
        assert!(RenderOptions::default().check().is_ok());
        let bad = |o: RenderOptions| o.check().unwrap_err().to_string();
        let d = RenderOptions::default();
        assert_eq!(
            bad(RenderOptions {
                sample_rate: 0,
                ..d
            }),
            "invalid value: sample rate 0 Hz is outside 16000–192000 Hz"
        );
        assert!(RenderOptions {
            sample_rate: 16_000,
            ..d
        }
        .check()
        .is_ok());
        assert!(RenderOptions {
            sample_rate: 192_000,
            ..d
        }
        .check()
        .is_ok());
        assert!(bad(RenderOptions {
            sample_rate: 192_001,
            ..d
        })
        .contains("192001 Hz"));
        assert!(bad(RenderOptions {
            peak_dbfs: 0.5,
            ..d
        })
        .contains("peak level 0.5 dBFS"));
        assert!(bad(RenderOptions {
            peak_dbfs: -61.0,
            ..d
        })
        .contains("peak level"));
        assert!(bad(RenderOptions {
            max_tail: 11.0,
            ..d
        })
        .contains("release tail 11 s"));
        assert!(bad(RenderOptions {
            max_tail: f64::NAN,
            ..d
        })
        .contains("release tail"));
    }

    #[test]
    fn the_audible_end_is_after_the_last_loud_frame() {
        let left = [0.0, 0.5, 0.0, 0.001, 0.0];
        let right = [0.0, 0.0, -0.2, 0.0, 0.0];
        assert_eq!(audible_end(&left, &right, 0.01), 3);
        assert_eq!(audible_end(&left, &right, 0.0), 4);
        assert_eq!(audible_end(&left, &right, 1.0), 0);
        assert_eq!(audible_end(&[], &[], 0.0), 0);
    }

    /// A RIFF chunk.
    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        [&id[..], &(body.len() as u32).to_le_bytes(), body].concat()
    }

    #[test]
    fn the_riff_structure_is_checked() {
        let info = chunk(
            b"LIST",
            &[&b"INFO"[..], &chunk(b"ifil", &[2, 0, 1, 0])].concat(),
        );
        let sdta = chunk(b"LIST", &[&b"sdta"[..], &chunk(b"smpl", &[0; 8])].concat());
        let pdta = |body: &[u8]| chunk(b"LIST", &[&b"pdta"[..], body].concat());
        let file = |pdta: &[u8]| chunk(b"RIFF", &[&b"sfbk"[..], &info, &sdta, pdta].concat());

        assert_eq!(check_riff(&file(&pdta(&[]))), Ok(()));
        let not_sf2 = "not a SoundFont 2 file (no RIFF 'sfbk' header)";
        assert_eq!(check_riff(b"RIFF\0\0\0\0WAVE").unwrap_err(), not_sf2);
        assert_eq!(check_riff(b"RIFF").unwrap_err(), not_sf2);
        assert_eq!(
            check_riff(&chunk(b"RIFF", b"sfbk")).unwrap_err(),
            "the 'INFO' list is missing"
        );
        let mut long = pdta(&[]);
        long[4] = 200;
        assert_eq!(
            check_riff(&file(&long)).unwrap_err(),
            "the 'pdta' list's size (200 bytes) does not fit the file"
        );
        let odd = pdta(&[chunk(b"pmod", &[0; 3]), vec![0]].concat());
        assert_eq!(
            check_riff(&file(&odd)).unwrap_err(),
            "chunk 'pmod' has an odd size (3 bytes)"
        );
        let short = pdta(&chunk(b"pmod", &[0; 4])[..10]);
        assert_eq!(
            check_riff(&file(&short)).unwrap_err(),
            "chunk 'pmod' claims 4 bytes but only 2 remain"
        );
        let ragged = pdta(&[0; 6]);
        assert_eq!(
            check_riff(&file(&ragged)).unwrap_err(),
            "the file ends inside a chunk header"
        );
        let version = chunk(b"LIST", &[&b"INFO"[..], &chunk(b"ifil", &[2, 0])].concat());
        let bytes = chunk(
            b"RIFF",
            &[&b"sfbk"[..], &version, &sdta, &pdta(&[])].concat(),
        );
        assert_eq!(
            check_riff(&bytes).unwrap_err(),
            "the 'ifil' version is not 4 bytes long"
        );

        // Two preset headers (38 bytes) pointing at bags 0 and 2, but only 2 bags.
        let mut phdr = vec![0u8; 76];
        phdr[38 + 24] = 2;
        let links = [
            chunk(b"phdr", &phdr),
            chunk(b"pbag", &[0, 0, 0, 0, 1, 0, 0, 0]),
            chunk(b"pgen", &[0; 8]),
        ]
        .concat();
        assert_eq!(
            check_riff(&file(&pdta(&links))).unwrap_err(),
            "record 1 of 'phdr' points to record 2 of 'pbag', which has 2"
        );
    }

    #[test]
    fn wav_path_and_encoding() {
        assert!(check_wav_path(Path::new("a/b.wav")).is_ok());
        assert!(check_wav_path(Path::new("B.WAV")).is_ok());
        for bad in ["a.mid", "a", "wav", "a.wav.png"] {
            assert_eq!(
                check_wav_path(Path::new(bad)).unwrap_err().to_string(),
                format!("{bad}: unsupported format: unsupported output extension (use .wav)")
            );
        }
        let audio = Audio {
            sample_rate: 22_050,
            left: vec![0.0, 1.0, -1.0, 0.5],
            right: vec![2.0, -0.25, 1e-6, -1.5],
        };
        let bytes = encode_wav(&audio).unwrap();
        assert_eq!(bytes.len(), 44 + 4 * 4);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        let samples: Vec<i16> = bytes[44..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(samples, [0, 32767, 32767, -8192, -32767, 0, 16384, -32767]);
    }

    #[test]
    fn a_panic_in_the_synthesizer_becomes_an_error() {
        let err = guarded(|| -> u8 { panic!("index out of bounds") }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SoundFont: the synthesizer failed on this SoundFont (index out of bounds)"
        );
        assert_eq!(guarded(|| 7).unwrap(), 7);
    }
}
