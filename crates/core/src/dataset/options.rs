//! What a build or an import is asked to do: [`BuildOptions`], the track [`Layout`], windows and
//! filters; [`ImportOptions`].

use crate::error::{Error, Result};
use crate::track::Track;
use crate::units::{Pitch, Program, Resolution};
use std::str::FromStr;

/// The name, General MIDI program and drum flag of one track of a dataset.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackInfo {
    /// Display name ("Drums", "Soprano"…).
    pub name: String,
    /// The program used when phrases are played back.
    pub program: Program,
    /// True for a percussion track.
    pub is_drum: bool,
}

/// One output track of a [`Layout::Programs`] layout and the source tracks it gathers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramTrack {
    /// Name of the output track.
    pub name: String,
    /// Program of the output track.
    pub program: Program,
    /// A drum track gathers every drum track of the song (and ignores `programs`).
    #[serde(default)]
    pub is_drum: bool,
    /// A pitched track gathers the pitched source tracks whose program lies in one of these
    /// inclusive ranges.
    #[serde(default)]
    pub programs: Vec<[Program; 2]>,
}

impl ProgramTrack {
    fn takes(&self, track: &Track) -> bool {
        if self.is_drum || track.is_drum {
            return self.is_drum && track.is_drum;
        }
        self.programs
            .iter()
            .any(|[lo, hi]| (*lo..=*hi).contains(&track.program))
    }
}

/// How the tracks of a song become the tracks of the dataset.
///
/// A program layout sends each source track to the *first* output track that takes it (so a
/// catch-all range listed last means "every other program"), drops the tracks none takes, and
/// merges the tracks sent to one output by maximum (LPD's rule: a cell sounds if it sounds in any
/// of them). A part layout takes the parts in score order and needs exactly as many as it has.
///
/// Written as a preset name (`"lpd5"`, `"bmusegan8"`, `"satb"`, `"piano"`) or explicitly; see
/// [`Layout::from_str`] for the one-line form.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// LPD-5 (`merger_5.py`): Drums (every drum track), Piano (programs 0–7), Guitar (24–31),
    /// Bass (32–39), Strings (every other program below 96, and 104–111); Synth Effects,
    /// Percussive and Sound Effects are dropped. Programs 0, 0, 24, 32, 48. The default.
    #[default]
    Lpd5,
    /// BinaryMuseGAN's eight tracks: Drums and seven General MIDI families, each whole: Piano
    /// (0–7), Guitar (24–31), Bass (32–39), Ensemble (48–55), Reed (64–71), Synth Lead (80–87),
    /// Synth Pad (88–95); every other family is dropped. Programs 0, 0, 24, 32, 48, 64, 80, 88.
    Bmusegan8,
    /// Chorales: Soprano, Alto, Tenor, Bass, the four parts in score order (Choir Aahs, program
    /// 52); a score with another number of parts is skipped.
    Satb,
    /// Every pitched track merged into one Piano track (program 0); drums are dropped.
    Piano,
    /// Explicit output tracks, gathered by program.
    Programs(Vec<ProgramTrack>),
    /// Explicit output tracks, one per part in score order (exactly this many parts).
    Parts(Vec<TrackInfo>),
}

fn program(n: u8) -> Program {
    Program::new(n).unwrap_or_default()
}

fn pitched(name: &str, number: u8, ranges: &[[u8; 2]]) -> ProgramTrack {
    ProgramTrack {
        name: name.into(),
        program: program(number),
        is_drum: false,
        programs: ranges
            .iter()
            .map(|&[a, b]| [program(a), program(b)])
            .collect(),
    }
}

fn drums() -> ProgramTrack {
    ProgramTrack {
        name: "Drums".into(),
        program: Program::default(),
        is_drum: true,
        programs: Vec::new(),
    }
}

/// What a layout does with a song's tracks.
pub(super) enum Assignment {
    /// For each output track, the source tracks merged into it.
    Tracks(Vec<Vec<usize>>),
    /// The song does not fit the layout (why).
    Mismatch(String),
}

