//! Reading MusicXML scores: plain `.musicxml`/`.xml` documents and compressed `.mxl` archives.
//!
//! A score becomes a [`Multitrack`] with one track per part, named after the part. Both
//! `score-partwise` and `score-timewise` documents are read. The reader follows the score as
//! written and turns it into symbolic time; the choices below are the ones a reader must make.
//!
//! **Time.** Durations count `<divisions>` per quarter note, and `<divisions>` may change at any
//! `<attributes>`. Every position is kept as an exact fraction of quarter notes (no floating
//! point, no common denominator to guess) and rounded once, at the end, to the nearest step
//! (halves round up): a note spans `round(start · resolution)..round(end · resolution)`, at least
//! one step. `<backup>` and `<forward>` move the time cursor (a backup never goes before the
//! measure's start); `<chord/>` notes start with the note before them. Voices and staves all go
//! into the part's one track. A measure lasts as long as its longest voice, and measure *k*
//! starts at the same time in every part (the longest part's measure *k* decides), so a part
//! that leaves a measure underfull cannot drift away from the others.
//!
//! **Ties** join a note whose tie starts to the next note of the same pitch with a stopping tie
//! that begins exactly where it ends (`<tie>` and the notation `<tied>` both count). A tie that
//! is never stopped leaves its note as written.
//!
//! **Skipped:** grace notes (they take no time in the score, and a piano-roll has no room for a
//! note of length zero); cue notes (they are not played, but take their time in the voice);
//! notes of length zero; pitches outside MIDI 0–127 after transposition.
//!
//! **Repeats are not expanded**: the score is read once, as written, endings and all, because
//! the written order is what a piano-roll of the score shows and expansion needs rules
//! (`<sound>` jumps, alternative endings, da capo) that scores apply inconsistently.
//!
//! **Pitch** is `(octave + 1)·12 + step + alter` (C4 = 60), plus the part's `<transpose>`
//! (chromatic + 12 · octave-change), so transposing instruments sound where written for.
//! Microtonal alters round to the nearest semitone. Unpitched (percussion) notes take the MIDI
//! key of their `<instrument>`'s `<midi-unpitched>` (1-based in MusicXML), else their display
//! position read as a pitch.
//!
//! **Parts → tracks.** Name: the `<part-name>` of the part's `<score-part>` (whitespace runs
//! become one space), else the part id; a part missing from the `<part-list>` (or a score with
//! no part-list) is still read, named by its id. Program: the first `<midi-instrument>`'s
//! `<midi-program>` minus one (MusicXML counts programs from 1), else 0. Drums: MIDI channel 10,
//! or any unpitched note in the part.
//!
//! **Velocity** comes from `<sound dynamics="…">`, a percentage of the MIDI forte velocity 90 as
//! MusicXML defines it (`dynamics="100"` → 90), clamped to 1–127. A mark applies to the part's
//! notes that start at or after its position; a note's own `dynamics` attribute overrides it.
//! Notes before any mark get [`crate::DEFAULT_VELOCITY`] (64): most scores carry no dynamics at
//! all, and a neutral middle value is what the rest of museroll assumes for unknown velocities.
//!
//! **Tempo** comes from `<sound tempo="…">` (quarter notes per minute) and from `<metronome>`
//! marks (per-minute × the beat unit in quarters; a `<sound>` in the same direction wins), from
//! every part; without any, 120 qpm.
//!
//! **Meter and bars.** Time signatures come from the first part's `<time>` elements, each at
//! the start of its measure (meters a piano-roll cannot hold, such as beat type 3 or senza
//! misura, are ignored). A first measure shorter than its bar is a *pickup* (anacrusis), marked
//! `implicit` or not: the whole score is shifted right by the missing length, the roll then
//! begins with that much silence, and the first full measure starts on a downbeat — bars line
//! up with the written barlines and bar-sized slices of the roll hold whole bars. (A short first
//! bar with a meter of its own would misstate the meter.) Later measures of odd length are kept
//! as they are when together they fill whole bars (a bar split at a repeat sign, 3 + 1 beats);
//! where written barlines leave the meter's grid for good (a short bar not made up, a bar of 10
//! beats in 4/4), the measure that left it gets a time signature of its own length and the
//! meter resumes after it, so the following downbeats fall on the written barlines again. A
//! meter that first appears after the opening is preceded by 4/4.
//!
//! **Hostile input.** Text and archive members over [`MAX_XML_BYTES`] and documents over
//! [`MAX_XML_NODES`] nodes are refused, both before and while inflating (declared sizes are
//! checked, then reading stops at the limit, so a zip bomb that lies about its size is caught
//! too); archives of more than [`MAX_ZIP_ENTRIES`] entries are refused; every time value goes
//! through [`crate::io::check_size`], so absurd divisions or durations fail before any roll is
//! allocated; arithmetic is checked. Entities are expanded by roxmltree with its own limits on
//! depth and count; deep element nesting is harmless because the tree is never walked
//! recursively.
//!
//! ```
//! use museroll_core::{io::ReadOptions, musicxml::read_musicxml};
//! let xml = r#"<score-partwise><part-list><score-part id="P1"><part-name>Flute</part-name>
//!   <midi-instrument id="I1"><midi-program>74</midi-program></midi-instrument></score-part>
//!   </part-list><part id="P1"><measure number="1"><attributes><divisions>2</divisions>
//!   <time><beats>2</beats><beat-type>4</beat-type></time></attributes>
//!   <note><pitch><step>A</step><octave>4</octave></pitch><duration>3</duration></note>
//!   <note><rest/><duration>1</duration></note></measure></part></score-partwise>"#;
//! let song = read_musicxml(xml.as_bytes(), &ReadOptions::default()).unwrap();
//! let flute = &song.tracks[0];
//! assert_eq!((flute.name.as_str(), flute.program.number()), ("Flute", 73));
//! let notes = flute.roll.notes();
//! // A4 for a dotted quarter: 36 steps at 24 steps per beat; a two-beat bar is 48 steps.
//! assert_eq!((notes[0].pitch.number(), notes[0].start, notes[0].end), (69, 0, 36));
//! assert_eq!(song.len(), 48);
//! ```

