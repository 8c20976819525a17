//! Generating from a trained model: the request every family answers, and the answer.
//!
//! A [`Sampler`] is loaded from a run's config and one weights file (see
//! [`crate::families::Family::sampler`]); it needs no optimiser, no dataset and no training
//! schedule — whatever inference state training reached (such as the refiner's annealed slope)
//! is stored with the weights. A [`SampleRequest`] says how many, from which seed, how long, how
//! to binarize and under which [`Condition`]: nothing, given tracks to accompany, or a time ×
//! pitch × track mask of cells to keep (inpainting). Families refuse what they cannot do with a
//! one-line [`crate::Error::Usage`].

mod latent;

pub(crate) use latent::{
    check_continuity, check_steps, stream, BERNOULLI_TAG, GRID_STEPS, PATH_STEPS,
};
pub use latent::{
    fraction, latents, lerp, piece_latents, slerp, Interpolation, LatentGrid, MAX_GRID_STEPS,
    MAX_INTERPOLATION_STEPS,
};

use museroll_core::metrics::PhraseShape;

use crate::engine::Music;
use crate::Error;

/// The most samples one request makes.
pub const MAX_SAMPLES: usize = 256;
/// The most bars of a generated piece.
pub const MAX_BARS: usize = 256;

/// How a model's probabilities become a piano-roll of 0s and 1s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binarize {
    /// `ht`: a cell sounds where its probability is above 0.5.
    Hard,
    /// `bs`: a cell sounds with its probability (Bernoulli sampling, seeded).
    Bernoulli,
    /// `refiner`: the trained refiner's binary neurons on G's output.
    Refiner,
}

choice!(Binarize, "binarization", { Hard => "ht", Bernoulli => "bs", Refiner => "refiner" });

/// What the samples must agree with.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Condition {
    /// Free generation.
    #[default]
    None,
    /// Accompaniment: the tracks marked in `given` are taken from `roll` exactly and the others
    /// generated to go with them. `roll` holds one piece's cells `[tracks, bars, steps, pitches]`.
    Tracks {
        /// The given piece.
        roll: Vec<u8>,
        /// One flag per track: given (kept) or generated.
        given: Vec<bool>,
    },
    /// Inpainting: cells where `keep` is set are taken from `roll` exactly, the others
    /// generated. Both are `[tracks, bars, steps, pitches]`.
    Mask {
        /// The given piece.
        roll: Vec<u8>,
        /// One flag per cell: kept or generated.
        keep: Vec<bool>,
    },
}

impl Condition {
    /// Its name in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "free generation",
            Self::Tracks { .. } => "given tracks (accompaniment)",
            Self::Mask { .. } => "a mask of kept cells (inpainting)",
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRequest {
    /// Number of samples, 1 to [`MAX_SAMPLES`].
    pub n: usize,
    /// Seed of every random draw: the same request with the same seed gives the same samples.
    pub seed: u64,
    /// The binarization (`None`: the sampler's default).
    pub binarize: Option<Binarize>,
    /// Bars of each sample, 1 to [`MAX_BARS`] (`None`: one phrase).
    pub bars: Option<usize>,
    /// For pieces longer than a phrase: the correlation, in [0, 1), of consecutive phrases'
    /// time-dependent latents (see [`piece_latents`]).
    pub continuity: f64,
    /// What the samples must agree with.
    pub condition: Condition,
}

impl SampleRequest {
    /// `n` free samples of one phrase from `seed`, the default binarization.
    pub fn new(n: usize, seed: u64) -> Self {
        Self {
            n,
            seed,
            binarize: None,
            bars: None,
            continuity: 0.0,
            condition: Condition::None,
        }
    }

    /// Checks the request on its own: 1 to [`MAX_SAMPLES`] samples, 1 to [`MAX_BARS`] bars, a
    /// continuity in [0, 1).
    ///
    /// # Errors
    /// [`Error::Usage`] saying which value is out of range.
    pub fn validate(&self) -> Result<(), Error> {
        let n = self.n;
        if !(1..=MAX_SAMPLES).contains(&n) {
            return Err(Error::Usage(format!(
                "{n} samples asked for: generate 1 to {MAX_SAMPLES}"
            )));
        }
        if let Some(bars) = self.bars {
            check_bars(bars)?;
        }
        check_continuity(self.continuity)
    }
}

/// Checks the length of a piece.
pub(crate) fn check_bars(bars: usize) -> Result<(), Error> {
    if (1..=MAX_BARS).contains(&bars) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{bars} bars asked for: a piece has 1 to {MAX_BARS} bars"
        )))
    }
}

/// A walk through a model's latent space from the latent of `seed` to that of `seed + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkRequest {
    /// The seed of the first end (the other is `seed + 1`).
    pub seed: u64,
    /// The path.
    pub kind: Interpolation,
    /// Phrases of the path (2 to [`MAX_INTERPOLATION_STEPS`]), or of a side of the grid (2 to
    /// [`MAX_GRID_STEPS`]).
    pub steps: usize,
    /// A grid of `steps × steps` phrases over two groups of latents instead of one path.
    pub grid: Option<LatentGrid>,
    /// The binarization (`None`: the sampler's default).
    pub binarize: Option<Binarize>,
}

/// Generated pieces: binary cells laid out `[n, tracks, bars, steps, pitches]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// The cells, 0 or 1.
    pub cells: Vec<u8>,
    /// Their layout (`samples` = n, `bars` = the bars of each piece).
    pub shape: PhraseShape,
    /// The binarization used.
    pub binarize: Binarize,
}

/// A trained model ready to generate.
pub trait Sampler {
    /// What the samples are: phrase shape, tracks, tempo.
    fn music(&self) -> &Music;

    /// The binarization used when a request names none.
    fn default_binarize(&self) -> Binarize;

    /// What is worth knowing about these weights (e.g. an untrained refiner), one line each.
    fn notes(&self) -> Vec<String>;

    /// Generates what `request` asks for.
    ///
    /// # Errors
    /// [`Error::Usage`] for a request this model cannot do (a condition it does not take, a
    /// binarization it has no network for, pieces longer than it can continue); errors of the
    /// networks.
    fn sample(&self, request: &SampleRequest) -> Result<Samples, Error>;

    /// Generates the phrases of a walk through the latent space: `steps` phrases along the path,
    /// or `steps²` phrases of a grid row by row.
    ///
    /// # Errors
    /// [`Error::Usage`] for a model without a latent space to walk, or a walk it cannot do.
    fn walk(&self, request: &WalkRequest) -> Result<Samples, Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binarizations_parse_their_names_and_list_them_when_unknown() {
        for b in Binarize::ALL {
            assert_eq!(b.name().parse::<Binarize>().unwrap(), *b);
        }
        let err = "x".parse::<Binarize>().unwrap_err().to_string();
        assert_eq!(err, "unknown binarization 'x' (expected ht, bs or refiner)");
    }

    #[test]
    fn requests_out_of_range_name_the_value() {
        assert!(SampleRequest::new(1, 0).validate().is_ok());
        let err = SampleRequest::new(0, 0).validate().unwrap_err().to_string();
        assert_eq!(err, "0 samples asked for: generate 1 to 256");
        let mut r = SampleRequest::new(2, 0);
        r.bars = Some(257);
        assert_eq!(
            r.validate().unwrap_err().to_string(),
            "257 bars asked for: a piece has 1 to 256 bars"
        );
        r.bars = Some(8);
        r.continuity = 1.0;
        assert!(r
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("continuity 1"));
    }
}
