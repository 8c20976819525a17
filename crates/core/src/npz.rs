//! pypianoroll's `.npz` format: reading and writing, including LPD's older `beat_resolution`.
//!
//! # The layout
//! A zip archive of NumPy `.npy` members, one set per track `i`:
//! `pianoroll_{i}_csc_data` (the nonzero cells, column-major), `pianoroll_{i}_csc_indices` (their
//! time steps), `pianoroll_{i}_csc_indptr` (129 offsets: pitch `p` owns entries
//! `indptr[p]..indptr[p+1]`) and `pianoroll_{i}_csc_shape` (`(T, 128)`), i.e. SciPy's CSC form of the
//! T × 128 roll; optional `tempo` (qpm per step) and `downbeat` (true where a bar starts), each
//! `(T,)` or `(T, 1)`; and a raw `info.json` member:
//! `{"resolution": r, "name": …, "0": {"program": …, "is_drum": …, "name": …}, "1": …}`.
//! pypianoroll 0.x (and so LPD) wrote `beat_resolution` instead of `resolution`; both are read.
//! Tracks are read from `"0"` upwards until the first missing key, as pypianoroll does.
//!
//! # Reading policies
//! - A `bool` roll becomes [`RollKind::Binary`]; every other dtype (uint8 as pypianoroll writes,
//!   other integer widths, floats, either byte order) becomes [`RollKind::Velocity`], each value
//!   rounded half to even (as NumPy rounds) and clipped to 0–127; NaN reads as silence. Duplicate
//!   entries of one cell (legal in SciPy's CSC) are added, saturating.
//! - The roll has no onset plane: a pypianoroll roll cannot tell a held note from the same pitch
//!   struck again, so notes read back as the maximal runs of active steps (see [`crate::roll`]).
//! - `tempo` becomes tempo changes wherever the per-step value changes. Values must be finite
//!   and positive (pypianoroll's `validate` demands the same).
//! - `downbeat` becomes time signatures: every stretch between two downbeats is a bar of L steps,
//!   i.e. L / r beats at resolution r, written n/d with the smallest denominator from 4 up (4, 8,
//!   … 128, then 2 and 1 for bars too long for n ≤ 255) that makes n whole: 3/4 rather than 6/8,
//!   which has the same bar length and so the same downbeats. Steps before the first downbeat form a
//!   pickup bar of their own. The last bar, whose end is unknown, keeps the meter of the bar before
//!   it; with no complete bar at all it is 4/4. So an array marking only step 0, as pypianoroll
//!   1.0.4 and LPD write for every song with a single time signature, reads as 4/4; and the
//!   unmarked tail that the same bug leaves after a meter change reads as more bars of the last
//!   marked meter, not as one long bar. A bar that is not a whole number of 128th notes gets the
//!   nearest n/d (the downbeats then drift by rounding).
//! - Without `tempo` the song is 120 qpm; without `downbeat`, 4/4.
//!
//! # Writing policies
//! Exactly what `pypianoroll.save` writes: the `tempo` (float64, one value per step, the tempo in
//! effect repeated, not pypianoroll's tiled bug) and `downbeat` (bool, from
//! [`Multitrack::downbeat_steps`]) vectors of length [`Multitrack::len`], then each track's CSC
//! arrays (data bool for binary rolls, uint8 for velocity rolls; int32 indices and indptr, int64
//! shape), then `info.json`; members deflated when compressed (`np.savez_compressed`), stored
//! otherwise (`np.savez`). The onset plane is lost, as in pypianoroll: repeated notes that touch
//! merge into one.
//!
//! # Hostile files
//! Arrays are decompressed as streams, element by element, never held whole: a member is read
//! only as far as its header's shape, and that shape must fit what the member may legitimately
//! hold (2 dimensions, 129 offsets, no more values than the roll has cells, no more tempo steps
//! than [`crate::io::MAX_STEPS`]); `info.json` is refused past 1 MiB of decompressed text,
//! whatever size the archive declares. Roll shapes go through [`crate::io::check_size`] before
//! any roll is allocated, and the CSC arrays are validated (129 monotone offsets starting at 0,
//! step indices below T, exactly as many values and indices as the offsets say), so memory stays
//! bounded by the rolls themselves.
//!
//! MuseGAN's training arrays (`shape` + `nonzero`, the COO coordinates of a bool tensor of phrases
//! × bars × steps × 84 pitches × tracks) are a batch of fixed-size phrases, not one song: they are
//! imported as a dataset by [`crate::dataset::import_musegan`], with this module's `.npy` reader.

use crate::error::{Error, Result};
use crate::multitrack::{Multitrack, Tempo, TimeSignature};
use crate::roll::{Roll, RollKind};
use crate::track::Track;
use crate::units::{Pitch, Program, Resolution, N_PITCHES};
use std::io::{Cursor, Read, Write};

/// Largest `.npy` header accepted: version 1.0's 16-bit length (NumPy itself stops at 10 000).
const MAX_HEADER: usize = 1 << 16;
/// Largest `info.json` accepted; LPD-17's is about 1 KiB.
const MAX_INFO: usize = 1 << 20;
/// Widest element accepted, in bytes.
const MAX_ITEM: usize = 8;

fn bad(message: impl Into<String>) -> Error {
    Error::Npz(message.into())
}

/// Reads a pypianoroll `.npz` archive (pypianoroll 1.x, or 0.x / LPD with `beat_resolution`).
///
/// ```
/// use museroll_core::npz::{read_npz, write_npz};
/// use museroll_core::{Multitrack, Pitch, Program, Resolution, RollKind, Track};
///
/// let mut song = Multitrack::new(Resolution::new(4).unwrap());
/// let mut piano = Track::new("Piano", Program::default(), false, 16);
/// for t in 0..4 {
///     piano.roll.set(t, Pitch::MIDDLE_C, 100);
/// }
/// song.tracks.push(piano);
/// let bytes = write_npz(&song, true).unwrap();
/// let back = read_npz(&bytes).unwrap();
/// assert_eq!(back, song);
/// assert_eq!(back.tracks[0].roll.kind(), RollKind::Velocity);
/// ```
pub fn read_npz(bytes: &[u8]) -> Result<Multitrack> {
    let mut archive = Archive::open(bytes)?;
    let info = archive
        .member("info.json", MAX_INFO)?
        .ok_or_else(|| bad("no info.json member (not a pypianoroll file?)"))?;
    let info = Info::parse(&info)?;

    let mut shapes = Vec::with_capacity(info.tracks.len());
    for i in 0..info.tracks.len() {
        shapes.push(roll_steps(&mut archive, i)?);
    }
    let steps = shapes.iter().copied().max().unwrap_or(0);
    crate::reading::check_size(steps, shapes.len())?;

    let mut multitrack = Multitrack::new(info.resolution);
    multitrack.name = info.name;
    for (i, (meta, steps)) in info.tracks.into_iter().zip(shapes).enumerate() {
        multitrack.tracks.push(Track {
            name: meta.name,
            program: meta.program,
            is_drum: meta.is_drum,
            roll: read_roll(&mut archive, i, steps)?,
        });
    }

    if let Some(tempo) = archive.array("tempo", crate::reading::MAX_STEPS)? {
        multitrack.set_tempos(tempo_changes(tempo)?)?;
    }
    if let Some(mut downbeat) = archive.array("downbeat", crate::reading::MAX_STEPS)? {
        let mut steps = Vec::new();
        for t in 0..downbeat.vector_len()? {
            if downbeat.float()? != 0.0 {
                steps.push(t);
            }
        }
        downbeat.finish()?;
        multitrack.set_time_signatures(meters_from_downbeats(&steps, info.resolution))?;
    }
    Ok(multitrack)
}