use crate::error::{Error, Result};
use crate::multitrack::{Multitrack, Tempo, TimeSignature};
use crate::reading::{check_size, ReadOptions};
use crate::roll::{Note, Roll, RollKind};
use crate::track::Track;
use crate::units::{Pitch, Program};
use roxmltree::Node;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::{Cursor, Read};

/// The largest MusicXML text accepted, plain or inflated from an archive member: 64 MiB, several
/// times the largest orchestral scores.
pub const MAX_XML_BYTES: u64 = 64 << 20;

/// The most XML nodes a document may have (about half a gigabyte of parsed tree at worst).
pub const MAX_XML_NODES: u32 = 1 << 23;

/// The most entries an `.mxl` archive may have; real ones have two to a handful.
pub const MAX_ZIP_ENTRIES: usize = 1000;

/// Reads a plain (uncompressed) MusicXML document, `score-partwise` or `score-timewise`.
///
/// The text may be UTF-8 (with or without a byte-order mark) or UTF-16 with a byte-order mark.
/// See the module documentation for how the score becomes a [`Multitrack`].
pub fn read_musicxml(bytes: &[u8], options: &ReadOptions) -> Result<Multitrack> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(Error::MusicXml(
            "this is a zip archive (compressed .mxl), not a plain MusicXML document".into(),
        ));
    }
    read_document(&decode_text(bytes)?, options)
}

/// Reads a compressed MusicXML archive (`.mxl`): a zip whose `META-INF/container.xml` names the
/// score as its first `rootfile`; without a container, the first `.xml`/`.musicxml` member
/// outside `META-INF/` is read.
pub fn read_mxl(bytes: &[u8], options: &ReadOptions) -> Result<Multitrack> {
    let score = extract_score(bytes, MAX_XML_BYTES)?;
    read_musicxml(&score, options)
}

// ---------------------------------------------------------------------------------------------
// Archives and text

type ZipReader<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

const CONTAINER: &str = "META-INF/container.xml";

/// The bytes of the score inside an `.mxl` archive, reading no member past `cap` bytes.
fn extract_score(bytes: &[u8], cap: u64) -> Result<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::MusicXml(format!("not a readable zip archive: {e}")))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(Error::MusicXml(format!(
            "the archive has {} entries, more than the limit of {MAX_ZIP_ENTRIES}",
            zip.len()
        )));
    }
    let index = match zip.index_for_name(CONTAINER) {
        Some(container) => {
            let text = decode_text(&read_member(&mut zip, container, cap)?)?;
            let path = rootfile_path(&text)?;
            let name = path.trim_start_matches('/');
            zip.index_for_name(name).ok_or_else(|| {
                Error::MusicXml(format!(
                    "{CONTAINER} names '{path}', which is not in the archive"
                ))
            })?
        }
        None => (0..zip.len())
            .find(|&i| zip.name_for_index(i).is_some_and(is_score_name))
            .ok_or_else(|| {
                Error::MusicXml(format!(
                    "the archive has no {CONTAINER} and no .xml or .musicxml member"
                ))
            })?,
    };
    read_member(&mut zip, index, cap)
}

/// True for a member that may hold the score when there is no container.
fn is_score_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !lower.starts_with("meta-inf/")
        && !lower.ends_with('/')
        && (lower.ends_with(".xml") || lower.ends_with(".musicxml"))
}

/// The `full-path` of the container's first `rootfile`.
fn rootfile_path(container: &str) -> Result<String> {
    let doc = parse_xml(container).map_err(|e| Error::MusicXml(format!("{CONTAINER}: {e}")))?;
    doc.descendants()
        .filter(|n| n.has_tag_name("rootfile"))
        .find_map(|n| n.attribute("full-path"))
        .map(str::to_owned)
        .ok_or_else(|| Error::MusicXml(format!("{CONTAINER} names no rootfile")))
}

/// Inflates one member, refusing it if it declares or inflates to more than `cap` bytes.
fn read_member(zip: &mut ZipReader<'_>, index: usize, cap: u64) -> Result<Vec<u8>> {
    let file = zip
        .by_index(index)
        .map_err(|e| Error::MusicXml(format!("cannot open archive member {index}: {e}")))?;
    let name = file.name().to_owned();
    if file.size() > cap {
        return Err(Error::MusicXml(format!(
            "archive member '{name}' declares {} bytes, over the limit of {cap}",
            file.size()
        )));
    }
    let mut out = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::MusicXml(format!("cannot inflate archive member '{name}': {e}")))?;
    if out.len() as u64 > cap {
        return Err(Error::MusicXml(format!(
            "archive member '{name}' inflates past the limit of {cap} bytes"
        )));
    }
    Ok(out)
}

/// The text of an XML file: UTF-8 (byte-order mark optional) or UTF-16 with a byte-order mark.
fn decode_text(bytes: &[u8]) -> Result<String> {
    if bytes.len() as u64 > MAX_XML_BYTES {
        return Err(Error::MusicXml(format!(
            "{} bytes of XML exceed the limit of {MAX_XML_BYTES}",
            bytes.len()
        )));
    }
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| -> Result<String> {
        let chunks = rest.chunks_exact(2);
        if !chunks.remainder().is_empty() {
            return Err(Error::MusicXml("UTF-16 text of odd length".into()));
        }
        let units: Vec<u16> = chunks.map(|c| unit([c[0], c[1]])).collect();
        String::from_utf16(&units).map_err(|_| Error::MusicXml("invalid UTF-16 text".into()))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        utf16(rest, u16::from_be_bytes)
    } else {
        let rest = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        String::from_utf8(rest.to_vec()).map_err(|e| {
            Error::MusicXml(format!(
                "the text is not UTF-8 (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })
    }
}

/// Parses XML with the node limit. DTDs are allowed because nearly every MusicXML file starts
/// with a `<!DOCTYPE>`; roxmltree bounds entity expansion itself.
fn parse_xml(text: &str) -> std::result::Result<roxmltree::Document<'_>, String> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: MAX_XML_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => {
            format!("more than {MAX_XML_NODES} XML nodes (or nesting too deep)")
        }
        other => format!("malformed XML: {other}"),
    })
}

