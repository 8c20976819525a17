//! What the metrics are asked to do: thresholds, scale, drum tolerance, TD pairs, chroma mode.

use super::phrase::PhraseShape;
use crate::error::{Error, Result};

/// A scale mode: the pitch classes of a scale, counted from its root.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Major (Ionian): 0 2 4 5 7 9 11.
    #[default]
    Major,
    /// Natural minor (Aeolian): 0 2 3 5 7 8 10.
    Minor,
    /// Harmonic minor: 0 2 3 5 7 8 11.
    HarmonicMinor,
    /// Melodic minor, ascending: 0 2 3 5 7 9 11.
    MelodicMinor,
    /// Dorian: 0 2 3 5 7 9 10.
    Dorian,
    /// Phrygian: 0 1 3 5 7 8 10.
    Phrygian,
    /// Lydian: 0 2 4 6 7 9 11.
    Lydian,
    /// Mixolydian: 0 2 4 5 7 9 10.
    Mixolydian,
    /// Locrian: 0 1 3 5 6 8 10.
    Locrian,
}

impl Mode {
    /// The semitones above the root that belong to the mode.
    pub fn intervals(self) -> [u8; 7] {
        match self {
            Mode::Major => [0, 2, 4, 5, 7, 9, 11],
            Mode::Minor => [0, 2, 3, 5, 7, 8, 10],
            Mode::HarmonicMinor => [0, 2, 3, 5, 7, 8, 11],
            Mode::MelodicMinor => [0, 2, 3, 5, 7, 9, 11],
            Mode::Dorian => [0, 2, 3, 5, 7, 9, 10],
            Mode::Phrygian => [0, 1, 3, 5, 7, 8, 10],
            Mode::Lydian => [0, 2, 4, 6, 7, 9, 11],
            Mode::Mixolydian => [0, 2, 4, 5, 7, 9, 10],
            Mode::Locrian => [0, 1, 3, 5, 6, 8, 10],
        }
    }
}

/// The scale of ISR: a root pitch class (0 = C … 11 = B) and a mode. Default C major.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Pitch class of the root, 0 (C) to 11 (B).
    pub root: u8,
    /// The mode.
    pub mode: Mode,
}

impl Scale {
    /// For each pitch class (C = 0), whether it is in the scale.
    ///
    /// ```
    /// use museroll_core::metrics::{Mode, Scale};
    /// let a_minor = Scale { root: 9, mode: Mode::Minor };
    /// let c_major = Scale::default();
    /// assert_eq!(a_minor.pitch_classes(), c_major.pitch_classes());
    /// ```
    pub fn pitch_classes(self) -> [bool; 12] {
        let mut set = [false; 12];
        for interval in self.mode.intervals() {
            set[usize::from((self.root % 12 + interval) % 12)] = true;
        }
        set
    }
}

/// How pitches are grouped into the 12 chroma bins of UPC, ISR and TD.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Chroma {
    /// The true pitch class, MIDI pitch mod 12 (C = 0). The canonical choice.
    #[default]
    PitchClass,
    /// Legacy MuseGAN v1/v3: bin = column index // 7 (contiguous runs of 7 pitches, not pitch
    /// classes); for checking the AAAI-18 numbers. Needs at most 84 pitch columns.
    Bins7,
    /// Legacy BinaryMuseGAN/MuseGAN v2: bin = column index // 8 (84 columns padded to 96); for
    /// checking the ISMIR-18 numbers. Needs at most 96 pitch columns.
    Bins8,
}

/// What TD does with a beat that is silent in either track of the pair.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SilentBeats {
    /// The whole bar is skipped (no value), as in the reference code.
    #[default]
    SkipBar,
    /// The bar's value is the mean over the beats where both tracks sound; a bar without such a
    /// beat is skipped.
    SkipBeat,
}

