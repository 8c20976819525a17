#!/usr/bin/env python3
"""Time one WGAN-GP training iteration of museroll's BinaryMuseGAN in PyTorch (issue 4).

One iteration = ``--n-critic`` discriminator steps + one generator step, as museroll trains:

* discriminator step: fresh ``z ~ N(0, 1)``; ``fake = G(z)`` under ``no_grad`` (G in training
  mode, so its batch norms use batch statistics and update their running statistics);
  ``D(real)``, ``D(fake)`` and ``D(x̂)`` as three separate forwards, ``x̂ = α·real + (1 − α)·fake``
  with one ``α ~ U[0, 1)`` per sample; the gradient of ``sum D(x̂)`` with respect to ``x̂`` with
  ``create_graph=True``, its L2 norm over all non-batch dimensions;
  ``loss = mean D(fake) − mean D(real) + λ·mean (‖∇‖ − 1)²`` (λ = 10); backward (the double
  backward through D); Adam step on D.
* generator step: fresh ``z``; ``loss = −mean D(G(z))``; D's parameters are frozen
  (``requires_grad = False``) so the backward computes no weight gradients of D; Adam step on G.
* Adam: lr 1e-3, β = (0.5, 0.9), ε = 1e-8 (``torch.optim.Adam``), ``zero_grad`` before each
  backward.

The real batch is the same every step: a random binary tensor of the sample shape drawn once
from a fixed seed. Its content does not matter for the timing (every layer is dense: no
operation's cost depends on the values), so no dataset is read.

The networks are built from the preset's config printed by ``museroll model --preset P --json``
and are checked layer by layer against that JSON (name, output shape, parameter count, copies),
so a difference from museroll's architecture stops the script with ``MISMATCH``.

``--ops museroll`` (default) runs the same libtorch operations as crates/models/src/layers.rs:
kernel = stride convolutions and transposed convolutions as one matrix product in channels-last
layout (``mv`` for one output channel), other convolutions with bar kernel and stride 1 as a 2-D
convolution over (steps, pitches) with the bars in the batch, the pitch-time/time-pitch merge as
one product per stream summed (no concatenation), the leaky ReLU as ``x · s`` with the constant
slope ``s = 0.4·(sign(x) + 1.5)``; so the Rust/Python comparison measures the bindings, not the choice
of operations. ``--ops torch`` uses PyTorch's own ``conv3d``/``conv_transpose3d``/``leaky_relu``
everywhere (what a straightforward port would do), same parameters and results.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` over one extra iteration
(forward, backward and double backward as executed). It counts matrix products and
convolutions (and their backward) only, not element-wise operations, batch norm or Adam.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

INIT_STD = 0.02  # truncated at ±2σ
BN_EPS = 1e-3
BN_MOMENTUM = 0.01
LEAKY_SLOPE = 0.2
GP_LAMBDA = 10.0
ADAM = {"lr": 1e-3, "betas": (0.5, 0.9), "eps": 1e-8}
DEFAULT_BATCH = {"chorale": 32, "bmusegan": 16, "tiny": 32}
SEED = 1234


# ----------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Spec:
    """One block of a stack: core (dense, conv, tconv, reshape) → optional BN → activation."""

    core: str
    out: int = 0
    kernel: tuple = (1, 1, 1)
    stride: tuple = (1, 1, 1)
    shape: tuple = ()
    bn: bool = False
    act: str = "none"  # none | relu | lrelu | sigmoid

    def with_bn(self) -> "Spec":
        return replace(self, bn=True)

    def with_act(self, act: str) -> "Spec":
        return replace(self, act=act)


def dense(out):
    return Spec("dense", out=out)


def conv(out, kernel, stride):
    return Spec("conv", out=out, kernel=tuple(kernel), stride=tuple(stride))


def tconv(out, kernel, stride):
    return Spec("tconv", out=out, kernel=tuple(kernel), stride=tuple(stride))


def reshape(*shape):
    return Spec("reshape", shape=tuple(shape))


def lrelu(spec):
    return spec.with_act("lrelu")


def bn_relu(spec):
    return spec.with_bn().with_act("relu")


def geometry(k, s):
    return f"k({k[0]},{k[1]},{k[2]}) s({s[0]},{s[1]},{s[2]})"


def trunc_normal(*dims):
    w = torch.empty(*dims)
    nn.init.trunc_normal_(w, 0.0, INIT_STD, -2 * INIT_STD, 2 * INIT_STD)
    return nn.Parameter(w)


class Block(nn.Module):
    """A built block; ``in_shape`` is the per-sample input shape."""

    def __init__(self, spec: Spec, in_shape: list[int], ops: str):
        super().__init__()
        self.spec, self.ops = spec, ops
        s = spec
        if s.core == "dense":
            n_in = 1
            for d in in_shape:
                n_in *= d
            self.weight = trunc_normal(s.out, n_in)
            self.bias = nn.Parameter(torch.zeros(s.out))
            self.out_shape = [s.out]
            self.op = f"dense {s.out}"
        elif s.core == "conv":
            c, *spatial = in_shape
            out = [s.out]
            for n, k, st in zip(spatial, s.kernel, s.stride):
                if n < k or (n - k) % st:
                    raise ValueError(f"conv {s} does not tile {in_shape}")
                out.append((n - k) // st + 1)
            self.weight = trunc_normal(s.out, c, *s.kernel)
            self.bias = nn.Parameter(torch.zeros(s.out))
            self.out_shape = out
            self.op = f"conv {s.out} {geometry(s.kernel, s.stride)}"
        elif s.core == "tconv":
            c, *spatial = in_shape
            self.weight = trunc_normal(c, s.out, *s.kernel)  # PyTorch layout [in, out, k…]
            self.bias = nn.Parameter(torch.zeros(s.out))
            self.out_shape = [s.out] + [(n - 1) * st + k for n, k, st in zip(spatial, s.kernel, s.stride)]
            self.op = f"tconv {s.out} {geometry(s.kernel, s.stride)}"
        elif s.core == "reshape":
            if _numel(in_shape) != _numel(s.shape):
                raise ValueError(f"cannot reshape {in_shape} to {s.shape}")
            self.weight = self.bias = None
            self.out_shape = list(s.shape)
            self.op = "reshape"
        else:
            raise ValueError(s.core)
        if s.bn:
            ch = self.out_shape[0]
            self.bn_weight = nn.Parameter(torch.ones(ch))
            self.bn_bias = nn.Parameter(torch.zeros(ch))
            self.register_buffer("running_mean", torch.zeros(ch))
            self.register_buffer("running_var", torch.ones(ch))
            self.op += " + BN"
        self.op += {"none": "", "relu": " + ReLU", "lrelu": " + LReLU", "sigmoid": " + sigmoid"}[s.act]

    def forward(self, x):
        return self.finish(self.core(x))

    def pointwise(self):
        """``[in, out]`` weight matrix of a 1×1×1 stride-1 (t)conv, else None (layers.rs)."""
        s = self.spec
        if s.core in ("conv", "tconv") and s.kernel == (1, 1, 1) and s.stride == (1, 1, 1):
            w = self.weight.flatten(1)
            return w if s.core == "tconv" else w.t()
        return None

    def core(self, x):
        s = self.spec
        if s.core == "dense":
            h = F.linear(x.flatten(1), self.weight, self.bias)
        elif s.core == "conv":
            if self.ops == "museroll" and s.kernel == s.stride:
                h = patch_conv(x, self.weight, self.bias)
            elif self.ops == "museroll" and s.kernel[0] == 1 and s.stride[0] == 1:
                h = barwise_conv(x, self.weight, self.bias, s.stride[1:])
            else:
                h = F.conv3d(x, self.weight, self.bias, s.stride)
        elif s.core == "tconv":
            if self.ops == "museroll" and s.kernel == s.stride:
                h = tiling_tconv(x, self.weight, self.bias)
            else:
                h = F.conv_transpose3d(x, self.weight, self.bias, s.stride)
        else:
            h = x.reshape(x.shape[0], *s.shape)
        return h

    def finish(self, h):
        s = self.spec
        if s.bn:
            h = F.batch_norm(h, self.running_mean, self.running_var, self.bn_weight, self.bn_bias,
                             self.training, BN_MOMENTUM, BN_EPS)
        if s.act == "relu":
            h = F.relu(h)
        elif s.act == "sigmoid":
            h = torch.sigmoid(h)
        elif s.act == "lrelu":
            h = museroll_leaky_relu(h) if self.ops == "museroll" else F.leaky_relu(h, LEAKY_SLOPE)
        return h

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def museroll_leaky_relu(x):
    """``max(x, 0.2·x)`` as ``x · s`` with the constant slope ``s = 0.4·(sign(x) + 1.5)``
    (layers.rs): 1 above 0, 0.2 below, 0.6 at 0 (``maximum``'s derivative at its tie)."""
    with torch.no_grad():
        s = x.sign().add_(1.5).mul_(0.4)
    return x * s


def product(bias, a, b):
    """``bias + a × b`` (bias ``[m]`` or ``[n, m]``); with one output column a matrix-vector
    product (layers.rs)."""
    if b.shape[1] == 1:
        return a.mv(b.squeeze(1)).unsqueeze(1) + bias
    return torch.addmm(bias, a, b)


def channels_last(x):
    """``[B, C, D, H, W]`` → the ``[B, D, H, W, C]`` view (free on channels-last strides)."""
    return x.permute(0, 2, 3, 4, 1)


def channels_first(y):
    """``[B, D, H, W, C]`` → the ``[B, C, D, H, W]`` view, keeping channels-last strides."""
    return y.permute(0, 4, 1, 2, 3)


def tiling_tconv(x, weight, bias):
    """Kernel = stride transposed conv as ``[B·D·H·W, C] × [C, kd·kh·kw·O]`` in channels-last
    layout (layers.rs); the output has channels-last strides."""
    b, c, d, h, w = x.shape
    _, o, kd, kh, kw = weight.shape
    k = kd * kh * kw
    y = product(bias.repeat(k), channels_last(x).reshape(b * d * h * w, c),
                weight.permute(0, 2, 3, 4, 1).reshape(c, k * o))
    y = (y.reshape(b, d, h, w, kd, kh, kw, o)
         .permute(0, 1, 4, 2, 5, 3, 6, 7)
         .reshape(b, d * kd, h * kh, w * kw, o))
    return channels_first(y)


def patch_conv(x, weight, bias):
    """Kernel = stride conv as ``[patches, kd·kh·kw·C] × [kd·kh·kw·C, O]`` in channels-last
    layout (layers.rs); the output has channels-last strides."""
    b, c, d, h, w = x.shape
    o, _, kd, kh, kw = weight.shape
    d2, h2, w2 = d // kd, h // kh, w // kw
    patches = (channels_last(x).reshape(b, d2, kd, h2, kh, w2, kw, c)
               .permute(0, 1, 3, 5, 2, 4, 6, 7)
               .reshape(b * d2 * h2 * w2, kd * kh * kw * c))
    y = product(bias, patches, weight.permute(2, 3, 4, 1, 0).reshape(kd * kh * kw * c, o))
    return channels_first(y.reshape(b, d2, h2, w2, o))


def barwise_conv(x, weight, bias, stride):
    """Bar kernel/stride 1 conv as a 2-D conv with the bars in the batch (layers.rs)."""
    b, c, d, h, w = x.shape
    y = F.conv2d(x.transpose(1, 2).reshape(b * d, c, h, w), weight.squeeze(2), bias, stride)
    _, o, h2, w2 = y.shape
    return y.reshape(b, d, o, h2, w2).transpose(1, 2)


class Stack(nn.Module):
    """Blocks in sequence; ``rows`` are the summary rows of museroll's ``model`` command."""

    def __init__(self, name: str, copies: int, in_shape: list[int], specs: list[Spec], ops: str):
        super().__init__()
        self.blocks = nn.ModuleList()
        self.rows = []
        shape = list(in_shape)
        for i, spec in enumerate(specs):
            blk = Block(spec, shape, ops)
            shape = blk.out_shape
            self.blocks.append(blk)
            self.rows.append({"name": f"{name}.{i}", "op": blk.op, "output_shape": list(shape),
                              "params": blk.n_params(), "copies": copies})
        self.out_shape = shape

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x

    def forward_cat(self, parts):
        """``forward(cat(parts, 1))``; with ``--ops museroll`` and a pointwise first block as
        a sum of one product per part, without the concatenation (layers.rs)."""
        first = self.blocks[0]
        w = first.pointwise() if first.ops == "museroll" else None
        if w is None:
            return self.forward(torch.cat(parts, 1))
        acc, offset = first.bias, 0
        for p in parts:
            c = p.shape[1]
            acc = product(acc, channels_last(p).reshape(-1, c), w[offset:offset + c])
            offset += c
        b, _, *rest = parts[0].shape
        x = first.finish(channels_first(acc.reshape(b, *rest, w.shape[1])))
        for blk in self.blocks[1:]:
            x = blk(x)
        return x


class Private(nn.Module):
    """Per-track pitch-time and time-pitch streams, concatenated and merged."""

    def __init__(self, tracks, in_shape, specs, ops):
        super().__init__()
        self.pitch_time = Stack("pitch_time.*", tracks, in_shape, specs[0], ops)
        self.time_pitch = Stack("time_pitch.*", tracks, in_shape, specs[1], ops)
        a, b = self.pitch_time.out_shape, self.time_pitch.out_shape
        assert a[1:] == b[1:], (a, b)
        self.merged = Stack("merged.*", tracks, [a[0] + b[0]] + a[1:], specs[2], ops)
        self.rows = self.pitch_time.rows + self.time_pitch.rows + self.merged.rows
        self.out_shape = self.merged.out_shape

    def forward(self, x):
        return self.merged.forward_cat([self.pitch_time(x), self.time_pitch(x)])


# ----------------------------------------------------------------------------- networks


def dims(cfg):
    f1, f2, f3 = cfg["time_factors"]
    p = cfg["pitch_layers"]
    sample = [cfg["tracks"], cfg["bars"], cfg["steps_per_bar"], cfg["pitches"]]
    return f1, f2, f3, p["first"], p["second_kernel"], p["second_stride"], sample


def widths(cfg):
    """``w(c)``: the width of a hidden layer the paper gives ``c`` channels (bmusegan.rs
    ``Dims::w``: divided by the config's ``width_divisor``, at least 1)."""
    divisor = cfg.get("width_divisor", 1)
    return lambda c: max(c // divisor, 1)


class Generator(nn.Module):
    """bmusegan.rs ``Generator``, the phrase kind: shared dense + tconvs, per-track private
    streams, sigmoid."""

    def __init__(self, cfg, ops):
        super().__init__()
        kind = cfg.get("generator", {"kind": "phrase"}).get("kind")
        if kind != "phrase":
            raise SystemExit(f"only the phrase generator is built, not {kind}")
        f1, f2, f3, a, kb, sb, sample = dims(cfg)
        w = widths(cfg)
        bars, tracks = cfg["bars"], cfg["tracks"]
        self.shared = Stack("shared", 1, [cfg["latent"]], [
            bn_relu(dense(w(512) * (bars - 1))),
            reshape(w(512), bars - 1, 1, 1),
            bn_relu(tconv(w(256), (2, 1, 1), (1, 1, 1))),
            bn_relu(tconv(w(128), (1, f1, 1), (1, f1, 1))),
            bn_relu(tconv(w(128), (1, 1, a), (1, 1, a))),
            bn_relu(tconv(w(64), (1, f2, 1), (1, f2, 1))),
            bn_relu(tconv(w(64), (1, 1, kb), (1, 1, sb))),
        ], ops)
        specs = (
            [bn_relu(tconv(w(64), (1, 1, 12), (1, 1, 12))),
             bn_relu(tconv(w(32), (1, f3, 1), (1, f3, 1)))],
            [bn_relu(tconv(w(64), (1, f3, 1), (1, f3, 1))),
             bn_relu(tconv(w(32), (1, 1, 12), (1, 1, 12)))],
            [tconv(1, (1, 1, 1), (1, 1, 1)).with_bn().with_act("sigmoid")],
        )
        self.private = nn.ModuleList(
            Private(tracks, self.shared.out_shape, specs, ops) for _ in range(tracks))
        assert self.private[0].out_shape[1:] == sample[1:], (self.private[0].out_shape, sample)
        self.rows = self.shared.rows + self.private[0].rows

    def forward(self, z):
        h = self.shared(z)
        return torch.cat([p(h) for p in self.private], 1)


def onset_feature(x, drum_tracks):
    """Drums raw, other tracks ``x[t] − x[t−1]`` within the bar; summed over pitch."""
    t = x.shape[1]
    mask = torch.ones(t, dtype=x.dtype)
    for d in drum_tracks:
        mask[d] = 0.0
    previous = F.pad(x.narrow(3, 0, x.shape[3] - 1), (0, 0, 1, 0))
    return (x - previous * mask.view(1, t, 1, 1, 1)).sum(4, keepdim=True)


def chroma_feature(x, beats):
    """Sum over each beat's steps and over octaves: ``[…, beats, 12]``."""
    b, t, bars, steps, pitches = x.shape
    return x.reshape(b, t, bars, beats, steps // beats, pitches // 12, 12).sum((4, 5))


class Discriminator(nn.Module):
    """bmusegan.rs ``Discriminator``, the proposed variant (private, shared, onset, chroma)."""

    def __init__(self, cfg, ops):
        super().__init__()
        if cfg["discriminator"] != "proposed":
            raise SystemExit(f"only the proposed discriminator is built, not {cfg['discriminator']}")
        f1, f2, f3, a, kb, sb, sample = dims(cfg)
        w = widths(cfg)
        tracks, bars, beats = cfg["tracks"], cfg["bars"], cfg["beats_per_bar"]
        self.drums, self.beats = list(cfg["drum_tracks"]), beats
        one_track = [1] + sample[1:]
        specs = (
            [lrelu(conv(w(32), (1, 1, 12), (1, 1, 12))), lrelu(conv(w(64), (1, f3, 1), (1, f3, 1)))],
            [lrelu(conv(w(32), (1, f3, 1), (1, f3, 1))), lrelu(conv(w(64), (1, 1, 12), (1, 1, 12)))],
            [lrelu(conv(w(64), (1, 1, 1), (1, 1, 1)))],
        )
        self.private = nn.ModuleList(Private(tracks, one_track, specs, ops) for _ in range(tracks))
        concat = list(self.private[0].out_shape)
        concat[0] *= tracks
        self.shared = Stack("shared", 1, concat, [
            lrelu(conv(w(128), (1, f2, kb), (1, f2, sb))),
            lrelu(conv(w(256), (1, f1, a), (1, f1, a))),
        ], ops)
        onset_in = [tracks, bars, sample[2], 1]
        self.onset = Stack("onset", 1, onset_in, [
            lrelu(conv(w(32), (1, f3, 1), (1, f3, 1))),
            lrelu(conv(w(64), (1, f2, 1), (1, f2, 1))),
            lrelu(conv(w(128), (1, f1, 1), (1, f1, 1))),
        ], ops)
        chroma_in = [tracks, bars, beats, 12]
        self.chroma = Stack("chroma", 1, chroma_in, [
            lrelu(conv(w(64), (1, 1, 12), (1, 1, 12))),
            lrelu(conv(w(128), (1, beats, 1), (1, beats, 1))),
        ], ops)
        channels = self.shared.out_shape[0] + self.onset.out_shape[0] + self.chroma.out_shape[0]
        self.merged = Stack("merged", 1, [channels, bars, 1, 1], [
            lrelu(conv(w(512), (2, 1, 1), (1, 1, 1))),
            reshape(w(512) * (bars - 1)),
            dense(1),
        ], ops)

        def feature(name, op, shape):
            return {"name": name, "op": op, "output_shape": shape, "params": 0, "copies": 1}

        self.rows = (self.private[0].rows + self.shared.rows
                     + [feature("onset_feature",
                                "within-bar x[t]−x[t−1] (drums raw), sum over pitch", onset_in)]
                     + self.onset.rows
                     + [feature("chroma_feature",
                                "sum over beat and octave (pitch class = index mod 12)", chroma_in)]
                     + self.chroma.rows + self.merged.rows)

    def forward(self, x):
        tracks = [p(x.narrow(1, t, 1)) for t, p in enumerate(self.private)]
        outputs = [self.shared(torch.cat(tracks, 1)),
                   self.onset(onset_feature(x, self.drums)),
                   self.chroma(chroma_feature(x, self.beats))]
        return self.merged(torch.cat(outputs, 1))


# ----------------------------------------------------------------------------- museroll's view


def museroll_model(binary: Path, preset: str) -> dict:
    if not binary.is_file():
        raise SystemExit(f"{binary} does not exist: build it (cargo build --release -p museroll-cli) "
                         "or pass --museroll PATH")
    out = subprocess.run([str(binary), "model", "--preset", preset, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def check_against_museroll(name, net, model) -> list[str]:
    """Compares the summary rows and total with museroll's; returns the differences."""
    want = next(n for n in model["networks"] if n["network"] == name)
    got_total = sum(p.numel() for p in net.parameters())
    problems = []
    if got_total != want["params"]:
        problems.append(f"{name}: {got_total} parameters, museroll {want['params']}")
    if len(net.rows) != len(want["layers"]):
        problems.append(f"{name}: {len(net.rows)} layers, museroll {len(want['layers'])}")
    for g, w in zip(net.rows, want["layers"]):
        if g != w:
            problems.append(f"{name}: layer {g} != museroll {w}")
    return problems


# ----------------------------------------------------------------------------- training


class Trainer:
    def __init__(self, cfg, batch, ops, n_critic):
        torch.manual_seed(SEED)
        self.G = Generator(cfg, ops).train()
        self.D = Discriminator(cfg, ops).train()
        self.opt_g = torch.optim.Adam(self.G.parameters(), **ADAM)
        self.opt_d = torch.optim.Adam(self.D.parameters(), **ADAM)
        sample = dims(cfg)[-1]
        self.real = torch.randint(0, 2, (batch, *sample)).float()
        self.batch, self.latent, self.n_critic = batch, cfg["latent"], n_critic

    def d_step(self):
        with torch.no_grad():
            fake = self.G(torch.randn(self.batch, self.latent))
        d_real = self.D(self.real)
        d_fake = self.D(fake)
        alpha = torch.rand(self.batch, 1, 1, 1, 1)
        x_hat = (alpha * self.real + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.D(x_hat).sum(), x_hat, create_graph=True)
        gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        loss = d_fake.mean() - d_real.mean() + GP_LAMBDA * gp
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        return loss.item()

    def g_step(self):
        self.D.requires_grad_(False)
        loss = -self.D(self.G(torch.randn(self.batch, self.latent))).mean()
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss.item()

    def iteration(self):
        for _ in range(self.n_critic):
            self.d_step()
        self.g_step()


class _GlobalOnly:
    """Stands in for FlopCounterMode's module tracker: its module hooks make
    ``autograd.grad`` on a leaf input (the gradient penalty's ``x̂``) fail ("A leaf node was
    passed to _will_engine_execute_node …"); the totals need no per-module breakdown."""

    parents = {"Global"}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def count_flops(fn):
    """Runs ``fn`` under FlopCounterMode: (total FLOPs, FLOPs per aten op)."""
    fc = FlopCounterMode(display=False)
    fc.mod_tracker = _GlobalOnly()
    with fc:
        fn()
    by_op = defaultdict(int)
    for op, n in fc.get_flop_counts().get("Global", {}).items():
        by_op[str(op)] += n
    return fc.get_total_flops(), dict(by_op)


def matmul_peak(n=2048, reps=10):
    g = torch.Generator().manual_seed(SEED)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    c = torch.empty(n, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        times.append(time.perf_counter() - t0)
    flops = 2 * n ** 3
    return {"n": n, "reps": reps, "min_s": min(times), "median_s": statistics.median(times),
            "gflops_best": flops / min(times) / 1e9,
            "gflops_median": flops / statistics.median(times) / 1e9}


def check_ops(cfg):
    """Builds both ``--ops`` variants from one seed in float64 and returns the largest differences,
    relative to the largest magnitude, of G's output, D's output, the penalty's input gradient and
    its parameter gradients (the largest over D's tensors)."""
    results = {}
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for ops in ("museroll", "torch"):
            torch.manual_seed(SEED)
            G, D = Generator(cfg, ops).train(), Discriminator(cfg, ops)
            x = G(torch.randn(3, cfg["latent"])).detach().requires_grad_(True)
            d = D(x)
            (grad,) = torch.autograd.grad(d.sum(), x, create_graph=True)
            gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).sum()
            # The penalty does not depend on the biases (only through the activations' masks).
            wgrads = torch.autograd.grad(gp, list(D.parameters()), allow_unused=True)
            results[ops] = [x.detach(), d.detach(), grad.detach()] + [
                torch.zeros(()) if w is None else w for w in wgrads]
    finally:
        torch.set_default_dtype(default)
    a, b = results["museroll"], results["torch"]
    diffs = [float((p - q).abs().max() / p.abs().max().clamp_min(1e-300)) if p.abs().max() > 0
             else float((p - q).abs().max()) for p, q in zip(a, b)]
    return {"generator": diffs[0], "discriminator": diffs[1], "penalty_input_grad": diffs[2],
            "penalty_param_grads": max(diffs[3:])}


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv=None):
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(DEFAULT_BATCH), default="chorale")
    ap.add_argument("--batch", type=int,
                    help="batch size (default 16 for bmusegan, 32 for chorale and tiny)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--n-critic", type=int, default=5, help="D steps per iteration (default 5)")
    ap.add_argument("--iters", type=int, default=5, help="timed iterations (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed iterations first (default 1)")
    ap.add_argument("--ops", choices=["museroll", "torch"], default="museroll",
                    help="museroll: layers.rs's operations (default); torch: conv3d/conv_transpose3d")
    ap.add_argument("--museroll", type=Path, default=root / "target/release/museroll",
                    help="the museroll binary whose `model --json` gives the config (default: %(default)s)")
    ap.add_argument("--width-divisor", type=int,
                    help="override the preset's width_divisor (then not checked against museroll)")
    ap.add_argument("--json", type=Path, help="also write all numbers to this file")
    ap.add_argument("--check-ops", action="store_true",
                    help="only check that both --ops give the same values (float64) and exit")
    args = ap.parse_args(argv)
    for name in ("threads", "n_critic", "iters"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    batch = args.batch or DEFAULT_BATCH[args.preset]
    if batch < 2 or args.warmup < 0:
        ap.error("--batch must be at least 2 (batch norm) and --warmup at least 0")

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    model = museroll_model(args.museroll, args.preset)
    cfg = model["config"]
    checked = args.width_divisor in (None, cfg.get("width_divisor", 1))
    if not checked:
        if args.width_divisor < 1:
            ap.error("--width-divisor must be at least 1")
        cfg = dict(cfg, width_divisor=args.width_divisor)
    tr = Trainer(cfg, batch, args.ops, args.n_critic)
    params = {"generator": sum(p.numel() for p in tr.G.parameters()),
              "discriminator": sum(p.numel() for p in tr.D.parameters())}
    museroll_params = {n["network"]: n["params"] for n in model["networks"]}
    print(f"preset {args.preset}: sample {dims(cfg)[-1]}, width_divisor {cfg.get('width_divisor', 1)}, "
          f"batch {batch}, n_critic {args.n_critic}, {args.threads} thread(s), ops {args.ops}, "
          f"torch {torch.__version__}")
    for name in ("generator", "discriminator"):
        print(f"{name:13} params {params[name]:>9}   museroll {museroll_params[name]:>9}")
    if checked:
        problems = (check_against_museroll("generator", tr.G, model)
                    + check_against_museroll("discriminator", tr.D, model))
        if problems:
            for p in problems:
                print("MISMATCH", p)
            sys.exit(1)
        print("architecture: every layer (name, output shape, parameters) equals museroll's")
    else:
        print(f"architecture NOT checked: museroll's preset has width_divisor "
              f"{model['config'].get('width_divisor', 1)}")
    if args.check_ops:
        diffs = check_ops(cfg)
        print("--ops museroll vs torch, largest relative differences (float64): "
              + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))
        if max(diffs.values()) > 1e-9:
            print("MISMATCH between the two --ops")
            sys.exit(1)
        return

    for _ in range(args.warmup):
        tr.iteration()
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        tr.iteration()
        times.append(time.perf_counter() - t0)
    d_counts = [count_flops(tr.d_step) for _ in range(args.n_critic)]
    g_flops, g_ops = count_flops(tr.g_step)
    d_flops = d_counts[0][0]
    flops = sum(c[0] for c in d_counts) + g_flops
    peak = matmul_peak()
    load_after = os.getloadavg()

    med, best = statistics.median(times), min(times)
    achieved = flops / med / 1e9
    achieved_best = flops / best / 1e9
    print(f"iteration: median {med * 1e3:.1f} ms, min {best * 1e3:.1f} ms "
          f"({args.iters} timed after {args.warmup} warm-up)")
    print(f"FLOPs per iteration: {flops / 1e9:.3f} GFLOP "
          f"(D step {d_flops / 1e9:.3f} × {args.n_critic}, G step {g_flops / 1e9:.3f})")
    print(f"achieved: {achieved:.1f} GFLOP/s at the median, {achieved_best:.1f} at the min")
    print(f"matmul peak ({peak['n']}×{peak['n']} float32, {args.threads} thread(s)): "
          f"{peak['gflops_best']:.1f} GFLOP/s best, {peak['gflops_median']:.1f} median")
    print(f"fraction of peak: {achieved / peak['gflops_best']:.3f} at the median, "
          f"{achieved_best / peak['gflops_best']:.3f} at the min")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; peak RSS {rss:.0f} MiB")

    if args.json:
        result = {
            "side": "pytorch", "preset": args.preset, "config": cfg, "batch": batch,
            "threads": args.threads, "n_critic": args.n_critic, "iters": args.iters,
            "warmup": args.warmup, "ops": args.ops, "gp_lambda": GP_LAMBDA,
            "adam": {"lr": ADAM["lr"], "betas": list(ADAM["betas"]), "eps": ADAM["eps"]},
            "params": params, "museroll_params": museroll_params,
            "checked_against_museroll": checked,
            "iteration_s": {"median": med, "min": best, "all": times},
            "flops": {"iteration": flops, "d_step": d_flops, "g_step": g_flops,
                      "d_step_by_op": d_counts[0][1], "g_step_by_op": g_ops},
            "gflops_achieved": {"median": achieved, "min": achieved_best},
            "matmul_peak": peak,
            "fraction_of_peak": {"median": achieved / peak["gflops_best"],
                                 "min": achieved_best / peak["gflops_best"]},
            "load_average": {"before": list(load_before), "after": list(load_after)},
            "peak_rss_mib": rss, "torch": torch.__version__, "python": platform.python_version(),
            "cpu": cpu_model(), "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
