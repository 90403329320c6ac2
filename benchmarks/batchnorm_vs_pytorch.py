#!/usr/bin/python3
"""PyTorch's batch normalisation in training mode at the three ResNet-20 stages at batch 128, the
shapes of BatchNormBench: forward (torch.nn.functional.batch_norm with the batch's statistics and
the running-statistics update) and backward (the gradients of the input, gamma and beta for a
given upstream gradient), in G elements of x per second, as JMH scores BatchNormBench.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 GLIBC_TUNABLES=$(benchmarks/vs_pytorch.py malloc) \
        /usr/bin/python3 benchmarks/batchnorm_vs_pytorch.py

Each figure comes from the best (and the median) of 21 timings of one call, after a warm-up:
ResNetBatchNorms.java prints the same table for advtrain. With --cpu-time (and OMP_NUM_THREADS=1)
the times are the process's CPU time: on a machine shared with other work, the kernels' own speed
on one core.
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = [(128, 16, 32, 32), (128, 32, 16, 16), (128, 64, 8, 8)]


def timings(fn, clock, reps=21, warm_seconds=2.0):
    end = time.perf_counter() + warm_seconds
    while time.perf_counter() < end:
        fn()
    ms = []
    for _ in range(reps):
        start = clock()
        fn()
        ms.append((clock() - start) * 1e3)
    return sorted(ms)


def main():
    cpu_time = "--cpu-time" in sys.argv[1:]
    clock = time.process_time if cpu_time else time.perf_counter
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    print("torch %s, %d threads%s, load average %s" % (torch.__version__, torch.get_num_threads(),
                                                     ", CPU time of the process" if cpu_time else "",
                                                     " ".join("%.2f" % v for v in os.getloadavg())))
    print("%-18s %-9s %8s %10s %14s" % ("shape", "part", "best ms", "median ms", "G elements/s"))
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

        for part, fn in (("forward", forward), ("backward", backward)):
            ms = timings(fn, clock)
            print("%-18s %-9s %8.3f %10.3f %14.2f" % (str(list(shape)), part, ms[0], ms[len(ms) // 2],
                                                     x.numel() / (ms[0] * 1e6)))
    print("load average after %s" % " ".join("%.2f" % v for v in os.getloadavg()))


if __name__ == "__main__":
    main()
