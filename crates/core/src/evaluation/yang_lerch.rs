//! Yang & Lerch's evaluation ("On the evaluation of generative models in music", Neural
//! Computing and Applications, 2020), on the piano-roll directly, with one common grid.
//!
//! # Features ([`Feature`], per phrase, on the notes of the chosen tracks)
//!
//! A note is a maximal run of one pitch in one track, bar lines included (see
//! [`crate::evaluation`]); a note belongs to the bar where it starts. Time is symbolic: the
//! paper's seconds become beats (steps / resolution), and its 4/4 bar is the phrase's bar.
//!
//! - **PC** pitch count: distinct sounding pitches. **PC/bar**: the same in each bar (pitches
//!   sounding in it, notes held over from the bar before included).
//! - **PCH** pitch-class histogram: sounding cells per pitch class (duration-weighted; no
//!   velocity in a binary roll), divided by their sum. **PCH/bar**: the same per bar (`bars × 12`).
//!   A silent phrase or bar gives zeros.
//! - **PCTM** pitch-class transition matrix (12 × 12, from × to): within each track, a
//!   transition from note a to every note b that starts on the step a ends (pretty_midi's rule,
//!   with symbolic time making its 0.05 s tolerance exact), divided by the number of
//!   transitions (mgeval's "total" normalisation), zeros when there is none.
//! - **PR** pitch range: highest − lowest sounding pitch (0 for a silent phrase).
//! - **PI** average pitch interval: within each track, notes ordered by start then pitch, the
//!   mean |Δpitch| of consecutive notes over all tracks (0 with fewer than two notes per track).
//! - **NC** note count; **NC/bar**: notes starting in each bar.
//! - **IOI** average inter-onset interval: the mean difference, in beats, between consecutive
//!   distinct onset steps of the phrase (all chosen tracks; a chord is one onset), 0 with fewer
//!   than two.
//! - **NLH** note-length histogram: each note's length in 96ths of a bar goes to the nearest of
//!   the 12 classes whole, half, quarter, 8th, 16th (96, 48, 24, 12, 6), dotted half, quarter,
//!   8th, 16th (72, 36, 18, 9), half, quarter, 8th triplet (32, 16, 8) — ties to the first; the
//!   counts divided by the number of notes. (mgeval's bars of 2 beats for NC/bar, NLH and NLTM
//!   were a bug: bars here are whole.)
//! - **NLTM** note-length transition matrix (12 × 12): within each track, consecutive notes
//!   (ordered as for PI), divided by the number of transitions.
//!
//! # The comparison ([`compare`])
//!
//! For each feature, the Euclidean distances between the feature vectors of every unordered
//! pair of phrases of set A (the *intra-set* distances of A, n(n − 1)/2 of them: the exhaustive
//! leave-one-out of the paper, each pair once), of set B, and between every phrase of A and every
//! phrase of B (*inter-set*, n_A·n_B). Sets keep all their phrases (the paper cut both to the
//! smaller size; the densities below do not need equal sizes).
//!
//! Each distance set gets a Gaussian kernel density estimate with **Scott's rule**, scipy's
//! `gaussian_kde` default: bandwidth h = s · N^(−1/5), s the standard deviation with N − 1 in the
//! denominator. A set whose distances are all equal (where scipy fails on a singular
//! covariance) gets h = 1 % of the span of all three distance sets (or of max(1, |value|) when
//! that span is 0), a point mass made visible.
//!
//! The three densities are evaluated on **one grid**: [`GRID_POINTS`] evenly spaced points from
//! the smallest distance − [`TAIL_BANDWIDTHS`] × the largest bandwidth to the largest distance +
//! the same (so identical distributions overlap fully). The reference code evaluated the two
//! densities of a comparison on two different grids, over each set's own range, which makes the
//! KL divergence of a distribution and its shifted copy 0.
//!
//! - **OA** overlapping area ∫ min(p, q) dx, by the trapezoidal rule: 1 for identical
//!   distributions, 0 for disjoint ones.
//! - **KLD** Kullback–Leibler divergence KL(p‖q) = Σᵢ p̂ᵢ ln(p̂ᵢ / q̂ᵢ) in nats, p̂ and q̂ the
//!   densities at the grid points floored at [`DENSITY_FLOOR`] and divided by their sums (what the
//!   reference's `scipy.stats.entropy` does on its grid, floored so it stays finite).
//!
//! Reported per feature: OA and KLD of intra-A against inter, and of intra-B against inter
//! (KL(intra‖inter)), with the count, mean, standard deviation and bandwidth of each distance
//! set and the grid. OA → 1 and KLD → 0 mean the generated set sits in the reference's
//! distribution with a matching diversity.

