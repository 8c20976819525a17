//! The result of an evaluation: per metric and track a mean and a count, plus the aggregates.

use super::config::MetricsConfig;
use std::collections::BTreeMap;

/// The per-bar metrics, under the names the MuseGAN papers (and muspy) use.
///
/// Unit of measurement: one bar of one track of one sample. "Notes" are maximal runs of active
/// steps of one pitch within the bar, so a note held across a bar line counts once in each bar.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Metric {
    /// EB, empty-bar rate: 1 for a bar without an active cell, else 0. All tracks; every bar counts.
    #[serde(rename = "EB")]
    EmptyBars,
    /// NPU: number of distinct pitches active in the bar. All tracks.
    #[serde(rename = "NPU")]
    PitchesUsed,
    /// UPC: number of chroma bins (true pitch classes by default) active in the bar. Non-drum.
    #[serde(rename = "UPC")]
    PitchClassesUsed,
    /// QN, qualified-note rate: notes lasting at least `qn_threshold` steps / notes. Non-drum.
    #[serde(rename = "QN")]
    QualifiedNotes,
    /// PP, polyphony rate: steps with at least `pp_threshold` active pitches / steps of the bar.
    /// Non-drum.
    #[serde(rename = "PP")]
    PolyphonyRate,
    /// DP, drum-pattern rate: onsets weighted 1 on the 16th-note grid and `dp_tolerance` one
    /// step off it, over all onsets, taking the best of the grid's phases. Drum tracks only; NaN
    /// when a 16th note is not a whole number of steps.
    #[serde(rename = "DP")]
    DrumPattern,
    /// ISR, in-scale rate: active cells whose chroma bin is in the scale / active cells. Non-drum.
    #[serde(rename = "ISR")]
    InScale,
    /// PR, pitch range: highest minus lowest active MIDI pitch, in semitones. Non-drum.
    #[serde(rename = "PR")]
    PitchRange,
    /// PE, pitch entropy: Shannon entropy in bits of the notes' pitches. Non-drum.
    #[serde(rename = "PE")]
    PitchEntropy,
    /// PCE, pitch-class entropy: Shannon entropy in bits of the notes' true pitch classes
    /// (whatever the chroma setting). Non-drum.
    #[serde(rename = "PCE")]
    PitchClassEntropy,
    /// POLY, polyphony: active cells / steps with any active cell (muspy's `polyphony`). Non-drum.
    #[serde(rename = "POLY")]
    Polyphony,
    /// GC, groove consistency, for each pair of consecutive bars: 1 − (steps where exactly one of
    /// the two bars has an onset) / steps per bar. Pairs of two empty bars are skipped. All tracks.
    #[serde(rename = "GC")]
    GrooveConsistency,
}

impl Metric {
    /// Every per-bar metric, in report order.
    pub const ALL: [Metric; 12] = [
        Metric::EmptyBars,
        Metric::PitchesUsed,
        Metric::PitchClassesUsed,
        Metric::QualifiedNotes,
        Metric::PolyphonyRate,
        Metric::DrumPattern,
        Metric::InScale,
        Metric::PitchRange,
        Metric::PitchEntropy,
        Metric::PitchClassEntropy,
        Metric::Polyphony,
        Metric::GrooveConsistency,
    ];

    /// The short name of the papers: `"EB"`, `"UPC"`, `"QN"`, …
    pub fn abbreviation(self) -> &'static str {
        match self {
            Metric::EmptyBars => "EB",
            Metric::PitchesUsed => "NPU",
            Metric::PitchClassesUsed => "UPC",
            Metric::QualifiedNotes => "QN",
            Metric::PolyphonyRate => "PP",
            Metric::DrumPattern => "DP",
            Metric::InScale => "ISR",
            Metric::PitchRange => "PR",
            Metric::PitchEntropy => "PE",
            Metric::PitchClassEntropy => "PCE",
            Metric::Polyphony => "POLY",
            Metric::GrooveConsistency => "GC",
        }
    }

    /// Whether the metric is measured on a drum track (`true`) or a pitched track (`false`).
    pub fn applies_to(self, is_drum: bool) -> bool {
        match self {
            Metric::EmptyBars | Metric::PitchesUsed | Metric::GrooveConsistency => true,
            Metric::DrumPattern => is_drum,
            _ => !is_drum,
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.abbreviation())
    }
}

/// A mean over the valid entries and how many there were; the mean is NaN (JSON `null`) when
/// there were none.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stat {
    /// Mean over the valid entries.
    #[serde(with = "nan_as_null")]
    pub mean: f64,
    /// Number of valid entries.
    pub count: u64,
}

/// One metric over the whole phrase tensor.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricSummary {
    /// Per track: the mean over its valid (sample, bar) entries (consecutive-bar pairs for GC).
    pub per_track: Vec<Stat>,
    /// The papers' summary: the mean of the non-NaN per-track means over the non-drum tracks
    /// (over the drum tracks for DP); NaN when there is none.
    #[serde(with = "nan_as_null")]
    pub aggregate: f64,
}

/// TD of one track pair.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairStat {
    /// The two tracks.
    pub tracks: [usize; 2],
    /// Mean over the valid (sample, bar) entries.
    #[serde(with = "nan_as_null")]
    pub mean: f64,
    /// Number of valid entries.
    pub count: u64,
}

/// TD, tonal distance (Harte et al. 2006): per beat, each track's chroma (summed over the beat's
/// steps, normalised to sum 1) is projected onto the 6-D tonal centroid space and the two
/// centroids' Euclidean distance taken; a bar's value is the mean over its beats.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TdSummary {
    /// One entry per pair, in the order of the configuration.
    pub pairs: Vec<PairStat>,
    /// Mean of the non-NaN pair means; NaN when there is none.
    #[serde(with = "nan_as_null")]
    pub aggregate: f64,
}

/// Everything [`crate::metrics::evaluate`] measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricsReport {
    /// The settings used.
    pub config: MetricsConfig,
    /// Number of samples evaluated.
    pub samples: usize,
    /// Bars per sample.
    pub bars: usize,
    /// The drum flag of each track.
    pub is_drum: Vec<bool>,
    /// The per-bar metrics.
    pub metrics: BTreeMap<Metric, MetricSummary>,
    /// Tonal distance between track pairs.
    #[serde(rename = "TD")]
    pub tonal_distance: TdSummary,
}

impl MetricsReport {
    /// The summary of `metric` (`None` only in a report deserialised without it).
    pub fn get(&self, metric: Metric) -> Option<&MetricSummary> {
        self.metrics.get(&metric)
    }
}

/// The mean of the non-NaN values, NaN when there is none.
pub(super) fn nan_mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .into_iter()
        .filter(|v| !v.is_nan())
        .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / f64::from(n)
    }
}

/// Serialises NaN as `null` (JSON has no NaN) and reads `null` back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_some(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
