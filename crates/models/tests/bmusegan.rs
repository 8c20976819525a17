//! BinaryMuseGAN networks: shapes of every preset and discriminator variant, the paper's
//! parameter counts, binary neurons and their straight-through gradients, the chroma and onset
//! features on worked examples, errors for bad shapes.

use std::sync::Mutex;

use museroll_models::families::bmusegan::summary;
use museroll_models::{
    binary_neuron, chroma_feature, gradient_penalty, onset_feature, BinaryMuseGanConfig,
    BinaryNeuronKind, Discriminator, DiscriminatorVariant, Error, Generator, ModelSummary, Refiner,
};
use tch::{nn, Device, Kind, Tensor};

/// libtorch's random generator is global: the tests that draw from it (a seed, new variables)
/// hold this lock, so that a seeded test sees only its own draws whatever runs beside it.
static SERIAL: Mutex<()> = Mutex::new(());

const F32: (Kind, Device) = (Kind::Float, Device::Cpu);
const F64: (Kind, Device) = (Kind::Double, Device::Cpu);
const VARIANTS: [DiscriminatorVariant; 3] = [
    DiscriminatorVariant::Proposed,
    DiscriminatorVariant::AblatedI,
    DiscriminatorVariant::AblatedII,
];

fn trainable_params(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// G, R and every D variant of `cfg` on a batch of 2: shapes as documented and as summarised,
/// summarised parameter counts equal to what the VarStores hold.
fn check_shapes(cfg: &BinaryMuseGanConfig) {
    let [t, bars, steps, pitches] = cfg.sample_shape();
    let roll = [2, t, bars, steps, pitches];
    tch::manual_seed(1);

    let vs = nn::VarStore::new(Device::Cpu);
    let g = Generator::new(&vs.root(), cfg).unwrap();
    let z = Tensor::randn([2, i64::from(cfg.latent)], F32);
    let x = g.forward_t(&z, true).unwrap();
    assert_eq!(x.size(), roll);
    let (lo, hi) = (x.min().double_value(&[]), x.max().double_value(&[]));
    assert!(0.0 < lo && hi < 1.0, "sigmoid output in ({lo}, {hi})");
    let eval = tch::no_grad(|| g.forward_t(&z, false)).unwrap();
    assert_eq!(eval.size(), roll);
    assert_eq!(g.summary().output_shape, roll[1..]);
    assert_eq!(g.summary().params, trainable_params(&vs));

    let vs = nn::VarStore::new(Device::Cpu);
    let r = Refiner::new(&vs.root(), cfg).unwrap();
    let y = r.forward_t(&x, true).unwrap();
    assert_eq!(y.size(), roll);
    let ones = y.eq(1.0).sum(Kind::Int64).int64_value(&[]);
    let zeros = y.eq(0.0).sum(Kind::Int64).int64_value(&[]);
    assert_eq!(
        ones + zeros,
        y.numel() as i64,
        "the refiner's output is binary"
    );
    assert_eq!(r.summary().params, trainable_params(&vs));

    for variant in VARIANTS {
        let cfg = BinaryMuseGanConfig {
            discriminator: variant,
            ..cfg.clone()
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let d = Discriminator::new(&vs.root(), &cfg).unwrap();
        assert_eq!(d.forward_t(&y, true).unwrap().size(), [2, 1], "{variant:?}");
        assert_eq!(d.summary().params, trainable_params(&vs), "{variant:?}");
    }
}

#[test]
fn tiny_networks_have_the_documented_shapes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    check_shapes(&BinaryMuseGanConfig::tiny());
}

#[test]
fn chorale_networks_have_the_documented_shapes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    check_shapes(&BinaryMuseGanConfig::chorale());
}

/// The paper-sized networks at batch 2 (about a second on a loaded CPU).
#[test]
fn paper_networks_have_the_documented_shapes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(1);
    let cfg = BinaryMuseGanConfig::bmusegan();
    let vs = nn::VarStore::new(Device::Cpu);
    let g = Generator::new(&(vs.root() / "g"), &cfg).unwrap();
    let x = tch::no_grad(|| g.forward_t(&Tensor::randn([2, 128], F32), false)).unwrap();
    assert_eq!(x.size(), [2, 8, 4, 96, 84]);
    let r = Refiner::new(&(vs.root() / "r"), &cfg).unwrap();
    let y = tch::no_grad(|| r.forward_t(&x, false)).unwrap();
    assert_eq!(y.size(), [2, 8, 4, 96, 84]);
    for variant in VARIANTS {
        let cfg = BinaryMuseGanConfig {
            discriminator: variant,
            ..cfg.clone()
        };
        let d = Discriminator::new(&(vs.root() / format!("{variant:?}")), &cfg).unwrap();
        let score = tch::no_grad(|| d.forward_t(&y, false)).unwrap();
        assert_eq!(score.size(), [2, 1], "{variant:?}");
    }
}

