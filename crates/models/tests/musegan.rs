//! MuseGAN's temporal generator: shapes of the three latent structures and of the presets,
//! parameter counts worked from the layer tables, variable layouts, the latent split that
//! `forward_long_t` documents, gradients.

use std::sync::Mutex;

use museroll_models::families::bmusegan::summary;
use museroll_models::{
    BinaryMuseGanConfig, Discriminator, Error, Generator, GeneratorKind, LatentStructure, Refiner,
};
use tch::{nn, Device, Kind, Tensor};

/// libtorch's random generator is global: the tests that draw from it (a seed, new variables)
/// hold this lock, so that a seeded test sees only its own draws whatever runs beside it.
static SERIAL: Mutex<()> = Mutex::new(());

const F32: (Kind, Device) = (Kind::Float, Device::Cpu);
const F64: (Kind, Device) = (Kind::Double, Device::Cpu);

/// The tiny shape (2 bars × 8 steps × 24 pitches × 2 tracks) with a temporal generator of
/// `structure`: the inter-track latents 8 each for composer and hybrid, the intra-track ones
/// 8 each for jamming and hybrid.
fn tiny(structure: LatentStructure) -> BinaryMuseGanConfig {
    let (inter, intra) = match structure {
        LatentStructure::Composer => (8, 0),
        LatentStructure::Jamming => (0, 8),
        LatentStructure::Hybrid => (8, 8),
    };
    BinaryMuseGanConfig {
        latent: 2 * inter + 2 * 2 * intra,
        generator: GeneratorKind::Temporal {
            structure,
            shared: inter,
            private: intra,
            temporal_shared: inter,
            temporal_private: intra,
            bar_channels: 64,
            temporal_channels: 16,
        },
        ..BinaryMuseGanConfig::tiny()
    }
}

const STRUCTURES: [LatentStructure; 3] = [
    LatentStructure::Composer,
    LatentStructure::Jamming,
    LatentStructure::Hybrid,
];

fn trainable_params(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

fn in_unit_interval(x: &Tensor) -> bool {
    let (lo, hi) = (x.min().double_value(&[]), x.max().double_value(&[]));
    0.0 < lo && hi < 1.0
}

#[test]
fn tiny_structures_have_the_documented_shapes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(1);
    for structure in STRUCTURES {
        let cfg = tiny(structure);
        let vs = nn::VarStore::new(Device::Cpu);
        let g = Generator::new(&vs.root(), &cfg).unwrap();
        assert_eq!(g.latent_size(), i64::from(cfg.latent), "{structure:?}");
        let z = Tensor::randn([2, g.latent_size()], F32);
        for train in [true, false] {
            let x = g.forward_t(&z, train).unwrap();
            assert_eq!(x.size(), [2, 2, 2, 8, 24], "{structure:?}");
            assert!(in_unit_interval(&x), "{structure:?}");
        }
        let s = g.summary();
        assert_eq!(s.input_shape, [i64::from(cfg.latent)]);
        assert_eq!(s.output_shape, [2, 2, 8, 24]);
        assert_eq!(s.params, trainable_params(&vs), "{structure:?}");
    }
    let cfg = BinaryMuseGanConfig::tiny_hybrid();
    let vs = nn::VarStore::new(Device::Cpu);
    let g = Generator::new(&vs.root(), &cfg).unwrap();
    assert_eq!(g.latent_size(), 48);
    let x = tch::no_grad(|| g.forward_t(&Tensor::randn([2, 48], F32), false)).unwrap();
    assert_eq!(x.size(), [2, 2, 2, 8, 24]);
}

