//! Memorization and diversity on binary phrases: does a model copy its training set, and how
//! varied is what it makes?
//!
//! - **Distance**: the Hamming distance between two phrases, the number of cells (track, step,
//!   pitch) sounding in exactly one of them; its *relative* form divides it by the number of
//!   sounding cells of both (0 for identical phrases, 1 for phrases with no sounding cell in
//!   common; 0 when both are silent).
//! - **Nearest** ([`nearest`]): for each query phrase, the reference phrase at the least Hamming
//!   distance, minimised over transpositions of the query by −k..=k semitones (k = 0: none). Drum
//!   tracks are never transposed, and a transposition that would push a sounding cell out of the
//!   pitch range is not tried (the dataset builder drops such copies too). Ties go to the smaller
//!   |transposition| (0, −1, +1, −2, …), then the lower reference index.
//! - **Near copies** ([`memorization`]): queries whose nearest relative distance is at most a
//!   threshold, and their share; the same statistic for the reference's validation split against
//!   its training split is the baseline to compare with.
//! - **Diversity** ([`diversity`]): the mean Hamming distance (and relative distance) over every
//!   unordered pair of phrases of a set, and the number of distinct phrases.
//!
//! Phrases are packed once ([`PackedPhrases`]), one `u128` per track and step (bit = pitch
//! column), so a distance is a popcount of a xor per row; the search stops summing a candidate's
//! rows as soon as it cannot beat the best so far, and queries run in parallel (rayon).
//!
//! ```
//! use museroll_core::evaluation::memorization::{nearest, PackedPhrases};
//! use museroll_core::metrics::{PhraseShape, PhraseView};
//! use museroll_core::{Pitch, Resolution};
//! let shape = PhraseShape { samples: 2, tracks: 1, bars: 1, steps_per_bar: 2, pitches: 12,
//!     lowest_pitch: Pitch::MIDDLE_C, resolution: Resolution::new(1).unwrap() };
//! let mut cells = vec![0u8; 2 * 2 * 12];
//! cells[0] = 1; // phrase 0: C4 at step 0
//! cells[24 + 12 + 4] = 1; // phrase 1: E4 at step 1
//! let train = PackedPhrases::from_view(&PhraseView::new(&cells, shape, &[false]).unwrap()).unwrap();
//! // a query: D4 at step 0, which is phrase 0 up a tone
//! let mut query = vec![0u8; 2 * 12];
//! query[2] = 1;
//! let one = PhraseShape { samples: 1, ..shape };
//! let query = PackedPhrases::from_view(&PhraseView::new(&query, one, &[false]).unwrap()).unwrap();
//! let found = nearest(&query, &train, 2).unwrap();
//! assert_eq!((found[0].index, found[0].transposition, found[0].distance), (0, -2, 0));
//! ```

use super::sample_rows;
use crate::error::{Error, Result};
use crate::metrics::{Cell, PhraseShape, PhraseView};
use rayon::prelude::*;

/// A set of phrases of one shape, packed for Hamming distances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedPhrases {
    /// The shape of one phrase (`samples` is the number held).
    shape: PhraseShape,
    is_drum: Vec<bool>,
    /// Per phrase, one row per track and step, bit = pitch column.
    rows: Vec<u128>,
    /// Sounding cells per phrase.
    ones: Vec<u32>,
}

impl PackedPhrases {
    /// An empty set of phrases of `shape` (its `samples` is ignored) with one drum flag per
    /// track.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a degenerate shape or a wrong number of drum flags.
    pub fn new(shape: PhraseShape, is_drum: &[bool]) -> Result<PackedPhrases> {
        let shape = shape.empty_set(is_drum)?;
        Ok(PackedPhrases {
            shape,
            is_drum: is_drum.to_vec(),
            rows: Vec::new(),
            ones: Vec::new(),
        })
    }

    /// The phrases of `view`, packed.
    pub fn from_view<C: Cell>(view: &PhraseView<'_, C>) -> Result<PackedPhrases> {
        let mut set = PackedPhrases::new(view.shape(), view.is_drum())?;
        set.push(view)?;
        Ok(set)
    }

    /// Adds the phrases of `view` (a dataset read chunk by chunk, say), which must have this
    /// set's shape and drum flags.
    pub fn push<C: Cell>(&mut self, view: &PhraseView<'_, C>) -> Result<()> {
        let other = view.shape();
        if !same_kind(&self.shape, &self.is_drum, &other, view.is_drum()) {
            return Err(mismatch(&self.shape, &other));
        }
        let low = other.lowest_pitch.index();
        let mut rows = Vec::new();
        for sample in 0..other.samples {
            sample_rows(view, sample, &mut rows);
            // `sample_rows` puts MIDI pitches on the bits; keep pitch columns instead
            self.rows.extend(rows.iter().map(|r| r >> low));
            self.ones.push(rows.iter().map(|r| r.count_ones()).sum());
        }
        self.shape.samples += other.samples;
        Ok(())
    }