/// Parameter counts implied by Appendix Table 3 (every conv/tconv/dense has a bias; batch norm
/// has a scale and a shift per channel; T = 8 tracks):
///
/// Generator, shared: dense 128→1536: 128·1536 + 1536 = 198 144, BN 3 072;
/// tconv 512→256 k(2,1,1): 262 400 + BN 512; 256→128 k(1,4,1): 131 200 + 256;
/// 128→128 k(1,1,3): 49 280 + 256; 128→64 k(1,4,1): 32 832 + 128; 64→64 k(1,1,3): 12 352 + 128.
/// Shared total 690 560. Per track: pitch-time 64→64 k12: 49 216 + 128, 64→32 k6: 12 320 + 64;
/// time-pitch 64→64 k6: 24 640 + 128, 64→32 k12: 24 608 + 64; merged 64→1: 65 + 2; per track
/// 111 235, × 8 = 889 880. G = 1 580 440.
///
/// Discriminator, per track: 1→32 k12: 416, 32→64 k6: 12 352, 1→32 k6: 224, 32→64 k12: 24 640,
/// merge 128→64: 8 256; 45 888 × 8 = 367 104. Shared 512→128 k(1,4,3): 786 560, 128→256
/// k(1,4,3): 393 472. Onset 8→32 k6: 1 568, 32→64 k4: 8 256, 64→128 k4: 32 896 (42 720).
/// Chroma 8→64 k12: 6 208, 64→128 k4: 32 896 (39 104). Merge 512→512 k(2,1,1): 524 800;
/// dense 1536→1: 1 537. D = 2 155 297. Ablated-I: no onset/chroma, merge 256→512: 262 656,
/// D = 1 811 329. Ablated-II: 8→128 k12: 12 416, 128→128 k3: 49 280, 128→256 k6: 196 864,
/// 256→256 k4: 262 400, 256→512 k3: 393 728, 512→512 k4: 1 049 088, 512→1024 k(2,1,1):
/// 1 049 600, dense 3072→1: 3 073; D = 3 016 449.
///
/// The paper (§ 4) reports G + D = 3.7 M, 3.4 M and 4.6 M; musegan.md § 2.2 reproduces the same
/// three totals. The refiner is not in Table 3; from bmusegan's preset, per track and unit: BN(1)
/// 2, conv 1→64 k(1,3,12) 2 368, BN(64) 128, conv 64→1 k(1,3,12) 2 305; 4 803 × 2 units × 8
/// tracks = 76 848.
#[test]
fn paper_parameter_counts_match_table_3() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let counts = |variant| {
        let cfg = BinaryMuseGanConfig {
            discriminator: variant,
            ..BinaryMuseGanConfig::bmusegan()
        };
        let s = summary(&cfg).unwrap();
        let p: Vec<i64> = s.networks.iter().map(|n| n.params).collect();
        (p, s.params)
    };
    let (p, total) = counts(DiscriminatorVariant::Proposed);
    assert_eq!(p, [1_580_440, 76_848, 2_155_297]);
    assert_eq!(total, 1_580_440 + 76_848 + 2_155_297);
    assert_eq!(counts(DiscriminatorVariant::AblatedI).0[2], 1_811_329);
    assert_eq!(counts(DiscriminatorVariant::AblatedII).0[2], 3_016_449);
}