// ---------------------------------------------------------------------------------------------
// Exact time

/// A non-negative exact number of quarter notes, always in lowest terms (so `==` is equality of
/// values). Operations return `None` on overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Q {
    num: u128,
    den: u128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Q {
    const ZERO: Q = Q { num: 0, den: 1 };

    fn new(num: u128, den: u128) -> Option<Q> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Q {
            num: num / g,
            den: den / g,
        })
    }

    fn int(n: u128) -> Q {
        Q { num: n, den: 1 }
    }

    fn add(self, other: Q) -> Option<Q> {
        let lcm = (self.den / gcd(self.den, other.den)).checked_mul(other.den)?;
        let a = self.num.checked_mul(lcm / self.den)?;
        let b = other.num.checked_mul(lcm / other.den)?;
        Q::new(a.checked_add(b)?, lcm)
    }

    /// `self − other`, or zero when `other` is larger.
    fn sub_or_zero(self, other: Q) -> Option<Q> {
        if self <= other {
            return Some(Q::ZERO);
        }
        let lcm = (self.den / gcd(self.den, other.den)).checked_mul(other.den)?;
        let a = self.num.checked_mul(lcm / self.den)?;
        let b = other.num.checked_mul(lcm / other.den)?;
        Q::new(a - b, lcm)
    }

    fn mul(self, other: Q) -> Option<Q> {
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        Q::new(
            (self.num / g1).checked_mul(other.num / g2)?,
            (self.den / g2).checked_mul(other.den / g1)?,
        )
    }

    fn div(self, other: Q) -> Option<Q> {
        if other.num == 0 {
            return None;
        }
        self.mul(Q {
            num: other.den,
            den: other.num,
        })
    }

    fn floor(self) -> u128 {
        self.num / self.den
    }

    /// Rounded to the nearest integer, halves up.
    fn round(self) -> u128 {
        let r = self.num % self.den;
        self.floor() + u128::from(r >= self.den - r)
    }
}

impl Ord for Q {
    /// Compares without multiplying (which could overflow), by Euclid's algorithm on the two
    /// continued fractions.
    fn cmp(&self, other: &Q) -> Ordering {
        let (mut a, mut b, mut c, mut d) = (self.num, self.den, other.num, other.den);
        let mut flipped = false;
        loop {
            let order = match (a / b).cmp(&(c / d)) {
                Ordering::Equal => {
                    let (ra, rc) = (a % b, c % d);
                    match (ra, rc) {
                        (0, 0) => Ordering::Equal,
                        (0, _) => Ordering::Less,
                        (_, 0) => Ordering::Greater,
                        _ => {
                            // ra/b < rc/d exactly when b/ra > d/rc.
                            (a, b, c, d) = (b, ra, d, rc);
                            flipped = !flipped;
                            continue;
                        }
                    }
                }
                unequal => unequal,
            };
            return if flipped { order.reverse() } else { order };
        }
    }
}

impl PartialOrd for Q {
    fn partial_cmp(&self, other: &Q) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An exact non-negative decimal (`xs:decimal` without a sign), e.g. `"3"`, `"1.5"`.
fn parse_decimal(text: &str) -> Option<Q> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    if int.len() > 18 || frac.len() > 18 {
        return None;
    }
    let scale = 10u128.pow(frac.len() as u32);
    let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let part: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    Q::new(whole * scale + part, scale)
}

/// The message for arithmetic that overflows.
fn too_fine() -> String {
    "time values too large or too finely divided to represent exactly".into()
}

/// The step of a position, refused (by [`check_size`]) if the roll could not hold it.
fn to_step(q: Q, resolution: u32) -> Result<usize> {
    let step = q
        .mul(Q::int(u128::from(resolution)))
        .map(Q::round)
        .and_then(|s| usize::try_from(s).ok())
        .ok_or_else(|| Error::MusicXml(too_fine()))?;
    check_size(step, 1)?;
    Ok(step)
}

// ---------------------------------------------------------------------------------------------
// The score

/// A meter a [`TimeSignature`] can hold, with its bar length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meter {
    numerator: u8,
    denominator: u8,
    bar: Q,
}

impl Meter {
    /// The meter of a bar of `bar` quarters with the smallest power-of-two beat type of at least
    /// `min_denominator` (so 6/8 stays 6/8), if one exists up to 255/128.
    fn of_bar(bar: Q, min_denominator: u32) -> Option<Meter> {
        let mut den = min_denominator.max(1).checked_next_power_of_two()?;
        while den <= 128 {
            let n = bar.mul(Q::new(u128::from(den), 4)?)?;
            if n.den == 1 && (1..=255).contains(&n.num) {
                return Some(Meter {
                    numerator: n.num as u8,
                    denominator: den as u8,
                    bar,
                });
            }
            den *= 2;
        }
        None
    }
}

/// A `<score-part>`: what the part list says about a part.
#[derive(Default)]
struct PartInfo {
    name: Option<String>,
    program: Program,
    channel_10: bool,
    /// MIDI key of each `<midi-instrument>` with a `<midi-unpitched>`, by instrument id.
    unpitched_keys: HashMap<String, Pitch>,
}

/// A position: a measure (by index) and an offset from its start.
#[derive(Clone, Copy, Debug)]
struct At {
    measure: usize,
    offset: Q,
}