use super::{check_not_empty, run_notes, sample_rows, RunNote};
use crate::error::{Error, Result};
use crate::metrics::{Cell, PhraseView};
use rayon::prelude::*;

/// Points of the common grid the densities are evaluated on.
pub const GRID_POINTS: usize = 1000;
/// How many (largest) bandwidths the grid extends past the smallest and largest distance.
pub const TAIL_BANDWIDTHS: f64 = 6.0;
/// The least density a grid point is given for the KL divergence, so it stays finite.
pub const DENSITY_FLOOR: f64 = 1e-12;
/// Kernels are summed over the points within this many bandwidths of where the density is
/// evaluated: a point farther away adds less than e^−40 of its peak, far below the precision
/// of the sum of the nearer ones (the grid never lies more than [`TAIL_BANDWIDTHS`] from a
/// point).
const KERNEL_REACH: f64 = 9.0;
/// Distinct values whose kernels one task adds to its own copy of the grid.
const SCATTER_CHUNK: usize = 4096;
/// The note-length classes in 96ths of a bar, in histogram order.
const LENGTH_CLASSES: [f64; 12] = [
    96.0, 48.0, 24.0, 12.0, 6.0, 72.0, 36.0, 18.0, 9.0, 32.0, 16.0, 8.0,
];

/// One of Yang & Lerch's features (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// PC: distinct pitches.
    PitchCount,
    /// PC/bar: distinct pitches per bar.
    PitchCountPerBar,
    /// PCH: pitch-class histogram.
    PitchClassHistogram,
    /// PCH/bar: pitch-class histogram per bar.
    PitchClassHistogramPerBar,
    /// PCTM: pitch-class transition matrix.
    PitchClassTransitions,
    /// PR: pitch range.
    PitchRange,
    /// PI: average pitch interval.
    PitchInterval,
    /// NC: note count.
    NoteCount,
    /// NC/bar: note count per bar.
    NoteCountPerBar,
    /// IOI: average inter-onset interval, in beats.
    InterOnsetInterval,
    /// NLH: note-length histogram.
    NoteLengthHistogram,
    /// NLTM: note-length transition matrix.
    NoteLengthTransitions,
}

impl Feature {
    /// Every feature, in the order of the paper's table.
    pub const ALL: [Feature; 12] = [
        Feature::PitchCount,
        Feature::PitchCountPerBar,
        Feature::PitchClassHistogram,
        Feature::PitchClassHistogramPerBar,
        Feature::PitchClassTransitions,
        Feature::PitchRange,
        Feature::PitchInterval,
        Feature::NoteCount,
        Feature::NoteCountPerBar,
        Feature::InterOnsetInterval,
        Feature::NoteLengthHistogram,
        Feature::NoteLengthTransitions,
    ];