/// The MuseGAN presets at batch 2 in eval mode, through the refiner (chorale-hybrid) and the
/// unchanged proposed discriminator.
#[test]
fn musegan_presets_generate_their_shapes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(2);
    for (cfg, shape) in [
        (BinaryMuseGanConfig::musegan(), [2, 5, 4, 48, 84]),
        (BinaryMuseGanConfig::chorale_hybrid(), [2, 4, 4, 16, 48]),
    ] {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let g = Generator::new(&(&root / "g"), &cfg).unwrap();
        let z = Tensor::randn([2, g.latent_size()], F32);
        let mut x = tch::no_grad(|| g.forward_t(&z, false)).unwrap();
        assert_eq!(x.size(), shape);
        assert!(in_unit_interval(&x));
        if cfg.refiner {
            let r = Refiner::new(&(&root / "r"), &cfg).unwrap();
            x = tch::no_grad(|| r.forward_t(&x, false)).unwrap();
            assert_eq!(x.size(), shape);
        }
        let d = Discriminator::new(&(&root / "d"), &cfg).unwrap();
        let score = tch::no_grad(|| d.forward_t(&x, false)).unwrap();
        assert_eq!(score.size(), [2, 1]);
    }
}

/// The musegan preset's generator from the layer tables (hybrid, T = 5 tracks, latents 32
/// each, temporal width 256, bar width 512, 4 bars, time factors 4·4·3, pitch layers 3,3,2;
/// every dense / tconv has a bias, batch norm a scale and a shift per channel):
///
/// Temporal generator (input 32): dense 32 → 3·256 = 768: 32·768 + 768 = 25 344, BN 1 536;
/// tconv 256 → 32 k(2,1,1): 256·32·2 + 32 = 16 416, BN 64. One = 43 360; the shared one and
/// one per track: 6 × 43 360 = 260 160.
///
/// Bar generator (input 32 + 32 + 32 + 32 = 128 channels per bar):
/// tconv 128 → 512 k(1,4,1): 128·512·4 + 512 = 262 656, BN 1 024 → 263 680;
/// 512 → 256 k(1,1,3): 512·256·3 + 256 = 393 472, BN 512 → 393 984;
/// 256 → 128 k(1,4,1): 256·128·4 + 128 = 131 200, BN 256 → 131 456;
/// 128 → 64 k(1,1,3) s(1,1,2): 128·64·3 + 64 = 24 640, BN 128 → 24 768;
/// pitch-time 64 → 32 k12: 24 608 + 64 = 24 672, 32 → 16 k(1,3,1): 1 552 + 32 = 1 584;
/// time-pitch 64 → 32 k(1,3,1): 6 176 + 64 = 6 240, 32 → 16 k12: 6 160 + 32 = 6 192;
/// merged 32 → 1: 33 + 2 = 35. One = 852 611; five: 4 263 055.
///
/// G = 260 160 + 4 263 055 = 4 523 215.
#[test]
fn musegan_generator_parameter_count_matches_the_layer_tables() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = summary(&BinaryMuseGanConfig::musegan()).unwrap();
    let names: Vec<&str> = s.networks.iter().map(|n| n.network.as_str()).collect();
    assert_eq!(names, ["generator", "discriminator"], "no refiner");
    let g = &s.networks[0];
    assert_eq!(g.params, 4_523_215);
    let part = |prefix: &str| -> i64 {
        g.layers
            .iter()
            .filter(|l| l.name.starts_with(prefix))
            .map(|l| l.params * l.copies)
            .sum()
    };
    assert_eq!(part("temporal.shared."), 43_360);
    assert_eq!(part("temporal.private."), 5 * 43_360);
    assert_eq!(part("bar."), 5 * 852_611);
    let row = |name: &str| g.layers.iter().find(|l| l.name == name).unwrap();
    let first = row("temporal.shared.0");
    assert_eq!(
        (
            first.op.as_str(),
            first.output_shape.as_slice(),
            first.params
        ),
        ("dense 768 + BN + LReLU", &[768][..], 26_880)
    );
    assert_eq!(row("temporal.shared.2").output_shape, [32, 4, 1, 1]);
    assert_eq!(row("temporal.private.*.2").copies, 5);
    let input = row("bar_input");
    assert_eq!(input.output_shape, [128, 4, 1, 1]);
    assert_eq!(input.op, "concat: shared, t_shared, private, t_private");
    let trunk = row("bar.*.trunk.0");
    assert_eq!(
        (trunk.output_shape.as_slice(), trunk.params, trunk.copies),
        (&[512, 4, 4, 1][..], 263_680, 5)
    );
    assert_eq!(row("bar.*.trunk.3").output_shape, [64, 4, 16, 7]);
    let merged = row("bar.*.merged.0");
    assert_eq!(merged.output_shape, [1, 4, 48, 84]);
    assert_eq!(merged.op, "tconv 1 k(1,1,1) s(1,1,1) + BN + sigmoid");
    assert_eq!(s.params, g.params + s.networks[1].params);
    let text = s.to_string();
    assert!(
        text.contains("generator (input 384, output 5×4×48×84)"),
        "{text}"
    );
    assert!(text.contains("generator parameters: 4523215"), "{text}");
}