/// A sounding note as written, before ties are joined.
struct WrittenNote {
    at: At,
    duration: Q,
    pitch: Pitch,
    tie_start: bool,
    tie_stop: bool,
    velocity: Option<u8>,
}

/// Everything read from one part, in measure-relative time.
#[derive(Default)]
struct PartScore {
    /// Each measure's length: where its longest voice ends.
    lengths: Vec<Q>,
    /// The meter set by a `<time>` in each measure.
    meters: Vec<Option<Meter>>,
    notes: Vec<WrittenNote>,
    tempos: Vec<(At, f64)>,
    dynamics: Vec<(At, u8)>,
    unpitched: bool,
}

/// One part's measures: the `<measure>` element (for its number) and the element holding the
/// part's music in it (the same element in partwise scores; `None` when a timewise measure
/// lacks the part).
struct PartSource<'a, 'i> {
    id: &'a str,
    measures: Vec<(Node<'a, 'i>, Option<Node<'a, 'i>>)>,
}

/// Reads a parsed MusicXML text.
fn read_document(text: &str, options: &ReadOptions) -> Result<Multitrack> {
    let doc = parse_xml(text).map_err(Error::MusicXml)?;
    let root = doc.root_element();
    let sources = part_sources(root)?;
    if sources.is_empty() {
        return Err(Error::MusicXml("the score has no parts".into()));
    }
    let infos = part_list(root);
    let resolution = options.resolution.get();
    let scores = sources
        .iter()
        .map(|source| {
            let info = infos.get(source.id);
            read_part(source, info, resolution)
                .map_err(|e| Error::MusicXml(format!("part {}: {e}", source.id)))
        })
        .collect::<Result<Vec<PartScore>>>()?;
    let timeline = Timeline::new(&scores)?;
    let steps = |q: Q| to_step(q, resolution);

    let mut song = Multitrack::new(options.resolution);
    song.name = title(root);

    let mut tempos = Vec::new();
    for score in &scores {
        for &(at, qpm) in &score.tempos {
            tempos.push(Tempo {
                step: steps(timeline.position(at)?)?,
                qpm,
            });
        }
    }
    song.set_tempos(tempos)?;

    let mut signatures = Vec::new();
    for &(position, meter) in &timeline.signatures {
        signatures.push(TimeSignature {
            step: steps(position)?,
            numerator: meter.numerator,
            denominator: meter.denominator,
        });
    }
    if signatures.first().is_some_and(|ts| ts.step > 0) {
        signatures.insert(0, TimeSignature::COMMON);
    }
    song.set_time_signatures(signatures)?;

    let mut length = steps(timeline.end)?;
    let mut part_notes = Vec::with_capacity(scores.len());
    for score in &scores {
        let notes = sounding_notes(score, &timeline, resolution)?;
        length = length.max(notes.iter().map(|n| n.end).max().unwrap_or(0));
        part_notes.push(notes);
    }
    check_size(length, scores.len())?;
    for ((source, score), notes) in sources.iter().zip(&scores).zip(part_notes) {
        let info = infos.get(source.id);
        song.tracks.push(Track {
            name: info
                .and_then(|i| i.name.clone())
                .unwrap_or_else(|| source.id.to_owned()),
            program: info.map_or(Program::default(), |i| i.program),
            is_drum: info.is_some_and(|i| i.channel_10) || score.unpitched,
            roll: Roll::from_notes(RollKind::Velocity, length, notes),
        });
    }
    Ok(song)
}

/// The parts of a partwise or timewise score, in document order.
fn part_sources<'a, 'i>(root: Node<'a, 'i>) -> Result<Vec<PartSource<'a, 'i>>> {
    match root.tag_name().name() {
        "score-partwise" => Ok(root
            .children()
            .filter(|n| n.has_tag_name("part"))
            .map(|part| PartSource {
                id: part.attribute("id").unwrap_or(""),
                measures: part
                    .children()
                    .filter(|n| n.has_tag_name("measure"))
                    .map(|m| (m, Some(m)))
                    .collect(),
            })
            .collect()),
        "score-timewise" => {
            let measures: Vec<Node> = root
                .children()
                .filter(|n| n.has_tag_name("measure"))
                .collect();
            let mut sources: Vec<PartSource> = Vec::new();
            let mut index: HashMap<&str, usize> = HashMap::new();
            for (k, measure) in measures.iter().enumerate() {
                for part in measure.children().filter(|n| n.has_tag_name("part")) {
                    let id = part.attribute("id").unwrap_or("");
                    let i = *index.entry(id).or_insert_with(|| {
                        sources.push(PartSource {
                            id,
                            measures: Vec::new(),
                        });
                        sources.len() - 1
                    });
                    let source = &mut sources[i];
                    // A part listed twice in one measure: the first counts.
                    if let Some(missing) = measures.get(source.measures.len()..k) {
                        // Measures that lack this part (or come before its first) are empty in it.
                        source.measures.extend(missing.iter().map(|&m| (m, None)));
                        source.measures.push((*measure, Some(part)));
                    }
                }
            }
            Ok(sources)
        }
        other => Err(Error::MusicXml(format!(
            "the root element is <{other}>, not <score-partwise> or <score-timewise>"
        ))),
    }
}

