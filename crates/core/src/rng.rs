//! museroll's one pseudo-random generator: SplitMix64 (Steele, Lea & Flood, "Fast splittable
//! pseudorandom number generators", OOPSLA 2014), and the draws built on it (ranges, shuffles,
//! uniform and normal numbers).
//!
//! SplitMix64 adds an odd constant, the *gamma*, to a 64-bit state and returns a finalizer
//! (two xor-shift-multiply rounds) of the new state. It is small, fast and fully determined by
//! its seed, which is what datasets and latents need: the same seed gives the same files on
//! every machine. It is not for cryptography.
//!
//! Two gammas are used, both for compatibility with what museroll has already written:
//! - [`Rng::new`]: the published generator (the golden-ratio gamma). Datasets' splits and phrase
//!   windows are drawn with it; changing it would change every dataset built from a seed.
//! - [`Rng::counter`]: gamma 1, so value `k` is [`mix`]`(start + k)` — a counter hashed by
//!   SplitMix64's output function. Latents have always been drawn this way; committed models
//!   must keep generating the same samples bit for bit for a seed.

/// SplitMix64's gamma: 2^64 divided by the golden ratio, rounded to an odd number.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function of a state that has already been advanced.
fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64's output for the state `x`: a well-mixed 64-bit value of `x`, used to derive
/// unrelated seeds from related ones (a seed and a step number, say).
///
/// ```
/// // The published first output of SplitMix64 seeded with 0.
/// assert_eq!(museroll_core::rng::mix(0), 0xe220_a839_7b1d_cdaf);
/// ```
pub fn mix(x: u64) -> u64 {
    finalize(x.wrapping_add(GOLDEN_GAMMA))
}

/// A SplitMix64 generator. The gamma is fixed by the constructor ([`Rng::new`] or
/// [`Rng::counter`]), so it is always odd and every state is visited once per period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
    gamma: u64,
}

impl Rng {
    /// The published SplitMix64 generator seeded with `seed`: its first value is [`mix`]`(seed)`,
    /// its next ones [`mix`] of `seed` plus multiples of the golden gamma.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            gamma: GOLDEN_GAMMA,
        }
    }

    /// The counter form: value `k` is [`mix`]`(start + k)`. This is how museroll has always drawn
    /// latents; committed models generate their samples from it, so it stays as it is.
    pub fn counter(start: u64) -> Rng {
        // `mix(s)` finalizes `s + golden`, and a gamma-1 step adds 1 before finalizing.
        Rng {
            state: start.wrapping_add(GOLDEN_GAMMA).wrapping_sub(1),
            gamma: 1,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(self.gamma);
        finalize(self.state)
    }

    /// A number below `n` (> 0), by multiply-and-shift: the high word of `next_u64() × n`, whose
    /// bias is below 2^-32 for any realistic `n` and which needs no division.
    ///
    /// # Panics
    /// If `n` is 0 (no number is below it).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0): no number is below 0");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A uniform number in [0, 1) with 53 random bits (every `f64` step of the interval).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Shuffles `items` in place (Fisher–Yates: every order equally likely).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `rows` rows of `dim` N(0, 1) values, row after row (Box–Muller: each pair of uniforms
    /// `u1`, `u2` gives `r·cos θ` and then `r·sin θ`, with `r = √(−2 ln(1 − u1))`, `θ = 2π u2`;
    /// an odd `dim` drops the last sine). Row `i` does not depend on `rows`.
    pub fn normals(&mut self, rows: usize, dim: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.saturating_mul(dim));
        for _ in 0..rows {
            let mut filled = 0;
            while filled < dim {
                let u1 = 1.0 - self.uniform(); // in (0, 1]: its logarithm is finite
                let angle = std::f64::consts::TAU * self.uniform();
                let r = (-2.0 * u1.ln()).sqrt();
                out.push((r * angle.cos()) as f32);
                filled += 1;
                if filled < dim {
                    out.push((r * angle.sin()) as f32);
                    filled += 1;
                }
            }
        }
        out
    }
}