/// The composer has one bar generator with a channel per track and only the shared temporal
/// generator; jamming has a bar generator and a temporal generator per track and no shared
/// one; hybrid has all of them.
#[test]
fn composer_shares_one_bar_generator_and_jamming_has_one_per_track() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let layout = |structure| {
        let vs = nn::VarStore::new(Device::Cpu);
        Generator::new(&(vs.root() / "g"), &tiny(structure)).unwrap();
        let vars = vs.variables();
        let has = |name: &str| vars.contains_key(name);
        let merged = vars
            .get("g.bar.0.merged.0.tconv.weight")
            .map(Tensor::size)
            .unwrap();
        (
            [
                has("g.temporal.shared.0.dense.weight"),
                has("g.temporal.private.0.0.dense.weight"),
                has("g.temporal.private.1.2.tconv.weight"),
                has("g.bar.0.trunk.0.tconv.weight"),
                has("g.bar.1.trunk.0.tconv.weight"),
            ],
            merged,
        )
    };
    // bar_channels 64: the streams end in 64/32 = 2 channels each, 4 concatenated.
    assert_eq!(
        layout(LatentStructure::Composer),
        ([true, false, false, true, false], vec![4, 2, 1, 1, 1])
    );
    assert_eq!(
        layout(LatentStructure::Jamming),
        ([false, true, true, true, true], vec![4, 1, 1, 1, 1])
    );
    assert_eq!(
        layout(LatentStructure::Hybrid),
        ([true, true, true, true, true], vec![4, 1, 1, 1, 1])
    );

    let vs = nn::VarStore::new(Device::Cpu);
    Generator::new(&vs.root(), &BinaryMuseGanConfig::tiny_hybrid()).unwrap();
    let vars = vs.variables();
    for name in [
        "temporal.shared.0.bn.running_mean",
        "temporal.private.1.0.dense.bias",
        "bar.1.trunk.3.bn.weight",
        "bar.0.pitch_time.1.tconv.weight",
        "bar.1.time_pitch.0.bn.running_var",
        "bar.1.merged.0.tconv.bias",
    ] {
        assert!(vars.contains_key(name), "{name} missing");
    }
    // Per-bar inputs of the composer: shared 8 + temporal shared 8; of a jamming bar
    // generator: its private 8 + temporal private 8.
    let s = summary(&tiny(LatentStructure::Composer)).unwrap();
    let input = s.networks[0]
        .layers
        .iter()
        .find(|l| l.name == "bar_input")
        .unwrap();
    assert_eq!(
        (
            input.op.as_str(),
            input.output_shape.as_slice(),
            input.copies
        ),
        ("concat: shared, t_shared", &[16, 2, 1, 1][..], 1)
    );
    assert!(s.networks[0]
        .layers
        .iter()
        .any(|l| l.name == "bar.0.merged.0" && l.output_shape == [2, 2, 8, 24]));
}

/// A backward of the output sum reaches every generator variable, for every structure.
#[test]
fn gradients_reach_every_generator_variable() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(3);
    for structure in STRUCTURES {
        let vs = nn::VarStore::new(Device::Cpu);
        let g = Generator::new(&vs.root(), &tiny(structure)).unwrap();
        let z = Tensor::randn([2, g.latent_size()], F32);
        g.forward_t(&z, true).unwrap().sum(Kind::Float).backward();
        let vars = vs.trainable_variables();
        assert!(!vars.is_empty());
        for v in &vars {
            let grad = v.grad();
            assert!(grad.defined(), "{structure:?}: a variable has no gradient");
            assert!(
                grad.isfinite().all().int64_value(&[]) == 1,
                "{structure:?}: a gradient is not finite"
            );
        }
    }
}