impl Layout {
    /// The layout with presets spelled out: a [`Layout::Programs`] or [`Layout::Parts`].
    pub fn resolve(&self) -> Layout {
        match self {
            Layout::Lpd5 => Layout::Programs(vec![
                drums(),
                pitched("Piano", 0, &[[0, 7]]),
                pitched("Guitar", 24, &[[24, 31]]),
                pitched("Bass", 32, &[[32, 39]]),
                pitched("Strings", 48, &[[0, 95], [104, 111]]),
            ]),
            Layout::Bmusegan8 => Layout::Programs(vec![
                drums(),
                pitched("Piano", 0, &[[0, 7]]),
                pitched("Guitar", 24, &[[24, 31]]),
                pitched("Bass", 32, &[[32, 39]]),
                pitched("Ensemble", 48, &[[48, 55]]),
                pitched("Reed", 64, &[[64, 71]]),
                pitched("Synth Lead", 80, &[[80, 87]]),
                pitched("Synth Pad", 88, &[[88, 95]]),
            ]),
            Layout::Piano => Layout::Programs(vec![pitched("Piano", 0, &[[0, 127]])]),
            Layout::Satb => Layout::Parts(
                ["Soprano", "Alto", "Tenor", "Bass"]
                    .iter()
                    .map(|name| TrackInfo {
                        name: (*name).into(),
                        program: program(52),
                        is_drum: false,
                    })
                    .collect(),
            ),
            explicit => explicit.clone(),
        }
    }

    /// The output tracks.
    pub fn tracks(&self) -> Vec<TrackInfo> {
        match self.resolve() {
            Layout::Programs(tracks) => tracks
                .into_iter()
                .map(|t| TrackInfo {
                    name: t.name,
                    program: t.program,
                    is_drum: t.is_drum,
                })
                .collect(),
            Layout::Parts(parts) => parts,
            _ => Vec::new(),
        }
    }