    /// The name used in JSON and tables (`pitch_count`, `pitch_class_histogram_per_bar`…).
    pub fn name(self) -> &'static str {
        match self {
            Feature::PitchCount => "pitch_count",
            Feature::PitchCountPerBar => "pitch_count_per_bar",
            Feature::PitchClassHistogram => "pitch_class_histogram",
            Feature::PitchClassHistogramPerBar => "pitch_class_histogram_per_bar",
            Feature::PitchClassTransitions => "pitch_class_transitions",
            Feature::PitchRange => "pitch_range",
            Feature::PitchInterval => "pitch_interval",
            Feature::NoteCount => "note_count",
            Feature::NoteCountPerBar => "note_count_per_bar",
            Feature::InterOnsetInterval => "inter_onset_interval",
            Feature::NoteLengthHistogram => "note_length_histogram",
            Feature::NoteLengthTransitions => "note_length_transitions",
        }
    }

    /// The length of the feature's vector for phrases of `bars` bars.
    pub fn len(self, bars: usize) -> usize {
        match self {
            Feature::PitchCount
            | Feature::PitchRange
            | Feature::PitchInterval
            | Feature::NoteCount
            | Feature::InterOnsetInterval => 1,
            Feature::PitchCountPerBar | Feature::NoteCountPerBar => bars,
            Feature::PitchClassHistogram | Feature::NoteLengthHistogram => 12,
            Feature::PitchClassHistogramPerBar => 12 * bars,
            Feature::PitchClassTransitions | Feature::NoteLengthTransitions => 144,
        }
    }
}

/// The features of a set of phrases.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    phrases: usize,
    bars: usize,
    /// Per feature (in [`Feature::ALL`] order), the phrases' vectors one after the other.
    values: Vec<Vec<f64>>,
}

impl Features {
    /// Number of phrases.
    pub fn phrases(&self) -> usize {
        self.phrases
    }

    /// Bars per phrase.
    pub fn bars(&self) -> usize {
        self.bars
    }

    /// The vector of `feature` for phrase `phrase`, if there is such a phrase.
    pub fn get(&self, feature: Feature, phrase: usize) -> Option<&[f64]> {
        let len = feature.len(self.bars);
        self.values[feature as usize].get(phrase * len..(phrase + 1) * len)
    }
}

/// The features of every phrase of `view`, on the notes of `tracks` (indices into its tracks;
/// e.g. every non-drum track), in parallel.
///
/// # Errors
/// [`Error::Invalid`] when `view` holds no phrase, `tracks` is empty, or names a track the
/// phrases do not have.
pub fn features<C: Cell>(view: &PhraseView<'_, C>, tracks: &[usize]) -> Result<Features> {
    check_not_empty(view, "Yang & Lerch features")?;
    let shape = view.shape();
    if tracks.is_empty() {
        return Err(Error::Invalid(
            "Yang & Lerch features: no track chosen".into(),
        ));
    }
    if let Some(bad) = tracks.iter().find(|&&t| t >= shape.tracks) {
        return Err(Error::Invalid(format!(
            "Yang & Lerch features: track {bad} chosen, but the phrases have {} tracks",
            shape.tracks
        )));
    }
    let steps = shape.bars * shape.steps_per_bar;
    let geometry = Geometry {
        steps,
        steps_per_bar: shape.steps_per_bar,
        steps_per_beat: shape.resolution.steps() as f64,
    };
    let per_phrase: Vec<Vec<Vec<f64>>> = (0..shape.samples)
        .into_par_iter()
        .map_init(Vec::new, |rows, sample| {
            sample_rows(view, sample, rows);
            let chosen: Vec<&[u128]> = tracks
                .iter()
                .map(|&t| &rows[t * steps..(t + 1) * steps])
                .collect();
            phrase_features(&chosen, &geometry)
        })
        .collect();
    let mut values: Vec<Vec<f64>> = Feature::ALL
        .iter()
        .map(|f| Vec::with_capacity(shape.samples * f.len(shape.bars)))
        .collect();
    for phrase in per_phrase {
        for (all, one) in values.iter_mut().zip(phrase) {
            all.extend(one);
        }
    }
    Ok(Features {
        phrases: shape.samples,
        bars: shape.bars,
        values,
    })
}

/// The time grid of a phrase.
struct Geometry {
    steps: usize,
    steps_per_bar: usize,
    steps_per_beat: f64,
}