#[test]
fn summary_lists_layers_with_shapes_and_serialises() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Inferred (not run) input and output shapes of each network.
    let s = summary(&BinaryMuseGanConfig::bmusegan()).unwrap();
    let shapes: Vec<_> = s
        .networks
        .iter()
        .map(|n| (n.input_shape.clone(), n.output_shape.clone()))
        .collect();
    let roll = vec![8, 4, 96, 84];
    assert_eq!(
        shapes,
        [
            (vec![128], roll.clone()),
            (roll.clone(), roll.clone()),
            (roll, vec![1])
        ]
    );
    let g = &s.networks[0];
    let first = &g.layers[0];
    assert_eq!(
        (first.name.as_str(), first.op.as_str()),
        ("shared.0", "dense 1536 + BN + ReLU")
    );
    assert_eq!(
        (first.output_shape.clone(), first.params),
        (vec![1536], 201_216)
    );
    let pt = g
        .layers
        .iter()
        .find(|l| l.name == "pitch_time.*.0")
        .unwrap();
    assert_eq!(pt.output_shape, [64, 4, 16, 84]);
    assert_eq!((pt.params, pt.copies), (49_344, 8));
    let d = &s.networks[2];
    let chroma = d
        .layers
        .iter()
        .find(|l| l.name == "chroma_feature")
        .unwrap();
    assert_eq!(chroma.output_shape, [8, 4, 4, 12]);
    let last = d.layers.last().unwrap();
    assert_eq!(
        (last.op.as_str(), last.output_shape.clone()),
        ("dense 1", vec![1])
    );

    let json = serde_json::to_string(&s).unwrap();
    let back: ModelSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let text = s.to_string();
    assert!(text.contains("generator parameters: 1580440"), "{text}");
    assert!(text.ends_with("total parameters: 3812585\n"), "{text}");

    let no_refiner = BinaryMuseGanConfig {
        refiner: false,
        ..BinaryMuseGanConfig::tiny()
    };
    let names: Vec<String> = summary(&no_refiner)
        .unwrap()
        .networks
        .into_iter()
        .map(|n| n.network)
        .collect();
    assert_eq!(names, ["generator", "discriminator"]);
}

#[test]
fn variables_have_pytorch_state_dict_names() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let cfg = BinaryMuseGanConfig::tiny();
    Generator::new(&(&root / "g"), &cfg).unwrap();
    Discriminator::new(&(&root / "d"), &cfg).unwrap();
    let vars = vs.variables();
    for name in [
        "g.shared.0.dense.weight",
        "g.shared.0.bn.running_mean",
        "g.shared.2.tconv.bias",
        "g.pitch_time.1.0.tconv.weight",
        "g.merged.0.0.bn.weight",
        "d.time_pitch.1.1.conv.weight",
        "d.onset.2.conv.weight",
        "d.chroma.1.conv.bias",
        "d.merged.2.dense.weight",
    ] {
        assert!(vars.contains_key(name), "{name} missing");
    }
    // Running statistics are saved but not trained.
    let trainable = vs.trainable_variables().len();
    assert_eq!(
        vars.len() - trainable,
        2 * vars.keys().filter(|n| n.ends_with("running_var")).count()
    );
}

#[test]
fn dbn_output_is_exactly_binary_and_thresholds_at_zero() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(3);
    let x = Tensor::randn([1000], F32) * 3.0;
    let (b, p) = binary_neuron(&x, 1.7, BinaryNeuronKind::Dbn).unwrap();
    let want = x.gt(0.0).to_kind(Kind::Float);
    assert!(b.equal(&want), "DBN = 1[x > 0] exactly");
    assert!(p.allclose(&(&x * 1.7).sigmoid(), 1e-6, 1e-7, false));
}

/// The sigmoid-adjusted straight-through estimator: d/dx Σ BN(x) = slope·σ'(slope·x) with
/// σ' = σ(1 − σ), for both neurons.
#[test]
fn straight_through_gradient_is_the_sigmoid_derivative() {
    let slope = 2.5;
    for kind in [BinaryNeuronKind::Dbn, BinaryNeuronKind::Sbn] {
        let x = Tensor::from_slice(&[-3.0f64, -0.4, 0.0, 0.2, 1.5]).set_requires_grad(true);
        let (b, _) = binary_neuron(&x, slope, kind).unwrap();
        b.sum(Kind::Double).backward();
        let s = (&x * slope).sigmoid().detach();
        let want = (&s * (-&s + 1.0)) * slope;
        let got = x.grad();
        assert!(
            got.allclose(&want, 1e-12, 1e-15, false),
            "{kind:?}: {got} vs {want}"
        );
    }
}

