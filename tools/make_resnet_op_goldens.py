#!/usr/bin/python3
"""Writes the PyTorch goldens of the ops a CIFAR ResNet adds to the seed's network.

Regenerate, from the repository root, with Debian's python3-torch (1.13):

    /usr/bin/python3 tools/make_resnet_op_goldens.py

It writes src/test/resources/goldens/resnet_ops.safetensors in the layout of make_goldens.py's
ops.safetensors (for case C: C.<input>, C.output, C.output_grad, C.<input>_grad; the metadata maps
C to {"op", "inputs", "constants", and the op's settings}), for:

  conv2d         3x3 with padding 1 and stride 1 or 2, and 1x1 with stride 2, all without bias, as
                 ResNets use them (16 channels: a whole vector, the Java backend's channel paths)
  globalAvgPool  x.mean((2, 3)): [N, C, H, W] -> [N, C]
  shortcutA      option A of He et al.: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad)), with
                 pad in the settings (He et al. take planes // 4)
  residualBlock  conv3x3(conv3x3(x, stride 2), stride 1) + shortcutA(x), no batch norm or ReLU:
                 the residual addition with the input reaching it along both paths
  residualAdd    a + b on image-shaped tensors, and x + x (the same variable twice)

As in make_goldens.py, inputs are float32 numbers and everything runs in float64, so the goldens
are the exact answers rounded to float32. Deterministic: a second run writes the same file.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_net import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "goldens",
                   "resnet_ops.safetensors")


def uniform(gen, shape, lo=-1.0, hi=1.0):
    return (torch.rand(shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo).double()


def normal(gen, shape):
    return torch.randn(shape, generator=gen, dtype=torch.float32).double()


def shortcut_a(x, pad):
    return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad), "constant", 0)


def cases(gen):
    """Yields (case name, settings, inputs {name: tensor}, function)."""
    convs = [
        # name, N, C, H, W, K, kernel, stride, padding
        ("conv3x3_s1_p1", 2, 4, 8, 8, 4, 3, 1, 1),
        ("conv3x3_s2_p1", 2, 4, 8, 8, 8, 3, 2, 1),
        ("conv3x3_s2_p1_odd", 1, 3, 7, 7, 5, 3, 2, 1),
        ("conv1x1_s2", 2, 4, 8, 8, 8, 1, 2, 0),
        ("conv3x3_s1_p1_16ch", 2, 16, 6, 6, 16, 3, 1, 1),
        ("conv3x3_s2_p1_16to32", 2, 16, 8, 8, 32, 3, 2, 1),
    ]
    for name, n, c, h, w, k, r, stride, padding in convs:
        inputs = {"input": normal(gen, (n, c, h, w)), "weight": uniform(gen, (k, c, r, r), -0.5, 0.5)}
        fn = (lambda s, p: lambda t: F.conv2d(t["input"], t["weight"], None, stride=s, padding=p))(stride, padding)
        yield name, {"op": "conv2d", "stride": stride, "padding": padding}, inputs, fn

    for name, shape in [("global_avg_pool", (2, 3, 4, 4)), ("global_avg_pool_8x8", (3, 5, 8, 8)),
                        ("global_avg_pool_5x3", (2, 2, 5, 3))]:
        yield name, {"op": "globalAvgPool"}, {"input": normal(gen, shape)}, lambda t: t["input"].mean((2, 3))

    for name, shape, pad in [("shortcut_a", (2, 4, 6, 6), 2), ("shortcut_a_16to32", (2, 16, 8, 8), 8),
                             ("shortcut_a_odd", (2, 3, 7, 5), 1)]:
        yield (name, {"op": "shortcutA", "pad": pad}, {"input": normal(gen, shape)},
               (lambda p: lambda t: shortcut_a(t["input"], p))(pad))

    inputs = {"input": normal(gen, (2, 4, 8, 8)), "weight1": uniform(gen, (8, 4, 3, 3), -0.5, 0.5),
              "weight2": uniform(gen, (8, 8, 3, 3), -0.5, 0.5)}
    yield ("residual_block", {"op": "residualBlock", "pad": 2}, inputs,
           lambda t: F.conv2d(F.conv2d(t["input"], t["weight1"], stride=2, padding=1), t["weight2"], padding=1)
           + shortcut_a(t["input"], 2))

    yield ("residual_add", {"op": "residualAdd"}, {"a": normal(gen, (2, 4, 5, 5)), "b": normal(gen, (2, 4, 5, 5))},
           lambda t: t["a"] + t["b"])
    yield ("residual_add_same", {"op": "residualAddSame"}, {"input": normal(gen, (2, 4, 5, 5))},
           lambda t: t["input"] + t["input"])


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(19)
    tensors, metadata = {}, {}
    for name, settings, inputs, fn in cases(gen):
        leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
        output = fn(leaves)
        output_grad = normal(gen, tuple(output.shape))
        grads = torch.autograd.grad(output, list(leaves.values()), output_grad)
        for k, v in inputs.items():
            tensors[name + "." + k] = v
        tensors[name + ".output"] = output
        tensors[name + ".output_grad"] = output_grad
        for k, g in zip(leaves, grads):
            tensors[name + "." + k + "_grad"] = g
        metadata[name] = json.dumps({**settings, "inputs": list(inputs), "constants": []})
    size = write_safetensors(OUT, tensors, metadata)
    print("resnet_ops.safetensors: %d cases, %d bytes" % (len(metadata), size))


if __name__ == "__main__":
    main()
