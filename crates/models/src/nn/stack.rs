//! Layer stacks in the style of the BinaryMuseGAN tables: each block is a core (dense, conv,
//! transposed conv, reshape or identity), an optional batch norm and an activation.
//!
//! Policies:
//!
//! - Layers are written on libtorch's fallible operations (`f_*`), not tch's `nn` modules (which
//!   panic on a wrong shape), so a bad input is an [`Error`].
//! - Shapes are inferred while building: a convolution whose kernel and stride do not tile its
//!   input exactly (some input cells would be ignored) is refused with [`Error::Config`] naming
//!   the layer, so every layer sees all of its input.
//! - Variables have PyTorch `state_dict` names: block `i` of stack `s` has `s.i.conv.weight`,
//!   `s.i.bn.running_mean`, … (tch forbids `.` inside one name, so the path does the nesting).
//! - Initialisation follows bmusegan: weights from a normal distribution with σ = 0.02 truncated
//!   at 2σ, biases 0; batch-norm scale 1, shift 0. Batch norm has TensorFlow's defaults
//!   (ε = 1e-3, moving-average decay 0.99, i.e. PyTorch momentum 0.01) and uses batch
//!   statistics when `train` is true, running statistics otherwise — *not* bmusegan's quirk of
//!   always using its never-updated running statistics.

use tch::{nn, Device, Kind, Tensor};

use super::LayerSummary;
use crate::Error;

/// Standard deviation of the weight initialisation (bmusegan's `neuralnet.py`).
const INIT_STD: f64 = 0.02;
/// Batch-norm ε (TensorFlow's default).
const BN_EPS: f64 = 1e-3;
/// Batch-norm running-statistics momentum (TensorFlow's decay 0.99).
const BN_MOMENTUM: f64 = 0.01;
/// Slope of the leaky ReLUs (TensorFlow's default).
const LEAKY_SLOPE: f64 = 0.2;

/// The activation after a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    None,
    Relu,
    LeakyRelu,
    Sigmoid,
}

/// The core operation of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Core {
    /// Batch norm and activation only.
    Identity,
    /// Fully connected layer from the flat input to `out` features.
    Dense { out: i64 },
    /// 3-D convolution; `same` pads like TensorFlow's `SAME` (stride 1 only, the extra cell of an
    /// even kernel after the input).
    Conv {
        out: i64,
        kernel: [i64; 3],
        stride: [i64; 3],
        same: bool,
    },
    /// 3-D transposed convolution without padding: output = (input − 1)·stride + kernel.
    TConv {
        out: i64,
        kernel: [i64; 3],
        stride: [i64; 3],
    },
    /// Reshape to this per-sample shape.
    Reshape(Vec<i64>),
}

/// One block of a stack: core → optional batch norm → activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    core: Core,
    bn: bool,
    act: Act,
}

impl Block {
    fn of(core: Core) -> Self {
        Self {
            core,
            bn: false,
            act: Act::None,
        }
    }
    pub(crate) fn identity() -> Self {
        Self::of(Core::Identity)
    }
    pub(crate) fn dense(out: i64) -> Self {
        Self::of(Core::Dense { out })
    }
    pub(crate) fn conv(out: i64, kernel: [i64; 3], stride: [i64; 3]) -> Self {
        Self::of(Core::Conv {
            out,
            kernel,
            stride,
            same: false,
        })
    }
    pub(crate) fn same_conv(out: i64, kernel: [i64; 3]) -> Self {
        Self::of(Core::Conv {
            out,
            kernel,
            stride: [1, 1, 1],
            same: true,
        })
    }
    pub(crate) fn tconv(out: i64, kernel: [i64; 3], stride: [i64; 3]) -> Self {
        Self::of(Core::TConv {
            out,
            kernel,
            stride,
        })
    }
    pub(crate) fn reshape(shape: Vec<i64>) -> Self {
        Self::of(Core::Reshape(shape))
    }
    pub(crate) fn bn(mut self) -> Self {
        self.bn = true;
        self
    }
    pub(crate) fn act(mut self, act: Act) -> Self {
        self.act = act;
        self
    }
}

/// Batch-norm variables.
#[derive(Debug)]
struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
}

/// The variables and geometry of a built core.
#[derive(Debug)]
enum BuiltCore {
    Identity,
    Dense {
        weight: Tensor,
        bias: Tensor,
    },
    Conv {
        weight: Tensor,
        bias: Tensor,
        stride: [i64; 3],
        /// `constant_pad_nd` order: pitch (before, after), time, bar.
        pad: [i64; 6],
    },
    TConv {
        weight: Tensor,
        bias: Tensor,
        stride: [i64; 3],
    },
    Reshape(Vec<i64>),
}