/// SBN samples: at σ(slope·x) = 0.25 about a quarter of the outputs are 1 (50 000 draws: the
/// standard error of the mean is 0.002).
#[test]
fn sbn_fires_with_the_sigmoid_probability() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(11);
    let logit = (0.25f64 / 0.75).ln();
    let x = Tensor::full([50_000], logit / 2.0, F64);
    let (b, _) = binary_neuron(&x, 2.0, BinaryNeuronKind::Sbn).unwrap();
    let ones = b.eq(1.0).sum(Kind::Int64).int64_value(&[]);
    let zeros = b.eq(0.0).sum(Kind::Int64).int64_value(&[]);
    assert_eq!(ones + zeros, 50_000);
    let rate = ones as f64 / 50_000.0;
    assert!((rate - 0.25).abs() < 0.01, "rate {rate}");
    assert!(binary_neuron(&x, 0.0, BinaryNeuronKind::Sbn).is_err());
    assert!(binary_neuron(&x, f64::NAN, BinaryNeuronKind::Dbn).is_err());
}

#[test]
fn refiner_slope_is_settable_and_checked() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let vs = nn::VarStore::new(Device::Cpu);
    let mut r = Refiner::new(&vs.root(), &BinaryMuseGanConfig::tiny()).unwrap();
    assert_eq!(r.slope(), 1.0);
    r.set_slope(1.1).unwrap();
    assert_eq!(r.slope(), 1.1);
    assert!(matches!(r.set_slope(-1.0), Err(Error::Config(_))));
    assert_eq!(r.slope(), 1.1);
}

/// One track, one bar of 4 steps (2 beats of 2), 24 pitches from a C: C (index 0) and C an
/// octave up (index 12) in beat 0, E (4) and C♯ (13) in beat 1 — classes 0, 0, 4 and 1, not the
/// contiguous bins (index / 2) of the shipped metrics.
#[test]
fn chroma_feature_uses_true_pitch_classes() {
    let x = Tensor::zeros([1, 1, 1, 4, 24], F32);
    for (step, pitch) in [(0, 0), (1, 12), (2, 4), (3, 4), (3, 13)] {
        let _ = x.get(0).get(0).get(0).get(step).get(pitch).fill_(1.0);
    }
    let c = chroma_feature(&x, 2).unwrap();
    assert_eq!(c.size(), [1, 1, 1, 2, 12]);
    let beat = |b: i64| Vec::<f32>::try_from(c.get(0).get(0).get(0).get(b)).unwrap();
    let mut want0 = [0.0f32; 12];
    want0[0] = 2.0;
    let mut want1 = [0.0f32; 12];
    want1[4] = 2.0;
    want1[1] = 1.0;
    assert_eq!(beat(0), want0);
    assert_eq!(beat(1), want1);
    assert!(matches!(chroma_feature(&x, 3), Err(Error::Shape(_))));
}

/// Two tracks (0 = drums), bars of 4 steps, 12 pitches. In bar 0 track 1 holds pitch 0 over
/// steps 0–1 and starts pitches 5 and 7 at step 3: sums of differences +1, 0, −1, +2. The drums
/// hit steps 0 and 1 on two pitches: raw 2, 2, 0, 0. Bar 1 starts again from silence, so pitch 7
/// sounding on at its step 0 is an onset there.
#[test]
fn onset_feature_differences_within_bars_and_keeps_drums_raw() {
    let x = Tensor::zeros([1, 2, 2, 4, 12], F32);
    let set = |t: i64, bar: i64, step: i64, p: i64| {
        let _ = x.get(0).get(t).get(bar).get(step).get(p).fill_(1.0);
    };
    for (s, p) in [(0, 0), (1, 0), (3, 5)] {
        set(1, 0, s, p);
    }
    for (s, p) in [(0, 1), (0, 2), (1, 1), (1, 2)] {
        set(0, 0, s, p);
    }
    set(1, 1, 0, 7); // held from the bar start: an onset at step 0 of bar 1
    set(1, 0, 3, 7); // ... even though it sounds at the end of bar 0
    let o = onset_feature(&x, &[0]).unwrap();
    assert_eq!(o.size(), [1, 2, 2, 4, 1]);
    let row =
        |t: i64, bar: i64| Vec::<f32>::try_from(o.get(0).get(t).get(bar).flatten(0, -1)).unwrap();
    assert_eq!(row(0, 0), [2.0, 2.0, 0.0, 0.0]);
    assert_eq!(row(1, 0), [1.0, 0.0, -1.0, 2.0]);
    assert_eq!(row(1, 1), [1.0, -1.0, 0.0, 0.0]);
    assert!(matches!(onset_feature(&x, &[2]), Err(Error::Shape(_))));
}