/// FNV-1a of `bytes`: a hash that stays the same across Rust releases (the standard library's
/// may change), to derive seeds from names — e.g. each song's own stream, whatever order the
/// files are processed in.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formulas museroll used before this module, written out independently: the
    /// mixer of training and generation, and the dataset writer's stateful generator.
    fn old_mix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    struct OldStream(u64);

    impl OldStream {
        fn new(seed: u64, tag: u64) -> Self {
            Self(old_mix(old_mix(seed) ^ tag))
        }
        fn next_u64(&mut self) -> u64 {
            let v = old_mix(self.0);
            self.0 = self.0.wrapping_add(1);
            v
        }
        fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        }
    }

    #[test]
    fn published_splitmix64_values() {
        // The reference implementation (Vigna's splitmix64.c) seeded with 0 and with
        // 1234567: its first outputs.
        let mut zero = Rng::new(0);
        assert_eq!(zero.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(zero.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(zero.next_u64(), 0x06c4_5d18_8009_454f);
        let mut other = Rng::new(1_234_567);
        assert_eq!(other.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(other.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn new_and_mix_match_the_old_formulas() {
        for seed in [0, 1, 7, 0xdead_beef, u64::MAX] {
            assert_eq!(mix(seed), old_mix(seed));
            let mut rng = Rng::new(seed);
            let mut state = seed;
            for _ in 0..100 {
                // The writer's generator: state += golden gamma, then the finalizer, which
                // is `old_mix` of the state before the addition.
                let expected = old_mix(state);
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                assert_eq!(rng.next_u64(), expected);
            }
        }
    }

    #[test]
    fn counter_matches_the_old_latent_stream() {
        for (seed, tag) in [(0, 0), (7, 1), (u64::MAX, 0x4c41_5445_4e54)] {
            let mut old = OldStream::new(seed, tag);
            let start = mix(mix(seed) ^ tag);
            let mut rng = Rng::counter(start);
            for k in 0..100u64 {
                let v = rng.next_u64();
                assert_eq!(v, old.next_u64());
                assert_eq!(v, mix(start.wrapping_add(k)));
            }
        }
    }

    #[test]
    fn normals_match_the_old_box_muller_bit_for_bit() {
        fn old_normals(stream: &mut OldStream, n: usize, dim: usize) -> Vec<f32> {
            let mut out = Vec::new();
            for _ in 0..n {
                let mut row = 0;
                while row < dim {
                    let u1 = 1.0 - stream.uniform();
                    let angle = std::f64::consts::TAU * stream.uniform();
                    let r = (-2.0 * u1.ln()).sqrt();
                    out.push((r * angle.cos()) as f32);
                    row += 1;
                    if row < dim {
                        out.push((r * angle.sin()) as f32);
                        row += 1;
                    }
                }
            }
            out
        }
        for dim in [1, 2, 5, 128] {
            let mut old = OldStream::new(42, 3);
            let mut rng = Rng::counter(mix(mix(42) ^ 3));
            let new = rng.normals(4, dim);
            assert_eq!(new.len(), 4 * dim);
            let old = old_normals(&mut old, 4, dim);
            assert!(new
                .iter()
                .zip(&old)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        // Row i does not depend on the number of rows.
        let three = Rng::counter(9).normals(3, 5);
        assert_eq!(Rng::counter(9).normals(1, 5), three[..5]);
    }

    #[test]
    fn normals_have_mean_0_and_variance_1() {
        let values = Rng::new(11).normals(1000, 100);
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let variance = values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        // Standard errors: 1/√n ≈ 0.003 for the mean, √(2/n) ≈ 0.0045 for the variance.
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.025, "variance {variance}");
    }

    #[test]
    fn uniform_is_in_the_unit_interval_and_spread() {
        let mut rng = Rng::new(5);
        let draws: Vec<f64> = (0..10_000).map(|_| rng.uniform()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let below_half = draws.iter().filter(|&&u| u < 0.5).count();
        assert!((4800..5200).contains(&below_half), "{below_half}");
    }

    #[test]
    fn below_stays_in_range_and_reaches_every_value() {
        let mut rng = Rng::new(3);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[rng.below(4)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
        assert!((0..1000).all(|_| rng.below(1) == 0));
        let big = usize::MAX;
        assert!((0..1000).all(|_| rng.below(big) < big));
    }

    #[test]
    #[should_panic(expected = "below(0)")]
    fn below_zero_is_refused() {
        Rng::new(0).below(0);
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut items: Vec<u32> = (0..100).collect();
        Rng::new(8).shuffle(&mut items);
        assert_ne!(items, (0..100).collect::<Vec<_>>());
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        let mut again: Vec<u32> = (0..100).collect();
        Rng::new(8).shuffle(&mut again);
        assert_eq!(items, again);
        let mut empty: [u8; 0] = [];
        Rng::new(8).shuffle(&mut empty);
    }

    #[test]
    fn stable_hash_is_fnv_1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