/// Writes `multitrack` as pypianoroll 1.x writes it (see the module documentation); `compressed`
/// chooses deflated members (`np.savez_compressed`, pypianoroll's default) or stored ones.
pub fn write_npz(multitrack: &Multitrack, compressed: bool) -> Result<Vec<u8>> {
    zip_members(members(multitrack), compressed)
}

/// The archive's members, named and in pypianoroll's order.
fn members(multitrack: &Multitrack) -> Vec<(String, Vec<u8>)> {
    let steps = multitrack.len();
    let mut members: Vec<(String, Vec<u8>)> = Vec::with_capacity(2 + 4 * multitrack.tracks.len());

    let mut tempo = Vec::with_capacity(steps * 8);
    let tempos = multitrack.tempos();
    for (i, change) in tempos.iter().enumerate() {
        let end = tempos.get(i + 1).map_or(steps, |next| next.step.min(steps));
        for _ in change.step.min(end)..end {
            tempo.extend_from_slice(&change.qpm.to_le_bytes());
        }
    }
    members.push(("tempo.npy".into(), npy(Dtype::F8, &[steps], &tempo)));
    let mut downbeat = vec![0u8; steps];
    for t in multitrack.downbeat_steps() {
        if let Some(cell) = downbeat.get_mut(t) {
            *cell = 1;
        }
    }
    members.push(("downbeat.npy".into(), npy(Dtype::BOOL, &[steps], &downbeat)));

    for (i, track) in multitrack.tracks.iter().enumerate() {
        for (part, bytes) in csc_members(&track.roll) {
            members.push((format!("pianoroll_{i}_csc_{part}.npy"), bytes));
        }
    }
    members.push(("info.json".into(), info_json(multitrack).into_bytes()));
    members
}

/// A zip archive of `members`, deflated or stored.
fn zip_members(members: Vec<(String, Vec<u8>)>, compressed: bool) -> Result<Vec<u8>> {
    let method = if compressed {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let failed = |e: &dyn std::fmt::Display| bad(format!("cannot write the archive: {e}"));
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(name, options).map_err(|e| failed(&e))?;
        zip.write_all(&bytes).map_err(|e| failed(&e))?;
    }
    Ok(zip.finish().map_err(|e| failed(&e))?.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Reading: the archive, info.json, rolls, tempo and meter.

/// The zip archive. Members are read as streams, never held whole (see [`NpyReader`]).
#[derive(Clone)]
struct Archive<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
}

/// A member being decompressed.
type Member<'z, 'a> = zip::read::ZipFile<'z, Cursor<&'a [u8]>>;

impl<'a> Archive<'a> {
    fn open(bytes: &'a [u8]) -> Result<Archive<'a>> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| bad(format!("not a zip archive ({e})")))?;
        Ok(Archive { zip })
    }

    /// The member `name`, if present.
    fn find(&mut self, name: &str) -> Result<Option<Member<'_, 'a>>> {
        match self.zip.index_for_name(name) {
            None => Ok(None),
            Some(index) => self
                .zip
                .by_index(index)
                .map(Some)
                .map_err(|e| bad(format!("{name}: {e}"))),
        }
    }

    /// The whole member `name`, `None` when absent; refused past `cap` decompressed bytes,
    /// however small the archive says it is.
    fn member(&mut self, name: &str, cap: usize) -> Result<Option<Vec<u8>>> {
        let Some(file) = self.find(name)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(cap as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        if bytes.len() > cap {
            return Err(bad(format!(
                "{name} expands to more than the {cap} bytes it may hold"
            )));
        }
        Ok(Some(bytes))
    }

    /// The array `key` (member `key.npy`, or `key` itself as NumPy also accepts) of at most
    /// `max_len` elements, ready to be read; `None` when absent.
    fn array(&mut self, key: &str, max_len: usize) -> Result<Option<NpyReader<Member<'_, 'a>>>> {
        let npy_name = format!("{key}.npy");
        let name = if self.zip.index_for_name(&npy_name).is_some() {
            npy_name
        } else {
            key.to_string()
        };
        match self.find(&name)? {
            None => Ok(None),
            Some(file) => NpyReader::open(name, file, max_len).map(Some),
        }
    }

    fn required_array(&mut self, key: &str, max_len: usize) -> Result<NpyReader<Member<'_, 'a>>> {
        self.array(key, max_len)?
            .ok_or_else(|| bad(format!("{key}.npy is missing")))
    }
}

/// What `info.json` says.
struct Info {
    resolution: Resolution,
    name: Option<String>,
    tracks: Vec<TrackInfo>,
}

struct TrackInfo {
    name: String,
    program: Program,
    is_drum: bool,
}

impl Info {
    fn parse(bytes: &[u8]) -> Result<Info> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("info.json is not valid JSON ({e})")))?;
        let map = value
            .as_object()
            .ok_or_else(|| bad("info.json is not a JSON object"))?;
        let resolution = ["resolution", "beat_resolution"]
            .iter()
            .find_map(|key| map.get(*key).filter(|v| !v.is_null()))
            .ok_or_else(|| bad("info.json has neither resolution nor beat_resolution"))?;
        let resolution = resolution
            .as_u64()
            .ok_or_else(|| {
                bad(format!(
                    "info.json: resolution {resolution} is not a whole number"
                ))
            })
            .and_then(|r| {
                Resolution::new(u32::try_from(r).unwrap_or(u32::MAX)).map_err(|_| {
                    bad(format!(
                        "info.json: resolution {r} is outside 1..={}",
                        Resolution::MAX
                    ))
                })
            })?;
        let name = optional_string(map.get("name"), "name")?;
        let mut tracks = Vec::new();
        while let Some(entry) = map.get(&tracks.len().to_string()) {
            let i = tracks.len();
            let entry = entry
                .as_object()
                .ok_or_else(|| bad(format!("info.json: track {i} is not an object")))?;
            let program = match entry.get("program").filter(|v| !v.is_null()) {
                None => Program::default(),
                Some(v) => v
                    .as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .and_then(Program::new)
                    .ok_or_else(|| bad(format!("info.json: track {i} program {v} is not 0–127")))?,
            };
            let is_drum = match entry.get("is_drum").filter(|v| !v.is_null()) {
                None => false,
                Some(v) => v.as_bool().ok_or_else(|| {
                    bad(format!("info.json: track {i} is_drum {v} is not a boolean"))
                })?,
            };
            let name = optional_string(entry.get("name"), &format!("track {i} name"))?;
            tracks.push(TrackInfo {
                name: name.unwrap_or_default(),
                program,
                is_drum,
            });
        }
        Ok(Info {
            resolution,
            name,
            tracks,
        })
    }
}

