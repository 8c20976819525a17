//! Latents: seeded N(0, 1) vectors, paths and grids between two of them, and the AR(1) walk that
//! continues a piece phrase by phrase — what every latent-variable generator samples with.
//!
//! Latents are drawn in Rust from the seed (a SplitMix64 counter stream and Box–Muller), not by
//! libtorch: a seed names the same latents on any device, thread count or libtorch version.
//! Sample `i` of seed `S` is the `i`-th row of that stream, so row 0 is "the latent of seed S"
//! whatever the number of samples, and an interpolation from seed `S` to `S + 1` starts and ends
//! at the first sample of each seed.

use crate::Error;
use museroll_core::rng::{mix, Rng};

/// Stream tags: the latents, the `bs` uniforms and the phrases of a piece draw from unrelated
/// streams of one seed.
const LATENT_TAG: u64 = 0x4C41_5445_4E54;
pub(crate) const BERNOULLI_TAG: u64 = 0x4245_524E;
const PHRASE_TAG: u64 = 0x5048_5241_5345;
/// The most steps of an interpolation.
pub const MAX_INTERPOLATION_STEPS: usize = 64;
/// The most steps of a side of a latent grid (its phrases are the square of this).
pub const MAX_GRID_STEPS: usize = 16;

/// A path between two latents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// `lerp`: the straight line `(1 − t)·a + t·b`.
    Lerp,
    /// `slerp`: the great circle, `sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b` with
    /// `Ω = arccos(â·b̂)`; it keeps a Gaussian latent's norm where the line shrinks it towards 0,
    /// a region the generator never saw in training.
    Slerp,
}

choice!(Interpolation, "interpolation", { Lerp => "lerp", Slerp => "slerp" });

impl Interpolation {
    /// The point at `t` (0 at `a`, 1 at `b`) of the path from `a` to `b`.
    ///
    /// # Errors
    /// [`Error::Shape`] if `a` and `b` differ in length.
    pub fn point(self, a: &[f32], b: &[f32], t: f64) -> Result<Vec<f32>, Error> {
        match self {
            Self::Lerp => lerp(a, b, t),
            Self::Slerp => slerp(a, b, t),
        }
    }
}

/// The two groups of a temporal generator's latents that a 2-D interpolation grid walks
/// separately: rows move the first group from seed `S` to seed `S + 1`, columns the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatentGrid {
    /// `inter-intra`: rows the inter-track latents (`shared`, `temporal_shared`: what all
    /// tracks hear), columns the intra-track ones (`private`, `temporal_private`: each track's
    /// own). Hybrid models only: the composer has no intra-track latents, jamming no
    /// inter-track ones.
    InterIntra,
    /// `fixed-temporal`: rows the time-independent latents (`shared`, `private`: style and
    /// grooves), columns the time-dependent ones (`temporal_shared`, `temporal_private`: how
    /// the bars unfold). Any temporal generator.
    FixedTemporal,
}

choice!(LatentGrid, "latent grid", { InterIntra => "inter-intra", FixedTemporal => "fixed-temporal" });

impl LatentGrid {
    /// What the rows and the columns move.
    pub fn groups(self) -> [&'static str; 2] {
        match self {
            Self::InterIntra => ["inter-track", "intra-track"],
            Self::FixedTemporal => ["time-independent", "time-dependent"],
        }
    }
}

fn same_length(a: &[f32], b: &[f32]) -> Result<(), Error> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "latents of {} and {} values cannot be interpolated",
            a.len(),
            b.len()
        )))
    }
}

/// `(1 − t)·a + t·b`, computed in `f64`.
///
/// # Errors
/// [`Error::Shape`] if `a` and `b` differ in length.
///
/// ```
/// let p = museroll_models::sample::lerp(&[0.0, 2.0], &[4.0, 0.0], 0.25)?;
/// assert_eq!(p, [1.0, 1.5]);
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn lerp(a: &[f32], b: &[f32], t: f64) -> Result<Vec<f32>, Error> {
    same_length(a, b)?;
    Ok(a.iter()
        .zip(b)
        .map(|(&x, &y)| ((1.0 - t) * f64::from(x) + t * f64::from(y)) as f32)
        .collect())
}

