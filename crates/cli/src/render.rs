//! `museroll render`: a music file played by a SoundFont synthesizer into a WAV file.

use anyhow::{Context, Result};
use clap::Args;
use museroll_core::synth::{self, Audio, RenderOptions, SoundFont};
use museroll_core::venv;
use museroll_core::{Error, Multitrack};
use std::path::{Path, PathBuf};

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
        &[(&multitrack, &args.input, &args.output)],
        &soundfont,
        &soundfont_path,
        &options,
    )?
    .remove(0);
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
        None => venv::find(venv::search_roots(), venv::GM_SOUNDFONT).context(
            "no SoundFont found in the project's .venv: pass --soundfont FILE.sf2 (e.g. Debian's \
             /usr/share/sounds/sf2/FluidR3_GM.sf2) or run ./setup.sh",
        )?,
    };
    Ok((SoundFont::open(&path)?, path))
}

/// Plays each multitrack (read from its input file) into its WAV file, all together (the
/// library synthesizes every distinct note once, in parallel). Errors name their file.
pub fn render_to(
    jobs: &[(&Multitrack, &Path, &Path)],
    soundfont: &SoundFont,
    soundfont_path: &Path,
    options: &RenderOptions,
) -> Result<Vec<Audio>> {
    let pieces: Vec<&Multitrack> = jobs.iter().map(|job| job.0).collect();
    // A synthesizer failure concerns the SoundFont; anything else (a piece too long), the input.
    let in_file = |e: Error, input: &Path| match e {
        Error::SoundFont(_) => e.in_file(soundfont_path),
        other => other.in_file(input),
    };
    let rendered = synth::render_many(&pieces, soundfont, options)
        .map_err(|e| in_file(e, jobs.first().map_or(soundfont_path, |job| job.1)))?;
    let mut audio = Vec::with_capacity(jobs.len());
    for (&(_, input, output), result) in jobs.iter().zip(rendered) {
        let result = result.map_err(|e| in_file(e, input))?;
        synth::write_wav(output, &result)?;
        audio.push(result);
    }
    Ok(audio)
}
