//! Datasets: build one from music files or import a MuseGAN array, read its manifest, measure it.

use crate::compare::Comparison;
use crate::error::{Error, Result};
use museroll_core::dataset::{
    self, BuildOptions, BuildReport, Dataset, ImportOptions, Layout, Manifest, Progress, Split,
    Windows,
};
use museroll_core::evaluation::voice_leading::{
    voice_leading, VoiceLeadingCounts, VoiceLeadingRates,
};
use museroll_core::metrics::{markdown_table, MetricsConfig, MetricsReport};
use museroll_core::venv;
use museroll_core::{Pitch, Resolution};
use std::path::{Path, PathBuf};

/// A dataset build as a front end asks for it: inputs, output, and the settings in layers (the
/// defaults, an optional settings file, then single settings, each `None` leaving the layer
/// below in place; the flags of `museroll data build`).
#[derive(Clone, Debug, Default)]
pub struct BuildRequest {
    /// Files or directories to read; none: the Bach chorales of music21's corpus in the
    /// project's venv, with [`BuildOptions::chorales`] as the defaults.
    pub inputs: Vec<PathBuf>,
    /// The dataset directory to create (must not exist).
    pub out: PathBuf,
    /// A TOML file of build settings (every field of [`BuildOptions`]), replacing the defaults.
    pub options: Option<PathBuf>,
    /// Track layout, as [`Layout`] parses it (`lpd5`, `satb`, `parts:…`…).
    pub tracks: Option<String>,
    /// Bars per phrase.
    pub bars: Option<usize>,
    /// Time steps per beat.
    pub steps_per_beat: Option<u32>,
    /// MIDI number of the lowest pitch column.
    pub lowest_pitch: Option<u8>,
    /// Number of pitch columns.
    pub pitches: Option<usize>,
    /// A window every this many bars.
    pub hop: Option<usize>,
    /// This many random windows per song instead (wins over `hop`).
    pub random: Option<usize>,
    /// Transpositions: `-5..6` (both ends included), `3`, `0,7`, or a mix.
    pub transpose: Option<String>,
    /// Share of the songs set aside for validation.
    pub validation: Option<f64>,
    /// Seed of the random windows and the split.
    pub seed: Option<u64>,
}

impl BuildRequest {
    /// The settings: the defaults (the chorale settings when no input is named), then the
    /// options file, then the single settings; validated.
    pub fn options(&self) -> Result<BuildOptions> {
        let mut o = match (&self.options, self.inputs.is_empty()) {
            (Some(path), _) => read_toml(path)?,
            (None, true) => BuildOptions::chorales(),
            (None, false) => BuildOptions::default(),
        };
        if let Some(tracks) = &self.tracks {
            o.tracks = tracks.parse::<Layout>()?;
        }
        if let Some(bars) = self.bars {
            o.bars = bars;
        }
        if let Some(steps) = self.steps_per_beat {
            o.steps_per_beat = Resolution::new(steps)?;
        }
        if let Some(lowest) = self.lowest_pitch {
            o.lowest_pitch = Pitch::try_from(lowest)?;
        }
        if let Some(pitches) = self.pitches {
            o.pitches = pitches;
        }
        if let Some(hop) = self.hop {
            o.windows = Windows::Hop(hop);
        }
        if let Some(n) = self.random {
            o.windows = Windows::Random(n);
        }
        if let Some(spec) = &self.transpose {
            o.transpositions = parse_transpositions(spec)?;
        }
        if let Some(fraction) = self.validation {
            o.validation_fraction = fraction;
        }
        if let Some(seed) = self.seed {
            o.seed = seed;
        }
        match &self.options {
            // A bad value may come from the file: name it.
            Some(path) => o.validate().map_err(|source| Error::InvalidSettings {
                path: path.clone(),
                source,
            })?,
            None => o.validate()?,
        }
        Ok(o)
    }
}

/// `-5..6` → −5, −4, …, 6 (both ends included, as musicians count); `3` → 3; `0,7` → 0, 7.
fn parse_transpositions(spec: &str) -> Result<Vec<i8>> {
    let number = |s: &str| -> Result<i8> {
        s.trim().parse().map_err(|source| Error::Semitones {
            text: s.to_owned(),
            source,
        })
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        match part.split_once("..") {
            Some((a, b)) => {
                let (from, to) = (number(a)?, number(b)?);
                if from > to {
                    return Err(Error::EmptyTranspositions { from, to });
                }
                out.extend(from..=to);
            }
            None => out.push(number(part)?),
        }
    }
    Ok(out)
}