/// The nearest note-length class of a note of `steps` steps.
fn length_class(steps: usize, steps_per_bar: usize) -> usize {
    let length = steps as f64 * 96.0 / steps_per_bar as f64;
    let mut best = 0;
    for (class, &l) in LENGTH_CLASSES.iter().enumerate() {
        if (length - l).abs() < (length - LENGTH_CLASSES[best]).abs() {
            best = class;
        }
    }
    best
}

/// `values` divided by their sum (left at zero when it is 0).
fn normalised(mut values: Vec<f64>) -> Vec<f64> {
    let sum: f64 = values.iter().sum();
    if sum > 0.0 {
        values.iter_mut().for_each(|v| *v /= sum);
    }
    values
}

/// The distinct pitches sounding on `rows`, as a bit set.
fn sounding(rows: &[&[u128]], steps: std::ops::Range<usize>) -> u128 {
    rows.iter()
        .flat_map(|track| &track[steps.clone()])
        .fold(0, |all, &row| all | row)
}

/// The features of one phrase, in [`Feature::ALL`] order, from the rows of its chosen tracks.
fn phrase_features(tracks: &[&[u128]], g: &Geometry) -> Vec<Vec<f64>> {
    let bars = g.steps / g.steps_per_bar;
    let bar_range = |b: usize| b * g.steps_per_bar..(b + 1) * g.steps_per_bar;
    let notes: Vec<Vec<RunNote>> = tracks.iter().map(|rows| run_notes(rows)).collect();
    let all = sounding(tracks, 0..g.steps);

    let histogram = |range: std::ops::Range<usize>| {
        let mut h = vec![0.0; 12];
        for track in tracks {
            for &row in &track[range.clone()] {
                let mut bits = row;
                while bits != 0 {
                    h[bits.trailing_zeros() as usize % 12] += 1.0;
                    bits &= bits - 1;
                }
            }
        }
        normalised(h)
    };

    let mut pctm = vec![0.0; 144];
    let mut nltm = vec![0.0; 144];
    let mut nlh = vec![0.0; 12];
    let (mut intervals, mut interval_sum) = (0usize, 0.0);
    let mut note_count = 0usize;
    let mut per_bar_notes = vec![0.0; bars];
    let mut onsets = vec![false; g.steps];
    for track in &notes {
        note_count += track.len();
        for note in track {
            per_bar_notes[note.start / g.steps_per_bar] += 1.0;
            onsets[note.start] = true;
            nlh[length_class(note.end - note.start, g.steps_per_bar)] += 1.0;
        }
        for a in track {
            // notes are sorted by start: those starting where `a` ends are one run
            let first = track.partition_point(|n| n.start < a.end);
            for b in track[first..].iter().take_while(|n| n.start == a.end) {
                pctm[usize::from(a.pitch % 12) * 12 + usize::from(b.pitch % 12)] += 1.0;
            }
        }
        for pair in track.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            intervals += 1;
            interval_sum += f64::from(a.pitch.abs_diff(b.pitch));
            let from = length_class(a.end - a.start, g.steps_per_bar);
            let to = length_class(b.end - b.start, g.steps_per_bar);
            nltm[from * 12 + to] += 1.0;
        }
    }
    let onset_steps: Vec<usize> = (0..g.steps).filter(|&t| onsets[t]).collect();
    let ioi = match (onset_steps.first(), onset_steps.last()) {
        (Some(&first), Some(&last)) if onset_steps.len() >= 2 => {
            (last - first) as f64 / (onset_steps.len() - 1) as f64 / g.steps_per_beat
        }
        _ => 0.0,
    };
    // highest − lowest sounding pitch
    let range = if all == 0 {
        0.0
    } else {
        f64::from(127 - all.leading_zeros() - all.trailing_zeros())
    };
    vec![
        vec![f64::from(all.count_ones())],
        (0..bars)
            .map(|b| f64::from(sounding(tracks, bar_range(b)).count_ones()))
            .collect(),
        histogram(0..g.steps),
        (0..bars).flat_map(|b| histogram(bar_range(b))).collect(),
        normalised(pctm),
        vec![range],
        vec![if intervals == 0 {
            0.0
        } else {
            interval_sum / intervals as f64
        }],
        vec![note_count as f64],
        per_bar_notes,
        vec![ioi],
        normalised(nlh),
        normalised(nltm),
    ]
}