#[derive(Debug)]
struct Built {
    core: BuiltCore,
    bn: Option<BatchNorm>,
    act: Act,
}

/// A sequence of blocks with known input and output shapes and summary rows.
#[derive(Debug)]
pub(crate) struct Stack {
    blocks: Vec<Built>,
    input_shape: Vec<i64>,
    output_shape: Vec<i64>,
    rows: Vec<LayerSummary>,
}

/// A weight tensor drawn from N(0, σ²) truncated at ±2σ, as a variable of `p` called `name`.
///
/// Drawn by inverting the normal CDF on the truncated range: `u ~ U[Φ(−2), Φ(2))`,
/// `x = √2·erfinv(2u − 1)`, one pass over libtorch's generator (so `tch::manual_seed` makes
/// it reproducible).
fn trunc_normal_var(p: &nn::Path, name: &str, dims: &[i64]) -> Result<Tensor, Error> {
    /// Φ(2), the standard normal CDF at 2.
    const PHI_2: f64 = 0.977_249_868_051_820_8;
    let t = tch::no_grad(|| -> Result<Tensor, Error> {
        let mut u = Tensor::f_empty(dims, (Kind::Double, Device::Cpu))?;
        let _ = u.f_uniform_(1.0 - PHI_2, PHI_2)?;
        Ok(u.f_mul_scalar(2.0)?
            .f_sub_scalar(1.0)?
            .f_erfinv()?
            .f_mul_scalar(std::f64::consts::SQRT_2)?
            .f_clamp(-2.0, 2.0)?
            .f_mul_scalar(INIT_STD)?)
    })?;
    Ok(p.f_var_copy(name, &t)?)
}

/// `k(1,4,3) s(1,4,2)`.
fn geometry(kernel: [i64; 3], stride: [i64; 3]) -> String {
    format!(
        "k({},{},{}) s({},{},{})",
        kernel[0], kernel[1], kernel[2], stride[0], stride[1], stride[2]
    )
}

/// The shape `[c, d, h, w]` of a 3-D feature map, or an error naming the layer.
fn map_shape(layer: &str, shape: &[i64]) -> Result<[i64; 4], Error> {
    <[i64; 4]>::try_from(shape).map_err(|_| {
        Error::Config(format!(
            "layer {layer}: expects a [channels, bars, steps, pitches] input, got {shape:?}"
        ))
    })
}