    /// Checks an explicit layout: at least one track, names present and distinct, ranges in
    /// order.
    pub fn validate(&self) -> Result<()> {
        let tracks = self.tracks();
        if tracks.is_empty() {
            return Err(Error::Invalid("the track layout has no tracks".into()));
        }
        for (i, t) in tracks.iter().enumerate() {
            if t.name.trim().is_empty() {
                return Err(Error::Invalid(format!(
                    "track {i} of the layout has no name"
                )));
            }
            if tracks[..i].iter().any(|u| u.name == t.name) {
                return Err(Error::Invalid(format!(
                    "the layout names two tracks '{}'",
                    t.name
                )));
            }
        }
        if let Layout::Programs(specs) = self.resolve() {
            for spec in &specs {
                if let Some([lo, hi]) = spec.programs.iter().find(|[lo, hi]| lo > hi) {
                    return Err(Error::Invalid(format!(
                        "track '{}': program range {}-{} is reversed",
                        spec.name,
                        lo.number(),
                        hi.number()
                    )));
                }
                if !spec.is_drum && spec.programs.is_empty() {
                    return Err(Error::Invalid(format!(
                        "track '{}' is neither drums nor given any programs",
                        spec.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Which source tracks go to which output track.
    pub(super) fn assign(&self, tracks: &[Track]) -> Assignment {
        match self.resolve() {
            Layout::Programs(specs) => {
                let mut out = vec![Vec::new(); specs.len()];
                for (i, track) in tracks.iter().enumerate() {
                    if let Some(o) = specs.iter().position(|s| s.takes(track)) {
                        out[o].push(i);
                    }
                }
                Assignment::Tracks(out)
            }
            Layout::Parts(parts) => {
                if tracks.len() == parts.len() {
                    Assignment::Tracks((0..parts.len()).map(|i| vec![i]).collect())
                } else {
                    Assignment::Mismatch(format!(
                        "{} parts, the layout takes exactly {}",
                        tracks.len(),
                        parts.len()
                    ))
                }
            }
            _ => Assignment::Tracks(Vec::new()),
        }
    }
}

impl FromStr for Layout {
    type Err = Error;

    /// Parses a layout from one line (what `--tracks` takes):
    ///
    /// - a preset: `lpd5`, `bmusegan8`, `satb`, `piano`;
    /// - parts in score order: `parts:Soprano,Alto,Tenor,Bass`, each optionally `NAME@PROGRAM`;
    /// - tracks by program: `NAME[@PROGRAM]=SOURCES,…` where SOURCES is `drums` or program
    ///   ranges joined by `+` (`0-7`, `24-31+40`); the program defaults to the first source
    ///   program (0 for drums). The first track whose sources take a track gets it.
    ///
    /// ```
    /// use museroll_core::dataset::Layout;
    /// let lpd5: Layout = "Drums=drums,Piano=0-7,Guitar=24-31,Bass=32-39,Strings@48=0-95+104-111"
    ///     .parse().unwrap();
    /// assert_eq!(lpd5.resolve(), Layout::Lpd5.resolve());
    /// let satb: Layout = "parts:Soprano@52,Alto@52,Tenor@52,Bass@52".parse().unwrap();
    /// assert_eq!(satb.resolve(), Layout::Satb.resolve());
    /// assert!("Piano=7-0".parse::<Layout>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Layout> {
        let text = text.trim();
        let layout = match text {
            "lpd5" => Layout::Lpd5,
            "bmusegan8" => Layout::Bmusegan8,
            "satb" => Layout::Satb,
            "piano" => Layout::Piano,
            _ => match text.strip_prefix("parts:") {
                Some(parts) => Layout::Parts(
                    parts
                        .split(',')
                        .map(|item| {
                            let (name, number) = name_and_program(item)?;
                            Ok(TrackInfo {
                                name,
                                program: number.unwrap_or_default(),
                                is_drum: false,
                            })
                        })
                        .collect::<Result<_>>()?,
                ),
                None => {
                    Layout::Programs(text.split(',').map(program_track).collect::<Result<_>>()?)
                }
            },
        };
        layout.validate()?;
        Ok(layout)
    }
}

fn layout_error(item: &str, why: &str) -> Error {
    Error::Invalid(format!("track layout item '{item}': {why}"))
}

/// `NAME` or `NAME@PROGRAM`.
fn name_and_program(item: &str) -> Result<(String, Option<Program>)> {
    match item.split_once('@') {
        None => Ok((item.trim().to_string(), None)),
        Some((name, number)) => Ok((name.trim().to_string(), Some(parse_program(number, item)?))),
    }
}

fn parse_program(text: &str, item: &str) -> Result<Program> {
    text.trim()
        .parse::<u8>()
        .ok()
        .and_then(Program::new)
        .ok_or_else(|| layout_error(item, &format!("'{}' is not a program 0-127", text.trim())))
}

/// `NAME[@PROGRAM]=SOURCES`.
fn program_track(item: &str) -> Result<ProgramTrack> {
    let (head, sources) = item
        .split_once('=')
        .ok_or_else(|| layout_error(item, "expected NAME=SOURCES (or a preset name)"))?;
    let (name, number) = name_and_program(head)?;
    if sources.trim() == "drums" {
        return Ok(ProgramTrack {
            name,
            program: number.unwrap_or_default(),
            is_drum: true,
            programs: Vec::new(),
        });
    }
    let programs = sources
        .split('+')
        .map(|range| {
            let (lo, hi) = range.split_once('-').unwrap_or((range, range));
            Ok([parse_program(lo, item)?, parse_program(hi, item)?])
        })
        .collect::<Result<Vec<_>>>()?;
    let first = programs.first().map_or(Program::default(), |r| r[0]);
    Ok(ProgramTrack {
        name,
        program: number.unwrap_or(first),
        is_drum: false,
        programs,
    })
}

/// How windows are taken from a song.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Windows {
    /// Every window starting a multiple of this many bars into a run of 4/4 bars.
    Hop(usize),
    /// This many windows per song, drawn at random (seeded, without repetition) among the
    /// windows that pass the filters; all of them when there are fewer.
    Random(usize),
}

/// What a phrase is allowed to do with pitches outside the range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfRange {
    /// A phrase (or transposed copy) with any sounding cell outside the range is dropped.
    #[default]
    Drop,
    /// Cells outside the range are discarded and the phrase kept (MuseGAN's cropping).
    Crop,
}

/// The least one track of a phrase must hold; 0 everywhere means no constraint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentFilter {
    /// Note starts (a cell on whose previous step is off, or the phrase's first step).
    pub min_notes: usize,
    /// Distinct pitches.
    pub min_pitches: usize,
    /// Steps with at least one sounding pitch.
    pub min_active_steps: usize,
}

/// Every setting of a dataset build, recorded in the manifest.
///
/// Serialises to and from JSON; missing fields take their defaults and unknown fields are
/// refused, so a typo cannot silently fall back to a default. The defaults are MuseGAN v3's
/// shape: LPD-5 tracks, 4 bars of 48 steps (12 per beat), 84 pitches from C1, non-overlapping
/// windows. [`BuildOptions::chorales`] is the small default corpus's setting.
///
/// ```
/// use museroll_core::dataset::{BuildOptions, Layout, Windows};
/// let options: BuildOptions =
///     serde_json::from_str(r#"{"tracks": "piano", "windows": {"random": 8}}"#).unwrap();
/// assert_eq!(options.tracks, Layout::Piano);
/// assert_eq!(options.windows, Windows::Random(8));
/// assert_eq!(options.pitches, 84);
/// assert!(serde_json::from_str::<BuildOptions>(r#"{"bar": 4}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildOptions {
    /// Track layout. Default [`Layout::Lpd5`].
    pub tracks: Layout,
    /// Bars per phrase, all 4/4. Default 4.
    pub bars: usize,
    /// Time steps per beat (quarter note); a bar has 4 times as many. Default 12.
    pub steps_per_beat: Resolution,
    /// The pitch of the lowest column; must be a C, so that column `i` has pitch class
    /// `i mod 12`. Default C1 (MIDI 24).
    pub lowest_pitch: Pitch,
    /// Number of pitch columns. Default 84 (C1–B7).
    pub pitches: usize,
    /// Which windows to take. Default `Hop(4)`: consecutive, non-overlapping.
    pub windows: Windows,
    /// Per-track content filters: none, one for every track, or one per track. Default none.
    pub min_content: Vec<ContentFilter>,
    /// The least number of tracks that must sound in a phrase. Default 1: no silent phrases.
    pub min_nonempty_tracks: usize,
    /// Shorten a note by one step when the same pitch is struck again right after it, as LPD
    /// does, so that a repeated note stays two notes in a piano-roll. Default true.
    pub gap: bool,
    /// Transpositions in semitones; every window is stored once per entry (drum tracks are not
    /// transposed). Default `[0]`: no augmentation.
    pub transpositions: Vec<i8>,
    /// Notes outside the pitch range. Default [`OutOfRange::Drop`].
    pub out_of_range: OutOfRange,
    /// Share of the songs (not windows) set aside for validation, 0 to 1. Default 0.1.
    pub validation_fraction: f64,
    /// Seed of the random windows and of the split. Default 0.
    pub seed: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            tracks: Layout::Lpd5,
            bars: 4,
            steps_per_beat: Resolution::new(12).unwrap_or_default(),
            lowest_pitch: Pitch::new(24).unwrap_or(Pitch::MIN),
            pitches: 84,
            windows: Windows::Hop(4),
            min_content: Vec::new(),
            min_nonempty_tracks: 1,
            gap: true,
            transpositions: vec![0],
            out_of_range: OutOfRange::Drop,
            validation_fraction: 0.1,
            seed: 0,
        }
    }
}