/// Builds the dataset `request` asks for (see [`dataset::build`]), reporting files read and
/// skipped to `progress`. A build that cuts no phrase is an error and leaves no directory: an
/// empty dataset would only fail later, in training.
pub fn build(request: &BuildRequest, progress: &dyn Progress) -> Result<BuildReport> {
    let options = request.options()?;
    let inputs = if request.inputs.is_empty() {
        vec![venv::find(venv::search_roots(), venv::BACH_CORPUS).ok_or(Error::NoCorpus)?]
    } else {
        request.inputs.clone()
    };
    let report = dataset::build(&inputs, &request.out, &options, progress)?;
    if report.manifest.phrases == 0 {
        std::fs::remove_dir_all(&report.dir).map_err(|source| Error::Io {
            path: report.dir.clone(),
            source,
        })?;
        return Err(Error::NoPhrasesCut {
            out: request.out.clone(),
            skipped: report.manifest.stats.skipped.clone(),
        });
    }
    Ok(report)
}

/// Turns the MuseGAN training array `file` into the dataset `out`, with the import settings of
/// the TOML file `options` (default: [`ImportOptions::default`]); phrases are reported to
/// `progress`.
pub fn import_musegan(
    file: &Path,
    out: &Path,
    options: Option<&Path>,
    progress: &dyn Progress,
) -> Result<BuildReport> {
    let options: ImportOptions = match options {
        Some(path) => read_toml(path)?,
        None => ImportOptions::default(),
    };
    Ok(dataset::import_musegan(file, out, &options, progress)?)
}

/// The manifest of the dataset in `dir`.
pub fn info(dir: &Path) -> Result<Manifest> {
    Ok(Manifest::read(dir)?)
}

/// The objective metrics of the dataset in `dir`, over `split` (`None`: every phrase), with the
/// metric settings of the TOML file `metrics` (default: [`MetricsConfig::default`]).
pub fn stats(dir: &Path, split: Option<Split>, metrics: Option<&Path>) -> Result<MetricsTable> {
    let ds = Dataset::open(dir)?;
    require_phrases(&ds, split, dir)?;
    let report = dataset::dataset_metrics(&ds, split, &metrics_config(metrics)?)?;
    MetricsTable::new(ds.manifest(), vec![("dataset", report)]).with_voice_leading(&[(&ds, split)])
}

/// Whether phrases of `manifest` are four-voice chorale textures (four tracks, no drums): the
/// ones voice-leading rules apply to.
fn is_four_voice(manifest: &Manifest) -> bool {
    manifest.tracks.len() == 4 && manifest.tracks.iter().all(|t| !t.is_drum)
}

/// The voice-leading counts of `dataset`'s `split` (`None`: every phrase), summed over its
/// phrases.
fn voice_leading_of(dataset: &Dataset, split: Option<Split>) -> Result<VoiceLeadingCounts> {
    let indices = dataset.indices(split);
    let mut total = VoiceLeadingCounts::default();
    for chunk in dataset.chunks(&indices, VOICE_LEADING_CHUNK) {
        for phrase in voice_leading(&chunk?.view()?)? {
            total.add(&phrase.counts);
        }
    }
    Ok(total)
}

/// Phrases checked for voice leading at once (a few MB of cells).
const VOICE_LEADING_CHUNK: usize = 256;

/// Metric reports side by side, with the tracks they are broken down by: what `data stats` and
/// `eval` show. For four-voice phrases (SATB chorales) also the voice-leading rates of each
/// column (see `museroll_core::evaluation::voice_leading` for the rules).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsTable {
    /// The track names, in the datasets' order.
    pub tracks: Vec<String>,
    /// The columns: a name and its report.
    pub columns: Vec<(&'static str, MetricsReport)>,
    /// The columns' voice-leading rates, in the same order; empty unless the phrases are four
    /// voices.
    pub voice_leading: Vec<VoiceLeadingRates>,
    /// `eval`: the samples' distributions, copies and variety against the reference.
    pub comparison: Option<Comparison>,
}

