//! Percentile-bootstrap confidence intervals for the mean of per-phrase values.
//!
//! The values are resampled with replacement `resamples` times, each resample's mean is taken,
//! and the interval at `level` (e.g. 0.95) runs from the (1 − level)/2 to the (1 + level)/2
//! quantile of those means, quantiles interpolated linearly between order statistics (NumPy's
//! default). NaN values (a metric undefined for a phrase) are left out first, as the metrics'
//! means leave them out. The draws come from a generator seeded by `seed`, so an interval is the
//! same on every run and machine.
//!
//! ```
//! use museroll_core::evaluation::bootstrap::bootstrap_mean;
//! let values: Vec<f64> = (0..200).map(|i| (i % 10) as f64).collect();
//! let ci = bootstrap_mean(&values, 2000, 0.95, 16).unwrap();
//! assert_eq!(ci.mean, 4.5);
//! assert!(ci.low < 4.5 && 4.5 < ci.high && ci.high - ci.low < 1.0);
//! assert_eq!(ci, bootstrap_mean(&values, 2000, 0.95, 16).unwrap()); // deterministic
//! ```

use crate::error::{Error, Result};
use crate::rng::Rng;

/// A mean and its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ConfidenceInterval {
    /// The mean of the values.
    pub mean: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
    /// The confidence level, e.g. 0.95.
    pub level: f64,
    /// The values used (NaN ones left out).
    pub values: usize,
    /// Bootstrap resamples drawn.
    pub resamples: usize,
}

/// The mean of `values` (NaN ones left out) with its percentile-bootstrap confidence interval
/// at `level`, from `resamples` resamples drawn with a generator seeded by `seed`.
///
/// # Errors
/// [`Error::Invalid`] when no value is left, a value is infinite, `resamples` is 0, or `level`
/// is not strictly between 0 and 1.
pub fn bootstrap_mean(
    values: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
) -> Result<ConfidenceInterval> {
    let values: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if values.is_empty() {
        return Err(Error::Invalid(
            "bootstrap: no value to average (the set is empty or every value is NaN)".into(),
        ));
    }
    if values.iter().any(|v| v.is_infinite()) {
        return Err(Error::Invalid("bootstrap: a value is infinite".into()));
    }
    if resamples == 0 {
        return Err(Error::Invalid("bootstrap: 0 resamples".into()));
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::Invalid(format!(
            "bootstrap: the confidence level {level} is not between 0 and 1"
        )));
    }
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut rng = Rng::new(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| values[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    Ok(ConfidenceInterval {
        mean,
        low: quantile(&means, (1.0 - level) / 2.0),
        high: quantile(&means, (1.0 + level) / 2.0),
        level,
        values: n,
        resamples,
    })
}

/// The `q` quantile of `sorted` (not empty), interpolated linearly between order statistics.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let sorted = [0.0, 10.0, 20.0];
        assert_eq!(quantile(&sorted, 0.0), 0.0);
        assert_eq!(quantile(&sorted, 0.25), 5.0);
        assert_eq!(quantile(&sorted, 1.0), 20.0);
    }
}