/// The grid the densities of a comparison are evaluated on.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Grid {
    /// The first point.
    pub low: f64,
    /// The last point.
    pub high: f64,
    /// Number of evenly spaced points, ends included.
    pub points: usize,
}

/// A Gaussian kernel density estimate of a set of values.
#[derive(Clone, Debug)]
struct Kde {
    /// The distinct values, ascending, each with how often it occurs (many distances repeat:
    /// counts and pitch ranges are integers), so each is summed once.
    points: Vec<(f64, f64)>,
    /// Number of values.
    n: f64,
    mean: f64,
    /// Standard deviation with n in the denominator (reported).
    std: f64,
    /// Scott's rule, NaN when undefined (one value, or all equal).
    scott: f64,
}

impl Kde {
    /// The estimate of `values` (not empty, all finite).
    fn new(values: &[f64]) -> Kde {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        let scott = (squares / (n - 1.0)).sqrt() * n.powf(-0.2);
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut points: Vec<(f64, f64)> = Vec::new();
        for v in sorted {
            match points.last_mut() {
                Some((last, count)) if *last == v => *count += 1.0,
                _ => points.push((v, 1.0)),
            }
        }
        Kde {
            points,
            n,
            mean,
            std: (squares / n).sqrt(),
            scott: if scott > 0.0 { scott } else { f64::NAN },
        }
    }

    fn min(&self) -> f64 {
        self.points.first().map_or(f64::NAN, |p| p.0)
    }

    fn max(&self) -> f64 {
        self.points.last().map_or(f64::NAN, |p| p.0)
    }

    /// The density with bandwidth `h` at every point of `grid`.
    ///
    /// Each value adds its kernel to the grid points within [`KERNEL_REACH`] bandwidths of it.
    /// On an evenly spaced grid the kernel's successive values are a running product, e(g + 1)
    /// = e(g)·r(g) with r(g + 1) = r(g)·exp(−(Δ/h)²), so a value costs two multiplications per
    /// grid point instead of an exponential (the rounding errors this accumulates over a window
    /// of a few hundred points stay far below the 1e−9 to which the SciPy fixture agrees).
    /// Values are taken in fixed chunks whose sums are added in order, so the result does not
    /// depend on the thread count.
    fn density(&self, h: f64, grid: &Grid) -> Vec<f64> {
        let step = (grid.high - grid.low) / (grid.points - 1) as f64;
        let s = step / h;
        let decay = (-s * s).exp();
        let reach = KERNEL_REACH * h;
        let last_point = (grid.points - 1) as f64;
        let partials: Vec<Vec<f64>> = self
            .points
            .par_chunks(SCATTER_CHUNK)
            .map(|chunk| {
                let mut d = vec![0.0; grid.points];
                for &(v, count) in chunk {
                    let first = ((v - reach - grid.low) / step).ceil().max(0.0);
                    let last = ((v + reach - grid.low) / step).floor().min(last_point);
                    if first > last {
                        continue;
                    }
                    let z = (grid.low + step * first - v) / h;
                    let mut e = count * (-0.5 * z * z).exp();
                    let mut r = (-z * s - 0.5 * s * s).exp();
                    for cell in &mut d[first as usize..=last as usize] {
                        *cell += e;
                        e *= r;
                        r *= decay;
                    }
                }
                d
            })
            .collect();
        let norm = 1.0 / (self.n * h * (2.0 * std::f64::consts::PI).sqrt());
        let mut density = vec![0.0; grid.points];
        for partial in partials {
            for (total, p) in density.iter_mut().zip(partial) {
                *total += p;
            }
        }
        density.iter_mut().for_each(|d| *d *= norm);
        density
    }
}