/// Spherical interpolation `sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b`, `Ω = arccos(â·b̂)`,
/// computed in `f64`. Where `sin Ω` is about 0 (parallel or opposite latents, or a zero one) the
/// great circle is not defined and this is [`lerp`].
///
/// # Errors
/// [`Error::Shape`] if `a` and `b` differ in length.
///
/// ```
/// // Orthogonal unit vectors: the midpoint is (a + b)/√2, still of norm 1.
/// let p = museroll_models::sample::slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5)?;
/// let h = std::f32::consts::FRAC_1_SQRT_2;
/// assert!((p[0] - h).abs() < 1e-6 && (p[1] - h).abs() < 1e-6);
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn slerp(a: &[f32], b: &[f32], t: f64) -> Result<Vec<f32>, Error> {
    same_length(a, b)?;
    let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let cos = dot / (norm(a) * norm(b));
    let omega = cos.clamp(-1.0, 1.0).acos();
    let sin = omega.sin();
    // NaN: a zero latent.
    if sin.is_nan() || sin <= 1e-6 {
        return lerp(a, b, t);
    }
    let (wa, wb) = (((1.0 - t) * omega).sin() / sin, (t * omega).sin() / sin);
    Ok(a.iter()
        .zip(b)
        .map(|(&x, &y)| (wa * f64::from(x) + wb * f64::from(y)) as f32)
        .collect())
}

/// The counter stream of `seed` for the use `tag` (value `k` is SplitMix64's mix of a start
/// derived from both, plus `k`): streams of other seeds or tags are unrelated.
pub(crate) fn stream(seed: u64, tag: u64) -> Rng {
    Rng::counter(mix(mix(seed) ^ tag))
}

/// `n` latents of `dim` values, N(0, 1), row after row from the stream of `seed` (Box–Muller
/// on its uniforms): row `i` does not depend on `n`.
///
/// ```
/// use museroll_models::sample::latents;
/// let three = latents(7, 3, 5);
/// assert_eq!(three.len(), 15);
/// assert_eq!(latents(7, 1, 5), three[..5]);
/// assert_ne!(latents(8, 1, 5), three[..5]);
/// ```
pub fn latents(seed: u64, n: usize, dim: usize) -> Vec<f32> {
    stream(seed, LATENT_TAG).normals(n, dim)
}

/// The latents of `n` pieces of `phrases` phrases, `[n, phrases, dim]` row-major, for a
/// temporal generator whose flat latent has its `fixed` time-independent entries first.
///
/// Phrase 0 of piece `i` is [`latents`]`(seed, ·, dim)` row `i` — a long piece starts as the
/// one-phrase sample of its seed. Phrase `p ≥ 1` keeps phrase 0's time-independent entries (the
/// generator uses phrase 0's anyway) and draws its time-dependent entries `e` as
/// `ρ·e(p − 1) + √(1 − ρ²)·ε` with `ε` fresh N(0, 1) from a stream of `(seed, p)` and
/// `ρ = continuity`: each phrase's latent is still N(0, 1), as in training, and neighbours
/// are correlated by `ρ` (0: independent phrases; near 1: the same phrase again and again).
/// Row `i` does not depend on `n`, and the first `p` phrases not on `phrases`.
///
/// # Errors
/// [`Error::Usage`] for a continuity outside [0, 1) or `fixed > dim`.
///
/// ```
/// use museroll_models::sample::{latents, piece_latents};
/// let z = piece_latents(3, 2, 4, 6, 2, 0.5)?;
/// assert_eq!(z.len(), 2 * 4 * 6);
/// // Piece 1 starts with the seed's latent 1 and keeps its time-independent entries.
/// assert_eq!(z[24..30], latents(3, 2, 6)[6..]);
/// assert_eq!(z[30..32], z[24..26]);
/// assert_ne!(z[32..36], z[26..30]);
/// # Ok::<(), museroll_models::Error>(())
/// ```
pub fn piece_latents(
    seed: u64,
    n: usize,
    phrases: usize,
    dim: usize,
    fixed: usize,
    continuity: f64,
) -> Result<Vec<f32>, Error> {
    check_continuity(continuity)?;
    if fixed > dim {
        return Err(Error::Usage(format!(
            "{fixed} time-independent entries in a latent of {dim}"
        )));
    }
    let first = latents(seed, n, dim);
    let fresh: Vec<Vec<f32>> = (1..phrases)
        .map(|p| stream(seed, PHRASE_TAG ^ p as u64).normals(n, dim - fixed))
        .collect();
    let keep = continuity as f32;
    let new = (1.0 - continuity * continuity).sqrt() as f32;
    let mut out = Vec::with_capacity(n * phrases * dim);
    for i in 0..n {
        let row = &first[i * dim..(i + 1) * dim];
        out.extend_from_slice(row);
        let mut previous = row[fixed..].to_vec();
        for eps in &fresh {
            let eps = &eps[i * (dim - fixed)..(i + 1) * (dim - fixed)];
            for (e, &x) in previous.iter_mut().zip(eps) {
                *e = keep * *e + new * x;
            }
            out.extend_from_slice(&row[..fixed]);
            out.extend_from_slice(&previous);
        }
    }
    Ok(out)
}

