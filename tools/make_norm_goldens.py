#!/usr/bin/python3
"""Writes the PyTorch goldens of batch normalisation and per-channel normalisation.

Regenerate, from the repository root, with Debian's python3-torch (1.13):

    /usr/bin/python3 tools/make_norm_goldens.py

It writes src/test/resources/goldens/norm.safetensors. Case C holds C.input, C.weight and C.bias
(gamma and beta, absent without the affine part), C.running_mean and C.running_var before the
forward pass, C.output, C.output_grad (the upstream gradient), C.input_grad, C.weight_grad,
C.bias_grad, and C.running_mean_after and C.running_var_after. The large (ResNet-shaped) cases
keep the file small: their input and upstream gradient are formulas (big_input, big_output_grad)
that the test computes too, and only every "stride"-th element of output and input_grad is stored.
The metadata maps C to {"op", "training", "affine", "stride", "shape"}:

  batchNorm2d         torch.nn.BatchNorm2d (eps 1e-5, momentum 0.1) in training or evaluation mode,
                      for an odd shape (N=3, C=5, H=W=7) and a ResNet-20 one (N=8, C=16, 32x32)
  batchNorm2dTwice    one BatchNorm2d in training mode applied to two batches (C.input and
                      C.input2, as clean and adversarial images), then one backward of out1 + out2
                      seeded with C.output_grad: both input gradients, the parameters' summed
                      gradients, the running statistics after two updates
  channelNormalize    (x - mean[:, None, None]) / std[:, None, None] with the CIFAR-10 mean and std

Everything runs in float64 from float32 inputs, so the goldens are the exact answers rounded to
float32. Deterministic: a second run writes the same file.
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_net import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "goldens",
                   "norm.safetensors")
CIFAR10_MEAN = [0.4914, 0.4822, 0.4465]
CIFAR10_STD = [0.2470, 0.2435, 0.2616]


def f32(t):
    """float32 numbers, held in float64."""
    return t.float().double()


def uniform(gen, shape, lo, hi):
    return f32(torch.rand(shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo)


def big_input(shape):
    """x[i] = 1.5 sin(0.731 i) + 0.25 c + 0.5 for flat index i in channel c, rounded to float32
    (GoldenNormTest computes the same numbers)."""
    n, c, h, w = shape
    i = torch.arange(n * c * h * w, dtype=torch.float64)
    channel = torch.div(i, h * w, rounding_mode="floor") % c
    return f32(1.5 * torch.sin(0.731 * i) + 0.25 * channel + 0.5).reshape(shape)


def big_output_grad(shape):
    """dy[i] = cos(0.377 i), rounded to float32."""
    i = torch.arange(math.prod(shape), dtype=torch.float64)
    return f32(torch.cos(0.377 * i)).reshape(shape)


def batch_norm_case(tensors, metadata, gen, name, shape, training, affine, big=False):
    channels = shape[1]
    layer = torch.nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1, affine=affine).double()
    with torch.no_grad():
        layer.running_mean.copy_(uniform(gen, (channels,), -0.5, 0.5))
        layer.running_var.copy_(uniform(gen, (channels,), 0.5, 2.0))
        if affine:
            layer.weight.copy_(uniform(gen, (channels,), 0.5, 1.5))
            layer.bias.copy_(uniform(gen, (channels,), -0.5, 0.5))
    x = big_input(shape) if big else uniform(gen, shape, -1.0, 2.0)
    stride = 37 if big else 1
    if not big:
        tensors[name + ".input"] = x
    if affine:
        tensors[name + ".weight"] = layer.weight.detach().clone()
        tensors[name + ".bias"] = layer.bias.detach().clone()
    tensors[name + ".running_mean"] = layer.running_mean.clone()
    tensors[name + ".running_var"] = layer.running_var.clone()
    layer.train(training)
    leaf = x.clone().requires_grad_(True)
    output = layer(leaf)
    output_grad = big_output_grad(shape) if big else f32(torch.randn(shape, generator=gen, dtype=torch.float32))
    output.backward(output_grad)
    tensors[name + ".output"] = output.detach().flatten()[::stride]
    if not big:
        tensors[name + ".output_grad"] = output_grad
    tensors[name + ".input_grad"] = leaf.grad.flatten()[::stride]
    if affine:
        tensors[name + ".weight_grad"] = layer.weight.grad
        tensors[name + ".bias_grad"] = layer.bias.grad
    tensors[name + ".running_mean_after"] = layer.running_mean
    tensors[name + ".running_var_after"] = layer.running_var
    metadata[name] = json.dumps({"op": "batchNorm2d", "training": training, "affine": affine, "stride": stride,
                                 "shape": list(shape)})


def twice_case(tensors, metadata, gen, name, shape):
    channels = shape[1]
    layer = torch.nn.BatchNorm2d(channels).double()
    with torch.no_grad():
        layer.running_mean.copy_(uniform(gen, (channels,), -0.5, 0.5))
        layer.running_var.copy_(uniform(gen, (channels,), 0.5, 2.0))
        layer.weight.copy_(uniform(gen, (channels,), 0.5, 1.5))
        layer.bias.copy_(uniform(gen, (channels,), -0.5, 0.5))
    tensors[name + ".weight"] = layer.weight.detach().clone()
    tensors[name + ".bias"] = layer.bias.detach().clone()
    tensors[name + ".running_mean"] = layer.running_mean.clone()
    tensors[name + ".running_var"] = layer.running_var.clone()
    x1, x2 = uniform(gen, shape, -1.0, 2.0), uniform(gen, shape, -2.0, 1.0)
    g = f32(torch.randn(shape, generator=gen, dtype=torch.float32))
    leaf1, leaf2 = x1.clone().requires_grad_(True), x2.clone().requires_grad_(True)
    layer.train()
    out1, out2 = layer(leaf1), layer(leaf2)
    (out1 + out2).backward(g)
    for key, value in [("input", x1), ("input2", x2), ("output", out1), ("output2", out2), ("output_grad", g),
                       ("input_grad", leaf1.grad), ("input2_grad", leaf2.grad),
                       ("weight_grad", layer.weight.grad), ("bias_grad", layer.bias.grad),
                       ("running_mean_after", layer.running_mean), ("running_var_after", layer.running_var)]:
        tensors[name + "." + key] = value.detach()
    metadata[name] = json.dumps({"op": "batchNorm2dTwice", "training": True, "affine": True, "stride": 1,
                                 "shape": list(shape)})


def channel_normalize_case(tensors, metadata, gen, name, shape):
    x = uniform(gen, shape, 0.0, 1.0)
    mean = f32(torch.tensor(CIFAR10_MEAN, dtype=torch.float64))
    std = f32(torch.tensor(CIFAR10_STD, dtype=torch.float64))
    leaf = x.clone().requires_grad_(True)
    output = (leaf - mean[:, None, None]) / std[:, None, None]
    output_grad = f32(torch.randn(shape, generator=gen, dtype=torch.float32))
    output.backward(output_grad)
    for key, value in [("input", x), ("output", output), ("output_grad", output_grad), ("input_grad", leaf.grad)]:
        tensors[name + "." + key] = value.detach()
    metadata[name] = json.dumps({"op": "channelNormalize", "training": False, "affine": False, "stride": 1,
                                 "shape": list(shape)})


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1919)
    tensors, metadata = {}, {}
    for training in (True, False):
        mode = "train" if training else "eval"
        batch_norm_case(tensors, metadata, gen, "bn_%s_odd" % mode, (3, 5, 7, 7), training, True)
        batch_norm_case(tensors, metadata, gen, "bn_%s_resnet" % mode, (8, 16, 32, 32), training, True, big=True)
        batch_norm_case(tensors, metadata, gen, "bn_%s_no_affine" % mode, (2, 4, 5, 6), training, False)
    twice_case(tensors, metadata, gen, "bn_twice", (4, 3, 5, 5))
    channel_normalize_case(tensors, metadata, gen, "channel_normalize", (2, 3, 8, 8))
    size = write_safetensors(OUT, tensors, metadata)
    print("norm.safetensors: %d cases, %d bytes" % (len(metadata), size))


if __name__ == "__main__":
    main()
