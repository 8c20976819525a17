//! Audio: a multitrack played by a SoundFont 2 synthesizer (rustysynth), and 16-bit WAV files.
//!
//! One concern per file: `soundfont` (reading and checking banks, guarding the third-party
//! synthesizer), `schedule` (notes as distinct sounds on block boundaries, exclusive classes),
//! `render` (synthesis and mixing: [`render`], [`render_many`]), `reverb`, `options`
//! ([`RenderOptions`]), `audio` ([`Audio`]) and `wav` (WAV files).
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
//! - **Timing** follows the tempo map ([`crate::Multitrack::seconds_at`]). The synthesizer renders blocks
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
//!   it, an arithmetic overflow); such a panic becomes an [`crate::Error::SoundFont`], not a crash.
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

mod audio;
mod options;
mod render;
mod reverb;
mod schedule;
mod soundfont;
mod wav;

pub use audio::Audio;
pub use options::{RenderOptions, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
pub use render::{render, render_many, MAX_FRAMES};
pub use schedule::BLOCK_FRAMES;
pub use soundfont::{SoundFont, MAX_SOUNDFONT_BYTES};
pub use wav::{check_wav_path, encode_wav, write_wav};