fn optional_string(value: Option<&serde_json::Value>, what: &str) -> Result<Option<String>> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(format!("info.json: {what} {other} is not a string"))),
    }
}

/// The number of steps of track `i`, from its `(T, 128)` shape array.
fn roll_steps(archive: &mut Archive, i: usize) -> Result<usize> {
    let key = format!("pianoroll_{i}_csc_shape");
    let dims = archive.required_array(&key, 2)?.ints()?;
    match dims[..] {
        [steps, pitches] => {
            if pitches != N_PITCHES as i64 {
                return Err(bad(format!(
                    "{key}: the roll has {pitches} pitches, not 128 (pad MuseGAN's 84-pitch rolls \
                     to 128 first)"
                )));
            }
            usize::try_from(steps).map_err(|_| bad(format!("{key}: {steps} time steps")))
        }
        _ => Err(bad(format!(
            "{key}: expected 2 dimensions, found {}",
            dims.len()
        ))),
    }
}

/// Track `i`'s roll of `steps` steps from its CSC arrays, validated.
fn read_roll(archive: &mut Archive, i: usize, steps: usize) -> Result<Roll> {
    let key = |part: &str| format!("pianoroll_{i}_csc_{part}");
    let indptr_key = key("indptr");
    let indptr = archive.required_array(&indptr_key, N_PITCHES + 1)?;
    if indptr.vector_len()? != N_PITCHES + 1 {
        return Err(bad(format!(
            "{indptr_key}: {} offsets, 129 expected (one per pitch, plus one)",
            indptr.len
        )));
    }
    let offsets = indptr.ints()?;
    if offsets.first() != Some(&0) || offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err(bad(format!(
            "{indptr_key}: offsets must start at 0 and never decrease"
        )));
    }
    let nnz = offsets.last().copied().unwrap_or(0);
    let max_nnz = steps * N_PITCHES; // steps ≤ MAX_STEPS: checked before
    let nnz = usize::try_from(nnz)
        .ok()
        .filter(|&n| n <= max_nnz)
        .ok_or_else(|| {
            bad(format!(
                "{indptr_key}: {nnz} values, more than the {max_nnz} cells of the roll"
            ))
        })?;

    // Values and their steps are read side by side, from two cursors on the archive.
    let mut second = archive.clone();
    let mut values = archive.required_array(&key("data"), nnz)?;
    let mut rows = second.required_array(&key("indices"), nnz)?;
    for array in [&values, &rows] {
        if array.vector_len()? != nnz {
            return Err(bad(format!(
                "{}: {} values where {indptr_key} says {nnz}",
                array.name, array.len
            )));
        }
    }
    rows.require_integers()?;

    let kind = if values.dtype.kind == Kind::Bool {
        RollKind::Binary
    } else {
        RollKind::Velocity
    };
    let mut roll = Roll::new(kind, steps);
    for (p, w) in offsets.windows(2).enumerate() {
        let pitch = Pitch::new(p as u8).ok_or_else(|| bad("pitch out of range"))?;
        for _ in w[0]..w[1] {
            let t = rows.int()?;
            let t = usize::try_from(t)
                .ok()
                .filter(|&t| t < steps)
                .ok_or_else(|| {
                    bad(format!(
                        "{}: step {t} is outside the roll's {steps} steps",
                        rows.name
                    ))
                })?;
            let value = velocity(values.float()?);
            roll.set(t, pitch, roll.get(t, pitch).saturating_add(value));
        }
    }
    values.finish()?;
    rows.finish()?;
    Ok(roll)
}

/// A cell value as a velocity: rounded half to even, clipped to 0–127, NaN silent.
fn velocity(v: f64) -> u8 {
    if v.is_nan() {
        0
    } else {
        v.round_ties_even().clamp(0.0, 127.0) as u8
    }
}

/// Tempo changes from a per-step tempo vector.
fn tempo_changes(mut tempo: NpyReader<impl Read>) -> Result<Vec<Tempo>> {
    let mut out: Vec<Tempo> = Vec::new();
    for step in 0..tempo.vector_len()? {
        let qpm = tempo.float()?;
        if !(qpm.is_finite() && qpm > 0.0) {
            return Err(bad(format!(
                "{}: {qpm} qpm at step {step} is not a positive number",
                tempo.name
            )));
        }
        if out.last().is_none_or(|last| last.qpm != qpm) {
            out.push(Tempo { step, qpm });
        }
    }
    tempo.finish()?;
    Ok(out)
}

/// Time signatures that reproduce `downbeats` (sorted steps), as the module documentation says.
fn meters_from_downbeats(downbeats: &[usize], resolution: Resolution) -> Vec<TimeSignature> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut last_full = None;
    for (i, &mark) in downbeats.iter().enumerate() {
        if mark > start {
            let (numerator, denominator) = meter_of_bar(mark - start, resolution);
            out.push(TimeSignature {
                step: start,
                numerator,
                denominator,
            });
            if i > 0 {
                last_full = Some((numerator, denominator));
            }
        }
        start = mark;
    }
    let (numerator, denominator) = last_full.unwrap_or((4, 4));
    out.push(TimeSignature {
        step: start,
        numerator,
        denominator,
    });
    out
}

/// The n/d of a bar of `steps` steps (see the module documentation).
fn meter_of_bar(steps: usize, resolution: Resolution) -> (u8, u8) {
    // n·4/d beats = steps / r  ⇔  n = steps·d / (4r).
    let steps = steps as u64;
    let four_r = 4 * u64::from(resolution.get());
    let exact = [4u8, 8, 16, 32, 64, 128, 2, 1].into_iter().find_map(|d| {
        let scaled = steps * u64::from(d);
        let n = scaled / four_r;
        (scaled.is_multiple_of(four_r) && (1..=255).contains(&n)).then_some((n as u8, d))
    });
    exact.unwrap_or_else(|| {
        [128u8, 64, 32, 16, 8, 4, 2, 1]
            .into_iter()
            .find_map(|d| {
                let n = (2 * steps * u64::from(d) + four_r) / (2 * four_r);
                (n <= 255).then_some((n.max(1) as u8, d))
            })
            .unwrap_or((255, 1))
    })
}

// ---------------------------------------------------------------------------------------------
// Writing: CSC arrays and info.json.