impl Stack {
    /// Builds `blocks` under `path` for per-sample input shape `input_shape`. `name` (with `*`
    /// for a track index) and `copies` go to the summary rows.
    pub(crate) fn new(
        path: &nn::Path,
        name: &str,
        copies: i64,
        input_shape: &[i64],
        blocks: &[Block],
    ) -> Result<Self, Error> {
        let mut shape = input_shape.to_vec();
        let mut built = Vec::with_capacity(blocks.len());
        let mut rows = Vec::with_capacity(blocks.len());
        for (i, block) in blocks.iter().enumerate() {
            let p = path / i;
            let layer = format!("{name}.{i}");
            let (core, mut op) = match &block.core {
                Core::Identity => (BuiltCore::Identity, "identity".to_owned()),
                Core::Dense { out } => {
                    let n_in: i64 = shape.iter().product();
                    let d = &p / "dense";
                    let weight = trunc_normal_var(&d, "weight", &[*out, n_in])?;
                    let bias = d.f_zeros("bias", &[*out])?;
                    shape = vec![*out];
                    (BuiltCore::Dense { weight, bias }, format!("dense {out}"))
                }
                Core::Conv {
                    out,
                    kernel,
                    stride,
                    same,
                } => {
                    let [c, d, h, w] = map_shape(&layer, &shape)?;
                    let mut pad = [0i64; 6];
                    let mut next = vec![*out];
                    for (axis, (&n, (&k, &s))) in
                        [d, h, w].iter().zip(kernel.iter().zip(stride)).enumerate()
                    {
                        let padded = if *same {
                            // TensorFlow SAME at stride 1: k − 1 cells, the odd one after.
                            let before = (k - 1) / 2;
                            let slot = 2 * (2 - axis);
                            pad[slot] = before;
                            pad[slot + 1] = k - 1 - before;
                            n + k - 1
                        } else {
                            n
                        };
                        if padded < k || (padded - k) % s != 0 {
                            return Err(Error::Config(format!(
                                "layer {layer}: kernel {k} stride {s} does not tile {n} cells \
                                 on axis {axis}"
                            )));
                        }
                        next.push((padded - k) / s + 1);
                    }
                    let cv = &p / "conv";
                    let mut dims = vec![*out, c];
                    dims.extend_from_slice(kernel);
                    let weight = trunc_normal_var(&cv, "weight", &dims)?;
                    let bias = cv.f_zeros("bias", &[*out])?;
                    shape = next;
                    let mut op = format!("conv {out} {}", geometry(*kernel, *stride));
                    if *same {
                        op.push_str(" same");
                    }
                    (
                        BuiltCore::Conv {
                            weight,
                            bias,
                            stride: *stride,
                            pad,
                        },
                        op,
                    )
                }
                Core::TConv {
                    out,
                    kernel,
                    stride,
                } => {
                    let [c, d, h, w] = map_shape(&layer, &shape)?;
                    let mut next = vec![*out];
                    for (&n, (&k, &s)) in [d, h, w].iter().zip(kernel.iter().zip(stride)) {
                        next.push((n - 1) * s + k);
                    }
                    let tc = &p / "tconv";
                    // PyTorch's ConvTranspose3d layout: [in, out, k…].
                    let mut dims = vec![c, *out];
                    dims.extend_from_slice(kernel);
                    let weight = trunc_normal_var(&tc, "weight", &dims)?;
                    let bias = tc.f_zeros("bias", &[*out])?;
                    shape = next;
                    (
                        BuiltCore::TConv {
                            weight,
                            bias,
                            stride: *stride,
                        },
                        format!("tconv {out} {}", geometry(*kernel, *stride)),
                    )
                }
                Core::Reshape(to) => {
                    let (a, b): (i64, i64) = (shape.iter().product(), to.iter().product());
                    if a != b {
                        return Err(Error::Config(format!(
                            "layer {layer}: cannot reshape {shape:?} to {to:?}"
                        )));
                    }
                    shape = to.clone();
                    (BuiltCore::Reshape(to.clone()), "reshape".to_owned())
                }
            };
            let bn = if block.bn {
                let channels = *shape.first().ok_or_else(|| {
                    Error::Config(format!("layer {layer}: batch norm of an empty shape"))
                })?;
                let b = &p / "bn";
                op.push_str(" + BN");
                Some(BatchNorm {
                    weight: b.f_ones("weight", &[channels])?,
                    bias: b.f_zeros("bias", &[channels])?,
                    running_mean: b.f_zeros_no_train("running_mean", &[channels])?,
                    running_var: b.f_ones_no_train("running_var", &[channels])?,
                })
            } else {
                None
            };
            op.push_str(match block.act {
                Act::None => "",
                Act::Relu => " + ReLU",
                Act::LeakyRelu => " + LReLU",
                Act::Sigmoid => " + sigmoid",
            });
            let b = Built {
                core,
                bn,
                act: block.act,
            };
            rows.push(LayerSummary {
                name: layer,
                op,
                output_shape: shape.clone(),
                params: b.params(),
                copies,
            });
            built.push(b);
        }
        Ok(Self {
            blocks: built,
            input_shape: input_shape.to_vec(),
            output_shape: shape,
            rows,
        })
    }

    /// The per-sample output shape.
    pub(crate) fn output_shape(&self) -> &[i64] {
        &self.output_shape
    }

    /// Sets the bias (β) of the last block's batch norm, one value per output channel: where
    /// the output's activation starts.
    ///
    /// # Errors
    /// [`Error::Config`] if the last block has no batch norm or `values` is not one per
    /// channel; [`Error::Torch`] from libtorch.
    pub(crate) fn set_output_bias(&mut self, values: &[f64]) -> Result<(), Error> {
        let bn = self
            .blocks
            .last_mut()
            .and_then(|b| b.bn.as_mut())
            .ok_or_else(|| Error::Config("the output layer has no batch norm".into()))?;
        if bn.bias.size() != [values.len() as i64] {
            return Err(Error::Config(format!(
                "{} output biases for {:?} channels",
                values.len(),
                bn.bias.size()
            )));
        }
        let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let new = Tensor::f_from_slice(&values)?.f_to_device(bn.bias.device())?;
        tch::no_grad(|| bn.bias.f_copy_(&new))?;
        Ok(())
    }

    /// The summary rows, one per block.
    pub(crate) fn rows(&self) -> &[LayerSummary] {
        &self.rows
    }

    /// Runs the blocks on `x` of shape `[batch, input_shape…]`.
    pub(crate) fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor, Error> {
        let size = x.size();
        if size.get(1..) != Some(&self.input_shape[..]) {
            return Err(Error::Shape(format!(
                "a layer stack expects [batch, {:?}…], got {size:?}",
                self.input_shape
            )));
        }
        let batch = size.first().copied().unwrap_or(0);
        let mut h = x.shallow_clone();
        for b in &self.blocks {
            h = b.forward_t(&h, batch, train)?;
        }
        Ok(h)
    }
}

