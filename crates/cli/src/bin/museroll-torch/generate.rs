//! `museroll generate`: samples of a trained run as MIDI files, pictures, one pypianoroll
//! `.npz` and a metrics table against the training data (the work is in
//! `museroll_models::generate`).

use crate::Start;
use anyhow::{bail, Result};
use museroll_cli::neural::GenerateArgs;
use museroll_core::synth::RenderOptions;
use museroll_models::generate::{Binarize, GenerateOptions, Interpolation, LatentGrid, Run};
use std::path::PathBuf;

/// Steps of an interpolation when --steps is not given.
const DEFAULT_STEPS: usize = 8;

/// `GenerateArgs`' method here: its definition lives in the `museroll_cli` library, which must
/// not name `museroll-models`.
trait GenerateArgsExt {
    fn options(&self) -> Result<GenerateOptions>;
}

impl GenerateArgsExt for GenerateArgs {
    /// The library's options, checked before the run is opened.
    fn options(&self) -> Result<GenerateOptions> {
        let interpolation = match (&self.interpolate, self.steps) {
            (Some(kind), steps) => Some((
                kind.parse::<Interpolation>()?,
                steps.unwrap_or(DEFAULT_STEPS),
            )),
            (None, Some(_)) => bail!("--steps sets the steps of --interpolate lerp|slerp"),
            (None, None) => None,
        };
        let options = GenerateOptions {
            binarize: self
                .binarize
                .as_deref()
                .map(str::parse::<Binarize>)
                .transpose()?,
            bars: self.bars,
            continuity: self.continuity,
            interpolation,
            grid: self
                .grid
                .as_deref()
                .map(str::parse::<LatentGrid>)
                .transpose()?,
            force: self.force,
            ..GenerateOptions::new(self.n, self.seed)
        };
        options.validate()?;
        Ok(options)
    }
}

/// Runs `museroll generate`.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let options = args.options()?;
    let (device, _) = args.compute.start()?;
    let run = Run::open(&args.run, args.checkpoint.as_deref(), device)?;
    // Find the SoundFont before any work, so a missing one fails fast.
    let soundfont = match args.audio {
        true => Some(crate::render::soundfont(args.soundfont.as_deref())?),
        false => None,
    };
    let generated = run.generate(&options, &args.out)?;
    if let Some((soundfont, path)) = &soundfont {
        let mut midis: Vec<PathBuf> = std::fs::read_dir(&generated.dir)?
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "mid"))
            .collect();
        midis.sort();
        // Previews at 22.05 kHz (11 kHz of bandwidth), half the work of 44.1 kHz: `museroll
        // render` makes full-rate files.
        let options = RenderOptions {
            sample_rate: 22_050,
            ..RenderOptions::default()
        };
        let pieces = midis
            .iter()
            .map(|midi| Ok(museroll_core::io::read_file(midi, &Default::default())?.0))
            .collect::<Result<Vec<_>>>()?;
        let wavs: Vec<PathBuf> = midis.iter().map(|m| m.with_extension("wav")).collect();
        let jobs: Vec<_> = pieces
            .iter()
            .zip(&midis)
            .zip(&wavs)
            .map(|((m, midi), wav)| (m, midi.as_path(), wav.as_path()))
            .collect();
        crate::render::render_to(&jobs, soundfont, path, &options)?;
        eprintln!(
            "played {} MIDI files into .wav with {}",
            midis.len(),
            path.display()
        );
    }
    for note in &generated.notes {
        eprintln!("note: {note}");
    }
    crate::emit(&generated.table)?;
    let n = options.n;
    let last = n - 1;
    let mut walk = match options.interpolation {
        Some((_, steps)) => {
            format!(", interpolation.{{mid,png}}, interpolation-NN.{{mid,png}} ({steps} steps)")
        }
        None => String::new(),
    };
    if let (Some(grid), Some((_, steps))) = (options.grid, options.interpolation) {
        walk.push_str(&format!(", grid.{{mid,png}} ({grid}, {steps} × {steps})"));
    }
    eprintln!(
        "wrote {n} samples of {} bars ({} binarization, weights {}) to {}: \
         sample-00…{last:02}.{{mid,png}}, samples.png, samples.npz, metrics.md, metrics.json{walk}",
        options.bars.unwrap_or(run.phrase_bars()),
        generated.binarize,
        run.weights().display(),
        generated.dir.display(),
    );
    Ok(())
}