/// The `<score-part>` entries of the part list, by part id.
fn part_list(root: Node) -> HashMap<String, PartInfo> {
    let mut infos = HashMap::new();
    let score_parts = root
        .children()
        .filter(|n| n.has_tag_name("part-list"))
        .flat_map(|list| list.children())
        .filter(|n| n.has_tag_name("score-part"));
    for part in score_parts {
        let Some(id) = part.attribute("id") else {
            continue;
        };
        let mut info = PartInfo {
            name: child(part, "part-name")
                .map(|n| collapse_spaces(text(n)))
                .filter(|s| !s.is_empty()),
            ..PartInfo::default()
        };
        let instruments: Vec<Node> = part
            .children()
            .filter(|n| n.has_tag_name("midi-instrument"))
            .collect();
        if let Some(first) = instruments.first() {
            let number = |tag| child(*first, tag).and_then(|n| text(n).parse::<u8>().ok());
            info.channel_10 = number("midi-channel") == Some(10);
            info.program = number("midi-program")
                .and_then(|p| Program::new(p.wrapping_sub(1)))
                .unwrap_or_default();
        }
        for instrument in instruments {
            let key = child(instrument, "midi-unpitched")
                .and_then(|n| text(n).parse::<u8>().ok())
                .and_then(|k| Pitch::new(k.wrapping_sub(1)));
            if let (Some(key), Some(iid)) = (key, instrument.attribute("id")) {
                info.unpitched_keys.insert(iid.to_owned(), key);
            }
        }
        infos.insert(id.to_owned(), info);
    }
    infos
}

/// The title: the work title, else the movement title.
fn title(root: Node) -> Option<String> {
    let work_title = child(root, "work").and_then(|w| child(w, "work-title"));
    [work_title, child(root, "movement-title")]
        .into_iter()
        .flatten()
        .map(|n| collapse_spaces(text(n)))
        .find(|s| !s.is_empty())
}

fn child<'a, 'i>(node: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(tag))
}

fn text<'a>(node: Node<'a, '_>) -> &'a str {
    node.text().unwrap_or("").trim()
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// Reading a part

type Msg<T> = std::result::Result<T, String>;

/// Reads one part's measures into measure-relative time.
fn read_part(source: &PartSource, info: Option<&PartInfo>, resolution: u32) -> Msg<PartScore> {
    let mut reader = PartReader {
        info,
        resolution,
        divisions: None,
        transpose: 0,
        score: PartScore::default(),
    };
    for (k, &(measure, content)) in source.measures.iter().enumerate() {
        reader.measure(k, content).map_err(|e| {
            let number = measure
                .attribute("number")
                .map_or_else(|| format!("measure {}", k + 1), |n| format!("measure {n}"));
            format!("{number}: {e}")
        })?;
    }
    Ok(reader.score)
}

struct PartReader<'p> {
    info: Option<&'p PartInfo>,
    resolution: u32,
    divisions: Option<Q>,
    /// Semitones from written to sounding pitch.
    transpose: i64,
    score: PartScore,
}

impl PartReader<'_> {
    fn measure(&mut self, measure: usize, content: Option<Node>) -> Msg<()> {
        let mut cursor = Q::ZERO;
        let mut end = Q::ZERO;
        let mut chord_start = Q::ZERO;
        let mut meter = None;
        for node in content.iter().flat_map(|c| c.children()) {
            let at = At {
                measure,
                offset: cursor,
            };
            match node.tag_name().name() {
                "attributes" => self.attributes(node, &mut meter)?,
                "note" => self.note(node, measure, &mut cursor, &mut chord_start)?,
                "backup" => {
                    cursor = cursor
                        .sub_or_zero(self.duration(node)?)
                        .ok_or_else(too_fine)?
                }
                "forward" => cursor = self.advance(cursor, self.duration(node)?)?,
                "direction" => self.direction(node, at),
                "sound" => self.sound(node, at),
                _ => {}
            }
            end = end.max(cursor);
        }
        self.score.lengths.push(end);
        self.score.meters.push(meter);
        Ok(())
    }

    fn attributes(&mut self, node: Node, meter: &mut Option<Meter>) -> Msg<()> {
        if let Some(d) = child(node, "divisions") {
            let divisions = parse_decimal(text(d))
                .filter(|q| q.num > 0)
                .ok_or_else(|| format!("<divisions> '{}' is not a positive number", text(d)))?;
            self.divisions = Some(divisions);
        }
        if meter.is_none() {
            *meter = child(node, "time").and_then(parse_meter);
        }
        if let Some(t) = child(node, "transpose") {
            let number = |tag| -> Msg<i64> {
                child(t, tag).map_or(Ok(0), |n| {
                    text(n)
                        .parse::<i64>()
                        .ok()
                        .filter(|v| v.abs() <= 127)
                        .ok_or_else(|| format!("<{tag}> '{}' is not a small integer", text(n)))
                })
            };
            self.transpose = number("chromatic")? + 12 * number("octave-change")?;
        }
        Ok(())
    }

    /// The `<duration>` of a backup or forward, in quarters.
    fn duration(&self, node: Node) -> Msg<Q> {
        let d = child(node, "duration")
            .ok_or_else(|| format!("<{}> without a <duration>", node.tag_name().name()))?;
        self.quarters(d)
    }

    /// A `<duration>` element's value in quarters.
    fn quarters(&self, duration: Node) -> Msg<Q> {
        let value = parse_decimal(text(duration))
            .ok_or_else(|| format!("<duration> '{}' is not a number", text(duration)))?;
        let divisions = self
            .divisions
            .ok_or_else(|| "<duration> before any <divisions>".to_owned())?;
        value.div(divisions).ok_or_else(too_fine)
    }

    /// Moves the cursor on, refusing positions too far for a roll.
    fn advance(&self, cursor: Q, by: Q) -> Msg<Q> {
        let q = cursor.add(by).ok_or_else(too_fine)?;
        to_step(q, self.resolution).map_err(|e| e.to_string())?;
        Ok(q)
    }

    fn note(&mut self, node: Node, measure: usize, cursor: &mut Q, chord_start: &mut Q) -> Msg<()> {
        let parts = NoteChildren::of(node);
        if parts.grace {
            return Ok(());
        }
        let duration = self.quarters(parts.duration.ok_or("<note> without a <duration>")?)?;
        let start = if parts.chord {
            *chord_start
        } else {
            *chord_start = *cursor;
            *cursor = self.advance(*cursor, duration)?;
            *chord_start
        };
        if parts.silent || duration == Q::ZERO {
            return Ok(());
        }
        let Some(pitch) = self.pitch(&parts)? else {
            return Ok(());
        };
        self.score.notes.push(WrittenNote {
            at: At {
                measure,
                offset: start,
            },
            duration,
            pitch,
            tie_start: parts.tie_start,
            tie_stop: parts.tie_stop,
            velocity: node.attribute("dynamics").and_then(velocity),
        });
        Ok(())
    }

    /// The sounding MIDI pitch of a note; `None` outside 0–127 or for an unplaceable
    /// unpitched note.
    fn pitch(&mut self, note: &NoteChildren) -> Msg<Option<Pitch>> {
        if let Some(p) = note.pitch {
            let step = child(p, "step").map(text).unwrap_or("");
            let alter = match child(p, "alter") {
                None => 0,
                Some(a) => text(a)
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("<alter> '{}' is not a number", text(a)))?
                    .round()
                    .clamp(-1000.0, 1000.0) as i64,
            };
            let octave = child(p, "octave").map(text).unwrap_or("");
            let midi = midi_number(step, octave)
                .ok_or_else(|| format!("bad pitch: step '{step}', octave '{octave}'"))?;
            return Ok(to_pitch(midi + alter + self.transpose));
        }
        if let Some(u) = note.unpitched {
            self.score.unpitched = true;
            let keys = self.info.map(|i| &i.unpitched_keys);
            let key = match (note.instrument, keys) {
                (Some(id), Some(keys)) => keys.get(id).copied(),
                (None, Some(keys)) if keys.len() == 1 => keys.values().next().copied(),
                _ => None,
            };
            if key.is_some() {
                return Ok(key);
            }
            let step = child(u, "display-step").map(text).unwrap_or("");
            let octave = child(u, "display-octave").map(text).unwrap_or("");
            return Ok(midi_number(step, octave).and_then(to_pitch));
        }
        Err("a note without <pitch>, <unpitched> or <rest>".into())
    }

    fn direction(&mut self, node: Node, at: At) {
        let metronomes = node
            .children()
            .filter(|n| n.has_tag_name("direction-type"))
            .flat_map(|n| n.children())
            .filter(|n| n.has_tag_name("metronome"));
        for metronome in metronomes {
            if let Some(qpm) = metronome_qpm(metronome) {
                self.score.tempos.push((at, qpm));
            }
        }
        // Pushed after the metronome, so a <sound tempo> at the same place wins.
        for sound in node.children().filter(|n| n.has_tag_name("sound")) {
            self.sound(sound, at);
        }
    }

    fn sound(&mut self, node: Node, at: At) {
        if let Some(qpm) = node.attribute("tempo").and_then(positive_number) {
            self.score.tempos.push((at, qpm));
        }
        if let Some(v) = node.attribute("dynamics").and_then(velocity) {
            self.score.dynamics.push((at, v));
        }
    }
}

