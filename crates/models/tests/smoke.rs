//! libtorch links, loads and computes: the device is the CPU when there is no CUDA, and the
//! WGAN-GP penalty of a small conv3d critic, a gradient of a gradient, has the parameter gradients
//! that finite differences of the penalty itself give (everything in f64).

use std::sync::Mutex;

use museroll_models::{device, gradient_penalty, DeviceChoice, Error};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// libtorch's random generator is global: the tests that draw from it (a seed, new variables)
/// hold this lock, so that a seeded test sees only its own draws whatever runs beside it.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn the_device_is_the_cpu_unless_libtorch_finds_cuda() {
    let cuda = tch::Cuda::is_available();
    assert_eq!(device(DeviceChoice::Cpu).unwrap(), Device::Cpu);
    let auto = device(DeviceChoice::Auto).unwrap();
    if cuda {
        assert_eq!(auto, Device::Cuda(0));
        assert_eq!(device(DeviceChoice::Cuda).unwrap(), Device::Cuda(0));
    } else {
        assert_eq!(auto, Device::Cpu);
        assert!(matches!(
            device(DeviceChoice::Cuda),
            Err(Error::CudaUnavailable)
        ));
    }
    // A computation on the chosen device comes back right.
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).to_device(auto);
    assert_eq!(x.device(), auto);
    assert_eq!((&x * &x).sum(Kind::Float).double_value(&[]), 14.0);
}

/// conv3d (1 → 2 channels, kernel 2) → tanh → linear (54 → 1): tanh is smooth, so finite
/// differences see no kinks, and its second derivative makes the double backward non-trivial.
#[derive(Debug)]
struct Critic {
    conv: nn::Conv3D,
    fc: nn::Linear,
}

impl Critic {
    fn new(p: &nn::Path) -> Self {
        Critic {
            conv: nn::conv3d(p / "conv", 1, 2, 2, Default::default()),
            fc: nn::linear(p / "fc", 2 * 3 * 3 * 3, 1, Default::default()),
        }
    }
}

impl Module for Critic {
    /// x: [B, 1, 4, 4, 4] → [B, 1]
    fn forward(&self, x: &Tensor) -> Tensor {
        x.apply(&self.conv).tanh().flatten(1, -1).apply(&self.fc)
    }
}

#[test]
fn gradient_penalty_parameter_gradients_match_finite_differences() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(7);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let critic = Critic::new(&vs.root());
    vs.double();
    let f64_cpu = (Kind::Double, Device::Cpu);
    let real = Tensor::randn([3, 1, 4, 4, 4], f64_cpu);
    let fake = Tensor::randn([3, 1, 4, 4, 4], f64_cpu);
    let alpha = Tensor::rand([3, 1, 1, 1, 1], f64_cpu);
    let penalty = || {
        gradient_penalty(|x| Ok(critic.forward(x)), &real, &fake, &alpha)
            .unwrap()
            .double_value(&[])
    };

    let gp = gradient_penalty(|x| Ok(critic.forward(x)), &real, &fake, &alpha).unwrap();
    assert!(gp.requires_grad(), "the penalty must stay in the graph");
    gp.backward();

    let h = 1e-5;
    let mut names: Vec<_> = vs.variables().into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["conv.bias", "conv.weight", "fc.bias", "fc.weight"]
    );
    for (name, var) in &names {
        let grad = var.grad();
        // The fc bias shifts every score equally and leaves the input gradient alone: its
        // penalty gradient is exactly zero, and libtorch leaves it undefined or zero.
        if name == "fc.bias" {
            assert!(!grad.defined() || grad.abs().max().double_value(&[]) == 0.0);
            continue;
        }
        let flat = var.view([-1]);
        let n = flat.size()[0];
        let mut largest: f64 = 0.0;
        // Every element (16 + 2 + 54 = 72 in conv.weight, conv.bias and fc.weight).
        for i in 0..n {
            let analytic = grad.view([-1]).double_value(&[i]);
            let w = flat.double_value(&[i]);
            let at = |value: f64| {
                tch::no_grad(|| {
                    let _ = flat.get(i).fill_(value);
                });
                penalty()
            };
            let numeric = (at(w + h) - at(w - h)) / (2.0 * h);
            at(w);
            largest = largest.max(analytic.abs());
            assert!(
                (analytic - numeric).abs() <= 1e-6 * analytic.abs().max(1.0),
                "{name}[{i}]: autograd {analytic} vs finite differences {numeric}"
            );
        }
        assert!(
            largest > 1e-4,
            "{name}: gradient {largest} too small to test"
        );
    }
}