impl Stack {
    /// Runs the blocks on the concatenation of `parts` along the channels, each
    /// `[batch, channels_i, rest…]`, without building it when the first block is pointwise
    /// (the generator's merging layers, whose concatenation would be its largest tensor): the
    /// product over the channels is then the sum of one product per part. Same result as
    /// `forward_t(cat(parts, 1))` up to rounding (checked by a test).
    pub(crate) fn forward_cat_t(&self, parts: &[Tensor], train: bool) -> Result<Tensor, Error> {
        let Some(first) = self.blocks.first() else {
            return self.forward_t(&Tensor::f_cat(parts, 1)?, train);
        };
        let Some((wmat, bias)) = first.pointwise()? else {
            return self.forward_t(&Tensor::f_cat(parts, 1)?, train);
        };
        let (Some(&channels), Some(rest)) = (self.input_shape.first(), self.input_shape.get(1..))
        else {
            return Err(Error::Shape("a pointwise layer of an empty shape".into()));
        };
        let mut sum: Option<Tensor> = None;
        let mut offset = 0;
        let mut batch = 0;
        for p in parts {
            let size = p.size();
            let c = size.get(1).copied().unwrap_or(0);
            if size.len() != 5 || size.get(2..) != Some(rest) || offset + c > channels {
                return Err(Error::Shape(format!(
                    "parts of {:?} do not concatenate to [batch, {:?}…]",
                    parts.iter().map(Tensor::size).collect::<Vec<_>>(),
                    self.input_shape
                )));
            }
            batch = size[0];
            let rows = channels_last(p)?.f_reshape([-1, c])?;
            let w = wmat.f_narrow(0, offset, c)?;
            sum = Some(product(sum.as_ref().unwrap_or(bias), &rows, &w)?);
            offset += c;
        }
        let sum = match sum {
            Some(s) if offset == channels => s,
            _ => {
                return Err(Error::Shape(format!(
                    "parts of {offset} channels for a layer of {channels}"
                )))
            }
        };
        let mut dims = vec![batch];
        dims.extend_from_slice(rest);
        dims.extend(wmat.size().get(1));
        let mut h = first.finish_t(channels_first(&sum.f_reshape(dims)?)?, train)?;
        for b in self.blocks.iter().skip(1) {
            h = b.forward_t(&h, batch, train)?;
        }
        Ok(h)
    }
}

/// `[B, C, D, H, W]` → the `[B, D, H, W, C]` view. When `x` has channels-last strides (the
/// layout the matrix-product layers below produce) the view is contiguous, so the reshapes
/// that follow cost nothing; otherwise they copy, with the same result.
fn channels_last(x: &Tensor) -> Result<Tensor, Error> {
    Ok(x.f_permute([0, 2, 3, 4, 1])?)
}

/// `[B, D, H, W, C]` → the `[B, C, D, H, W]` view, which keeps channels-last strides: batch
/// norm and the activations keep that layout, so the next matrix-product layer reads it
/// without a copy.
fn channels_first(y: &Tensor) -> Result<Tensor, Error> {
    Ok(y.f_permute([0, 4, 1, 2, 3])?)
}