/// The children of a `<note>` that the reader uses, found in one pass.
#[derive(Default)]
struct NoteChildren<'a, 'i> {
    grace: bool,
    chord: bool,
    /// A rest or a cue note: takes time, does not sound.
    silent: bool,
    duration: Option<Node<'a, 'i>>,
    pitch: Option<Node<'a, 'i>>,
    unpitched: Option<Node<'a, 'i>>,
    instrument: Option<&'a str>,
    tie_start: bool,
    tie_stop: bool,
}

impl<'a, 'i> NoteChildren<'a, 'i> {
    fn of(note: Node<'a, 'i>) -> Self {
        let mut parts = NoteChildren::default();
        for node in note.children() {
            match node.tag_name().name() {
                "grace" => parts.grace = true,
                "chord" => parts.chord = true,
                "rest" | "cue" => parts.silent = true,
                "duration" => parts.duration = Some(node),
                "pitch" => parts.pitch = Some(node),
                "unpitched" => parts.unpitched = Some(node),
                "instrument" => parts.instrument = node.attribute("id"),
                "tie" => parts.tie(node),
                "notations" => {
                    for tied in node.children().filter(|n| n.tag_name().name() == "tied") {
                        parts.tie(tied);
                    }
                }
                _ => {}
            }
        }
        parts
    }

    /// A `<tie>` or `<tied>`.
    fn tie(&mut self, node: Node) {
        match node.attribute("type") {
            Some("start") => self.tie_start = true,
            Some("stop") => self.tie_stop = true,
            Some("continue") => (self.tie_start, self.tie_stop) = (true, true),
            _ => {}
        }
    }
}

/// `(octave + 1)·12 + step`, for a step letter and an octave number.
fn midi_number(step: &str, octave: &str) -> Option<i64> {
    let step = match step {
        "C" => 0,
        "D" => 2,
        "E" => 4,
        "F" => 5,
        "G" => 7,
        "A" => 9,
        "B" => 11,
        _ => return None,
    };
    let octave = octave
        .parse::<i64>()
        .ok()
        .filter(|o| (-10..=20).contains(o))?;
    Some((octave + 1) * 12 + step)
}

fn to_pitch(midi: i64) -> Option<Pitch> {
    u8::try_from(midi).ok().and_then(Pitch::new)
}

fn positive_number(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// A velocity from a MusicXML dynamics value, a percentage of forte = 90.
fn velocity(dynamics: &str) -> Option<u8> {
    let percent = dynamics
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())?;
    Some((percent * 0.9).round().clamp(1.0, 127.0) as u8)
}