pub(crate) fn check_continuity(continuity: f64) -> Result<(), Error> {
    if (0.0..1.0).contains(&continuity) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "continuity {continuity}: expected a correlation from 0 (independent phrases) up to \
             but not including 1"
        )))
    }
}

/// `k / (steps − 1)`: the position of step `k` of `steps ≥ 2` on a path.
pub fn fraction(k: usize, steps: usize) -> f64 {
    k as f64 / (steps - 1) as f64
}

/// Checks the steps of a path ([`PATH_STEPS`]) or a grid's side ([`GRID_STEPS`]).
pub(crate) fn check_steps(steps: usize, (what, max): (&str, usize)) -> Result<(), Error> {
    if (2..=max).contains(&steps) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{what} has 2 to {max} steps, not {steps}"
        )))
    }
}

/// An interpolation's name in messages and its most steps.
pub(crate) const PATH_STEPS: (&str, usize) = ("an interpolation", MAX_INTERPOLATION_STEPS);
/// A latent grid's name in messages and the most steps of its side.
pub(crate) const GRID_STEPS: (&str, usize) = ("a latent grid", MAX_GRID_STEPS);

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[f32]) -> f64 {
        v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt()
    }

    #[test]
    fn lerp_and_slerp_of_hand_worked_vectors() {
        let (a, b) = ([1.0f32, 0.0], [0.0f32, 1.0]);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        // Orthogonal unit vectors: Ω = π/2, so the weights at t are cos(tπ/2) and sin(tπ/2).
        let mid = slerp(&a, &b, 0.5).unwrap();
        assert!((f64::from(mid[0]) - h).abs() < 1e-7 && (f64::from(mid[1]) - h).abs() < 1e-7);
        let third = slerp(&a, &b, 1.0 / 3.0).unwrap();
        let (c, s) = (std::f64::consts::FRAC_PI_6.cos(), 0.5);
        assert!((f64::from(third[0]) - c).abs() < 1e-7, "{third:?}");
        assert!((f64::from(third[1]) - s).abs() < 1e-7, "{third:?}");
        assert_eq!(lerp(&a, &b, 0.5).unwrap(), [0.5, 0.5]);
        // Endpoints are the latents themselves.
        assert_eq!(slerp(&a, &b, 0.0).unwrap(), a);
        assert_eq!(slerp(&a, &b, 1.0).unwrap(), b);
        // Vectors at 60° of norm 2: the midpoint is on the bisector with norm 2.
        let (p, q) = ([2.0f32, 0.0], [1.0f32, 3f32.sqrt()]);
        let m = slerp(&p, &q, 0.5).unwrap();
        assert!((norm(&m) - 2.0).abs() < 1e-6, "{m:?}");
        assert!((f64::from(m[1]) / f64::from(m[0]) - (30f64).to_radians().tan()).abs() < 1e-6);
        // Parallel, opposite or zero latents: the great circle is undefined, the line is used.
        for (x, y) in [
            ([1.0f32, 1.0], [2.0f32, 2.0]),
            ([1.0, 0.0], [-1.0, 0.0]),
            ([0.0, 0.0], [1.0, 2.0]),
        ] {
            assert_eq!(slerp(&x, &y, 0.25).unwrap(), lerp(&x, &y, 0.25).unwrap());
        }
        let err = slerp(&[1.0], &[1.0, 2.0], 0.5).unwrap_err().to_string();
        assert!(err.contains("latents of 1 and 2 values"), "{err}");
    }

    #[test]
    fn slerp_keeps_the_norm_of_gaussian_latents_where_lerp_shrinks_it() {
        let (a, b) = (latents(3, 1, 128), latents(4, 1, 128));
        let (na, nb) = (norm(&a), norm(&b));
        for k in 0..=10 {
            let t = f64::from(k) / 10.0;
            let s = norm(&slerp(&a, &b, t).unwrap());
            assert!(
                s > na.min(nb) * 0.97 && s < na.max(nb) * 1.03,
                "t {t}: {s} vs {na}, {nb}"
            );
        }
        // Nearly orthogonal in 128 dimensions: the line's midpoint has about 1/√2 of the norm.
        let l = norm(&lerp(&a, &b, 0.5).unwrap());
        assert!(l < 0.8 * na.min(nb), "{l} vs {na}, {nb}");
    }

    #[test]
    fn latents_are_standard_normal_and_depend_on_the_seed_only() {
        let z = latents(11, 100, 100);
        let n = z.len() as f64;
        let mean = z.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = z
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
        assert_eq!(latents(11, 2, 100), z[..200]);
        assert_ne!(latents(12, 1, 100), z[..100]);
        assert_eq!(latents(11, 1, 3).len(), 3);
    }

    /// Pearson correlation of two equally long vectors.
    fn correlation(x: &[f32], y: &[f32]) -> f64 {
        let n = x.len() as f64;
        let mean = |v: &[f32]| v.iter().map(|&a| f64::from(a)).sum::<f64>() / n;
        let (mx, my) = (mean(x), mean(y));
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (&a, &b) in x.iter().zip(y) {
            let (a, b) = (f64::from(a) - mx, f64::from(b) - my);
            sxy += a * b;
            sxx += a * a;
            syy += b * b;
        }
        sxy / (sxx * syy).sqrt()
    }

    #[test]
    fn piece_latents_are_an_ar1_walk_with_standard_normal_phrases() {
        let (dim, fixed) = (4000, 1000);
        let z = piece_latents(5, 1, 4, dim, fixed, 0.6).unwrap();
        let phrase = |p: usize| &z[p * dim + fixed..(p + 1) * dim];
        // Lag-k correlation ρ^k; each phrase's entries stay N(0, 1).
        assert!((correlation(phrase(0), phrase(1)) - 0.6).abs() < 0.05);
        assert!((correlation(phrase(1), phrase(2)) - 0.6).abs() < 0.05);
        assert!((correlation(phrase(0), phrase(2)) - 0.36).abs() < 0.05);
        for p in 0..4 {
            let v = phrase(p);
            let var = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len() as f64;
            assert!((var - 1.0).abs() < 0.08, "phrase {p}: variance {var}");
            assert_eq!(
                z[p * dim..p * dim + fixed],
                z[..fixed],
                "time-independent part"
            );
        }
        // Continuity 0: independent phrases; the first phrases do not depend on the count.
        let free = piece_latents(5, 1, 4, dim, fixed, 0.0).unwrap();
        assert!(correlation(&free[fixed..dim], &free[dim + fixed..2 * dim]).abs() < 0.05);
        assert_eq!(
            piece_latents(5, 1, 2, dim, fixed, 0.6).unwrap(),
            z[..2 * dim]
        );
        assert_eq!(
            piece_latents(5, 1, 1, dim, fixed, 0.6).unwrap(),
            latents(5, 1, dim)
        );
        assert!(piece_latents(5, 1, 2, 10, 11, 0.0).is_err());
        assert!(piece_latents(5, 1, 2, 10, 2, 1.0).is_err());
    }

    #[test]
    fn walk_choices_parse_their_names_and_list_them_when_unknown() {
        assert_eq!(
            "slerp".parse::<Interpolation>().unwrap(),
            Interpolation::Slerp
        );
        assert_eq!(
            "fixed-temporal".parse::<LatentGrid>().unwrap(),
            LatentGrid::FixedTemporal
        );
        let err = "inter".parse::<LatentGrid>().unwrap_err().to_string();
        assert!(
            err.contains("unknown latent grid 'inter' (expected inter-intra or fixed-temporal)"),
            "{err}"
        );
    }
}
