//! Music from a trained run (`museroll generate`, the studio's Generate panel): samples, their
//! pictures and MIDI, a metrics table against the training data, optionally a latent walk and
//! audio — all in memory, written by a sink.
//!
//! The files, by name:
//! - per sample `sample-NN.mid` (tracks named, GM programs, drums on channel 10, the run's tempo)
//!   and `sample-NN.png`; `samples.png`, a grid of the first [`GRID_SAMPLES`]; `samples.npz`,
//!   every sample chained with no gap as one pypianoroll song (sample `i` is bars
//!   `i·bars .. (i+1)·bars`, exact cells, the cut-back a reader needs is a reshape);
//! - `metrics.json` and `metrics.md`: the samples' metrics vs the training split's
//!   (`RUN/data_metrics.json`, with its metric settings);
//! - with a walk of `K` steps, `interpolation-NN.mid` and `.png` per step, `interpolation.mid`
//!   (the steps with a bar of rest between them) and `interpolation.png` (one row); with a
//!   latent grid, `grid.png` (`K × K`) and `grid.mid` (row by row, a bar of rest after each);
//! - with audio, a `.wav` beside every `.mid`.

use museroll_core::io::{write_bytes, Format};
use museroll_core::metrics::{evaluate, markdown_table, MetricsConfig, MetricsReport, PhraseView};
use museroll_core::phrase::{chained_song, phrase_songs, sheet_png};
use museroll_core::synth::{self, RenderOptions, SoundFont};
use museroll_core::Multitrack;
use museroll_models::families::OpenRun;
use museroll_models::sample::{
    fraction, Interpolation, LatentGrid, SampleRequest, Samples, WalkRequest,
};

use crate::Error;

/// The samples shown in `samples.png`.
pub const GRID_SAMPLES: usize = 64;

/// A walk from the latent of the seed to that of the seed + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// The path.
    pub kind: Interpolation,
    /// Phrases of the path, or of a side of the grid.
    pub steps: usize,
    /// Also a grid of `steps × steps` phrases over two groups of latents.
    pub grid: Option<LatentGrid>,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// The samples: how many, seed, binarization, length, condition.
    pub request: SampleRequest,
    /// A latent walk besides the samples.
    pub walk: Option<Walk>,
}

/// What a generation made: the files of the output directory, in memory.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The samples.
    pub samples: Samples,
    /// The samples' metrics.
    pub report: MetricsReport,
    /// The metrics table (Markdown): training data (if known) vs samples.
    pub table: String,
    /// What was assumed or is worth knowing, one line each.
    pub notes: Vec<String>,
    /// Every file, `(name, bytes)`.
    pub files: Vec<(String, Vec<u8>)>,
    /// The pieces written as `.mid`, by file stem (what audio plays).
    pub pieces: Vec<(String, Multitrack)>,
}

/// Digits of the largest index below `n`, at least 2.
fn digits(n: usize) -> usize {
    n.saturating_sub(1).to_string().len().max(2)
}

/// Adds `stem.mid` and `stem.png` of `song`.
fn add_song(generated: &mut Generated, stem: String, song: Multitrack) -> Result<(), Error> {
    generated
        .files
        .push((format!("{stem}.mid"), write_bytes(&song, Format::Midi)?));
    generated
        .files
        .push((format!("{stem}.png"), write_bytes(&song, Format::Png)?));
    generated.pieces.push((stem, song));
    Ok(())
}