/// The common grid of `kdes` and the bandwidth of each (Scott's rule, or the fallback for a
/// set whose values are all equal; see the module documentation).
fn common_grid(kdes: &[&Kde]) -> (Grid, Vec<f64>) {
    let low = kdes.iter().map(|k| k.min()).fold(f64::INFINITY, f64::min);
    let high = kdes
        .iter()
        .map(|k| k.max())
        .fold(f64::NEG_INFINITY, f64::max);
    let span = high - low;
    let fallback = 0.01 * if span > 0.0 { span } else { low.abs().max(1.0) };
    let bandwidths: Vec<f64> = kdes
        .iter()
        .map(|k| if k.scott.is_nan() { fallback } else { k.scott })
        .collect();
    let widest = bandwidths.iter().copied().fold(0.0, f64::max);
    let grid = Grid {
        low: low - TAIL_BANDWIDTHS * widest,
        high: high + TAIL_BANDWIDTHS * widest,
        points: GRID_POINTS,
    };
    (grid, bandwidths)
}

/// ∫ min(p, q) dx on `grid` by the trapezoidal rule.
fn overlap_area(p: &[f64], q: &[f64], grid: &Grid) -> f64 {
    let dx = (grid.high - grid.low) / (grid.points - 1) as f64;
    let m: Vec<f64> = p.iter().zip(q).map(|(a, b)| a.min(*b)).collect();
    m.windows(2).map(|w| 0.5 * (w[0] + w[1]) * dx).sum()
}

/// KL(p‖q) of the floored and normalised grid densities, in nats.
fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    let floor =
        |d: &[f64]| -> Vec<f64> { normalised(d.iter().map(|v| v.max(DENSITY_FLOOR)).collect()) };
    let (p, q) = (floor(p), floor(q));
    p.iter().zip(&q).map(|(a, b)| a * (a / b).ln()).sum()
}

/// Two samples' densities compared on one grid.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct DensityComparison {
    /// ∫ min(p, q) dx.
    pub overlap_area: f64,
    /// KL(p‖q), nats.
    pub kl_divergence: f64,
    /// The bandwidths of p and q.
    pub bandwidths: [f64; 2],
    /// The common grid.
    pub grid: Grid,
}

/// Checks a sample of values for a density.
fn check_sample(values: &[f64], name: &str) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Invalid(format!("density of {name}: no value")));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!(
            "density of {name}: a value is not finite"
        )));
    }
    Ok(())
}

/// The overlapping area and KL divergence of the kernel density estimates of samples `p` and
/// `q`, on one common grid (see the module documentation for the bandwidth, grid and floor).
///
/// # Errors
/// [`Error::Invalid`] when a sample is empty or holds a value that is not finite.
///
/// ```
/// use museroll_core::evaluation::yang_lerch::compare_densities;
/// let p = [0.0, 1.0, 1.5, 2.0, 3.0];
/// let same = compare_densities(&p, &p).unwrap();
/// assert!((same.overlap_area - 1.0).abs() < 1e-6 && same.kl_divergence.abs() < 1e-12);
/// let far: Vec<f64> = p.iter().map(|x| x + 100.0).collect();
/// assert!(compare_densities(&p, &far).unwrap().overlap_area < 1e-6);
/// ```
pub fn compare_densities(p: &[f64], q: &[f64]) -> Result<DensityComparison> {
    check_sample(p, "p")?;
    check_sample(q, "q")?;
    let (kp, kq) = (Kde::new(p), Kde::new(q));
    let (grid, h) = common_grid(&[&kp, &kq]);
    let (dp, dq) = (kp.density(h[0], &grid), kq.density(h[1], &grid));
    Ok(DensityComparison {
        overlap_area: overlap_area(&dp, &dq, &grid),
        kl_divergence: kl_divergence(&dp, &dq),
        bandwidths: [h[0], h[1]],
        grid,
    })
}