/// The four CSC members of a roll, as `scipy.sparse.csc_matrix` decomposes it.
fn csc_members(roll: &Roll) -> [(&'static str, Vec<u8>); 4] {
    let steps = roll.len();
    let mut data = Vec::new();
    let mut rows = Vec::new();
    let mut offsets = Vec::with_capacity(N_PITCHES + 1);
    offsets.push(0usize);
    for p in 0..N_PITCHES {
        for (t, row) in roll.steps().iter().enumerate() {
            if row[p] > 0 {
                data.push(row[p]);
                rows.push(t);
            }
        }
        offsets.push(rows.len());
    }
    // SciPy's index dtype: int32 unless the shape or the count needs int64.
    let dtype = if steps.max(rows.len()) <= i32::MAX as usize {
        Dtype::I4
    } else {
        Dtype::I8
    };
    let encode = |values: &[usize]| -> Vec<u8> {
        let mut out = Vec::with_capacity(values.len() * dtype.size);
        for &v in values {
            if dtype == Dtype::I4 {
                out.extend_from_slice(&(v as i32).to_le_bytes());
            } else {
                out.extend_from_slice(&(v as i64).to_le_bytes());
            }
        }
        out
    };
    let data_dtype = match roll.kind() {
        RollKind::Binary => Dtype::BOOL,
        RollKind::Velocity => Dtype::U1,
    };
    let shape: Vec<u8> = [steps as i64, N_PITCHES as i64]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    [
        ("data", npy(data_dtype, &[data.len()], &data)),
        ("indices", npy(dtype, &[rows.len()], &encode(&rows))),
        ("indptr", npy(dtype, &[offsets.len()], &encode(&offsets))),
        ("shape", npy(Dtype::I8, &[2], &shape)),
    ]
}

/// `info.json` as pypianoroll writes it (`json.dumps`, keys in its order).
fn info_json(multitrack: &Multitrack) -> String {
    let text = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let name = multitrack.name.as_deref().map_or("null".to_string(), text);
    let mut out = format!(
        "{{\"resolution\": {}, \"name\": {name}",
        multitrack.resolution()
    );
    for (i, track) in multitrack.tracks.iter().enumerate() {
        out.push_str(&format!(
            ", \"{i}\": {{\"program\": {}, \"is_drum\": {}, \"name\": {}}}",
            track.program.number(),
            track.is_drum,
            text(&track.name)
        ));
    }
    out.push('}');
    out
}

// ---------------------------------------------------------------------------------------------
// The .npy format: magic `\x93NUMPY`, version, header length, a Python-literal dict
// `{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }` padded to 64 bytes, then the data.

/// Kinds of element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Signed,
    Unsigned,
    Float,
}

/// An element type: kind, width in bytes, byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dtype {
    kind: Kind,
    size: usize,
    big_endian: bool,
}

impl Dtype {
    const BOOL: Dtype = Dtype::little(Kind::Bool, 1);
    const U1: Dtype = Dtype::little(Kind::Unsigned, 1);
    const I4: Dtype = Dtype::little(Kind::Signed, 4);
    const I8: Dtype = Dtype::little(Kind::Signed, 8);
    const F8: Dtype = Dtype::little(Kind::Float, 8);

    const fn little(kind: Kind, size: usize) -> Dtype {
        Dtype {
            kind,
            size,
            big_endian: false,
        }
    }

    /// Parses a NumPy `descr` such as `<i4`, `|b1`, `>f8`.
    fn parse(descr: &str) -> std::result::Result<Dtype, String> {
        let unsupported = || format!("unsupported dtype '{descr}'");
        let bytes = descr.as_bytes();
        let (order, kind, size) = match bytes {
            [order, kind, size] => (*order, *kind, *size),
            _ => return Err(unsupported()),
        };
        let size = match size {
            b'1' => 1,
            b'2' => 2,
            b'4' => 4,
            b'8' => 8,
            _ => return Err(unsupported()),
        };
        let big_endian = match order {
            b'<' | b'|' => false,
            b'>' => true,
            _ => return Err(unsupported()),
        };
        let kind = match (kind, size) {
            (b'b', 1) => Kind::Bool,
            (b'i', _) => Kind::Signed,
            (b'u', _) => Kind::Unsigned,
            (b'f', 4 | 8) => Kind::Float,
            _ => return Err(unsupported()),
        };
        Ok(Dtype {
            kind,
            size,
            big_endian,
        })
    }

    fn descr(self) -> String {
        let order = if self.size == 1 {
            '|'
        } else if self.big_endian {
            '>'
        } else {
            '<'
        };
        let kind = match self.kind {
            Kind::Bool => 'b',
            Kind::Signed => 'i',
            Kind::Unsigned => 'u',
            Kind::Float => 'f',
        };
        format!("{order}{kind}{}", self.size)
    }

    /// The raw bits of one element, widened to 64.
    fn bits(self, bytes: &[u8]) -> u64 {
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        if self.big_endian {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        }
    }
}

/// A `.npy` array read element by element from a stream, so that a member is never held whole:
/// memory stays bounded by the roll being built, however far a member inflates.
///
/// The Fortran-order flag is read but not kept: every array pypianoroll stores is a vector `(n,)`
/// or a column `(n, 1)`, whose bytes are the same in either order, and [`NpyReader::vector_len`]
/// refuses every other shape. ([`crate::dataset`] reads MuseGAN's phrase arrays with it too, and
/// checks the flag there.)
pub(crate) struct NpyReader<R> {
    /// The member's name, for messages.
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    fortran_order: bool,
    /// Number of elements.
    len: usize,
    /// Elements not read yet.
    left: usize,
    input: std::io::BufReader<R>,
}

impl<R: Read> NpyReader<R> {
    /// Reads the header of the array `name`; refuses one of more than `max_len` elements.
    pub(crate) fn open(name: String, input: R, max_len: usize) -> Result<NpyReader<R>> {
        let mut input = std::io::BufReader::with_capacity(1 << 16, input);
        let (dtype, shape, fortran_order) =
            read_header(&mut input).map_err(|e| bad(format!("{name}: {e}")))?;
        let len = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad(format!("{name}: the shape {shape:?} overflows")))?;
        if len > max_len {
            return Err(bad(format!(
                "{name} has {len} elements, more than the {max_len} expected"
            )));
        }
        Ok(NpyReader {
            name,
            dtype,
            shape,
            fortran_order,
            len,
            left: len,
            input,
        })
    }

    /// The shape.
    pub(crate) fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// True when the elements are stored in Fortran (column-major) order.
    pub(crate) fn fortran_order(&self) -> bool {
        self.fortran_order
    }

    /// The length of a vector `(n,)` or column `(n, 1)` (the shapes pypianoroll writes).
    fn vector_len(&self) -> Result<usize> {
        match self.shape[..] {
            [n] | [n, 1] => Ok(n),
            _ => Err(bad(format!(
                "{}: shape {:?}, expected (n,) or (n, 1)",
                self.name, self.shape
            ))),
        }
    }

    pub(crate) fn require_integers(&self) -> Result<()> {
        if self.dtype.kind == Kind::Float {
            return Err(bad(format!(
                "{}: integers expected, found {}",
                self.name,
                self.dtype.descr()
            )));
        }
        Ok(())
    }

    /// The next element's bits, widened to 64.
    fn bits(&mut self) -> Result<u64> {
        if self.left == 0 {
            return Err(bad(format!("{}: read past the last element", self.name)));
        }
        let mut buf = [0u8; MAX_ITEM];
        let element = &mut buf[..self.dtype.size];
        self.input.read_exact(element).map_err(|e| {
            bad(format!(
                "{}: the data ends after {} of {} elements ({e})",
                self.name,
                self.len - self.left,
                self.len
            ))
        })?;
        self.left -= 1;
        Ok(self.dtype.bits(element))
    }

    /// The next element as an integer (booleans as 0/1; unsigned values past `i64::MAX`
    /// saturate, which every later range check refuses). Call [`NpyReader::require_integers`]
    /// first: floats read here as their raw bits.
    pub(crate) fn int(&mut self) -> Result<i64> {
        let bits = self.bits()?;
        let shift = 64 - 8 * self.dtype.size as u32;
        Ok(match self.dtype.kind {
            Kind::Signed => ((bits << shift) as i64) >> shift,
            _ => i64::try_from(bits).unwrap_or(i64::MAX),
        })
    }

    /// The next element as a floating-point number (booleans as 0/1).
    fn float(&mut self) -> Result<f64> {
        let bits = self.bits()?;
        Ok(match (self.dtype.kind, self.dtype.size) {
            (Kind::Float, 4) => f64::from(f32::from_bits(bits as u32)),
            (Kind::Float, _) => f64::from_bits(bits),
            (Kind::Signed, size) => {
                let shift = 64 - 8 * size as u32;
                (((bits << shift) as i64) >> shift) as f64
            }
            _ => bits as f64,
        })
    }

    /// All elements of an integer array (a small one: shape, indptr).
    fn ints(mut self) -> Result<Vec<i64>> {
        self.require_integers()?;
        let values = (0..self.len)
            .map(|_| self.int())
            .collect::<Result<Vec<_>>>()?;
        self.finish()?;
        Ok(values)
    }

    /// Checks that every element was read and nothing follows (which also lets the zip reader
    /// verify the member's checksum).
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.left > 0 {
            return Err(bad(format!(
                "{}: {} elements left unread",
                self.name, self.left
            )));
        }
        let mut probe = [0u8; 1];
        match self.input.read(&mut probe) {
            Ok(0) => Ok(()),
            Ok(_) => Err(bad(format!(
                "{}: data continues past its {} elements",
                self.name, self.len
            ))),
            Err(e) => Err(bad(format!("{}: {e}", self.name))),
        }
    }
}