/// A row of the voice-leading table: its label and how to read it off the rates.
type Row = (&'static str, fn(&VoiceLeadingRates) -> f64);

/// The rows of the voice-leading table.
const VOICE_LEADING_ROWS: [Row; 12] = [
    ("phrases with all four voices sounding", |r| {
        r.phrases_all_voices_ratio
    }),
    ("steps with all four voices sounding", |r| {
        r.all_voices_ratio
    }),
    ("chord-tone ratio (of those steps)", |r| r.chord_tone_ratio),
    ("parallel 5ths/8ves per 100 moves", |r| {
        r.parallels_per_100_moves
    }),
    ("contrary 5ths/8ves per 100 moves", |r| {
        r.antiparallels_per_100_moves
    }),
    ("voice crossing (of steps)", |r| r.crossing_ratio),
    ("voice overlap (of moves)", |r| r.overlap_ratio),
    ("spacing over an octave (of steps)", |r| r.spacing_ratio),
    ("soprano out of range", |r| r.out_of_range_ratio[0]),
    ("alto out of range", |r| r.out_of_range_ratio[1]),
    ("tenor out of range", |r| r.out_of_range_ratio[2]),
    ("bass out of range", |r| r.out_of_range_ratio[3]),
];

impl MetricsTable {
    /// The table of `columns`, broken down by `manifest`'s tracks.
    pub(crate) fn new(manifest: &Manifest, columns: Vec<(&'static str, MetricsReport)>) -> Self {
        MetricsTable {
            tracks: manifest.tracks.iter().map(|t| t.name.clone()).collect(),
            columns,
            voice_leading: Vec::new(),
            comparison: None,
        }
    }

    /// Adds the voice-leading rates of each column's phrases (`datasets`, in the columns'
    /// order) when they are four voices.
    pub(crate) fn with_voice_leading(
        mut self,
        datasets: &[(&Dataset, Option<Split>)],
    ) -> Result<Self> {
        if datasets.iter().all(|(ds, _)| is_four_voice(ds.manifest())) {
            self.voice_leading = datasets
                .iter()
                .map(|(ds, split)| Ok(voice_leading_of(ds, *split)?.rates()))
                .collect::<Result<_>>()?;
        }
        Ok(self)
    }

    /// The table in Markdown: aggregate metrics, then one section per track, then voice leading.
    pub fn markdown(&self) -> String {
        let columns: Vec<(&str, &MetricsReport)> =
            self.columns.iter().map(|(name, r)| (*name, r)).collect();
        let mut text = markdown_table(&columns, &self.tracks);
        if !self.voice_leading.is_empty() {
            text.push_str("\n## Voice leading (soprano, alto, tenor, bass)\n\n| |");
            for (name, _) in &self.columns {
                text.push_str(&format!(" {name} |"));
            }
            text.push_str("\n|---|");
            text.push_str(&"---:|".repeat(self.columns.len()));
            text.push('\n');
            for (label, value) in VOICE_LEADING_ROWS {
                text.push_str(&format!("| {label} |"));
                for rates in &self.voice_leading {
                    text.push_str(&format!(" {:.3} |", value(rates)));
                }
                text.push('\n');
            }
            let in_scale: Vec<String> = self
                .voice_leading
                .iter()
                .map(|r| format!("{:.3}", r.in_scale_ratio))
                .collect();
            text.push_str(&format!(
                "| notes in the key's scale (Krumhansl–Schmuckler key per phrase) | {} |\n",
                in_scale.join(" | ")
            ));
        }
        if let Some(comparison) = &self.comparison {
            text.push_str(&comparison.markdown());
        }
        text
    }

    /// The full reports as pretty JSON: `{"tracks": […], "reports": {column: report…},
    /// "voice_leading": {column: rates…}}` (voice leading only for four voices).
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let reports = self
            .columns
            .iter()
            .map(|(name, report)| Ok((name.to_string(), serde_json::to_value(report)?)))
            .collect::<Result<serde_json::Map<_, _>>>()?;
        let mut value = serde_json::json!({ "tracks": self.tracks, "reports": reports });
        if !self.voice_leading.is_empty() {
            let rates = self
                .columns
                .iter()
                .zip(&self.voice_leading)
                .map(|((name, _), rates)| Ok((name.to_string(), serde_json::to_value(rates)?)))
                .collect::<Result<serde_json::Map<_, _>>>()?;
            value["voice_leading"] = serde_json::Value::Object(rates);
        }
        if let Some(comparison) = &self.comparison {
            value["comparison"] = serde_json::to_value(comparison)?;
        }
        Ok(serde_json::to_vec_pretty(&value)?)
    }
}

/// The metric settings of the TOML file `path`, or the defaults.
pub(crate) fn metrics_config(path: Option<&Path>) -> Result<MetricsConfig> {
    match path {
        None => Ok(MetricsConfig::default()),
        Some(path) => read_toml(path),
    }
}

/// Refuses to measure an empty selection: a table of dashes would look like a result.
pub(crate) fn require_phrases(ds: &Dataset, split: Option<Split>, name: &Path) -> Result<()> {
    if ds.indices(split).is_empty() {
        return Err(Error::NothingToMeasure {
            name: name.to_path_buf(),
            which: match split {
                Some(Split::Train) => "the training split",
                Some(Split::Validation) => "the validation split",
                None => "the dataset",
            },
        });
    }
    Ok(())
}

/// Reads settings of type `T` from the TOML file `path`.
fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| Error::Settings {
        path: path.to_path_buf(),
        message: e.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpositions_are_ranges_numbers_and_lists() {
        assert_eq!(
            parse_transpositions("-5..6").unwrap(),
            (-5..=6).collect::<Vec<i8>>()
        );
        assert_eq!(parse_transpositions("3").unwrap(), [3]);
        assert_eq!(parse_transpositions("0,7").unwrap(), [0, 7]);
        assert_eq!(parse_transpositions(" -1 .. 1 ,5").unwrap(), [-1, 0, 1, 5]);
    }

    #[test]
    fn bad_transpositions_name_the_part() {
        let e = parse_transpositions("0,x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--transpose: 'x' is not a number of semitones"
        );
        assert!(matches!(e, Error::Semitones { .. }));
        let e = parse_transpositions("200").unwrap_err();
        assert!(matches!(e, Error::Semitones { .. }), "{e}");
        let e = parse_transpositions("3..1").unwrap_err();
        assert_eq!(e.to_string(), "--transpose: the range 3..1 is empty");
    }

    fn request(inputs: &[&str]) -> BuildRequest {
        BuildRequest {
            inputs: inputs.iter().map(PathBuf::from).collect(),
            out: PathBuf::from("out"),
            ..BuildRequest::default()
        }
    }

    #[test]
    fn settings_layer_defaults_file_then_single_settings() {
        // No inputs: the chorale corpus's settings; inputs: the general defaults.
        assert_eq!(request(&[]).options().unwrap(), BuildOptions::chorales());
        assert_eq!(
            request(&["a.mid"]).options().unwrap(),
            BuildOptions::default()
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("build.toml");
        std::fs::write(&file, "bars = 2\npitches = 48\nseed = 7\n").unwrap();
        let layered = BuildRequest {
            options: Some(file.clone()),
            pitches: Some(60),
            hop: Some(1),
            random: Some(3),
            transpose: Some("-1..1".into()),
            validation: Some(0.25),
            ..request(&[])
        }
        .options()
        .unwrap();
        // The file replaces the defaults (even the chorale ones: no inputs here)…
        assert_eq!(layered.bars, 2);
        assert_eq!(layered.seed, 7);
        assert_eq!(layered.tracks, Layout::Lpd5);
        // …and the single settings override the file; --random wins over --hop.
        assert_eq!(layered.pitches, 60);
        assert_eq!(layered.windows, Windows::Random(3));
        assert_eq!(layered.transpositions, [-1, 0, 1]);
        assert_eq!(layered.validation_fraction, 0.25);
    }

    #[test]
    fn bad_settings_name_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("build.toml");
        let with = |options: &Path| BuildRequest {
            options: Some(options.to_path_buf()),
            ..request(&["a.mid"])
        };

        let e = with(&dir.path().join("missing.toml"))
            .options()
            .unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
        assert!(e.to_string().ends_with("missing.toml"), "{e}");

        std::fs::write(&file, "bar = 2\n").unwrap();
        let e = with(&file).options().unwrap_err();
        assert!(matches!(e, Error::Settings { .. }), "{e}");
        assert!(
            e.to_string().contains("build.toml: unknown field `bar`"),
            "{e}"
        );

        // A value that is only wrong once read: the file is named, with the flags.
        std::fs::write(&file, "lowest_pitch = 25\n").unwrap();
        let e = with(&file).options().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{} (with the flags)", file.display())
        );
        let cause = std::error::Error::source(&e).unwrap().to_string();
        assert!(cause.contains("must be a C"), "{cause}");

        // Without a file, the value's own message.
        let e = BuildRequest {
            lowest_pitch: Some(200),
            ..request(&["a.mid"])
        }
        .options()
        .unwrap_err();
        assert_eq!(e.to_string(), "invalid value: pitch 200 is above 127");
    }
}
