//! Yang & Lerch's features on a hand-worked phrase, the density comparison's properties, errors,
//! and a cross-check against an independent NumPy/SciPy implementation
//! (`fixtures/yang_lerch/make_reference.py`).

use museroll_core::evaluation::yang_lerch::{
    compare, compare_densities, features, Feature, Features,
};
use museroll_core::metrics::{PhraseShape, PhraseView};
use museroll_core::{Pitch, Resolution};
use serde_json::Value;

fn shape(samples: usize, tracks: usize, bars: usize, steps: usize, lowest: u8) -> PhraseShape {
    PhraseShape {
        samples,
        tracks,
        bars,
        steps_per_bar: steps,
        pitches: 36,
        lowest_pitch: Pitch::new(lowest).unwrap(),
        resolution: Resolution::new(4).unwrap(),
    }
}

fn features_of(cells: &[u8], shape: PhraseShape, tracks: &[usize]) -> Features {
    let drums = vec![false; shape.tracks];
    features(&PhraseView::new(cells, shape, &drums).unwrap(), tracks).unwrap()
}

#[test]
fn features_of_a_hand_worked_phrase() {
    // one bar of 16 steps: C4 E4 (quarters) G4 (half) over a held C3 in the second track
    let s = shape(1, 2, 1, 16, 36);
    let mut cells = vec![0u8; s.cells().unwrap()];
    let mut note = |track: usize, pitch: usize, start: usize, end: usize| {
        for t in start..end {
            cells[(track * 16 + t) * 36 + pitch - 36] = 1;
        }
    };
    note(0, 60, 0, 4);
    note(0, 64, 4, 8);
    note(0, 67, 8, 16);
    note(1, 48, 0, 16);
    let f = features_of(&cells, s, &[0, 1]);
    let get = |feature| f.get(feature, 0).unwrap().to_vec();
    assert_eq!(get(Feature::PitchCount), [4.0]);
    assert_eq!(get(Feature::PitchCountPerBar), [4.0]);
    // cells: C 4 + 16, E 4, G 8 of 32
    let mut pch = vec![0.0; 12];
    (pch[0], pch[4], pch[7]) = (0.625, 0.125, 0.25);
    assert_eq!(get(Feature::PitchClassHistogram), pch);
    assert_eq!(get(Feature::PitchClassHistogramPerBar), pch);
    // C→E and E→G in the upper track; the held C3 has no successor
    let mut pctm = vec![0.0; 144];
    (pctm[4], pctm[4 * 12 + 7]) = (0.5, 0.5);
    assert_eq!(get(Feature::PitchClassTransitions), pctm);
    assert_eq!(get(Feature::PitchRange), [19.0]); // C3..G4
    assert_eq!(get(Feature::PitchInterval), [3.5]); // 4 and 3 semitones
    assert_eq!(get(Feature::NoteCount), [4.0]);
    assert_eq!(get(Feature::NoteCountPerBar), [4.0]);
    assert_eq!(get(Feature::InterOnsetInterval), [1.0]); // onsets 0, 4, 8: a beat apart
                                                         // whole (the C3), half, two quarters
    let mut nlh = vec![0.0; 12];
    (nlh[0], nlh[1], nlh[2]) = (0.25, 0.25, 0.5);
    assert_eq!(get(Feature::NoteLengthHistogram), nlh);
    // quarter → quarter, quarter → half
    let mut nltm = vec![0.0; 144];
    (nltm[2 * 12 + 2], nltm[2 * 12 + 1]) = (0.5, 0.5);
    assert_eq!(get(Feature::NoteLengthTransitions), nltm);

    // the upper track alone
    let upper = features_of(&cells, s, &[0]);
    assert_eq!(upper.get(Feature::PitchRange, 0).unwrap(), [7.0]);
    assert_eq!(upper.get(Feature::NoteCount, 0).unwrap(), [3.0]);
    assert!(upper.get(Feature::NoteCount, 1).is_none());
}