/// The tempo of a `<metronome>` in quarter notes per minute, if it states one.
fn metronome_qpm(metronome: Node) -> Option<f64> {
    let unit = child(metronome, "beat-unit")?;
    let mut quarters = match text(unit) {
        "maxima" => 32.0,
        "long" => 16.0,
        "breve" => 8.0,
        "whole" => 4.0,
        "half" => 2.0,
        "quarter" => 1.0,
        "eighth" => 0.5,
        "16th" => 0.25,
        "32nd" => 0.125,
        "64th" => 0.0625,
        "128th" => 0.031_25,
        "256th" => 0.015_625,
        _ => return None,
    };
    // Each dot adds half of what the previous note value added.
    let mut dot = quarters / 2.0;
    for _ in unit
        .next_siblings()
        .filter(|n| n.is_element())
        .skip(1)
        .take_while(|n| n.has_tag_name("beat-unit-dot"))
    {
        quarters += dot;
        dot /= 2.0;
    }
    // "c. 60" or "60-66": the first number written.
    let per_minute = text(child(metronome, "per-minute")?);
    let number: String = per_minute
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    positive_number(&number).map(|bpm| bpm * quarters)
}

/// The meter of a `<time>`: the sum of its beats/beat-type pairs (`3+2` beats count 5).
fn parse_meter(time: Node) -> Option<Meter> {
    let mut bar = Q::ZERO;
    let mut beats: Option<u128> = None;
    let mut largest_beat_type = 0u32;
    for node in time.children() {
        if node.has_tag_name("beats") {
            let mut sum = 0u128;
            for part in text(node).split('+') {
                sum += part.trim().parse::<u16>().ok()? as u128;
            }
            beats = Some(sum);
        } else if node.has_tag_name("beat-type") {
            let beat_type = text(node).parse::<u16>().ok().filter(|&b| b > 0)?;
            bar = bar.add(Q::new(beats.take()? * 4, u128::from(beat_type))?)?;
            largest_beat_type = largest_beat_type.max(u32::from(beat_type));
        }
    }
    Meter::of_bar(bar, largest_beat_type)
}

// ---------------------------------------------------------------------------------------------
// Measures → absolute time, bars

/// Where every measure starts, where the score ends and the meters, in absolute quarters.
struct Timeline {
    starts: Vec<Q>,
    end: Q,
    signatures: Vec<(Q, Meter)>,
}

impl Timeline {
    fn new(scores: &[PartScore]) -> Result<Timeline> {
        let err = || Error::MusicXml(too_fine());
        let count = scores.iter().map(|s| s.lengths.len()).max().unwrap_or(0);
        let mut lengths = vec![Q::ZERO; count];
        for score in scores {
            for (longest, &l) in lengths.iter_mut().zip(&score.lengths) {
                *longest = (*longest).max(l);
            }
        }
        let first = scores.first().map_or(&[][..], |s| &s.meters[..]);
        let meter_at = |k: usize| first.get(k).copied().flatten();

        // A pickup: the first measure is shorter than its bar; pad the front to a full bar.
        let pad = match (meter_at(0), lengths.first()) {
            (Some(m), Some(&l)) if l > Q::ZERO && l < m.bar => {
                m.bar.sub_or_zero(l).ok_or_else(err)?
            }
            _ => Q::ZERO,
        };
        let mut starts = Vec::with_capacity(count);
        let mut end = pad;
        for &l in &lengths {
            starts.push(end);
            end = end.add(l).ok_or_else(err)?;
            // Bounds every later sum; the resolution does not matter, steps ≥ quarters.
            to_step(end, 1)?;
        }

        let mut signatures: Vec<(Q, Meter)> = Vec::new();
        let mut grid: Option<(Q, Meter)> = None;
        for k in 0..count {
            // The pickup's bar begins at 0, before the padding.
            let start = if k == 0 { Q::ZERO } else { starts[k] };
            if let Some(m) = meter_at(k) {
                if grid.is_none_or(|(_, g)| g != m) {
                    signatures.push((start, m));
                    grid = Some((start, m));
                    continue;
                }
            }
            let Some((origin, m)) = grid else {
                continue;
            };
            let into = start.sub_or_zero(origin).ok_or_else(err)?;
            let bars = into.div(m.bar).ok_or_else(err)?;
            if bars.den == 1 {
                continue; // on a downbeat
            }
            let next = Q::int(bars.floor() + 1)
                .mul(m.bar)
                .and_then(|q| q.add(origin))
                .ok_or_else(err)?;
            // The first measure to start at or after the next downbeat (or the end of the score).
            let j = starts.partition_point(|&s| s < next);
            let reached = starts.get(j).copied().unwrap_or(end);
            if reached <= next {
                continue; // the measures from here fill the bar exactly, or the score ends in it
            }
            // The barlines leave the grid: the measure before this one becomes a bar of its own
            // length (keeping its barlines, whether it was short or overfull), then the meter
            // starts again here.
            let previous = match starts[..k].partition_point(|&s| s < start) {
                0 | 1 => Q::ZERO,
                j => starts[j - 1],
            };
            let odd = start.sub_or_zero(previous).ok_or_else(err)?;
            if let Some(odd_meter) = Meter::of_bar(odd, u32::from(m.denominator)) {
                signatures.push((previous, odd_meter));
                signatures.push((start, m));
                grid = Some((start, m));
            }
        }
        Ok(Timeline {
            starts,
            end,
            signatures,
        })
    }

    fn position(&self, at: At) -> Result<Q> {
        self.starts
            .get(at.measure)
            .and_then(|s| s.add(at.offset))
            .ok_or_else(|| Error::MusicXml(too_fine()))
    }
}