/// Reads the magic, version and header dict of a `.npy` stream: dtype, shape, Fortran order.
fn read_header(input: &mut impl Read) -> std::result::Result<(Dtype, Vec<usize>, bool), String> {
    let truncated = |_| "truncated .npy header".to_string();
    let mut start = Vec::with_capacity(8);
    input
        .by_ref()
        .take(8)
        .read_to_end(&mut start)
        .map_err(|e| e.to_string())?;
    if start.iter().zip(b"\x93NUMPY").any(|(a, b)| a != b) {
        return Err("not a .npy array (no \\x93NUMPY magic)".into());
    }
    let &[_, _, _, _, _, _, major, minor] = &start[..] else {
        return Err("truncated .npy header".into());
    };
    let header_len = match major {
        1 => {
            let mut len = [0u8; 2];
            input.read_exact(&mut len).map_err(truncated)?;
            usize::from(u16::from_le_bytes(len))
        }
        2 | 3 => {
            let mut len = [0u8; 4];
            input.read_exact(&mut len).map_err(truncated)?;
            u32::from_le_bytes(len) as usize
        }
        _ => return Err(format!("unsupported .npy version {major}.{minor}")),
    };
    if header_len > MAX_HEADER {
        return Err(format!("a .npy header of {header_len} bytes is too long"));
    }
    let mut header = vec![0u8; header_len];
    input.read_exact(&mut header).map_err(truncated)?;
    let header = std::str::from_utf8(&header).map_err(|_| "the .npy header is not text")?;
    parse_header(header)
}

/// `descr`, `shape` and `fortran_order` of a `.npy` header dict (a Python literal).
fn parse_header(header: &str) -> std::result::Result<(Dtype, Vec<usize>, bool), String> {
    let mut p = Literal {
        text: header.as_bytes(),
        pos: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    while !p.eat(b'}') {
        let key = p.string()?;
        p.expect(b':')?;
        match key.as_str() {
            "descr" => descr = Some(p.string()?),
            "fortran_order" => fortran = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(format!("unknown .npy header key '{other}'")),
        }
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err("the .npy header lacks descr, fortran_order or shape".into());
    };
    Ok((Dtype::parse(&descr)?, shape, fortran))
}

/// A cursor over the Python literal of a `.npy` header.
struct Literal<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Literal<'_> {
    fn skip_space(&mut self) {
        while self.text.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        let found = self.text.get(self.pos) == Some(&c);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "bad .npy header: '{}' expected at byte {}",
                c as char, self.pos
            ))
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_space();
        let quote = match self.text.get(self.pos) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(format!(
                    "bad .npy header: string expected at byte {}",
                    self.pos
                ))
            }
        };
        let start = self.pos + 1;
        let len = self.text[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or("bad .npy header: unterminated string")?;
        self.pos = start + len + 1;
        Ok(String::from_utf8_lossy(&self.text[start..start + len]).into_owned())
    }

    fn word(&mut self) -> &[u8] {
        self.skip_space();
        let start = self.pos;
        while self
            .text
            .get(self.pos)
            .is_some_and(u8::is_ascii_alphanumeric)
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn boolean(&mut self) -> std::result::Result<bool, String> {
        match self.word() {
            b"True" => Ok(true),
            b"False" => Ok(false),
            _ => Err("bad .npy header: True or False expected".into()),
        }
    }

    fn tuple(&mut self) -> std::result::Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        while !self.eat(b')') {
            let word = self.word();
            // Python 2 wrote long integers as `3L`.
            let digits = word.strip_suffix(b"L").unwrap_or(word);
            let dim = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse::<usize>().ok())
                .ok_or("bad .npy header: shape must hold whole numbers")?;
            dims.push(dim);
            if !self.eat(b',') {
                self.expect(b')')?;
                break;
            }
        }
        Ok(dims)
    }
}