    /// Number of phrases.
    pub fn len(&self) -> usize {
        self.shape.samples
    }

    /// True when there is no phrase.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows per phrase.
    fn rows_per_phrase(&self) -> usize {
        self.shape.tracks * self.shape.bars * self.shape.steps_per_bar
    }

    /// The rows of phrase `i`.
    fn phrase(&self, i: usize) -> &[u128] {
        let n = self.rows_per_phrase();
        &self.rows[i * n..(i + 1) * n]
    }

    /// Phrase `i` transposed by `semitones` (drum tracks kept), or `None` if a sounding cell
    /// would leave the pitch range.
    fn transposed(&self, i: usize, semitones: i32) -> Option<Vec<u128>> {
        let pitches = self.shape.pitches as u32;
        let per_track = self.shape.bars * self.shape.steps_per_bar;
        let shift = semitones.unsigned_abs();
        let kept = if shift >= pitches {
            0
        } else {
            u128::MAX >> (128 - pitches + shift)
        };
        self.phrase(i)
            .iter()
            .enumerate()
            .map(|(r, &row)| {
                if self.is_drum[r / per_track] || semitones == 0 {
                    return Some(row);
                }
                // the bits that stay in range before the shift: the low ones going up, the
                // high ones going down
                let stays = if semitones > 0 { kept } else { kept << shift };
                (row & !stays == 0).then(|| {
                    if semitones > 0 {
                        row << shift
                    } else {
                        row >> shift
                    }
                })
            })
            .collect()
    }
}

/// True when phrases of `a` and `b` (samples aside) can be compared.
fn same_kind(a: &PhraseShape, a_drum: &[bool], b: &PhraseShape, b_drum: &[bool]) -> bool {
    let one = |s: &PhraseShape| PhraseShape { samples: 1, ..*s };
    one(a) == one(b) && a_drum == b_drum
}

/// The error for phrases of two shapes that cannot be compared.
fn mismatch(a: &PhraseShape, b: &PhraseShape) -> Error {
    let describe = |s: &PhraseShape| {
        format!(
            "{} tracks × {} bars × {} steps × {} pitches from MIDI {}",
            s.tracks,
            s.bars,
            s.steps_per_bar,
            s.pitches,
            s.lowest_pitch.number()
        )
    };
    Error::Invalid(format!(
        "phrases of {} cannot be compared with phrases of {} (or their drum tracks differ)",
        describe(b),
        describe(a)
    ))
}

/// Checks two sets for a comparison.
fn check_pair(queries: &PackedPhrases, reference: &PackedPhrases) -> Result<()> {
    for (set, name) in [(queries, "query"), (reference, "reference")] {
        if set.is_empty() {
            return Err(Error::Invalid(format!(
                "memorization: the {name} set of phrases is empty"
            )));
        }
    }
    if !same_kind(
        &reference.shape,
        &reference.is_drum,
        &queries.shape,
        &queries.is_drum,
    ) {
        return Err(mismatch(&reference.shape, &queries.shape));
    }
    Ok(())
}

/// The Hamming distance of `a` and `b`, or `None` as soon as it reaches `bound`.
#[inline(always)]
fn distance_below(a: &[u128], b: &[u128], bound: u32) -> Option<u32> {
    let mut sum = 0;
    for (x, y) in a.iter().zip(b) {
        sum += (x ^ y).count_ones();
        if sum >= bound {
            return None;
        }
    }
    Some(sum)
}

/// `distance` relative to the sounding cells of both phrases.
fn relative(distance: u32, ones: u32) -> f64 {
    if ones == 0 {
        0.0
    } else {
        f64::from(distance) / f64::from(ones)
    }
}

/// The reference phrase nearest to a query.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Nearest {
    /// Its index in the reference set.
    pub index: usize,
    /// The transposition of the query, in semitones, that reaches it.
    pub transposition: i32,
    /// The Hamming distance, in cells.
    pub distance: u32,
    /// The distance relative to the sounding cells of both phrases.
    pub relative: f64,
}

/// For every phrase of `queries`, the nearest phrase of `reference` over transpositions of the
/// query by at most `max_transposition` semitones either way (see the module documentation).
///
/// # Errors
/// [`Error::Invalid`] when a set is empty or the two sets' phrases differ in shape or drum
/// tracks.
pub fn nearest(
    queries: &PackedPhrases,
    reference: &PackedPhrases,
    max_transposition: u32,
) -> Result<Vec<Nearest>> {
    check_pair(queries, reference)?;
    let k = max_transposition.min(127) as i32;
    // 0, −1, +1, −2, +2, …: the order ties are settled in
    let shifts: Vec<i32> = std::iter::once(0)
        .chain((1..=k).flat_map(|s| [-s, s]))
        .collect();
    Ok((0..queries.len())
        .into_par_iter()
        .map(|q| {
            let (distance, index, transposition) = search(queries, q, reference, &shifts);
            Nearest {
                index,
                transposition,
                distance,
                relative: relative(distance, queries.ones[q] + reference.ones[index]),
            }
        })
        .collect())
}

