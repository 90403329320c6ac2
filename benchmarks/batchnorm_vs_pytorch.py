#!/usr/bin/python3
"""PyTorch's batch normalisation in training mode at the three ResNet-20 stages at batch 128, the
shapes of BatchNormBench: forward (torch.nn.functional.batch_norm with the batch's statistics and
the running-statistics update) and backward (the gradients of the input, gamma and beta for a
given upstream gradient), in G elements of x per second, as JMH scores BatchNormBench.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/batchnorm_vs_pytorch.py

Each figure is the median of 7 timings of a loop of at least 0.2 s, after a warm-up.
"""
import os
import statistics
import time

import torch
import torch.nn.functional as F

SHAPES = [(128, 16, 32, 32), (128, 32, 16, 16), (128, 64, 8, 8)]


def rate(fn, elements):
    fn()
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        if time.perf_counter() - start >= 0.2:
            break
        reps *= 2
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        timings.append((time.perf_counter() - start) / reps)
    return elements / statistics.median(timings) / 1e9


def main():
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    print("torch %s, %d threads, load average before %s" % (torch.__version__, torch.get_num_threads(),
                                                            " ".join("%.2f" % v for v in os.getloadavg())))
    gen = torch.Generator().manual_seed(0)
    for shape in SHAPES:
        channels = shape[1]
        x = (torch.rand(shape, generator=gen) * 3 - 1).requires_grad_(True)
        weight = (torch.rand(channels, generator=gen) + 0.5).requires_grad_(True)
        bias = (torch.rand(channels, generator=gen) - 0.5).requires_grad_(True)
        running_mean, running_var = torch.zeros(channels), torch.ones(channels)
        dy = torch.rand(shape, generator=gen) * 2 - 1

        def forward():
            with torch.no_grad():
                F.batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5)

        out = F.batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5)

        def backward():
            torch.autograd.grad(out, (x, weight, bias), dy, retain_graph=True)

        n = x.numel()
        print("[%d, %d, %d, %d]: forward %.2f G elements/s, backward %.2f G elements/s"
              % (shape + (rate(forward, n), rate(backward, n))))
    print("load average after %s" % " ".join("%.2f" % v for v in os.getloadavg()))


if __name__ == "__main__":
    main()