/// A `.npy` file (version 1.0, header exactly as NumPy 2 pads it) of little-endian `data`.
fn npy(dtype: Dtype, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_text}, }}",
        dtype.descr()
    );
    // NumPy leaves room for the first axis to grow to 21 digits, then pads to 64 bytes.
    if let Some(first) = shape.first() {
        header.push_str(&" ".repeat(21usize.saturating_sub(first.to_string().len())));
    }
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(64 - unpadded % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pitch(n: u8) -> Pitch {
        Pitch::new(n).unwrap()
    }

    /// Two tracks of 8 steps at resolution 2: a binary one and a velocity one, 100 then 80 qpm.
    fn song() -> Multitrack {
        let mut m = Multitrack::new(Resolution::new(2).unwrap());
        m.name = Some("Song \"one\" é".into());
        let mut lead = Track::new("Lead", Program::new(81).unwrap(), false, 8);
        lead.roll = Roll::new(RollKind::Binary, 8);
        for t in 0..3 {
            lead.roll.set(t, pitch(72), 1);
        }
        let mut piano = Track::new("Piano", Program::default(), false, 8);
        piano.roll.set(0, pitch(0), 127);
        piano.roll.set(7, pitch(127), 5);
        m.tracks = vec![lead, piano];
        m.set_tempos([
            Tempo {
                step: 0,
                qpm: 100.0,
            },
            Tempo { step: 4, qpm: 80.0 },
        ])
        .unwrap();
        m
    }

    /// `song()`'s members with `name` replaced by `bytes`, as an uncompressed archive.
    fn with_member(name: &str, bytes: Vec<u8>) -> Vec<u8> {
        let mut members = members(&song());
        match members.iter_mut().find(|(n, _)| n == name) {
            Some(member) => member.1 = bytes,
            None => members.push((name.to_string(), bytes)),
        }
        zip_members(members, false).unwrap()
    }

    fn without_member(name: &str) -> Vec<u8> {
        let mut members = members(&song());
        members.retain(|(n, _)| n != name);
        zip_members(members, false).unwrap()
    }

    fn error_of(bytes: &[u8]) -> String {
        match read_npz(bytes) {
            Ok(_) => panic!("read_npz accepted a bad archive"),
            Err(e) => e.to_string(),
        }
    }

    fn ints(dtype: Dtype, values: &[i64]) -> Vec<u8> {
        let data: Vec<u8> = values
            .iter()
            .flat_map(|v| {
                let le = v.to_le_bytes();
                let mut bytes = le[..dtype.size].to_vec();
                if dtype.big_endian {
                    bytes.reverse();
                }
                bytes
            })
            .collect();
        npy(dtype, &[values.len()], &data)
    }

    fn f64s(values: &[f64]) -> Vec<u8> {
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        npy(Dtype::F8, &[values.len()], &data)
    }

    fn raw_npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn npy_header_is_padded_like_numpy() {
        // The first member of pypianoroll_uncompressed.npz, as NumPy 2.4 wrote it.
        let bytes = npy(Dtype::F8, &[40], &[0; 320]);
        let header = &bytes[..128];
        let mut expected = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, \
                             'shape': (40,), }"
            .to_vec();
        expected.resize(127, b' ');
        expected.push(b'\n');
        assert_eq!(header, &expected[..]);
        let two_d = npy(Dtype::I8, &[40, 1], &[0; 320]);
        assert!(two_d.starts_with(
            b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (40, 1), }"
        ));
        assert_eq!((two_d.len() - 320) % 64, 0);
    }

    fn reader(bytes: &[u8]) -> Result<NpyReader<&[u8]>> {
        NpyReader::open("x.npy".into(), bytes, usize::MAX)
    }

    /// A whole `.npy` array: dtype, shape and elements as floats.
    fn parse(bytes: &[u8]) -> Result<(Dtype, Vec<usize>, Vec<f64>)> {
        let mut r = reader(bytes)?;
        let values = (0..r.len).map(|_| r.float()).collect::<Result<Vec<_>>>()?;
        let (dtype, shape) = (r.dtype, r.shape.clone());
        r.finish()?;
        Ok((dtype, shape, values))
    }

    #[test]
    fn npy_decodes_every_supported_dtype() {
        let be = |kind, size| Dtype {
            kind,
            size,
            big_endian: true,
        };
        let cases: [(Dtype, Vec<i64>); 6] = [
            (Dtype::little(Kind::Signed, 1), vec![-128, 0, 127]),
            (be(Kind::Signed, 2), vec![-300, 7, 32767]),
            (Dtype::little(Kind::Unsigned, 2), vec![0, 65535]),
            (Dtype::I4, vec![-1, i64::from(i32::MAX)]),
            (be(Kind::Unsigned, 4), vec![4_000_000_000]),
            (be(Kind::Signed, 8), vec![i64::MIN, -2, 5]),
        ];
        for (dtype, values) in cases {
            let bytes = ints(dtype, &values);
            assert_eq!(reader(&bytes).unwrap().ints().unwrap(), values, "{dtype:?}");
            let as_f64: Vec<f64> = values.iter().map(|&v| v as f64).collect();
            assert_eq!(parse(&bytes).unwrap(), (dtype, vec![values.len()], as_f64));
        }
        // u64 past i64::MAX saturates (and then fails every range check).
        let big = raw_npy(
            "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }\n",
            &u64::MAX.to_le_bytes(),
        );
        assert_eq!(reader(&big).unwrap().ints().unwrap(), [i64::MAX]);
        // Floats of both widths and byte orders.
        let f4 = raw_npy(
            "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n",
            &[1.5f32.to_be_bytes(), (-2.25f32).to_be_bytes()].concat(),
        );
        assert_eq!(parse(&f4).unwrap().2, [1.5, -2.25]);
        let f8 = f64s(&[0.1, 1e300]);
        assert_eq!(parse(&f8).unwrap().2, [0.1, 1e300]);
        let e = reader(&f8).unwrap().ints().unwrap_err().to_string();
        assert!(e.contains("x.npy: integers expected, found <f8"), "{e}");
        let bools = npy(Dtype::BOOL, &[3], &[1, 0, 1]);
        assert_eq!(parse(&bools).unwrap().2, [1.0, 0.0, 1.0]);
    }

    #[test]
    fn npy_headers_in_other_spellings() {
        // Keys in another order, double quotes, Python 2 long integers, no trailing comma.
        let a = raw_npy(
            "{\"shape\": (2L, 1L), \"fortran_order\": True, \"descr\": \"|u1\"}  \n",
            &[3, 4],
        );
        assert_eq!(reader(&a).unwrap().vector_len().unwrap(), 2);
        assert_eq!(parse(&a).unwrap().1, [2, 1]);
        // Version 2.0: a 32-bit header length.
        let header = "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }\n";
        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend_from_slice(&(header.len() as u32).to_le_bytes());
        v2.extend_from_slice(header.as_bytes());
        v2.extend_from_slice(&9i16.to_le_bytes());
        assert_eq!(reader(&v2).unwrap().ints().unwrap(), [9]);
        // A scalar has shape () and one element.
        let scalar = raw_npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n",
            &[0; 8],
        );
        assert_eq!(parse(&scalar).unwrap().2, [0.0]);
    }

    #[test]
    fn npy_errors() {
        let ok_header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n";
        let mut not_text = raw_npy(
            "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }",
            &[0],
        );
        let brace = not_text.len() - 2;
        not_text[brace] = 0xff;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04\x00\x00\x00\x00".to_vec(), "magic"),
            (b"\x93NUMPY\x04\x00\x10\x00".to_vec(), "version 4.0"),
            (b"\x93NUMPY\x01\x00\xff\x00{'descr'".to_vec(), "truncated"),
            (b"\x93NUMPY\x01".to_vec(), "truncated"),
            (raw_npy(ok_header, &[0; 7]), "the data ends after 1 of 2 elements"),
            (raw_npy(ok_header, &[0; 9]), "data continues past its 2 elements"),
            (raw_npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", &[0; 16]), "unsupported dtype '<c16'"),
            (raw_npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", &[0; 12]), "unsupported dtype"),
            (raw_npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", &[]), "string expected"),
            (raw_npy("{'descr': '<i4', 'shape': (1,), }", &[0; 4]), "lacks"),
            (raw_npy("{'descr': '<i4', 'fortran_order': Maybe, 'shape': (1,), }", &[0; 4]), "True or False"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (-1,), }", &[]), "whole numbers"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", &[]), "overflows"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", &[0; 4]), "unknown .npy header key"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,)", &[0; 4]), "'}' expected"),
            (raw_npy("{'descr': '<i4", &[]), "unterminated"),
            (not_text, "not text"),
        ];
        for (bytes, expected) in cases {
            match parse(&bytes) {
                Ok(_) => panic!("accepted, expected an error with {expected:?}"),
                Err(e) => assert!(e.to_string().contains(expected), "{e} lacks {expected:?}"),
            }
        }
        // More elements than the caller allows: refused from the header alone.
        let e = NpyReader::open("indptr.npy".into(), &f64s(&[0.0; 3])[..], 2).err();
        assert!(e.is_some_and(|e| e
            .to_string()
            .contains("3 elements, more than the 2 expected")));
    }

    #[test]
    fn only_vectors_and_columns_are_accepted() {
        for fortran in ["False", "True"] {
            let header =
                format!("{{'descr': '|u1', 'fortran_order': {fortran}, 'shape': (3, 2), }}\n");
            let bytes = raw_npy(&header, &[0; 6]);
            let e = reader(&bytes)
                .unwrap()
                .vector_len()
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("x.npy: shape [3, 2], expected (n,) or (n, 1)"),
                "{e}"
            );
        }
    }

    #[test]
    fn meters_from_bar_lengths() {
        let r4 = Resolution::new(4).unwrap();
        let ts = |step, numerator, denominator| TimeSignature {
            step,
            numerator,
            denominator,
        };
        // No downbeat, or only step 0 (pypianoroll's single-meter bug): 4/4.
        assert_eq!(meters_from_downbeats(&[], r4), [ts(0, 4, 4)]);
        assert_eq!(meters_from_downbeats(&[0], r4), [ts(0, 4, 4)]);
        // 16 steps = 4 beats, then 12 = 3 beats; the open last bar keeps 3/4.
        assert_eq!(
            meters_from_downbeats(&[0, 16, 28], r4),
            [ts(0, 4, 4), ts(16, 3, 4), ts(28, 3, 4)]
        );
        // A pickup of one beat before the first downbeat; a lone downbeat continues in 4/4.
        assert_eq!(meters_from_downbeats(&[4], r4), [ts(0, 1, 4), ts(4, 4, 4)]);
        assert_eq!(
            meters_from_downbeats(&[2, 8, 14], r4),
            [ts(0, 1, 8), ts(2, 3, 8), ts(8, 3, 8), ts(14, 3, 8)]
        );
        // Bar lengths to meters: smallest denominator from 4 up, then 2 and 1 for long bars.
        assert_eq!(meter_of_bar(12, r4), (3, 4)); // 6/8 has the same bar: read as 3/4
        assert_eq!(meter_of_bar(10, r4), (5, 8));
        assert_eq!(meter_of_bar(1, r4), (1, 16));
        let r1 = Resolution::new(1).unwrap();
        assert_eq!(meter_of_bar(300, r1), (150, 2));
        assert_eq!(meter_of_bar(1000, r1), (250, 1));
        // Not a whole number of 128th notes at resolution 24 (5/24 beat): nearest 128ths.
        let r24 = Resolution::DEFAULT;
        assert_eq!(meter_of_bar(5, r24), (7, 128));
        assert_eq!(meter_of_bar(1, r24), (1, 128));
        assert_eq!(meter_of_bar(4000 * 24 + 5, r24), (255, 1));
        assert_eq!(meter_of_bar(200 * 24 + 5, r24), (200, 4));
    }

    #[test]
    fn downbeats_read_back_through_the_model() {
        // Bars of 4, 3 and 5 beats then two of 2.5 beats (5/8) at resolution 4.
        let marks = [0, 16, 28, 48, 58, 68];
        let mut m = Multitrack::new(Resolution::new(4).unwrap());
        m.tracks = vec![Track::new("x", Program::default(), false, 70)];
        m.set_time_signatures(meters_from_downbeats(&marks, m.resolution()))
            .unwrap();
        assert_eq!(m.downbeat_steps(), marks);
    }

    #[test]
    fn round_trip_through_the_writer() {
        let m = song();
        for compressed in [true, false] {
            let back = read_npz(&write_npz(&m, compressed).unwrap()).unwrap();
            assert_eq!(back, m);
        }
    }

    #[test]
    fn info_json_is_what_pypianoroll_writes() {
        let mut m = song();
        m.tracks[1].is_drum = true;
        assert_eq!(
            info_json(&m),
            "{\"resolution\": 2, \"name\": \"Song \\\"one\\\" é\", \
             \"0\": {\"program\": 81, \"is_drum\": false, \"name\": \"Lead\"}, \
             \"1\": {\"program\": 0, \"is_drum\": true, \"name\": \"Piano\"}}"
        );
        m.name = None;
        m.tracks.clear();
        assert_eq!(info_json(&m), "{\"resolution\": 2, \"name\": null}");
    }

    #[test]
    fn archive_errors() {
        assert!(error_of(b"not a zip at all").contains("not a zip archive"));
        assert!(error_of(&[]).contains("not a zip archive"));
        assert!(error_of(&without_member("info.json")).contains("no info.json"));
        assert!(error_of(&without_member("pianoroll_1_csc_indices.npy"))
            .contains("pianoroll_1_csc_indices.npy is missing"));
        assert!(error_of(&without_member("pianoroll_0_csc_shape.npy"))
            .contains("pianoroll_0_csc_shape.npy is missing"));
        // A member that is not an array names the member.
        let e = error_of(&with_member("tempo.npy", b"hello".to_vec()));
        assert!(e.contains("tempo.npy: not a .npy array"), "{e}");
    }

    #[test]
    fn info_json_errors() {
        let cases = [
            ("{", "not valid JSON"),
            ("[1, 2]", "not a JSON object"),
            ("{\"name\": null}", "neither resolution nor beat_resolution"),
            ("{\"resolution\": 0}", "resolution 0 is outside 1..=960"),
            ("{\"resolution\": 4000000000000}", "is outside 1..=960"),
            (
                "{\"resolution\": 2.5}",
                "resolution 2.5 is not a whole number",
            ),
            ("{\"resolution\": 2, \"name\": 3}", "name 3 is not a string"),
            ("{\"resolution\": 2, \"0\": 7}", "track 0 is not an object"),
            (
                "{\"resolution\": 2, \"0\": {\"program\": 128}}",
                "track 0 program 128 is not 0–127",
            ),
            (
                "{\"resolution\": 2, \"0\": {\"program\": -1}}",
                "program -1",
            ),
            (
                "{\"resolution\": 2, \"0\": {\"is_drum\": \"yes\"}}",
                "is_drum \"yes\" is not a boolean",
            ),
            (
                "{\"resolution\": 2, \"0\": {\"name\": [1]}}",
                "track 0 name [1] is not a string",
            ),
        ];
        for (json, expected) in cases {
            let e = error_of(&with_member("info.json", json.as_bytes().to_vec()));
            assert!(e.contains(expected), "{json}: {e:?} lacks {expected:?}");
        }
        // `beat_resolution` (LPD) is read when `resolution` is absent or null; tracks stop at the
        // first missing index.
        let json =
            "{\"resolution\": null, \"beat_resolution\": 2, \"name\": \"Song \\\"one\\\" é\", \
                    \"0\": {\"program\": 81, \"name\": \"Lead\"}, \"2\": {}}";
        let m = read_npz(&with_member("info.json", json.as_bytes().to_vec())).unwrap();
        assert_eq!(m.resolution().get(), 2);
        assert_eq!(m.tracks.len(), 1);
        assert_eq!(m.tracks[0], song().tracks[0]);
    }

    #[test]
    fn roll_errors() {
        let i8s = |v: &[i64]| ints(Dtype::I8, v);
        let i4s = |v: &[i64]| ints(Dtype::I4, v);
        let mut offsets: Vec<i64> = vec![0; 129];
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "pianoroll_0_csc_shape.npy",
                i8s(&[8, 84]),
                "the roll has 84 pitches, not 128",
            ),
            (
                "pianoroll_0_csc_shape.npy",
                i8s(&[8]),
                "expected 2 dimensions, found 1",
            ),
            (
                "pianoroll_0_csc_shape.npy",
                i8s(&[-8, 128]),
                "-8 time steps",
            ),
            (
                "pianoroll_0_csc_shape.npy",
                i8s(&[8, 128, 1]),
                "more than the 2 expected",
            ),
            (
                "pianoroll_0_csc_shape.npy",
                f64s(&[8.0, 128.0]),
                "integers expected",
            ),
            (
                "pianoroll_0_csc_indptr.npy",
                i4s(&[0; 128]),
                "128 offsets, 129 expected",
            ),
            (
                "pianoroll_0_csc_indptr.npy",
                i4s(&[0; 130]),
                "more than the 129 expected",
            ),
            (
                "pianoroll_0_csc_indptr.npy",
                i4s(&[1; 129]),
                "must start at 0",
            ),
            (
                "pianoroll_0_csc_indices.npy",
                i4s(&[0, 1]),
                "2 values where",
            ),
            (
                "pianoroll_0_csc_data.npy",
                npy(Dtype::BOOL, &[4], &[1; 4]),
                "more than the 3 expected",
            ),
            (
                "pianoroll_0_csc_indices.npy",
                i4s(&[0, 1, 8]),
                "step 8 is outside the roll's 8 steps",
            ),
            (
                "pianoroll_0_csc_indices.npy",
                i4s(&[0, -1, 2]),
                "step -1 is outside",
            ),
            (
                "pianoroll_0_csc_indices.npy",
                f64s(&[0.0, 1.0, 2.0]),
                "integers expected",
            ),
            (
                "tempo.npy",
                f64s(&[120.0, 0.0]),
                "0 qpm at step 1 is not a positive number",
            ),
            ("tempo.npy", f64s(&[f64::NAN]), "NaN qpm at step 0"),
            (
                "tempo.npy",
                npy(Dtype::F8, &[1, 2], &[0; 16]),
                "tempo.npy: shape [1, 2]",
            ),
            (
                "downbeat.npy",
                npy(Dtype::BOOL, &[2, 2], &[0; 4]),
                "downbeat.npy: shape [2, 2]",
            ),
        ];
        for (member, bytes, expected) in cases {
            let e = error_of(&with_member(member, bytes));
            assert!(e.contains(expected), "{member}: {e:?} lacks {expected:?}");
        }
        // Offsets that decrease.
        offsets[10] = 3;
        offsets[11] = 2;
        offsets[128] = 3;
        let e = error_of(&with_member("pianoroll_0_csc_indptr.npy", i4s(&offsets)));
        assert!(e.contains("never decrease"), "{e}");
        // More values than the roll has cells: refused before the member is read.
        offsets.fill(0);
        offsets[128] = 8 * 128 + 1;
        let e = error_of(&with_member("pianoroll_0_csc_indptr.npy", i4s(&offsets)));
        assert!(e.contains("1025 values, more than the 1024 cells"), "{e}");
    }

    #[test]
    fn hostile_sizes_are_refused_before_allocating() {
        // A shape of 2^40 steps: check_size refuses it.
        let e = error_of(&with_member(
            "pianoroll_0_csc_shape.npy",
            ints(Dtype::I8, &[1 << 40, 128]),
        ));
        assert!(e.contains("exceed the limit"), "{e}");
        // An info.json that inflates past its cap, however small it claims to be.
        let e = error_of(
            &zip_members(vec![("info.json".into(), vec![b' '; (1 << 20) + 1])], true).unwrap(),
        );
        assert!(
            e.contains("info.json expands to more than the 1048576 bytes"),
            "{e}"
        );
        // An array is read only as far as its shape says.
        let mut indptr = ints(Dtype::I4, &[0; 129]);
        indptr.resize(1 << 20, 0);
        let e = error_of(&with_member("pianoroll_0_csc_indptr.npy", indptr));
        assert!(e.contains("data continues past its 129 elements"), "{e}");
        // A header claiming more than 64 KiB.
        let mut huge = b"\x93NUMPY\x02\x00".to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        let e = error_of(&with_member("tempo.npy", huge));
        assert!(e.contains("too long"), "{e}");
    }

    #[test]
    fn values_are_rounded_clipped_and_summed() {
        // Track 1 (velocity) holds (0, 0) = 127 and (7, 127) = 5: replace its data by floats and
        // then by a duplicate entry.
        let floats = |v: &[f64]| f64s(v);
        let m = read_npz(&with_member(
            "pianoroll_1_csc_data.npy",
            floats(&[2.5, f64::NAN]),
        ))
        .unwrap();
        assert_eq!(m.tracks[1].roll.get(0, pitch(0)), 2);
        assert_eq!(m.tracks[1].roll.get(7, pitch(127)), 0);
        let m = read_npz(&with_member(
            "pianoroll_1_csc_data.npy",
            floats(&[-3.0, 1e9]),
        ))
        .unwrap();
        assert_eq!(m.tracks[1].roll.get(0, pitch(0)), 0);
        assert_eq!(m.tracks[1].roll.get(7, pitch(127)), 127);
        // Both entries at step 0 of their pitches: pitch 127 gets two entries of step 7.
        let mut members = members(&song());
        let mut offsets = vec![0i64; 129];
        offsets[1..128].fill(1);
        offsets[128] = 3;
        for (name, bytes) in [
            ("pianoroll_1_csc_indptr.npy", ints(Dtype::I4, &offsets)),
            ("pianoroll_1_csc_indices.npy", ints(Dtype::I4, &[0, 7, 7])),
            (
                "pianoroll_1_csc_data.npy",
                npy(Dtype::U1, &[3], &[127, 100, 100]),
            ),
        ] {
            members.iter_mut().find(|(n, _)| n == name).unwrap().1 = bytes;
        }
        let m = read_npz(&zip_members(members, false).unwrap()).unwrap();
        assert_eq!(m.tracks[1].roll.get(7, pitch(127)), 127);
    }

    #[test]
    fn damaged_archives_never_panic() {
        let mut tiny = song();
        tiny.tracks.truncate(1);
        tiny.trim(0, 2);
        let whole = write_npz(&tiny, false).unwrap();
        for len in 0..whole.len() {
            assert!(read_npz(&whole[..len]).is_err());
        }
        for i in 0..whole.len() {
            let mut bytes = whole.clone();
            bytes[i] ^= 0xff;
            let _ = read_npz(&bytes);
        }
        // The zip CRC refuses most damaged data, so damage the arrays themselves too.
        let members = members(&tiny);
        for (k, (_, member)) in members.iter().enumerate() {
            for i in 0..member.len() {
                let mut damaged = members.clone();
                damaged[k].1[i] ^= 0xff;
                let _ = read_npz(&zip_members(damaged, false).unwrap());
            }
        }
    }
}
