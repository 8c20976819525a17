//! The per-bar computations, on bars packed one `u128` per time step (bit = MIDI pitch).
//!
//! Every kernel makes one pass with bit operations over the bar's *active* steps only (those
//! with a pitch on, listed when the bar is packed: most steps of most tracks are silent, and a
//! silent step adds nothing to any count): onsets are `row & !previous_row` (the bar's first step
//! has no previous row, so a note held across the bar line begins again there), and counts are
//! popcounts.

use super::config::{Chroma, MetricsConfig, SilentBeats};
use super::phrase::{Bar, PhraseShape};
use super::report::Metric;

/// Number of per-bar metrics (the length of [`Metric::ALL`]).
pub(super) const N_METRICS: usize = Metric::ALL.len();

/// A bar's values, indexed by `Metric as usize`; NaN where the metric measures nothing.
pub(super) type BarValues = [f64; N_METRICS];

/// The settings of an evaluation turned into bit masks and constants.
pub(super) struct Tables {
    /// The pitches (bits) of each chroma bin.
    chroma: [u128; 12],
    /// The chroma bin of each pitch (bit); 12 for a pitch outside the phrase.
    bin_of: [u8; 128],
    /// The pitches whose chroma bin is in the scale.
    scale: u128,
    qn_threshold: usize,
    pp_threshold: u32,
    /// Steps per 16th note, when that is a whole number.
    pub(super) dp_period: Option<usize>,
    dp_tolerance: f64,
    /// Steps per beat.
    pub(super) beat: usize,
    silent_beats: SilentBeats,
    /// Harte et al.'s 6 × 12 tonal-centroid projection.
    phi: [[f64; 12]; 6],
}

impl Tables {
    /// The tables for `config` on phrases of `shape` (the config must have passed its check).
    pub(super) fn new(config: &MetricsConfig, shape: &PhraseShape) -> Tables {
        let mut chroma = [0u128; 12];
        let mut bin_of = [12u8; 128];
        let lowest = shape.lowest_pitch.index();
        for column in 0..shape.pitches {
            let pitch = lowest + column;
            let bin = match config.chroma {
                Chroma::PitchClass => pitch % 12,
                Chroma::Bins7 => column / 7,
                Chroma::Bins8 => column / 8,
            };
            if let (Some(mask), Some(b)) = (chroma.get_mut(bin), bin_of.get_mut(pitch)) {
                *mask |= 1u128 << pitch;
                *b = bin as u8;
            }
        }
        let in_scale = config.scale.pitch_classes();
        let scale = chroma
            .iter()
            .zip(in_scale)
            .filter(|(_, in_scale)| *in_scale)
            .fold(0, |bits, (mask, _)| bits | mask);
        let beat = shape.resolution.steps();
        // Rows 2k and 2k+1: radius·sin and radius·cos of (angle step k)·π·l for pitch class l:
        // circle of fifths, minor thirds, major thirds.
        let radii_angles = [(1.0, 7.0 / 6.0), (1.0, 3.0 / 2.0), (0.5, 2.0 / 3.0)];
        let phi = std::array::from_fn(|row| {
            let (radius, turn) = radii_angles[row / 2];
            std::array::from_fn(|l| {
                let (sin, cos) = (l as f64 * turn * std::f64::consts::PI).sin_cos();
                radius * [sin, cos][row % 2]
            })
        });
        Tables {
            chroma,
            bin_of,
            scale,
            qn_threshold: config.qn_threshold,
            pp_threshold: u32::try_from(config.pp_threshold).unwrap_or(u32::MAX),
            dp_period: beat.is_multiple_of(4).then_some(beat / 4),
            dp_tolerance: config.dp_tolerance,
            beat,
            silent_beats: config.td_silent_beats,
            phi,
        }
    }
}

/// The indices of the set bits of a `u128`, lowest first (each below 128), found 64 bits at a
/// time; what is left after some are taken is [`Bits::rest`].
#[derive(Clone, Copy, Debug)]
struct Bits {
    halves: [u64; 2],
}

impl Bits {
    #[inline(always)]
    fn new(bits: u128) -> Bits {
        Bits {
            halves: [bits as u64, (bits >> 64) as u64],
        }
    }

    /// The bits not yet returned.
    #[inline(always)]
    fn rest(self) -> u128 {
        u128::from(self.halves[1]) << 64 | u128::from(self.halves[0])
    }
}