/// A part's notes in steps: ties joined, velocities given.
fn sounding_notes(score: &PartScore, timeline: &Timeline, resolution: u32) -> Result<Vec<Note>> {
    let mut dynamics = score
        .dynamics
        .iter()
        .map(|&(at, v)| Ok((timeline.position(at)?, v)))
        .collect::<Result<Vec<(Q, u8)>>>()?;
    dynamics.sort_by_key(|&(at, _)| at);

    // (start, end, pitch, velocity) with ties joined; a tie waits under (pitch, end).
    let mut joined: Vec<(Q, Q, Pitch, Option<u8>)> = Vec::with_capacity(score.notes.len());
    let mut open: HashMap<(Pitch, Q), usize> = HashMap::new();
    for n in &score.notes {
        let start = timeline.position(n.at)?;
        let end = start
            .add(n.duration)
            .ok_or_else(|| Error::MusicXml(too_fine()))?;
        let tied = if n.tie_stop {
            open.remove(&(n.pitch, start))
        } else {
            None
        };
        let index = match tied {
            Some(i) => {
                joined[i].1 = end;
                i
            }
            None => {
                joined.push((start, end, n.pitch, n.velocity));
                joined.len() - 1
            }
        };
        if n.tie_start {
            open.insert((n.pitch, end), index);
        }
    }

    let mut notes = Vec::with_capacity(joined.len());
    for (start, end, pitch, own_velocity) in joined {
        let marks_before = dynamics.partition_point(|&(at, _)| at <= start);
        let velocity = own_velocity
            .or_else(|| marks_before.checked_sub(1).map(|i| dynamics[i].1))
            .unwrap_or(crate::DEFAULT_VELOCITY);
        let first = to_step(start, resolution)?;
        notes.push(Note {
            pitch,
            start: first,
            end: to_step(end, resolution)?.max(first + 1),
            velocity,
        });
    }
    notes.sort_by_key(|n| n.start);
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    fn q(num: u128, den: u128) -> Q {
        Q::new(num, den).unwrap()
    }

    #[test]
    fn fractions_stay_in_lowest_terms() {
        assert_eq!(q(6, 8), Q { num: 3, den: 4 });
        assert_eq!(q(0, 7), Q::ZERO);
        assert_eq!(q(1, 3).add(q(1, 6)), Some(q(1, 2)));
        assert_eq!(q(1, 3).sub_or_zero(q(1, 2)), Some(Q::ZERO));
        assert_eq!(q(5, 6).sub_or_zero(q(1, 3)), Some(q(1, 2)));
        assert_eq!(q(3, 4).mul(q(8, 9)), Some(q(2, 3)));
        assert_eq!(q(3, 4).div(q(3, 8)), Some(Q::int(2)));
        assert_eq!(q(1, 2).div(Q::ZERO), None);
        assert!(Q::new(1, 0).is_none());
    }

    #[test]
    fn overflow_is_none_not_a_panic() {
        let huge = Q::int(u128::MAX / 2 + 1);
        assert_eq!(huge.add(huge), None);
        assert_eq!(huge.mul(Q::int(2)), None);
        // Coprime denominators near 2^64 make an lcm past 2^128.
        let a = q(1, (1 << 64) + 1);
        let b = q(1, (1 << 64) + 3);
        assert_eq!(a.add(b).and_then(|s| s.add(q(1, (1 << 64) + 7))), None);
    }

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(q(1, 2).round(), 1);
        assert_eq!(q(3, 2).round(), 2);
        assert_eq!(q(4, 3).round(), 1);
        assert_eq!(q(5, 3).round(), 2);
        assert_eq!(Q::int(7).round(), 7);
        assert_eq!(q(u128::MAX, u128::MAX - 1).round(), 1);
    }

    proptest! {
        #[test]
        fn ordering_agrees_with_cross_multiplication(
            a in 0u64..1 << 40, b in 1u64..1 << 40, c in 0u64..1 << 40, d in 1u64..1 << 40
        ) {
            let (x, y) = (q(a.into(), b.into()), q(c.into(), d.into()));
            let expected = (u128::from(a) * u128::from(d)).cmp(&(u128::from(c) * u128::from(b)));
            prop_assert_eq!(x.cmp(&y), expected);
            prop_assert_eq!(x == y, expected == Ordering::Equal);
        }
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_decimal(" 12 "), Some(Q::int(12)));
        assert_eq!(parse_decimal("1.5"), Some(q(3, 2)));
        assert_eq!(parse_decimal("+0.250"), Some(q(1, 4)));
        assert_eq!(parse_decimal(".5"), Some(q(1, 2)));
        assert_eq!(parse_decimal("7."), Some(Q::int(7)));
        assert_eq!(
            parse_decimal("000000000000000000000000042"),
            Some(Q::int(42))
        );
        for bad in [
            "",
            ".",
            "-1",
            "1e3",
            "1.2.3",
            "x",
            "1 000",
            "1234567890123456789",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn meters_of_bar_lengths() {
        let of = |bar: Q, den| Meter::of_bar(bar, den).map(|m| (m.numerator, m.denominator));
        assert_eq!(of(Q::int(4), 4), Some((4, 4)));
        assert_eq!(of(Q::int(3), 8), Some((6, 8)));
        assert_eq!(of(Q::int(4), 2), Some((2, 2)));
        assert_eq!(of(q(7, 2), 4), Some((7, 8)));
        assert_eq!(of(q(1, 3), 4), None); // a third of a beat: no power-of-two meter
        assert_eq!(of(Q::int(64), 4), Some((64, 4)));
        assert_eq!(of(Q::int(256), 4), None); // 256 beats of any kind: over 255
        assert_eq!(of(Q::ZERO, 4), None);
    }

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, contents) in members {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(contents).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn members_are_read_up_to_the_cap() {
        let bytes = zip_of(&[("score.xml", &[b' '; 4096])]);
        assert_eq!(extract_score(&bytes, 4096).unwrap().len(), 4096);
        let err = extract_score(&bytes, 4095).unwrap_err().to_string();
        assert!(err.contains("declares 4096 bytes"), "{err}");
    }

    #[test]
    fn containers_without_rootfiles_or_well_formed_xml_are_errors() {
        let empty = zip_of(&[(CONTAINER, b"<container><rootfiles/></container>")]);
        let err = extract_score(&empty, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("names no rootfile"), "{err}");
        let broken = zip_of(&[(CONTAINER, b"<container><rootfiles>")]);
        let err = extract_score(&broken, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("container.xml: malformed XML"), "{err}");
    }
}