/// Generates what `options` asks of `run` (see the module documentation for the files).
///
/// # Errors
/// [`Error::Model`] for a request the run cannot do; errors of the networks and of drawing.
pub fn generate(run: &OpenRun, options: &GenerateOptions) -> Result<Generated, Error> {
    let request = &options.request;
    let samples = run.sampler.sample(request)?;
    // The walks before any file: a request this run cannot do fails with nothing made. A grid
    // (checked first: its steps have the tighter bound) comes with the path between its ends.
    let mut walks = Vec::new();
    if let Some(walk) = options.walk {
        for grid in walk.grid.map(Some).into_iter().chain([None]) {
            let request = WalkRequest {
                seed: request.seed,
                kind: walk.kind,
                steps: walk.steps,
                grid,
                binarize: request.binarize,
            };
            walks.push((Walk { grid, ..walk }, run.sampler.walk(&request)?));
        }
    }
    let music = run.music();
    let (n, bars, seed, binarize) = (
        samples.shape.samples,
        samples.shape.bars,
        request.seed,
        samples.binarize,
    );
    let mut notes = run.sampler.notes();
    if run.data_report.is_none() {
        notes.push("the run has no data_metrics.json: the metrics show the samples alone".into());
    }
    let metrics_config = run
        .data_report
        .as_ref()
        .map_or_else(MetricsConfig::default, |r| r.config.clone());
    let is_drum = music.is_drum();
    let report = evaluate(
        &PhraseView::new(&samples.cells, samples.shape, &is_drum)?,
        &metrics_config,
    )?;
    let mut generated = Generated {
        samples: samples.clone(),
        report: report.clone(),
        table: String::new(),
        notes: Vec::new(),
        files: Vec::new(),
        pieces: Vec::new(),
    };

    let width = digits(n);
    let mut items = Vec::with_capacity(n);
    for (i, mut song) in phrase_songs(&samples.cells, samples.shape, &music.tracks, music.tempo)?
        .into_iter()
        .enumerate()
    {
        song.name = Some(format!("sample {i:0width$} (seed {seed}, {binarize})"));
        if i < GRID_SAMPLES {
            items.push((format!("#{i}"), song.clone()));
        }
        add_song(&mut generated, format!("sample-{i:0width$}"), song)?;
    }
    if n > GRID_SAMPLES {
        notes.push(format!(
            "samples.png shows the first {GRID_SAMPLES} of the {n} samples"
        ));
    }
    // About 16 bars to a row of the sheet.
    let grid_columns = ((items.len() as f64).sqrt().ceil() as usize).min((16 / bars).max(1));
    let sheet = sheet_png(&items, grid_columns, bars)?;
    generated.files.push(("samples.png".into(), sheet));
    let mut song = chained_song(&samples.cells, samples.shape, &music.tracks, music.tempo, 0)?;
    song.name = Some(format!("{n} samples (seed {seed}, {binarize})"));
    generated
        .files
        .push(("samples.npz".into(), write_bytes(&song, Format::Npz)?));

    let heading = format!("samples (binarize {binarize})");
    let mut columns: Vec<(&str, &MetricsReport)> = Vec::new();
    if let Some(data) = &run.data_report {
        columns.push(("training data", data));
    }
    columns.push((&heading, &report));
    let table = markdown_table(&columns, &music.track_names());

    for (walk, path) in &walks {
        add_walk(&mut generated, run, *walk, path, seed, &mut notes)?;
    }

    let json = serde_json::json!({
        "run": run.dir,
        "weights": run.weights,
        "seed": seed,
        "samples": n,
        "bars": bars,
        "continuity": request.continuity,
        "binarize": binarize.name(),
        "interpolation": options.walk.map(|w| {
            serde_json::json!({"kind": w.kind.name(), "steps": w.steps})
        }),
        "grid": options.walk.and_then(|w| w.grid).map(LatentGrid::name),
        "notes": notes,
        "reports": {"training data": run.data_report, "samples": report},
    });
    let json = serde_json::to_vec_pretty(&json)
        .map_err(|e| museroll_models::Error::Config(e.to_string()))?;
    generated.files.push(("metrics.json".into(), json));
    let phrase_bars = music.phrase.bars;
    let length = if bars == phrase_bars {
        format!("{bars} bars")
    } else {
        format!(
            "{bars} bars ({} phrases of {phrase_bars}, continuity {})",
            bars.div_ceil(phrase_bars),
            request.continuity
        )
    };
    let mut text = format!(
        "# Generated samples\n\n- Run: `{}`\n- Weights: `{}`\n- {n} samples of {length}, seed \
         {seed}, binarization {binarize}\n\n",
        run.dir.display(),
        run.weights.display()
    );
    for note in &notes {
        text.push_str(&format!("> Note: {note}\n\n"));
    }
    text.push_str(&table);
    generated
        .files
        .push(("metrics.md".into(), text.into_bytes()));
    generated.table = table;
    generated.notes = notes;
    Ok(generated)
}