#[test]
fn identical_distributions_overlap_fully_disjoint_ones_not_at_all() {
    let p: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 / 10.0).collect();
    let same = compare_densities(&p, &p).unwrap();
    assert!((same.overlap_area - 1.0).abs() < 1e-6, "{same:?}");
    assert!(same.kl_divergence.abs() < 1e-12, "{same:?}");
    let far: Vec<f64> = p.iter().map(|x| x + 50.0).collect();
    let apart = compare_densities(&p, &far).unwrap();
    assert!(apart.overlap_area < 1e-6, "{apart:?}");
    // a half-shifted copy overlaps partly
    let near: Vec<f64> = p.iter().map(|x| x + 5.0).collect();
    let partly = compare_densities(&p, &near).unwrap().overlap_area;
    assert!(partly > 0.3 && partly < 0.7, "{partly}");
}

#[test]
fn the_kl_divergence_uses_one_grid() {
    // q is p shifted: on two grids, each over its own sample's range (the reference code's bug),
    // both densities would be the same vector and the divergence 0
    let p: Vec<f64> = (0..50)
        .map(|i| (i % 7) as f64 + (i % 3) as f64 * 0.5)
        .collect();
    let q: Vec<f64> = p.iter().map(|x| x + 20.0).collect();
    let c = compare_densities(&p, &q).unwrap();
    assert!(c.kl_divergence > 10.0, "{c:?}");
    assert!(c.grid.low < 0.0 && c.grid.high > 26.0, "{c:?}");
    assert_eq!(c.grid.points, 1000);
    // and it is asymmetric on the grid, as KL is (each density has its own bandwidth)
    let wide: Vec<f64> = p.iter().map(|x| x * 3.0).collect();
    let (pq, qp) = (
        compare_densities(&p, &wide).unwrap().kl_divergence,
        compare_densities(&wide, &p).unwrap().kl_divergence,
    );
    assert!((pq - qp).abs() > 1e-3, "{pq} {qp}");
}

#[test]
fn constant_distances_get_a_fallback_bandwidth() {
    let same = compare_densities(&[2.0; 10], &[2.0; 10]).unwrap();
    assert!((same.overlap_area - 1.0).abs() < 1e-6, "{same:?}");
    assert_eq!(same.bandwidths, [0.02, 0.02]); // 1 % of max(1, |2|)
    let mixed = compare_densities(&[0.0; 10], &[0.0, 1.0, 2.0, 3.0]).unwrap();
    assert_eq!(mixed.bandwidths[0], 0.03); // 1 % of the span 0..3
    assert!(
        mixed.overlap_area > 0.0 && mixed.overlap_area < 0.5,
        "{mixed:?}"
    );
}

#[test]
fn bad_inputs_get_one_line_errors() {
    let msg = |r: museroll_core::Result<_>| -> String {
        let e: museroll_core::Error = r.map(|_: ()| ()).unwrap_err();
        e.to_string()
    };
    assert_eq!(
        msg(compare_densities(&[], &[1.0]).map(|_| ())),
        "invalid value: density of p: no value"
    );
    assert!(msg(compare_densities(&[1.0], &[f64::NAN]).map(|_| ())).contains("not finite"));

    let s = shape(0, 2, 1, 16, 36);
    let view = PhraseView::<u8>::new(&[], s, &[false, false]).unwrap();
    assert_eq!(
        msg(features(&view, &[0]).map(|_| ())),
        "invalid value: Yang & Lerch features: the set of phrases is empty"
    );
    let one = shape(1, 2, 1, 16, 36);
    let cells = vec![0u8; one.cells().unwrap()];
    let view = PhraseView::new(&cells, one, &[false, false]).unwrap();
    assert!(msg(features(&view, &[]).map(|_| ())).contains("no track"));
    assert!(msg(features(&view, &[2]).map(|_| ())).contains("track 2 chosen"));

    let single = features(&view, &[0]).unwrap();
    let two = shape(2, 2, 1, 16, 36);
    let pair = features_of(&vec![0u8; two.cells().unwrap()], two, &[0]);
    assert!(msg(compare(&single, &pair).map(|_| ())).contains("set A has 1 phrase(s)"));
    let longer = shape(2, 2, 2, 16, 36);
    let other = features_of(&vec![0u8; longer.cells().unwrap()], longer, &[0]);
    assert!(msg(compare(&pair, &other).map(|_| ())).contains("phrases of 1 bars"));
}

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/yang_lerch/reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Asserts `got` is `want` up to a relative (or, near 0, absolute) tolerance.
fn close(got: f64, want: f64, tolerance: f64, what: &str) {
    let scale = want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tolerance * scale,
        "{what}: {got} vs the reference's {want}"
    );
}