/// The nearest reference phrase to query `q` over `shifts`: (distance, index, shift).
///
/// On x86-64 CPUs with POPCNT (all since 2008-2011) this runs the same code compiled to count
/// bits with one instruction instead of a dozen, chosen at run time because the default x86-64
/// target cannot assume it; the results are identical.
fn search(
    queries: &PackedPhrases,
    q: usize,
    reference: &PackedPhrases,
    shifts: &[i32],
) -> (u32, usize, i32) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has the feature `search_popcnt` is compiled for.
        return unsafe { search_popcnt(queries, q, reference, shifts) };
    }
    search_inline(queries, q, reference, shifts)
}

/// [`search_inline`] compiled for CPUs with POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn search_popcnt(
    queries: &PackedPhrases,
    q: usize,
    reference: &PackedPhrases,
    shifts: &[i32],
) -> (u32, usize, i32) {
    search_inline(queries, q, reference, shifts)
}

/// The body of [`search`], inlined into [`search_popcnt`] so it is compiled with its features.
#[inline(always)]
fn search_inline(
    queries: &PackedPhrases,
    q: usize,
    reference: &PackedPhrases,
    shifts: &[i32],
) -> (u32, usize, i32) {
    let ones = queries.ones[q];
    let mut best = (u32::MAX, 0usize, 0i32);
    for &shift in shifts {
        let Some(query) = queries.transposed(q, shift) else {
            continue;
        };
        for r in 0..reference.len() {
            // the distance is at least the difference of the sounding cells' counts
            if ones.abs_diff(reference.ones[r]) >= best.0 {
                continue;
            }
            if let Some(d) = distance_below(&query, reference.phrase(r), best.0) {
                best = (d, r, shift);
            }
        }
    }
    best
}

/// How many queries are near copies of the reference.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Memorization {
    /// Queries.
    pub phrases: usize,
    /// The largest relative distance of a near copy.
    pub threshold: f64,
    /// Queries at a relative distance of at most `threshold` from their nearest phrase.
    pub near_copies: usize,
    /// `near_copies / phrases`.
    pub near_copy_share: f64,
    /// Queries identical to a reference phrase (distance 0, up to the transposition).
    pub exact_copies: usize,
    /// Mean relative distance to the nearest phrase.
    pub mean_relative_distance: f64,
}

/// Summarises the result of [`nearest`] with a near-copy `threshold` on the relative distance
/// (0 to 1; 0 counts only exact copies).
///
/// # Errors
/// [`Error::Invalid`] when `found` is empty or `threshold` is not in 0..=1.
pub fn memorization(found: &[Nearest], threshold: f64) -> Result<Memorization> {
    if found.is_empty() {
        return Err(Error::Invalid(
            "memorization: the query set of phrases is empty".into(),
        ));
    }
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Error::Invalid(format!(
            "memorization: the near-copy threshold {threshold} is not a relative distance \
             (0 to 1)"
        )));
    }
    let near_copies = found.iter().filter(|f| f.relative <= threshold).count();
    let n = found.len() as f64;
    Ok(Memorization {
        phrases: found.len(),
        threshold,
        near_copies,
        near_copy_share: near_copies as f64 / n,
        exact_copies: found.iter().filter(|f| f.distance == 0).count(),
        mean_relative_distance: found.iter().map(|f| f.relative).sum::<f64>() / n,
    })
}

/// The variety of a set of phrases.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Diversity {
    /// Phrases.
    pub phrases: usize,
    /// Distinct phrases.
    pub distinct: usize,
    /// Mean Hamming distance over every unordered pair (NaN for one phrase).
    pub mean_distance: f64,
    /// Mean relative distance over every unordered pair (NaN for one phrase).
    pub mean_relative_distance: f64,
}

/// The diversity of `set` (see the module documentation).
///
/// # Errors
/// [`Error::Invalid`] when `set` is empty.
pub fn diversity(set: &PackedPhrases) -> Result<Diversity> {
    let n = set.len();
    if n == 0 {
        return Err(Error::Invalid(
            "diversity: the set of phrases is empty".into(),
        ));
    }
    let (distance, relative_sum): (u64, f64) = (0..n)
        .into_par_iter()
        .map(|i| {
            let a = set.phrase(i);
            (i + 1..n).fold((0u64, 0.0), |(d, r), j| {
                let dij = distance_below(a, set.phrase(j), u32::MAX).unwrap_or(u32::MAX);
                (
                    d + u64::from(dij),
                    r + relative(dij, set.ones[i] + set.ones[j]),
                )
            })
        })
        .reduce(|| (0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let pairs = (n * (n - 1) / 2) as f64;
    let mut phrases: Vec<&[u128]> = (0..n).map(|i| set.phrase(i)).collect();
    phrases.sort_unstable();
    phrases.dedup();
    Ok(Diversity {
        phrases: n,
        distinct: phrases.len(),
        mean_distance: distance as f64 / pairs,
        mean_relative_distance: relative_sum / pairs,
    })
}