/// The largest phrase accepted, in bytes (LPD-17 at 24 steps per beat and 128 pitches is
/// 17 × 4 × 96 × 128 bits = 104 KiB).
pub const MAX_PHRASE_BYTES: usize = 1 << 24;

impl BuildOptions {
    /// The default corpus's setting (J.S. Bach's four-part chorales): [`Layout::Satb`], 4 bars
    /// of 4/4 at 4 steps per beat (16 steps per bar, 16th notes), 48 pitches C2–B5 (the voices
    /// span C2–A5), windows at every bar, every voice singing at least one note, 10% of the
    /// chorales for validation. A phrase is 4 × 4 × 16 × 48 bits = 1536 bytes.
    pub fn chorales() -> BuildOptions {
        BuildOptions {
            tracks: Layout::Satb,
            steps_per_beat: Resolution::new(4).unwrap_or_default(),
            lowest_pitch: Pitch::new(36).unwrap_or(Pitch::MIN),
            pitches: 48,
            windows: Windows::Hop(1),
            min_content: vec![ContentFilter {
                min_notes: 1,
                ..ContentFilter::default()
            }],
            ..BuildOptions::default()
        }
    }

    /// Steps per bar: 4 beats.
    pub fn steps_per_bar(&self) -> usize {
        4 * self.steps_per_beat.steps()
    }