#[test]
fn matches_the_numpy_scipy_reference() {
    let reference = fixture();
    let sh = &reference["shape"];
    let n = |v: &Value| v.as_u64().unwrap() as usize;
    let chosen: Vec<usize> = reference["chosen_tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(n)
        .collect();
    let set = |name: &str| {
        let entry = &reference["sets"][name];
        let shape = PhraseShape {
            samples: n(&entry["samples"]),
            tracks: n(&sh["tracks"]),
            bars: n(&sh["bars"]),
            steps_per_bar: n(&sh["steps_per_bar"]),
            pitches: n(&sh["pitches"]),
            lowest_pitch: Pitch::new(n(&sh["lowest_pitch"]) as u8).unwrap(),
            resolution: Resolution::new(n(&sh["resolution"]) as u32).unwrap(),
        };
        let mut cells = vec![0u8; shape.cells().unwrap()];
        for i in entry["active"].as_array().unwrap() {
            cells[n(i)] = 1;
        }
        features_of(&cells, shape, &chosen)
    };
    let (a, b) = (set("a"), set("b"));
    for (name, f) in [("a", &a), ("b", &b)] {
        for feature in Feature::ALL {
            let want = reference["features"][name][feature.name()]
                .as_array()
                .unwrap();
            assert_eq!(want.len(), f.phrases());
            for (phrase, want) in want.iter().enumerate() {
                let got = f.get(feature, phrase).unwrap();
                let want: Vec<f64> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                assert_eq!(got.len(), want.len(), "{} {phrase}", feature.name());
                for (g, w) in got.iter().zip(&want) {
                    close(
                        *g,
                        *w,
                        1e-12,
                        &format!("set {name} {} {phrase}", feature.name()),
                    );
                }
            }
        }
    }
    let comparison = compare(&a, &b).unwrap();
    let want = reference["comparison"].as_array().unwrap();
    assert_eq!(comparison.len(), want.len());
    for (got, want) in comparison.iter().zip(want) {
        let name = got.feature.name();
        assert_eq!(want["feature"], name);
        for (distances, key) in [
            (&got.intra_a, "intra_a"),
            (&got.intra_b, "intra_b"),
            (&got.inter, "inter"),
        ] {
            let w = &want[key];
            assert_eq!(distances.count, n(&w["count"]), "{name} {key}");
            for (g, field) in [
                (distances.mean, "mean"),
                (distances.std, "std"),
                (distances.bandwidth, "bandwidth"),
            ] {
                close(
                    g,
                    w[field].as_f64().unwrap(),
                    1e-10,
                    &format!("{name} {key} {field}"),
                );
            }
        }
        close(
            got.grid.low,
            want["grid"]["low"].as_f64().unwrap(),
            1e-10,
            name,
        );
        close(
            got.grid.high,
            want["grid"]["high"].as_f64().unwrap(),
            1e-10,
            name,
        );
        for (g, field) in [
            (got.overlap_area_a, "overlap_area_a"),
            (got.kl_divergence_a, "kl_divergence_a"),
            (got.overlap_area_b, "overlap_area_b"),
            (got.kl_divergence_b, "kl_divergence_b"),
        ] {
            close(
                g,
                want[field].as_f64().unwrap(),
                1e-9,
                &format!("{name} {field}"),
            );
        }
    }
}
