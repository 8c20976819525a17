//! Bootstrap confidence intervals: width against the normal approximation, NaN values left out,
//! determinism, and one-line errors.

use museroll_core::evaluation::bootstrap::bootstrap_mean;

#[test]
fn the_interval_is_about_the_normal_one() {
    // 400 values, uniform-ish on 0..1: σ ≈ 0.2887, so the 95 % interval of the mean is about
    // ±1.96 σ / √400 = ±0.0283
    let values: Vec<f64> = (0..400).map(|i| ((i * 97) % 400) as f64 / 400.0).collect();
    let ci = bootstrap_mean(&values, 4000, 0.95, 1).unwrap();
    let half = (ci.high - ci.low) / 2.0;
    assert!((half - 0.0283).abs() < 0.003, "{ci:?}");
    assert!(ci.low < ci.mean && ci.mean < ci.high);
    assert!((ci.mean - 0.49875).abs() < 1e-12);
    // a lower level gives a narrower interval
    let narrow = bootstrap_mean(&values, 4000, 0.5, 1).unwrap();
    assert!(narrow.high - narrow.low < ci.high - ci.low);
    // another seed, another (but close) interval
    let other = bootstrap_mean(&values, 4000, 0.95, 2).unwrap();
    assert_ne!(other, ci);
    assert!((other.low - ci.low).abs() < 0.005);
}

#[test]
fn constant_values_give_a_point_and_nan_values_are_left_out() {
    let ci = bootstrap_mean(&[3.0, f64::NAN, 3.0, 3.0], 100, 0.95, 0).unwrap();
    assert_eq!(
        (ci.mean, ci.low, ci.high, ci.values, ci.resamples),
        (3.0, 3.0, 3.0, 3, 100)
    );
}

#[test]
fn bad_inputs_get_one_line_errors() {
    let e = |r: museroll_core::Result<_>| r.map(|_| ()).unwrap_err().to_string();
    assert_eq!(
        e(bootstrap_mean(&[], 100, 0.95, 0)),
        "invalid value: bootstrap: no value to average (the set is empty or every value is NaN)"
    );
    assert!(e(bootstrap_mean(&[f64::NAN], 100, 0.95, 0)).contains("no value"));
    assert!(e(bootstrap_mean(&[f64::INFINITY], 100, 0.95, 0)).contains("infinite"));
    assert!(e(bootstrap_mean(&[1.0], 0, 0.95, 0)).contains("0 resamples"));
    assert!(e(bootstrap_mean(&[1.0], 10, 1.0, 0)).contains("level 1"));
    assert!(e(bootstrap_mean(&[1.0], 10, f64::NAN, 0)).contains("level NaN"));
}