    /// Checks every setting; the message names the first one that is wrong.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::Invalid(m));
        self.tracks.validate()?;
        let tracks = self.tracks.tracks().len();
        if self.bars == 0 {
            return invalid("a phrase needs at least 1 bar".into());
        }
        if !self.lowest_pitch.number().is_multiple_of(12) {
            return invalid(format!(
                "the lowest pitch must be a C (for pitch-class alignment), not {}",
                self.lowest_pitch
            ));
        }
        if self.pitches == 0 || self.lowest_pitch.index() + self.pitches > crate::N_PITCHES {
            return invalid(format!(
                "{} pitches from {} do not fit in MIDI 0-127",
                self.pitches, self.lowest_pitch
            ));
        }
        match self.windows {
            Windows::Hop(0) => return invalid("the window hop must be at least 1 bar".into()),
            Windows::Random(0) => return invalid("random windows: at least 1 per song".into()),
            _ => {}
        }
        if !(self.min_content.len() <= 1 || self.min_content.len() == tracks) {
            return invalid(format!(
                "{} content filters for {tracks} tracks (give none, one, or one per track)",
                self.min_content.len()
            ));
        }
        if self.min_nonempty_tracks > tracks {
            return invalid(format!(
                "{} non-empty tracks required of {tracks}",
                self.min_nonempty_tracks
            ));
        }
        if self.transpositions.is_empty() {
            return invalid("the list of transpositions is empty (use [0] for none)".into());
        }
        for (i, s) in self.transpositions.iter().enumerate() {
            if self.transpositions[..i].contains(s) {
                return invalid(format!("transposition {s} is listed twice"));
            }
        }
        if !(0.0..=1.0).contains(&self.validation_fraction) {
            return invalid(format!(
                "validation fraction {} is outside 0..=1",
                self.validation_fraction
            ));
        }
        let bits = [tracks, self.bars, self.steps_per_bar(), self.pitches]
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d));
        match bits.map(|b| b.div_ceil(8)) {
            Some(bytes) if bytes <= MAX_PHRASE_BYTES => Ok(()),
            _ => invalid(format!(
                "a phrase of {tracks} tracks × {} bars × {} steps × {} pitches exceeds \
                 {MAX_PHRASE_BYTES} bytes",
                self.bars,
                self.steps_per_bar(),
                self.pitches
            )),
        }
    }

    /// The content filter of output track `track`.
    pub(super) fn filter(&self, track: usize) -> ContentFilter {
        match self.min_content.len() {
            0 => ContentFilter::default(),
            1 => self.min_content[0],
            _ => self.min_content.get(track).copied().unwrap_or_default(),
        }
    }
}