/// A set of distances, summarised.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Distances {
    /// How many.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// Their standard deviation (n in the denominator).
    pub std: f64,
    /// The bandwidth of their density.
    pub bandwidth: f64,
}

/// One feature of two sets compared (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct FeatureComparison {
    /// The feature.
    pub feature: Feature,
    /// Distances within set A.
    pub intra_a: Distances,
    /// Distances within set B.
    pub intra_b: Distances,
    /// Distances between A and B.
    pub inter: Distances,
    /// The grid of all three densities.
    pub grid: Grid,
    /// OA of intra-A and inter.
    pub overlap_area_a: f64,
    /// KL(intra-A ‖ inter), nats.
    pub kl_divergence_a: f64,
    /// OA of intra-B and inter.
    pub overlap_area_b: f64,
    /// KL(intra-B ‖ inter), nats.
    pub kl_divergence_b: f64,
}

/// Euclidean distance.
fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The distances between every unordered pair of phrases of `set`.
fn intra(set: &Features, feature: Feature) -> Vec<f64> {
    let n = set.phrases;
    (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            let a = set.get(feature, i).unwrap_or(&[]);
            (i + 1..n).map(move |j| distance(a, set.get(feature, j).unwrap_or(&[])))
        })
        .collect()
}

/// The distances between every phrase of `a` and every phrase of `b`.
fn inter(a: &Features, b: &Features, feature: Feature) -> Vec<f64> {
    (0..a.phrases)
        .into_par_iter()
        .flat_map_iter(|i| {
            let x = a.get(feature, i).unwrap_or(&[]);
            (0..b.phrases).map(move |j| distance(x, b.get(feature, j).unwrap_or(&[])))
        })
        .collect()
}

/// Compares set A (e.g. generated) with set B (e.g. the reference), feature by feature, in
/// [`Feature::ALL`] order.
///
/// # Errors
/// [`Error::Invalid`] when a set has fewer than two phrases (no intra-set distance) or the two
/// sets' phrases have different numbers of bars.
pub fn compare(a: &Features, b: &Features) -> Result<Vec<FeatureComparison>> {
    for (set, name) in [(a, "A"), (b, "B")] {
        if set.phrases < 2 {
            return Err(Error::Invalid(format!(
                "Yang & Lerch: set {name} has {} phrase(s); intra-set distances need at least 2",
                set.phrases
            )));
        }
    }
    if a.bars != b.bars {
        return Err(Error::Invalid(format!(
            "Yang & Lerch: phrases of {} bars cannot be compared with phrases of {}",
            a.bars, b.bars
        )));
    }
    Ok(Feature::ALL
        .iter()
        .map(|&feature| {
            let sets = [intra(a, feature), intra(b, feature), inter(a, b, feature)];
            let kdes: Vec<Kde> = sets.iter().map(|d| Kde::new(d)).collect();
            let (grid, h) = common_grid(&[&kdes[0], &kdes[1], &kdes[2]]);
            let densities: Vec<Vec<f64>> = kdes
                .iter()
                .zip(&h)
                .map(|(k, &h)| k.density(h, &grid))
                .collect();
            let summary = |k: &Kde, h: f64| Distances {
                count: k.n as usize,
                mean: k.mean,
                std: k.std,
                bandwidth: h,
            };
            FeatureComparison {
                feature,
                intra_a: summary(&kdes[0], h[0]),
                intra_b: summary(&kdes[1], h[1]),
                inter: summary(&kdes[2], h[2]),
                grid,
                overlap_area_a: overlap_area(&densities[0], &densities[2], &grid),
                kl_divergence_a: kl_divergence(&densities[0], &densities[2]),
                overlap_area_b: overlap_area(&densities[1], &densities[2], &grid),
                kl_divergence_b: kl_divergence(&densities[1], &densities[2]),
            }
        })
        .collect())
}
