//! pypianoroll's `.npz` format: reading and writing, including LPD's older `beat_resolution`.
//! The arrays themselves (`.npy` headers, dtypes, streaming, zip) are `crate::npy`'s; this
//! module is the schema: which members a song has and what they mean.
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
//! imported as a dataset by [`crate::dataset::import_musegan`], with the same `.npy` reader
//! (`crate::npy`, the array layer under this schema).

use crate::error::{Error, Result};
use crate::multitrack::{Multitrack, Tempo, TimeSignature};
use crate::npy::{self, zip_members, Archive, Dtype, Kind, NpyReader};
use crate::roll::{Roll, RollKind};
use crate::track::Track;
use crate::units::{Pitch, Program, Resolution, N_PITCHES};
use std::io::Read;

/// Largest `info.json` accepted; LPD-17's is about 1 KiB.
const MAX_INFO: usize = 1 << 20;
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
    members.push(("tempo.npy".into(), npy::encode(Dtype::F8, &[steps], &tempo)));
    let mut downbeat = vec![0u8; steps];
    for t in multitrack.downbeat_steps() {
        if let Some(cell) = downbeat.get_mut(t) {
            *cell = 1;
        }
    }
    members.push((
        "downbeat.npy".into(),
        npy::encode(Dtype::BOOL, &[steps], &downbeat),
    ));

    for (i, track) in multitrack.tracks.iter().enumerate() {
        for (part, bytes) in csc_members(&track.roll) {
            members.push((format!("pianoroll_{i}_csc_{part}.npy"), bytes));
        }
    }
    members.push(("info.json".into(), info_json(multitrack).into_bytes()));
    members
}

// ---------------------------------------------------------------------------------------------
// Reading: the archive, info.json, rolls, tempo and meter.
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
            indptr.len()
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
                array.name(),
                array.len()
            )));
        }
    }
    rows.require_integers()?;

    let kind = if values.dtype().kind == Kind::Bool {
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
                        rows.name()
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
                tempo.name()
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
        ("data", npy::encode(data_dtype, &[data.len()], &data)),
        ("indices", npy::encode(dtype, &[rows.len()], &encode(&rows))),
        (
            "indptr",
            npy::encode(dtype, &[offsets.len()], &encode(&offsets)),
        ),
        ("shape", npy::encode(Dtype::I8, &[2], &shape)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::tests_support::{f64s, ints};

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
                npy::encode(Dtype::BOOL, &[4], &[1; 4]),
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
                npy::encode(Dtype::F8, &[1, 2], &[0; 16]),
                "tempo.npy: shape [1, 2]",
            ),
            (
                "downbeat.npy",
                npy::encode(Dtype::BOOL, &[2, 2], &[0; 4]),
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
                npy::encode(Dtype::U1, &[3], &[127, 100, 100]),
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