/// The phrase-`p` slice of a long output.
fn phrase(x: &Tensor, p: i64, bars: i64) -> Tensor {
    x.narrow(2, p * bars, bars)
}

/// In eval mode each phrase of `forward_long_t` is `forward_t` of phrase 0's time-independent
/// latents and that phrase's time-dependent ones; the time-independent part of later phrases
/// is ignored; equal time-dependent latents repeat a phrase, different ones change it.
///
/// At initialisation the weights (σ = 0.02) shrink the signal at every layer and eval-mode batch
/// norm with fresh running statistics does not restore it, so the output is 0.5 to within
/// about 1e-6 and the temporal latents' share of it is below f32 resolution. The test scales
/// the conv and dense weights by 10 to carry an O(1) signal to the output, and runs in f64:
/// the changes are then about 1e-3 and more, f64 rounding about 1e-16: differences above
/// `CHANGED` are changes, agreement within `SAME` is equality.
#[test]
fn long_pieces_split_the_latent_as_documented() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const CHANGED: f64 = 1e-6;
    const SAME: f64 = 1e-12;
    let max_diff = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]);
    tch::manual_seed(4);
    for structure in STRUCTURES {
        let cfg = tiny(structure);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let g = Generator::new(&vs.root(), &cfg).unwrap();
        vs.double();
        tch::no_grad(|| {
            for (name, mut v) in vs.variables() {
                if name.ends_with(".weight") && !name.contains(".bn.") {
                    let _ = v.g_mul_scalar_(10.0);
                }
            }
        });
        let l = g.latent_size();
        // Time-independent entries: shared + 2 tracks × private.
        let k = match structure {
            LatentStructure::Composer => 8,
            LatentStructure::Jamming => 16,
            LatentStructure::Hybrid => 24,
        };
        let bars = 2;
        let z = Tensor::randn([2, 3, l], F64);
        // Phrase 2 repeats phrase 0's time-dependent latents.
        let temporal = |z: &Tensor, p: i64| z.select(1, p).narrow(1, k, l - k);
        temporal(&z, 2).copy_(&temporal(&z, 0));
        let long = |z: &Tensor| tch::no_grad(|| g.forward_long_t(z, false)).unwrap();
        let x = long(&z);
        assert_eq!(x.size(), [2, 2, 3 * bars, 8, 24], "{structure:?}");
        assert!(in_unit_interval(&x));

        let fixed = z.select(1, 0).narrow(1, 0, k);
        for p in 0..3 {
            let zp = Tensor::cat(&[fixed.shallow_clone(), temporal(&z, p)], 1);
            let want = tch::no_grad(|| g.forward_t(&zp, false)).unwrap();
            let diff = max_diff(&phrase(&x, p, bars), &want);
            assert!(
                diff < SAME,
                "{structure:?}: phrase {p} is not forward_t of its latents"
            );
        }
        let diff = max_diff(&phrase(&x, 2, bars), &phrase(&x, 0, bars));
        assert!(
            diff < SAME,
            "{structure:?}: same temporal latents, other phrase"
        );
        let diff = max_diff(&phrase(&x, 1, bars), &phrase(&x, 0, bars));
        assert!(
            diff > CHANGED,
            "{structure:?}: other temporal latents, same phrase ({diff})"
        );

        // Changing the time-independent part of phrases 1 and 2 changes nothing.
        let z2 = z.copy();
        let _ = z2.narrow(1, 1, 2).narrow(2, 0, k).normal_(0.0, 1.0);
        assert!(!z2.equal(&z));
        assert!(max_diff(&long(&z2), &x) < SAME, "{structure:?}");
        // Changing phrase 0's changes every phrase.
        let z3 = z.copy();
        let _ = z3.narrow(1, 0, 1).narrow(2, 0, k).normal_(0.0, 1.0);
        let y = long(&z3);
        for p in 0..3 {
            let diff = max_diff(&phrase(&y, p, bars), &phrase(&x, p, bars));
            assert!(
                diff > CHANGED,
                "{structure:?}: phrase {p} ignores the fixed latents"
            );
        }
    }
}

