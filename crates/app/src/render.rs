//! Music played by a SoundFont synthesizer into WAV files.

use crate::error::{Error, Result};
use museroll_core::synth::{self, Audio, RenderOptions, SoundFont};
use museroll_core::venv;
use museroll_core::Resolution;
use std::path::{Path, PathBuf};

/// One file to play: what `museroll render` is asked.
#[derive(Clone, Debug)]
pub struct RenderRequest {
    /// The music file (MIDI, MusicXML, .mxl or .npz).
    pub input: PathBuf,
    /// The WAV file to write.
    pub output: PathBuf,
    /// The SoundFont (`None`: pretty_midi's in the project's venv, see [`soundfont`]).
    pub soundfont: Option<PathBuf>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// The time grid to read the input on (see [`crate::music::read`]).
    pub resolution: Option<Resolution>,
}

/// What [`render_file`] made.
#[derive(Debug)]
pub struct Rendered {
    /// The audio, as written.
    pub audio: Audio,
    /// The SoundFont that played it.
    pub soundfont: PathBuf,
}

/// Plays `request.input` into `request.output`. The options and the output's extension are
/// checked before anything is read; every error names its file.
pub fn render_file(request: &RenderRequest) -> Result<Rendered> {
    synth::check_wav_path(&request.output)?;
    let options = RenderOptions {
        sample_rate: request.sample_rate,
        ..RenderOptions::default()
    };
    options.check()?;
    let (multitrack, _) = crate::music::read(&request.input, request.resolution)?;
    let (soundfont, soundfont_path) = soundfont(request.soundfont.as_deref())?;
    // A synthesizer failure concerns the SoundFont; anything else (a piece too long), the input.
    let audio = synth::render(&multitrack, &soundfont, &options).map_err(|e| match e {
        museroll_core::Error::SoundFont(_) => e.in_file(&soundfont_path),
        other => other.in_file(&request.input),
    })?;
    synth::write_wav(&request.output, &audio)?;
    Ok(Rendered {
        audio,
        soundfont: soundfont_path,
    })
}

/// The SoundFont at `path`, or by default the one in the project's venv; and its path.
pub fn soundfont(path: Option<&Path>) -> Result<(SoundFont, PathBuf)> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => venv::find(venv::search_roots(), venv::GM_SOUNDFONT).ok_or(Error::NoSoundFont)?,
    };
    Ok((SoundFont::open(&path)?, path))
}
