//! `museroll render`: a music file played by a SoundFont synthesizer into a WAV file (the work is
//! in `museroll_app::render`).

use anyhow::Result;
use clap::Args;
use museroll_app::render::{self, RenderRequest};
use std::path::PathBuf;

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

/// Renders `args.input` to `args.output` and says what it wrote.
pub fn run(args: RenderArgs) -> Result<()> {
    let request = RenderRequest {
        input: args.input,
        output: args.output,
        soundfont: args.soundfont,
        sample_rate: args.sample_rate,
        resolution: args.timing.resolution,
    };
    let rendered = render::render_file(&request)?;
    eprintln!(
        "wrote {} ({:.1} s at {} Hz, SoundFont {})",
        request.output.display(),
        rendered.audio.seconds(),
        rendered.audio.sample_rate(),
        rendered.soundfont.display()
    );
    Ok(())
}