/// A transposed convolution whose kernel equals its stride: every input cell writes its own
/// `kd × kh × kw` block of the output, so it is one matrix product
/// `[B·D·H·W, C] × [C, kd·kh·kw·O]` (bias added inside it) in channels-last layout, and a
/// reordering of `O`-channel runs that is free when only the pitch kernel exceeds 1. libtorch's
/// CPU `conv_transpose3d` takes a generic path that is several times slower for these layers,
/// which are most of the generator; the channels-last layout also spares the reordering of
/// single values that a channels-first output needs. Same result as `conv_transpose3d`
/// (checked by a test); the output has channels-last strides.
fn tiling_tconv(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor, Error> {
    let bad = || Error::Shape(format!("tconv of {:?} by {:?}", x.size(), weight.size()));
    let [b, c, d, h, w] = <[i64; 5]>::try_from(x.size().as_slice()).map_err(|_| bad())?;
    let [_, o, kd, kh, kw] = <[i64; 5]>::try_from(weight.size().as_slice()).map_err(|_| bad())?;
    let k = kd * kh * kw;
    // [C, O, kd, kh, kw] → [C, kd·kh·kw·O]: columns kernel-major, channel-minor.
    let wmat = weight.f_permute([0, 2, 3, 4, 1])?.f_reshape([c, k * o])?;
    let y = product(
        &bias.f_repeat([k])?,
        &channels_last(x)?.f_reshape([b * d * h * w, c])?,
        &wmat,
    )?;
    let y = y
        .f_reshape([b, d, h, w, kd, kh, kw, o])?
        .f_permute([0, 1, 4, 2, 5, 3, 6, 7])?
        .f_reshape([b, d * kd, h * kh, w * kw, o])?;
    channels_first(&y)
}

/// `bias + a × b` for a `[n, k]` by `[k, m]` product, `bias` `[m]` or `[n, m]`. With one
/// output column (the generator's merging layers) it is a matrix-vector product: the backward
/// of a matrix product would give the input gradient as a product of inner dimension 1, which
/// the CPU BLAS runs an order of magnitude slower than the broadcast multiplication that
/// `mv`'s backward uses.
fn product(bias: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor, Error> {
    if b.size().get(1) == Some(&1) {
        Ok(a.f_mv(&b.f_squeeze_dim(1)?)?.f_unsqueeze(1)?.f_add(bias)?)
    } else {
        Ok(bias.f_addmm(a, b)?)
    }
}

/// A convolution whose kernel equals its stride, without padding: the input cut into
/// non-overlapping `kd × kh × kw` patches, one matrix product `[patches, kd·kh·kw·C] ×
/// [kd·kh·kw·C, O]` in channels-last layout (the patches are free views when only the pitch
/// kernel exceeds 1). Most of the critic's layers are of this kind; the matrix product beats
/// libtorch's CPU convolutions on their few channels. Same result as `conv3d` (checked by a
/// test); the output has channels-last strides.
fn patch_conv(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor, Error> {
    let bad = || Error::Shape(format!("conv of {:?} by {:?}", x.size(), weight.size()));
    let [b, c, d, h, w] = <[i64; 5]>::try_from(x.size().as_slice()).map_err(|_| bad())?;
    let [o, _, kd, kh, kw] = <[i64; 5]>::try_from(weight.size().as_slice()).map_err(|_| bad())?;
    if [kd, kh, kw].contains(&0) || d % kd != 0 || h % kh != 0 || w % kw != 0 {
        return Err(bad());
    }
    let (d2, h2, w2) = (d / kd, h / kh, w / kw);
    let patches = channels_last(x)?
        .f_reshape([b, d2, kd, h2, kh, w2, kw, c])?
        .f_permute([0, 1, 3, 5, 2, 4, 6, 7])?
        .f_reshape([b * d2 * h2 * w2, kd * kh * kw * c])?;
    // [O, C, kd, kh, kw] → [kd·kh·kw·C, O], rows in the patches' order.
    let wmat = weight
        .f_permute([2, 3, 4, 1, 0])?
        .f_reshape([kd * kh * kw * c, o])?;
    let y = product(bias, &patches, &wmat)?;
    channels_first(&y.f_reshape([b, d2, h2, w2, o])?)
}

/// A convolution with kernel and stride 1 along the bars: the bars are independent, so they
/// join the batch of a 2-D convolution over (steps, pitches), for which libtorch's CPU kernels
/// are much faster than its 3-D ones. Same result as `conv3d` (checked by a test).
fn barwise_conv(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    stride: [i64; 2],
) -> Result<Tensor, Error> {
    let [b, c, d, h, w] = <[i64; 5]>::try_from(x.size().as_slice())
        .map_err(|_| Error::Shape(format!("conv of {:?}", x.size())))?;
    let y = x.f_transpose(1, 2)?.f_reshape([b * d, c, h, w])?.f_conv2d(
        &weight.f_squeeze_dim(2)?,
        Some(bias),
        stride,
        [0, 0],
        [1, 1],
        1,
    )?;
    let [_, o, h2, w2] = <[i64; 4]>::try_from(y.size().as_slice())
        .map_err(|_| Error::Shape(format!("conv2d gave {:?}", y.size())))?;
    Ok(y.f_reshape([b, d, o, h2, w2])?.f_transpose(1, 2)?)
}

/// The leaky ReLU `max(x, 0.2·x)` as `x · s(x)` with the slope `s = 0.4·(sign(x) + 1.5)` held
/// constant: exactly 1 above 0 and 0.2 below (so the values are exactly `max`'s), 0.6 at 0
/// (the derivative `maximum` gives at its tie, half of each side's). The values and the derivatives of every order are those of
/// `max(x, 0.2·x)`, but the backward is one product instead of `maximum`'s masks and
/// divisions, which took a sixth of a training iteration through the critic's double
/// backward; libtorch's own `leaky_relu` would send a zero gradient back through every
/// convolution in the double backward.
fn leaky_relu(x: &Tensor) -> Result<Tensor, Error> {
    debug_assert!((LEAKY_SLOPE - 0.2).abs() < f64::EPSILON);
    let slope = tch::no_grad(|| -> Result<Tensor, Error> {
        let mut s = x.f_sign()?;
        let _ = s.f_add_scalar_(1.5)?.f_mul_scalar_(0.4)?;
        Ok(s)
    })?;
    Ok(x.f_mul(&slope)?)
}

impl Built {
    /// Trainable elements of this block.
    fn params(&self) -> i64 {
        let numel = |t: &Tensor| t.size().iter().product::<i64>();
        let core = match &self.core {
            BuiltCore::Dense { weight, bias }
            | BuiltCore::Conv { weight, bias, .. }
            | BuiltCore::TConv { weight, bias, .. } => numel(weight) + numel(bias),
            BuiltCore::Identity | BuiltCore::Reshape(_) => 0,
        };
        core + self
            .bn
            .as_ref()
            .map_or(0, |bn| numel(&bn.weight) + numel(&bn.bias))
    }

    fn forward_t(&self, x: &Tensor, batch: i64, train: bool) -> Result<Tensor, Error> {
        self.finish_t(self.core_t(x, batch)?, train)
    }

    /// The core's weight as a `[in, out]` matrix and its bias if the core is a pointwise
    /// (1 × 1 × 1, stride 1, unpadded) convolution or transposed convolution: a per-cell
    /// product over the channels, which [`Stack::forward_cat_t`] can split by input channels.
    fn pointwise(&self) -> Result<Option<(Tensor, &Tensor)>, Error> {
        let unit = |w: &Tensor, stride: &[i64; 3]| {
            w.size().get(2..) == Some(&[1, 1, 1][..]) && stride == &[1, 1, 1]
        };
        Ok(match &self.core {
            BuiltCore::TConv {
                weight,
                bias,
                stride,
            } if unit(weight, stride) => Some((weight.f_flatten(1, -1)?, bias)),
            BuiltCore::Conv {
                weight,
                bias,
                stride,
                pad,
            } if unit(weight, stride) && pad.iter().all(|&p| p == 0) => {
                Some((weight.f_flatten(1, -1)?.f_transpose(0, 1)?, bias))
            }
            _ => None,
        })
    }

    /// The core alone.
    fn core_t(&self, x: &Tensor, batch: i64) -> Result<Tensor, Error> {
        Ok(match &self.core {
            BuiltCore::Identity => x.shallow_clone(),
            BuiltCore::Dense { weight, bias } => {
                x.f_flatten(1, -1)?.f_linear(weight, Some(bias))?
            }
            BuiltCore::Conv {
                weight,
                bias,
                stride,
                pad,
            } => {
                let padded = if pad.iter().any(|&p| p != 0) {
                    x.f_constant_pad_nd(pad)?
                } else {
                    x.shallow_clone()
                };
                if weight.size().get(2..) == Some(&stride[..]) && pad.iter().all(|&p| p == 0) {
                    patch_conv(&padded, weight, bias)?
                } else if weight.size().get(2) == Some(&1) && stride[0] == 1 {
                    barwise_conv(&padded, weight, bias, [stride[1], stride[2]])?
                } else {
                    padded.f_conv3d(weight, Some(bias), stride, [0, 0, 0], [1, 1, 1], 1)?
                }
            }
            BuiltCore::TConv {
                weight,
                bias,
                stride,
            } => {
                if weight.size().get(2..) == Some(&stride[..]) {
                    tiling_tconv(x, weight, bias)?
                } else {
                    x.f_conv_transpose3d(
                        weight,
                        Some(bias),
                        stride,
                        [0, 0, 0],
                        [0, 0, 0],
                        1,
                        [1, 1, 1],
                    )?
                }
            }
            BuiltCore::Reshape(to) => {
                let mut dims = vec![batch];
                dims.extend_from_slice(to);
                x.f_reshape(dims)?
            }
        })
    }

    /// Batch norm and activation after the core.
    fn finish_t(&self, h: Tensor, train: bool) -> Result<Tensor, Error> {
        let h = match &self.bn {
            Some(bn) => h.f_batch_norm(
                Some(&bn.weight),
                Some(&bn.bias),
                Some(&bn.running_mean),
                Some(&bn.running_var),
                train,
                BN_MOMENTUM,
                BN_EPS,
                true,
            )?,
            None => h,
        };
        Ok(match self.act {
            Act::None => h,
            Act::Relu => h.f_relu()?,
            Act::LeakyRelu => leaky_relu(&h)?,
            Act::Sigmoid => h.f_sigmoid()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of block: the forward pass gives the inferred shapes, `SAME` keeps the size
    /// with TensorFlow's padding, and the parameters are counted.
    #[test]
    fn inferred_shapes_match_the_forward_pass() {
        let _rng = crate::torch_rng();
        let vs = nn::VarStore::new(Device::Cpu);
        let blocks = [
            Block::dense(2 * 3 * 2 * 4).bn().act(Act::Relu),
            Block::reshape(vec![2, 3, 2, 4]),
            Block::tconv(5, [1, 3, 2], [1, 3, 1]).bn().act(Act::Sigmoid),
            Block::same_conv(4, [1, 3, 12]).act(Act::LeakyRelu),
            Block::identity().bn(),
            Block::conv(6, [3, 2, 5], [1, 2, 5]),
        ];
        let s = Stack::new(&vs.root(), "s", 1, &[7], &blocks).unwrap();
        let shapes: Vec<_> = s.rows().iter().map(|r| r.output_shape.clone()).collect();
        // tconv: time (2 − 1)·3 + 3 = 6, pitch (4 − 1)·1 + 2 = 5; conv: bars (3 − 3) + 1,
        // time (6 − 2)/2 + 1 = 3, pitch (5 − 5)/5 + 1 = 1.
        let want: [&[i64]; 6] = [
            &[48],
            &[2, 3, 2, 4],
            &[5, 3, 6, 5],
            &[4, 3, 6, 5],
            &[4, 3, 6, 5],
            &[6, 1, 3, 1],
        ];
        assert_eq!(shapes, want);
        let params: Vec<_> = s.rows().iter().map(|r| r.params).collect();
        assert_eq!(
            params,
            [
                7 * 48 + 48 + 96,
                0,
                2 * 5 * 6 + 5 + 10,
                5 * 4 * 36 + 4,
                8,
                4 * 6 * 30 + 6
            ]
        );
        let x = Tensor::randn([3, 7], (Kind::Float, Device::Cpu));
        assert_eq!(s.forward_t(&x, true).unwrap().size(), [3, 6, 1, 3, 1]);
        assert_eq!(s.forward_t(&x, false).unwrap().size(), [3, 6, 1, 3, 1]);
        assert!(matches!(
            s.forward_t(&Tensor::zeros([3, 6], (Kind::Float, Device::Cpu)), false),
            Err(Error::Shape(_))
        ));
    }

    /// The matrix-product form of a kernel = stride transposed convolution equals libtorch's.
    #[test]
    fn tiling_tconv_equals_conv_transpose3d() {
        let _rng = crate::torch_rng();
        tch::manual_seed(4);
        let f64 = (Kind::Double, Device::Cpu);
        let x = Tensor::randn([2, 3, 2, 4, 5], f64);
        let w = Tensor::randn([3, 4, 2, 3, 12], f64);
        let b = Tensor::randn([4], f64);
        let want = x.conv_transpose3d(&w, Some(&b), [2, 3, 12], [0, 0, 0], [0, 0, 0], 1, [1, 1, 1]);
        let got = tiling_tconv(&x, &w, &b).unwrap();
        assert_eq!(got.size(), [2, 4, 4, 12, 60]);
        assert!(got.allclose(&want, 1e-12, 1e-12, false));
    }

    /// The patch form of a kernel = stride convolution equals libtorch's `conv3d`, also on a
    /// channels-last input (the layout the other matrix-product layers produce).
    #[test]
    fn patch_conv_equals_conv3d() {
        let _rng = crate::torch_rng();
        tch::manual_seed(5);
        let f64 = (Kind::Double, Device::Cpu);
        let x = Tensor::randn([2, 3, 4, 12, 24], f64);
        let w = Tensor::randn([5, 3, 2, 4, 12], f64);
        let b = Tensor::randn([5], f64);
        let want = x.conv3d(&w, Some(&b), [2, 4, 12], [0, 0, 0], [1, 1, 1], 1);
        let x_cl = x
            .permute([0, 2, 3, 4, 1])
            .contiguous()
            .permute([0, 4, 1, 2, 3]);
        for input in [&x, &x_cl] {
            let got = patch_conv(input, &w, &b).unwrap();
            assert_eq!(got.size(), [2, 5, 2, 3, 2]);
            assert!(got.allclose(&want, 1e-12, 1e-12, false));
        }
    }

    /// A stack whose first block is pointwise gives the same from parts as from their
    /// concatenation; another stack concatenates.
    #[test]
    fn forward_cat_equals_forward_of_the_concatenation() {
        let _rng = crate::torch_rng();
        tch::manual_seed(7);
        let vs = nn::VarStore::new(Device::Cpu);
        let f32 = (Kind::Float, Device::Cpu);
        let parts = [
            Tensor::randn([3, 2, 2, 4, 5], f32),
            Tensor::randn([3, 4, 2, 4, 5], f32),
        ];
        let cat = Tensor::cat(&parts, 1);
        for (name, blocks) in [
            (
                "t",
                vec![Block::tconv(1, [1, 1, 1], [1, 1, 1]).bn().act(Act::Sigmoid)],
            ),
            (
                "c",
                vec![Block::conv(3, [1, 1, 1], [1, 1, 1]).act(Act::LeakyRelu)],
            ),
            ("k", vec![Block::conv(3, [1, 2, 5], [1, 2, 5])]),
        ] {
            let s = Stack::new(&(vs.root() / name), name, 1, &[6, 2, 4, 5], &blocks).unwrap();
            let want = s.forward_t(&cat, true).unwrap();
            let got = s.forward_cat_t(&parts, true).unwrap();
            assert_eq!(got.size(), want.size());
            assert!(got.allclose(&want, 1e-5, 1e-6, false), "{name}");
        }
        let s = Stack::new(
            &vs.root(),
            "s",
            1,
            &[6, 2, 4, 5],
            &[Block::conv(3, [1, 1, 1], [1, 1, 1])],
        )
        .unwrap();
        assert!(matches!(
            s.forward_cat_t(&parts[..1], true),
            Err(Error::Shape(_))
        ));
    }

    /// The leaky ReLU's values, gradient and gradient of the gradient equal those of
    /// `max(x, 0.2·x)`, also at 0.
    #[test]
    fn leaky_relu_equals_maximum_to_the_second_derivative() {
        let _rng = crate::torch_rng();
        let x0 = Tensor::from_slice(&[-1.5f64, -0.0, 0.0, 0.25, 3.0]);
        let v = Tensor::from_slice(&[0.3f64, -0.7, 1.1, 2.0, -0.4]);
        let run = |f: &dyn Fn(&Tensor) -> Tensor| {
            let x = x0.copy().set_requires_grad(true);
            let y = f(&x);
            // d(Σ v·f(x))/dx with a graph, then the gradient of Σ (that)² · x.
            let g =
                Tensor::run_backward(&[(&y * &v).sum(Kind::Double)], &[&x], true, true).remove(0);
            let second = (&g * &g * &x).sum(Kind::Double);
            let gg = Tensor::run_backward(&[second], &[&x], false, false).remove(0);
            (y.detach(), g.detach(), gg)
        };
        let mine = run(&|x| leaky_relu(x).unwrap());
        let reference = run(&|x| x.maximum(&(x * LEAKY_SLOPE)));
        assert_eq!(mine.0, reference.0);
        // At the ties `maximum` adds two halves: equal up to rounding.
        assert!(mine.1.allclose(&reference.1, 1e-15, 0.0, false));
        assert!(mine.2.allclose(&reference.2, 1e-15, 0.0, false));
        let want = Tensor::from_slice(&[0.3 * 0.2, -0.7 * 0.6, 1.1 * 0.6, 2.0, -0.4]);
        assert!(mine.1.allclose(&want, 1e-15, 0.0, false));
    }

    /// The bar-wise 2-D form of a convolution with bar kernel 1 equals libtorch's `conv3d`.
    #[test]
    fn barwise_conv_equals_conv3d() {
        let _rng = crate::torch_rng();
        tch::manual_seed(6);
        let f64 = (Kind::Double, Device::Cpu);
        let x = Tensor::randn([2, 3, 4, 12, 26], f64);
        let w = Tensor::randn([5, 3, 1, 4, 3], f64);
        let b = Tensor::randn([5], f64);
        let want = x.conv3d(&w, Some(&b), [1, 4, 2], [0, 0, 0], [1, 1, 1], 1);
        let got = barwise_conv(&x, &w, &b, [4, 2]).unwrap();
        assert_eq!(got.size(), [2, 5, 4, 3, 12]);
        assert!(got.allclose(&want, 1e-12, 1e-12, false));
    }

    #[test]
    fn a_kernel_that_does_not_tile_its_input_is_refused() {
        let _rng = crate::torch_rng();
        let vs = nn::VarStore::new(Device::Cpu);
        let err = Stack::new(
            &vs.root(),
            "d",
            1,
            &[1, 4, 10, 24],
            &[Block::conv(2, [1, 4, 12], [1, 4, 12])],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid model configuration: layer d.0: kernel 4 stride 4 does not tile 10 cells \
             on axis 1"
        );
    }

    /// The weights are N(0, 0.02²) truncated at 2σ.
    #[test]
    fn weights_are_truncated_normal() {
        let _rng = crate::torch_rng();
        tch::manual_seed(2);
        let vs = nn::VarStore::new(Device::Cpu);
        let w = trunc_normal_var(&vs.root(), "w", &[100_000]).unwrap();
        let max = w.abs().max().double_value(&[]);
        assert!(max <= 2.0 * INIT_STD + 1e-9, "max {max}");
        // A normal truncated at ±2σ has standard deviation 0.880σ.
        let std = w.std(true).double_value(&[]);
        assert!((std / INIT_STD - 0.880).abs() < 0.01, "std {std}");
    }
}