/// Adds the files of a walk: its phrases one by one, a sheet and one MIDI file (or a grid's).
fn add_walk(
    generated: &mut Generated,
    run: &OpenRun,
    walk: Walk,
    path: &Samples,
    seed: u64,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let music = run.music();
    let (steps, kind, bars) = (walk.steps, walk.kind, path.shape.bars);
    let songs = phrase_songs(&path.cells, path.shape, &music.tracks, music.tempo)?;
    let chained = chained_song(&path.cells, path.shape, &music.tracks, music.tempo, 1)?;
    let midi = write_bytes(&chained, Format::Midi)?;
    match walk.grid {
        None => {
            let width = digits(steps);
            let mut items = Vec::with_capacity(steps);
            for (k, mut song) in songs.into_iter().enumerate() {
                let t = fraction(k, steps);
                song.name = Some(format!(
                    "{kind} from seed {seed} to {}: t = {t:.2}",
                    seed.wrapping_add(1)
                ));
                items.push((format!("t = {t:.2}"), song.clone()));
                add_song(generated, format!("interpolation-{k:0width$}"), song)?;
            }
            let sheet = sheet_png(&items, steps, bars)?;
            generated.files.push(("interpolation.png".into(), sheet));
            generated.files.push(("interpolation.mid".into(), midi));
            generated.pieces.push(("interpolation".into(), chained));
        }
        Some(grid) => {
            let items: Vec<_> = songs
                .into_iter()
                .enumerate()
                .map(|(i, song)| {
                    let (r, c) = (fraction(i / steps, steps), fraction(i % steps, steps));
                    (format!("{r:.2}, {c:.2}"), song)
                })
                .collect();
            generated
                .files
                .push(("grid.png".into(), sheet_png(&items, steps, bars)?));
            generated.files.push(("grid.mid".into(), midi));
            generated.pieces.push(("grid".into(), chained));
            notes.push(format!(
                "grid.png: rows move the {} latents, columns the {} ones, from seed {seed} \
                 (top left) to seed {} (bottom right); grid.mid plays it row by row",
                grid.groups()[0],
                grid.groups()[1],
                seed.wrapping_add(1)
            ));
        }
    }
    Ok(())
}

/// Adds a `.wav` beside every `.mid` of `generated`, played with `soundfont` at 22.05 kHz
/// (previews: half the work of 44.1 kHz; `museroll render` makes full-rate files). Every
/// distinct note is synthesized once for all pieces together.
///
/// # Errors
/// [`Error::Core`] if the synthesizer fails.
pub fn add_audio(generated: &mut Generated, soundfont: &SoundFont) -> Result<usize, Error> {
    let options = RenderOptions {
        sample_rate: 22_050,
        ..RenderOptions::default()
    };
    let pieces: Vec<&Multitrack> = generated.pieces.iter().map(|(_, p)| p).collect();
    let rendered = synth::render_many(&pieces, soundfont, &options)?;
    let mut wavs = Vec::with_capacity(rendered.len());
    for ((stem, _), audio) in generated.pieces.iter().zip(rendered) {
        wavs.push((format!("{stem}.wav"), synth::encode_wav(&audio?)?));
    }
    let count = wavs.len();
    generated.files.extend(wavs);
    Ok(count)
}