#[test]
fn long_pieces_need_a_temporal_generator_and_the_right_shape() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(5);
    let vs = nn::VarStore::new(Device::Cpu);
    let g = Generator::new(&vs.root(), &BinaryMuseGanConfig::tiny()).unwrap();
    let z = Tensor::randn([2, 1, 16], F32);
    let one = tch::no_grad(|| g.forward_long_t(&z, false)).unwrap();
    let want = tch::no_grad(|| g.forward_t(&z.select(1, 0), false)).unwrap();
    assert!(one.equal(&want), "one phrase is forward_t");
    let err = g
        .forward_long_t(&Tensor::randn([2, 3, 16], F32), false)
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    assert_eq!(
        err.to_string(),
        "invalid model configuration: the phrase generator makes fixed-length phrases of 2 \
         bars; a piece of 3 phrases needs a temporal generator (generator kind \"temporal\")"
    );

    let g = Generator::new(&(vs.root() / "h"), &BinaryMuseGanConfig::tiny_hybrid()).unwrap();
    for bad in [
        &[2, 48][..],
        &[2, 0, 48],
        &[0, 2, 48],
        &[2, 2, 47],
        &[2, 2, 48, 1],
    ] {
        let err = g
            .forward_long_t(&Tensor::zeros(bad, F32), false)
            .unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{bad:?}: {err}");
    }
    let err = g
        .forward_long_t(&Tensor::zeros([2, 2, 47], F32), false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "shape: the generator's long form expects [batch, phrases, 48], got [2, 2, 47]"
    );
    let err = g
        .forward_t(&Tensor::zeros([2, 16], F32), false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "shape: the generator expects [batch, 48], got [2, 16]"
    );
    // A training forward of several phrases takes its batch-norm statistics over all of them.
    let x = g
        .forward_long_t(&Tensor::randn([2, 2, 48], F32), true)
        .unwrap();
    assert_eq!(x.size(), [2, 2, 4, 8, 24]);
}

/// `museroll model --preset musegan` prints the temporal networks' layers.
#[test]
fn summary_text_shows_the_temporal_networks() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let text = summary(&BinaryMuseGanConfig::tiny_hybrid())
        .unwrap()
        .to_string();
    for needle in [
        "temporal.shared.0",
        "temporal.private.*.2",
        "bar_input",
        "bar.*.trunk.0",
        "bar.*.pitch_time.1",
        "bar.*.merged.0",
        "refiner (input 2×2×8×24",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

/// Every generator kind starts each track where its output bias says: in training mode the
/// output batch norm makes the pre-activation N(β, 1), so β = logit(d) gives a mean of about d
/// (a little more: the sigmoid is convex down there).
#[test]
fn output_biases_set_where_each_track_starts() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut configs: Vec<BinaryMuseGanConfig> = STRUCTURES.iter().map(|&s| tiny(s)).collect();
    configs.push(BinaryMuseGanConfig::tiny());
    let (sparse, dense) = (-4.0f64, 3.0f64);
    for cfg in configs {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let mut g = Generator::new(&vs.root(), &cfg).unwrap();
        g.set_output_bias(&[sparse, dense]).unwrap();
        let z = Tensor::randn([16, g.latent_size()], F32);
        let x = g.forward_t(&z, true).unwrap();
        let mean = |t: i64| f64::try_from(x.select(1, t).mean(Kind::Double)).unwrap();
        let (a, b) = (mean(0), mean(1));
        assert!(a > 0.01 && a < 0.05, "{:?}: track 0 at {a}", cfg.generator);
        assert!(b > 0.85 && b < 0.97, "{:?}: track 1 at {b}", cfg.generator);
        let err = g.set_output_bias(&[0.0]).unwrap_err().to_string();
        assert!(err.contains("1 output biases for 2 tracks"), "{err}");
    }
}