#[test]
fn bad_shapes_are_errors_not_panics() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let mut cfg = BinaryMuseGanConfig::bmusegan();
    cfg.steps_per_bar = 90;
    for err in [
        Generator::new(&root, &cfg).unwrap_err(),
        Refiner::new(&root, &cfg).unwrap_err(),
        Discriminator::new(&root, &cfg).unwrap_err(),
        summary(&cfg).unwrap_err(),
    ] {
        assert_eq!(
            err.to_string(),
            "invalid model configuration: steps_per_bar 90 is not the product of \
             time_factors [4, 4, 6] (96)"
        );
    }
    assert!(vs.variables().is_empty(), "nothing was built");

    let cfg = BinaryMuseGanConfig::tiny();
    let g = Generator::new(&(&root / "g"), &cfg).unwrap();
    let err = g
        .forward_t(&Tensor::zeros([2, 15], F32), false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "shape: the generator expects [batch, 16], got [2, 15]"
    );
    assert!(g.forward_t(&Tensor::zeros([0, 16], F32), false).is_err());
    let d = Discriminator::new(&(&root / "d"), &cfg).unwrap();
    let r = Refiner::new(&(&root / "r"), &cfg).unwrap();
    for bad in [[2, 2, 2, 8, 12], [2, 3, 2, 8, 24], [2, 2, 2, 9, 24]] {
        let x = Tensor::zeros(bad, F32);
        assert!(
            matches!(d.forward_t(&x, false), Err(Error::Shape(_))),
            "{bad:?}"
        );
        assert!(
            matches!(r.forward_t(&x, false), Err(Error::Shape(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        d.forward_t(&Tensor::zeros([2, 2, 8, 24], F32), false),
        Err(Error::Shape(_))
    ));
}

/// The critic plugs into the WGAN-GP penalty: one score per sample, and the penalty reaches its
/// parameters.
#[test]
fn discriminator_works_with_the_gradient_penalty() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(5);
    let cfg = BinaryMuseGanConfig::tiny();
    let vs = nn::VarStore::new(Device::Cpu);
    let d = Discriminator::new(&vs.root(), &cfg).unwrap();
    let [t, bars, steps, pitches] = cfg.sample_shape();
    let real = Tensor::rand([2, t, bars, steps, pitches], F32).round();
    let fake = Tensor::rand([2, t, bars, steps, pitches], F32);
    let alpha = Tensor::rand([2, 1, 1, 1, 1], F32);
    let gp = gradient_penalty(|x| d.forward_t(x, true), &real, &fake, &alpha).unwrap();
    gp.backward();
    let reached = vs
        .trainable_variables()
        .iter()
        .filter(|v| v.grad().defined() && v.grad().abs().max().double_value(&[]) > 0.0)
        .count();
    assert!(reached > 0);
}

/// `width_divisor` divides every hidden layer's channels and leaves the inputs and outputs alone:
/// the chorale preset's critic head is 512 / 4 = 128 channels wide and still gives one score.
#[test]
fn the_width_divisor_narrows_hidden_layers_only() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let quarter = BinaryMuseGanConfig::chorale();
    assert_eq!(quarter.width_divisor, 4);
    let full = BinaryMuseGanConfig {
        width_divisor: 1,
        ..quarter.clone()
    };
    let row = |cfg: &BinaryMuseGanConfig, network: &str, layer: &str| {
        let s = summary(cfg).unwrap();
        let n = s
            .networks
            .iter()
            .find(|n| n.network == network)
            .unwrap()
            .clone();
        let r = n.layers.iter().find(|l| l.name == layer).unwrap().clone();
        (r.output_shape, n.params)
    };
    let (head, d_quarter) = row(&quarter, "discriminator", "merged.0");
    let (head_full, d_full) = row(&full, "discriminator", "merged.0");
    assert_eq!(head, [128, 3, 1, 1]);
    assert_eq!(head_full, [512, 3, 1, 1]);
    assert!(d_quarter * 10 < d_full, "{d_quarter} vs {d_full}");
    let (out, _) = row(&quarter, "discriminator", "merged.2");
    assert_eq!(out, [1]);
    let (g_out, _) = row(&quarter, "generator", "shared.0");
    assert_eq!(g_out, [128 * 3]);
    let mut bad = quarter;
    bad.width_divisor = 0;
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("width_divisor 0"));
}