impl Iterator for Bits {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        for (base, half) in [0, 64].into_iter().zip(&mut self.halves) {
            if *half != 0 {
                let index = base + half.trailing_zeros() as usize;
                *half &= *half - 1;
                return Some(index);
            }
        }
        None
    }
}

/// Shannon entropy in bits of the distribution `counts / total`.
#[inline(always)]
fn entropy(counts: impl IntoIterator<Item = u64>, total: u64) -> f64 {
    let n = total as f64;
    counts
        .into_iter()
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The values of every metric but GC for one bar of a track, and the steps of the bar where a
/// note begins, for GC: bit `t` of `onset_steps` (64 steps a word, at least `⌈steps / 64⌉`
/// words) for step `t`. `buckets` is scratch for DP, at least one entry per step of a 16th note.
#[inline(always)]
pub(super) fn bar_values(
    bar: Bar<'_>,
    is_drum: bool,
    tables: &Tables,
    buckets: &mut [u64],
    onset_steps: &mut [u64],
    out: &mut BarValues,
) {
    out.fill(f64::NAN);
    onset_steps.fill(0);
    let empty = bar.active.is_empty();
    out[Metric::EmptyBars as usize] = if empty { 1.0 } else { 0.0 };
    if empty {
        return;
    }
    let used = if is_drum {
        drum_pattern(bar, tables, buckets, onset_steps, out)
    } else {
        melodic(bar, tables, onset_steps, out)
    };
    out[Metric::PitchesUsed as usize] = f64::from(used.count_ones());
}

/// Sets bit `t` of `steps`, 64 steps a word.
#[inline(always)]
fn mark(steps: &mut [u64], t: usize) {
    if let Some(word) = steps.get_mut(t / 64) {
        *word |= 1 << (t % 64);
    }
}

/// DP of a non-empty drum bar: onsets per step are folded onto the phases of the 16th-note grid
/// (`period` steps); phase `k` scores its onsets plus `tolerance` times those one step either
/// side; the best phase's score over all onsets. Returns the pitches used.
#[inline(always)]
fn drum_pattern(
    bar: Bar<'_>,
    tables: &Tables,
    buckets: &mut [u64],
    onset_steps: &mut [u64],
    out: &mut BarValues,
) -> u128 {
    let mut buckets = tables
        .dp_period
        .and_then(|period| buckets.get_mut(..period));
    if let Some(buckets) = buckets.as_deref_mut() {
        buckets.fill(0);
    }
    let (mut used, mut onsets) = (0, 0);
    for (t, row, previous) in bar.active_rows() {
        used |= row;
        let starting = row & !previous;
        if starting != 0 {
            mark(onset_steps, t);
            let n = u64::from(starting.count_ones());
            if let Some(bucket) = buckets.as_deref_mut().and_then(|b| b.get_mut(t % b.len())) {
                *bucket += n;
            }
            onsets += n;
        }
    }
    if let Some(buckets) = buckets {
        let period = buckets.len();
        let c = |k: usize| buckets.get(k % period).map_or(0.0, |&n| n as f64);
        let tol = tables.dp_tolerance;
        let best = (0..period)
            .map(|k| match period {
                1 => c(k),
                2 => c(k) + tol * c(k + 1),
                _ => c(k) + tol * (c(k + 1) + c(k + period - 1)),
            })
            .fold(0.0, f64::max);
        out[Metric::DrumPattern as usize] = best / onsets as f64;
    }
    used
}

/// The metrics of a non-empty bar of a pitched track. Returns the pitches used.
#[inline(always)]
fn melodic(bar: Bar<'_>, tables: &Tables, onset_steps: &mut [u64], out: &mut BarValues) -> u128 {
    let rows = bar.rows;
    let mut used = 0;
    let mut cells = 0u64;
    let mut polyphonic = 0u64;
    let mut in_scale = 0u64;
    let mut notes = 0u64;
    let mut qualified = 0u64;
    let mut per_pitch = [0u64; 128];
    for (t, row, previous) in bar.active_rows() {
        used |= row;
        let n = row.count_ones();
        cells += u64::from(n);
        polyphonic += u64::from(n >= tables.pp_threshold);
        in_scale += u64::from((row & tables.scale).count_ones());
        let onsets = row & !previous;
        if onsets != 0 {
            mark(onset_steps, t);
            notes += u64::from(onsets.count_ones());
            // A note starting at t qualifies when its pitch is still on at t + threshold − 1.
            let lasting = t
                .checked_add(tables.qn_threshold)
                .and_then(|end| rows.get(t + 1..end))
                .map_or(0, |next| next.iter().fold(onsets, |q, &r| q & r));
            qualified += u64::from(lasting.count_ones());
            for p in Bits::new(onsets) {
                per_pitch[p] += 1;
            }
        }
    }
    let sounding = bar.active.len();
    let mut per_class = [0u64; 12];
    for p in Bits::new(used) {
        per_class[p % 12] += per_pitch[p];
    }
    let bins = tables
        .chroma
        .iter()
        .filter(|&&mask| used & mask != 0)
        .count();
    let highest = 127 - used.leading_zeros();
    let lowest = used.trailing_zeros();
    out[Metric::PitchClassesUsed as usize] = bins as f64;
    out[Metric::QualifiedNotes as usize] = qualified as f64 / notes as f64;
    out[Metric::PolyphonyRate as usize] = polyphonic as f64 / rows.len() as f64;
    out[Metric::InScale as usize] = in_scale as f64 / cells as f64;
    out[Metric::PitchRange as usize] = f64::from(highest - lowest);
    out[Metric::PitchEntropy as usize] = entropy(Bits::new(used).map(|p| per_pitch[p]), notes);
    out[Metric::PitchClassEntropy as usize] = entropy(per_class, notes);
    out[Metric::Polyphony as usize] = cells as f64 / sounding as f64;
    used
}

/// GC between two consecutive bars of `steps` steps each, from their onset steps (see
/// [`bar_values`]): 1 − (steps where exactly one bar has an onset) / steps; NaN when neither bar
/// has an onset (both empty).
#[inline(always)]
pub(super) fn groove_consistency(previous_bar: &[u64], bar: &[u64], steps: usize) -> f64 {
    let (mut differing, mut any) = (0u64, 0u64);
    for (&a, &b) in previous_bar.iter().zip(bar) {
        differing += u64::from((a ^ b).count_ones());
        any |= a | b;
    }
    if any != 0 {
        1.0 - differing as f64 / steps as f64
    } else {
        f64::NAN
    }
}

/// The first this many active pitches of a row are binned one by one, any more bin by bin.
const SPARSE_ROW: usize = 12;

/// The tonal centroid of each beat of a bar, written to `out` (one per beat, `[NaN; 6]` for a
/// silent beat): the beat's chroma (active cells per bin) normalised to sum 1, projected by Φ.
#[inline(always)]
pub(super) fn beat_centroids(bar: Bar<'_>, tables: &Tables, out: &mut [[f64; 6]]) {
    let beats = bar.rows.len().div_ceil(tables.beat);
    let mut active = bar.active_rows().peekable();
    for (beat, centroid) in out.iter_mut().take(beats).enumerate() {
        let end = (beat + 1).saturating_mul(tables.beat);
        // One slot more than the bins, for pitches outside the phrase (none are ever set).
        let mut chroma = [0u64; 13];
        while let Some((_, row, _)) = active.next_if(|&(t, _, _)| t < end) {
            let mut ones = Bits::new(row);
            for p in ones.by_ref().take(SPARSE_ROW) {
                chroma[usize::from(tables.bin_of[p])] += 1;
            }
            let rest = ones.rest();
            if rest != 0 {
                for (c, mask) in chroma.iter_mut().zip(&tables.chroma) {
                    *c += u64::from((rest & mask).count_ones());
                }
            }
        }
        let chroma = &chroma[..12];
        let total: u64 = chroma.iter().sum();
        if total == 0 {
            *centroid = [f64::NAN; 6];
            continue;
        }
        // Φ · chroma over the bins that sound (the others add only zeros), bin by bin.
        let mut sums = [0.0; 6];
        for (bin, &count) in chroma.iter().enumerate().filter(|(_, c)| **c != 0) {
            for (sum, phi) in sums.iter_mut().zip(&tables.phi) {
                *sum += phi.get(bin).map_or(0.0, |w| w * count as f64);
            }
        }
        *centroid = sums.map(|sum| sum / total as f64);
    }
}

/// TD of a bar from the two tracks' beat centroids (see [`beat_centroids`]).
#[inline(always)]
pub(super) fn tonal_distance(a: &[[f64; 6]], b: &[[f64; 6]], tables: &Tables) -> f64 {
    let (mut sum, mut beats, mut silent) = (0.0, 0u32, false);
    for (x, y) in a.iter().zip(b) {
        if x[0].is_nan() || y[0].is_nan() {
            silent = true;
            continue;
        }
        sum += x
            .iter()
            .zip(y)
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f64>()
            .sqrt();
        beats += 1;
    }
    if beats == 0 || (silent && tables.silent_beats == SilentBeats::SkipBar) {
        f64::NAN
    } else {
        sum / f64::from(beats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::config::Scale;
    use crate::units::{Pitch, Resolution};

    fn tables(config: &MetricsConfig, lowest: u8, pitches: usize, resolution: u32) -> Tables {
        let shape = PhraseShape {
            samples: 1,
            tracks: 1,
            bars: 1,
            steps_per_bar: 16,
            pitches,
            lowest_pitch: Pitch::new(lowest).unwrap(),
            resolution: Resolution::new(resolution).unwrap(),
        };
        Tables::new(config, &shape)
    }

    /// The active steps of `rows`, as packing lists them.
    fn active(rows: &[u128]) -> Vec<usize> {
        (0..rows.len()).filter(|&t| rows[t] != 0).collect()
    }

    /// Runs `f` on `rows` as a packed bar.
    fn with_bar<R>(rows: &[u128], f: impl FnOnce(Bar<'_>) -> R) -> R {
        f(Bar {
            rows,
            active: &active(rows),
        })
    }

    #[test]
    fn bits_lists_set_bits_across_halves_and_keeps_the_rest() {
        let x = 1u128 | 1 << 63 | 1 << 64 | 1 << 127;
        assert_eq!(Bits::new(x).collect::<Vec<_>>(), [0, 63, 64, 127]);
        let mut ones = Bits::new(x);
        assert_eq!(ones.by_ref().take(2).collect::<Vec<_>>(), [0, 63]);
        assert_eq!(ones.rest(), 1 << 64 | 1 << 127);
        assert_eq!(Bits::new(0).next(), None);
    }

    #[test]
    fn chroma_masks_true_and_legacy() {
        // 84 columns from MIDI 24: true class of MIDI 24 + i is i % 12.
        let t = tables(&MetricsConfig::default(), 24, 84, 4);
        assert_eq!(t.chroma[0].count_ones(), 7);
        assert!(t.chroma[0] & (1 << 24) != 0 && t.chroma[0] & (1 << 36) != 0);
        // C major over MIDI 24..108: 7 classes × 7 octaves.
        assert_eq!(t.scale.count_ones(), 49);
        // bins7: bin 0 = columns 0..7 = MIDI 24..31, a contiguous run.
        let t = tables(&MetricsConfig::legacy_musegan_v1(), 24, 84, 4);
        assert_eq!(t.chroma[0], 0x7fu128 << 24);
        assert_eq!(t.chroma[11], 0x7fu128 << (24 + 77));
        // bins8: 84 columns fill bins 0..=10, the last one half (columns 80..84).
        let t = tables(&MetricsConfig::legacy_bmusegan(), 24, 84, 4);
        assert_eq!(t.chroma[10], 0xfu128 << (24 + 80));
        assert_eq!(t.chroma[11], 0);
    }

    #[test]
    fn tonal_centroid_of_c_major_triad() {
        // Published value (musegan.md §4.2): (0.4553, 0.4553, 0.3333, 0.6667, 0.2887, 0).
        let t = tables(&MetricsConfig::default(), 60, 12, 4);
        let chord = (1u128 << 60) | (1 << 64) | (1 << 67);
        let mut out = [[0.0; 6]; 1];
        with_bar(&[chord; 4], |bar| beat_centroids(bar, &t, &mut out));
        let expected = [0.4553, 0.4553, 0.3333, 0.6667, 0.2887, 0.0];
        for (x, e) in out[0].iter().zip(expected) {
            assert!((x - e).abs() < 1e-4, "{:?}", out[0]);
        }
    }

    #[test]
    fn minor_scale_mask_is_rotated() {
        let config = MetricsConfig {
            scale: Scale {
                root: 9,
                mode: crate::metrics::Mode::HarmonicMinor,
            },
            ..MetricsConfig::default()
        };
        let t = tables(&config, 60, 12, 4);
        // A harmonic minor: A B C D E F G# → pitch classes 9 11 0 2 4 5 8.
        let expected = [9, 11, 0, 2, 4, 5, 8]
            .iter()
            .fold(0u128, |m, &c| m | 1 << (60 + c));
        assert_eq!(t.scale, expected);
    }

    #[test]
    fn dp_period_needs_whole_sixteenths() {
        let config = MetricsConfig::default();
        assert_eq!(tables(&config, 0, 12, 24).dp_period, Some(6));
        assert_eq!(tables(&config, 0, 12, 12).dp_period, Some(3));
        assert_eq!(tables(&config, 0, 12, 6).dp_period, None);
        let mut out = [0.0; N_METRICS];
        let t = tables(&config, 0, 12, 6);
        let mut onsets = [0; 1];
        with_bar(&[1; 24], |bar| {
            bar_values(bar, true, &t, &mut [0; 8], &mut onsets, &mut out)
        });
        assert!(out[Metric::DrumPattern as usize].is_nan());
        // no DP, but the onset steps for GC all the same: one note, from step 0
        assert_eq!(onsets, [1]);
        assert_eq!(out[Metric::PitchesUsed as usize], 1.0);
    }

    #[test]
    fn dp_with_period_two_counts_the_single_neighbour_once() {
        // resolution 8 → 16th = 2 steps; onsets at steps 0 and 3 → phases 0 and 1.
        // phase 0: 1 + 0.1·1 = 1.1; phase 1: 1 + 0.1·1 = 1.1 → 1.1 / 2 = 0.55.
        let t = tables(&MetricsConfig::default(), 0, 12, 8);
        let mut rows = [0u128; 8];
        rows[0] = 1;
        rows[3] = 1;
        let mut out = [0.0; N_METRICS];
        let mut onsets = [0; 1];
        with_bar(&rows, |bar| {
            bar_values(bar, true, &t, &mut [0; 2], &mut onsets, &mut out)
        });
        assert!((out[Metric::DrumPattern as usize] - 0.55).abs() < 1e-12);
        assert_eq!(onsets, [0b1001]);
    }

    #[test]
    fn centroids_of_beats_split_at_beat_lines() {
        // 3 beats of 4 steps: C at step 3 (beat 0), silence in beat 1, E at step 8 (beat 2).
        let t = tables(&MetricsConfig::default(), 60, 12, 4);
        let mut rows = [0u128; 12];
        rows[3] = 1 << 60;
        rows[8] = 1 << 64;
        let mut out = [[0.0; 6]; 3];
        with_bar(&rows, |bar| beat_centroids(bar, &t, &mut out));
        assert_eq!(out[0], std::array::from_fn(|i| t.phi[i][0]));
        assert!(out[1].iter().all(|x| x.is_nan()));
        assert_eq!(out[2], std::array::from_fn(|i| t.phi[i][4]));
    }

    #[test]
    fn groove_consistency_over_several_words_of_steps() {
        // 130 steps (3 words), onset steps marked by bar_values for a pitched bar a and a drum
        // bar b: a has onsets at 0, 64 and 129 (a note held 10..20 has one onset, at 10); b at
        // 0 (a note held over the bar line still begins at step 0), 70 and 129. They differ at
        // 10, 64 and 70: 1 − 3/130.
        let mut a = [0u128; 130];
        let mut b = [0u128; 130];
        for t in [0, 64, 129] {
            a[t] = 1;
        }
        a[10..20].fill(2);
        b[0] = 4;
        b[70] = 1;
        b[129] = 1 << 127;
        let (mut onsets_a, mut onsets_b) = ([u64::MAX; 3], [0u64; 3]);
        let t = tables(&MetricsConfig::default(), 0, 128, 4);
        let mut out = [0.0; N_METRICS];
        let mut buckets = [0; 1];
        for (rows, onsets, drum) in [(&a, &mut onsets_a, false), (&b, &mut onsets_b, true)] {
            with_bar(rows, |bar| {
                bar_values(bar, drum, &t, &mut buckets, onsets, &mut out)
            });
        }
        assert_eq!(onsets_a, [1 | 1 << 10, 1, 2]);
        assert_eq!(onsets_b, [1, 1 << 6, 2]);
        let gc = groove_consistency(&onsets_a, &onsets_b, 130);
        assert!((gc - (1.0 - 3.0 / 130.0)).abs() < 1e-15, "{gc}");
        assert!(groove_consistency(&[0; 3], &[0; 3], 130).is_nan());
    }
}
