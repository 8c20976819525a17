//! `museroll render`: a music file played by a SoundFont synthesizer into a WAV file.

use anyhow::{Context, Result};
use clap::Args;
use museroll_core::synth::{self, Audio, RenderOptions, SoundFont};
use museroll_core::{Error, Multitrack};
use std::path::{Path, PathBuf};

/// Where setup.sh's venv keeps pretty_midi's General MIDI SoundFont, the default one.
const VENV_SOUNDFONT: &str = "lib/python3*/site-packages/pretty_midi/TimGM6mb.sf2";

/// Arguments of `museroll render`.
#[derive(Args)]
pub struct RenderArgs {
    /// Input file (MIDI, MusicXML, .mxl or .npz).
    input: PathBuf,
    /// Output audio (.wav: 16-bit PCM stereo).
    output: PathBuf,
    /// A SoundFont 2 file (.sf2). Default: pretty_midi's TimGM6mb.sf2 in the project's .venv.
    #[arg(long)]
    soundfont: Option<PathBuf>,
    /// Sample rate in Hz (16000–192000).
    #[arg(long, default_value_t = 44_100)]
    sample_rate: u32,
    #[command(flatten)]
    timing: crate::Timing,
}

/// Renders `args.input` to `args.output`. Options and the output's extension are checked before
/// anything is read; every error is one line naming its file.
pub fn run(args: &RenderArgs) -> Result<()> {
    synth::check_wav_path(&args.output)?;
    let options = RenderOptions {
        sample_rate: args.sample_rate,
        ..RenderOptions::default()
    };
    options.check()?;
    let (multitrack, _) = args.timing.read(&args.input)?;
    let (soundfont, soundfont_path) = soundfont(args.soundfont.as_deref())?;
    let audio = render_to(
        &multitrack,
        &args.input,
        &args.output,
        &soundfont,
        &soundfont_path,
        &options,
    )?;
    eprintln!(
        "wrote {} ({:.1} s at {} Hz, SoundFont {})",
        args.output.display(),
        audio.seconds(),
        audio.sample_rate(),
        soundfont_path.display()
    );
    Ok(())
}

/// The SoundFont at `path`, or by default the one in the project's venv; and its path.
pub fn soundfont(path: Option<&Path>) -> Result<(SoundFont, PathBuf)> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => crate::venv::find(VENV_SOUNDFONT).context(
            "no SoundFont found in the project's .venv: pass --soundfont FILE.sf2 (e.g. Debian's \
             /usr/share/sounds/sf2/FluidR3_GM.sf2) or run ./setup.sh",
        )?,
    };
    Ok((SoundFont::open(&path)?, path))
}

/// Plays `multitrack` (read from `input`) into the WAV file `output`.
pub fn render_to(
    multitrack: &Multitrack,
    input: &Path,
    output: &Path,
    soundfont: &SoundFont,
    soundfont_path: &Path,
    options: &RenderOptions,
) -> Result<Audio> {
    // A synthesizer failure concerns the SoundFont; anything else (a piece too long), the input.
    let audio = synth::render(multitrack, soundfont, options).map_err(|e| match e {
        Error::SoundFont(_) => e.in_file(soundfont_path),
        other => other.in_file(input),
    })?;
    synth::write_wav(output, &audio)?;
    Ok(audio)
}