/// Settings of [`super::import_musegan`], recorded in the manifest. Missing fields take their defaults;
/// unknown fields are refused.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportOptions {
    /// The tracks, in the array's order. Default: LPD-5's (Drums, Piano, Guitar, Bass, Strings,
    /// the order of MuseGAN v3's data) for 5 tracks, BinaryMuseGAN's eight for 8, else
    /// `Track 0`, `Track 1`… (pitched, program 0).
    pub tracks: Option<Vec<TrackInfo>>,
    /// Time steps per beat. Default: a quarter of the steps per bar (12 for MuseGAN v3's 48,
    /// 24 for BinaryMuseGAN's 96).
    pub resolution: Option<Resolution>,
    /// The MIDI pitch of pitch column 0. Default C1 (24), as in every MuseGAN array.
    pub lowest_pitch: Pitch,
    /// How many consecutive phrases came from one song, so that the split keeps them together.
    /// Default: the second axis of a 6-dimensional array (songs × phrases per song × …), else 1:
    /// the arrays do not say which song a phrase came from, so each phrase is its own "song"
    /// unless you know better (BinaryMuseGAN's 5-D reshapes hold 6 per song).
    pub phrases_per_song: Option<usize>,
    /// Share of the songs set aside for validation, 0 to 1. Default 0.1.
    pub validation_fraction: f64,
    /// Seed of the split. Default 0.
    pub seed: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            tracks: None,
            resolution: None,
            lowest_pitch: Pitch::new(24).unwrap_or(Pitch::MIN),
            phrases_per_song: None,
            validation_fraction: 0.1,
            seed: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roll::RollKind;

    fn track(program: u8, is_drum: bool) -> Track {
        let mut t = Track::new("t", program_of(program), is_drum, 1);
        t.roll = crate::Roll::new(RollKind::Binary, 1);
        t
    }

    fn program_of(n: u8) -> Program {
        Program::new(n).unwrap()
    }

    fn assigned(layout: &Layout, tracks: &[Track]) -> Vec<Vec<usize>> {
        match layout.assign(tracks) {
            Assignment::Tracks(t) => t,
            Assignment::Mismatch(m) => panic!("{m}"),
        }
    }

    #[test]
    fn lpd5_merges_as_merger_5() {
        // piano 0, organ 16 (→ strings), guitar 25, bass 33, violin 40, synth fx 100 (dropped),
        // ethnic 105 (→ strings), drums, second piano 5, sound effects 121 (dropped)
        let tracks: Vec<Track> = [
            (0, false),
            (16, false),
            (25, false),
            (33, false),
            (40, false),
            (100, false),
            (105, false),
            (0, true),
            (5, false),
            (121, false),
        ]
        .iter()
        .map(|&(p, d)| track(p, d))
        .collect();
        assert_eq!(
            assigned(&Layout::Lpd5, &tracks),
            vec![vec![7], vec![0, 8], vec![2], vec![3], vec![1, 4, 6]]
        );
        let names: Vec<String> = Layout::Lpd5.tracks().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["Drums", "Piano", "Guitar", "Bass", "Strings"]);
        let programs: Vec<u8> = Layout::Lpd5
            .tracks()
            .iter()
            .map(|t| t.program.number())
            .collect();
        assert_eq!(programs, [0, 0, 24, 32, 48]);
    }

    #[test]
    fn bmusegan8_keeps_whole_families() {
        let tracks: Vec<Track> = [
            (1, false),
            (41, false),
            (50, false),
            (66, false),
            (90, false),
        ]
        .iter()
        .map(|&(p, d)| track(p, d))
        .collect();
        assert_eq!(
            assigned(&Layout::Bmusegan8, &tracks),
            vec![
                vec![],
                vec![0],
                vec![],
                vec![],
                vec![2],
                vec![3],
                vec![],
                vec![4]
            ]
        );
    }

    #[test]
    fn piano_merges_every_pitched_track_and_parts_need_the_count() {
        let tracks: Vec<Track> = [(0, true), (30, false), (70, false)]
            .iter()
            .map(|&(p, d)| track(p, d))
            .collect();
        assert_eq!(assigned(&Layout::Piano, &tracks), vec![vec![1, 2]]);
        match Layout::Satb.assign(&tracks) {
            Assignment::Mismatch(m) => assert_eq!(m, "3 parts, the layout takes exactly 4"),
            Assignment::Tracks(_) => panic!("3 parts accepted"),
        }
    }

    #[test]
    fn layout_strings_and_their_errors() {
        let layout: Layout = "Kit=drums, Keys@4=0-7+16-23".parse().unwrap();
        let tracks = layout.tracks();
        assert_eq!(tracks[1].name, "Keys");
        assert_eq!(tracks[1].program.number(), 4);
        assert!(tracks[0].is_drum);
        for (text, message) in [
            ("Piano", "expected NAME=SOURCES"),
            ("Piano=0-200", "'200' is not a program"),
            ("Piano=7-0", "reversed"),
            ("A=0,A=1", "two tracks 'A'"),
            ("parts:", "has no name"),
            ("=0-7", "has no name"),
        ] {
            let err = text.parse::<Layout>().unwrap_err().to_string();
            assert!(err.contains(message), "{text}: {err}");
        }
        let json = serde_json::to_string(&Layout::Satb).unwrap();
        assert_eq!(json, "\"satb\"");
        let explicit: Layout = serde_json::from_str(
            r#"{"programs": [{"name": "Bass", "program": 33, "programs": [[32, 39]]}]}"#,
        )
        .unwrap();
        assert_eq!(explicit.tracks()[0].program.number(), 33);
    }

    #[test]
    fn options_are_validated() {
        assert!(BuildOptions::default().validate().is_ok());
        assert!(BuildOptions::chorales().validate().is_ok());
        let check = |options: BuildOptions, message: &str| {
            let err = options.validate().unwrap_err().to_string();
            assert!(err.contains(message), "{err}");
        };
        let d = BuildOptions::default;
        check(
            BuildOptions {
                lowest_pitch: Pitch::new(25).unwrap(),
                ..d()
            },
            "must be a C",
        );
        check(
            BuildOptions {
                pitches: 105,
                ..d()
            },
            "do not fit",
        );
        check(BuildOptions { bars: 0, ..d() }, "at least 1 bar");
        check(
            BuildOptions {
                windows: Windows::Hop(0),
                ..d()
            },
            "hop",
        );
        check(
            BuildOptions {
                min_content: vec![ContentFilter::default(); 3],
                ..d()
            },
            "3 content filters for 5 tracks",
        );
        check(
            BuildOptions {
                transpositions: vec![1, 1],
                ..d()
            },
            "listed twice",
        );
        check(
            BuildOptions {
                validation_fraction: 1.5,
                ..d()
            },
            "validation fraction",
        );
        check(
            BuildOptions {
                bars: usize::MAX / 4,
                ..d()
            },
            "exceeds",
        );
    }
}
