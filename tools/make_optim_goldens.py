#!/usr/bin/python3
"""Writes src/test/resources/goldens/optim.safetensors: torch.optim.SGD with weight decay and
momentum, and the learning-rate schedules, for advtrain's optim tests (SgdGoldenTest).

Regenerate it, from the repository root, with Debian's python3-torch (1.13):

    /usr/bin/python3 tools/make_optim_goldens.py

Deterministic (fixed seed): running it again rewrites an identical file. Contents:

  SGD case C (metadata C = JSON {"lr": [rate of each step], "momentum", "weight_decay", "steps",
  "params": [names]}): C.<param>.init, and for step k = 1..steps C.<param>.grad<k> (the gradient
  given to step k) and C.<param>.step<k> (the parameter after step k); C.<param>.velocity is the
  momentum buffer after the last step. The rate changes from step to step, as under a schedule.

  Schedule S = schedule.<kind>.e<E>.b<B> (metadata S = JSON {"kind", "peak", "epochs", "batches"}):
  the rate of every step of an E-epoch run of B batches per epoch, step i of epoch e taken at
  t = e + (i + 1) / B, as Wong et al.'s fast adversarial training code computes it:
    onecycle  np.interp([t], [0, epochs * 2 // 5, epochs], [0, peak, 0])[0]
    cosine    peak * 0.5 * (1 + np.cos(np.pi * t / epochs))

Inputs are float32 numbers (rates, momentum and decay too, as advtrain holds them); the SGD steps
run in float64 and are rounded to float32 only when written, so the goldens are the exact answers
to within float32 rounding. Schedules are computed in float64 and rounded to float32 as advtrain
rounds the rate it passes to its kernels.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_net import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "goldens", "optim.safetensors")


def f32(x):
    """The float32 number nearest x, as a Python float (double)."""
    return float(np.float32(x))


def sgd_case(gen, name, shapes, rates, momentum, weight_decay, grad_std, tensors, metadata):
    params = {p: (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1).double().requires_grad_()
              for p, shape in shapes.items()}
    for p, t in params.items():
        tensors["%s.%s.init" % (name, p)] = t.detach().clone()
    opt = torch.optim.SGD(params.values(), lr=rates[0], momentum=momentum, weight_decay=weight_decay)
    for k, lr in enumerate(rates, start=1):
        opt.param_groups[0]["lr"] = lr
        for p, t in params.items():
            t.grad = (torch.randn(t.shape, generator=gen, dtype=torch.float32) * grad_std).double()
            tensors["%s.%s.grad%d" % (name, p, k)] = t.grad.clone()
        opt.step()
        for p, t in params.items():
            tensors["%s.%s.step%d" % (name, p, k)] = t.detach().clone()
    for p, t in params.items():
        tensors["%s.%s.velocity" % (name, p)] = opt.state[t]["momentum_buffer"].clone()
    metadata[name] = json.dumps({"lr": rates, "momentum": momentum, "weight_decay": weight_decay,
                                 "steps": len(rates), "params": list(shapes)})


def schedule(kind, peak, epochs, t):
    if kind == "onecycle":
        return np.interp([t], [0, epochs * 2 // 5, epochs], [0, peak, 0])[0]
    return peak * 0.5 * (1 + np.cos(np.pi * t / epochs))


def main():
    gen = torch.Generator().manual_seed(19)
    tensors, metadata = {}, {}
    shapes = {"weight": (6, 5), "bias": (7,)}
    momentum = f32(0.9)
    # A decay large against the gradients, so that leaving it out fails the test by far ...
    sgd_case(gen, "sgd_decay", shapes, [f32(r) for r in (0.1, 0.05, 0.2, 0.0125, 0.0)], momentum, f32(0.05), 0.1,
             tensors, metadata)
    # ... and the usual CIFAR recipe's 5e-4, against gradients of a similar size.
    sgd_case(gen, "sgd_decay_5e-4", shapes, [f32(r) for r in (0.2, 0.15, 0.1)], momentum, f32(5e-4), 1e-3,
             tensors, metadata)

    peak = f32(0.2)
    for kind in ("onecycle", "cosine"):
        for epochs, batches in ((1, 5), (2, 4), (3, 7), (5, 3), (15, 50)):
            name = "schedule.%s.e%d.b%d" % (kind, epochs, batches)
            rates = [schedule(kind, peak, epochs, e + (i + 1) / batches) for e in range(epochs) for i in range(batches)]
            tensors[name] = torch.tensor(rates, dtype=torch.float64)
            metadata[name] = json.dumps({"kind": kind, "peak": peak, "epochs": epochs, "batches": batches})
    size = write_safetensors(OUT, tensors, metadata)
    print("wrote %s (%d bytes, %d tensors)" % (os.path.relpath(OUT), size, len(tensors)))


if __name__ == "__main__":
    main()