/// Every setting of the metrics; the defaults are the canonical definitions.
///
/// Serialises to and from JSON (or any serde format); missing fields take their defaults and
/// unknown fields are refused, so a typo cannot silently fall back to a default.
///
/// ```
/// use museroll_core::metrics::{Chroma, MetricsConfig};
/// let config: MetricsConfig = serde_json::from_str(r#"{"qn_threshold": 3}"#).unwrap();
/// assert_eq!(config.qn_threshold, 3);
/// assert_eq!(config.chroma, Chroma::PitchClass);
/// assert!(serde_json::from_str::<MetricsConfig>(r#"{"qn_treshold": 3}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// QN: a note qualifies when it lasts at least this many steps (≥ 1). Default 2 as in the
    /// reference code (the papers say 3).
    pub qn_threshold: usize,
    /// PP: a step is polyphonic when at least this many pitches sound (≥ 1). Default 2 as in the
    /// BinaryMuseGAN code; MuseGAN v3's and pypianoroll's "more than 2" is 3.
    pub pp_threshold: usize,
    /// DP: the weight, 0 to 1, of an onset one step off the 16th-note grid. 0.1 as in
    /// BinaryMuseGAN; MuseGAN v1 used 0.3.
    pub dp_tolerance: f64,
    /// ISR: the scale. Default C major.
    pub scale: Scale,
    /// The chroma of UPC, ISR and TD: true pitch classes, or a legacy binning.
    pub chroma: Chroma,
    /// TD: the track pairs `[a, b]` to compare; `None` means every pair of non-drum tracks.
    pub td_pairs: Option<Vec<[usize; 2]>>,
    /// TD: how beats that are silent in either track are handled.
    pub td_silent_beats: SilentBeats,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            qn_threshold: 2,
            pp_threshold: 2,
            dp_tolerance: 0.1,
            scale: Scale::default(),
            chroma: Chroma::PitchClass,
            td_pairs: None,
            td_silent_beats: SilentBeats::SkipBar,
        }
    }
}

impl MetricsConfig {
    /// The settings of the BinaryMuseGAN / MuseGAN v2 evaluation code (ISMIR-18 tables): chroma
    /// bins of 8 columns, QN ≥ 2 steps, PP ≥ 2 pitches, DP tolerance 0.1. Set `td_pairs` to the
    /// pair of your track order (the paper compares Piano and Guitar).
    pub fn legacy_bmusegan() -> MetricsConfig {
        MetricsConfig {
            chroma: Chroma::Bins8,
            ..MetricsConfig::default()
        }
    }

    /// The settings of the MuseGAN v1 evaluation code (AAAI-18 tables): chroma bins of 7 columns,
    /// DP tolerance 0.3, QN ≥ 2 steps, PP ≥ 2 pitches.
    pub fn legacy_musegan_v1() -> MetricsConfig {
        MetricsConfig {
            chroma: Chroma::Bins7,
            dp_tolerance: 0.3,
            ..MetricsConfig::default()
        }
    }

    /// Checks the settings against a phrase and returns the TD pairs to compute.
    pub(super) fn check(&self, shape: &PhraseShape, is_drum: &[bool]) -> Result<Vec<[usize; 2]>> {
        if self.qn_threshold == 0 {
            return Err(Error::Invalid(
                "QN threshold must be at least 1 step".into(),
            ));
        }
        if self.pp_threshold == 0 {
            return Err(Error::Invalid(
                "PP threshold must be at least 1 pitch".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.dp_tolerance) {
            return Err(Error::Invalid(format!(
                "DP tolerance {} is outside 0..=1",
                self.dp_tolerance
            )));
        }
        if self.scale.root > 11 {
            return Err(Error::Invalid(format!(
                "scale root {} is not a pitch class 0..=11",
                self.scale.root
            )));
        }
        let max_columns = match self.chroma {
            Chroma::PitchClass => usize::MAX,
            Chroma::Bins7 => 84,
            Chroma::Bins8 => 96,
        };
        if shape.pitches > max_columns {
            return Err(Error::Invalid(format!(
                "legacy chroma {:?} takes at most {max_columns} pitch columns, not {}",
                self.chroma, shape.pitches
            )));
        }
        match &self.td_pairs {
            Some(pairs) => {
                if let Some([a, b]) = pairs
                    .iter()
                    .find(|[a, b]| a == b || *a >= shape.tracks || *b >= shape.tracks)
                {
                    return Err(Error::Invalid(format!(
                        "TD pair [{a}, {b}] is not two distinct tracks of {}",
                        shape.tracks
                    )));
                }
                Ok(pairs.clone())
            }
            None => {
                let melodic: Vec<usize> = (0..shape.tracks)
                    .filter(|&t| !is_drum.get(t).copied().unwrap_or(false))
                    .collect();
                Ok(melodic
                    .iter()
                    .enumerate()
                    .flat_map(|(i, &a)| melodic[i + 1..].iter().map(move |&b| [a, b]))
                    .collect())
            }
        }
    }
}
