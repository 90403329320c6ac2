#!/usr/bin/python3
"""ResNet-20's convolutions (3x3, padding 1, no bias) in PyTorch, each timed alone: forward, input
gradient, weight gradient (aten.convolution_backward with one output asked for), in GFLOP/s; the
table of benchmarks/java/advtrain/bench/ResNetConvs.java, for the same shapes.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 GLIBC_TUNABLES=$(benchmarks/vs_pytorch.py malloc) \
        /usr/bin/python3 benchmarks/resnet_convs.py [--batch 128] [--reps 15]

--cpu-time (with --threads 1 and OMP_NUM_THREADS=1) times the process's CPU time instead:
on a machine shared with other work, a measure of the kernels' own speed on one core.
"""
import argparse
import os
import time

import torch
import torch.nn.functional as F

LAYERS = [("conv1 3-16 32x32", 3, 16, 32, 1), ("layer1 16-16 32x32", 16, 16, 32, 1), ("layer2.0 16-32 s2", 16, 32, 32, 2),
          ("layer2 32-32 16x16", 32, 32, 16, 1), ("layer3.0 32-64 s2", 32, 64, 16, 2), ("layer3 64-64 8x8", 64, 64, 8, 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=5.0, help="warm-up")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-time", action="store_true")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    print("PyTorch %s, %d threads, batch %d, load average %s" % (torch.__version__, a.threads, a.batch,
                                                                " ".join("%.2f" % v for v in os.getloadavg())))
    clock = time.process_time if a.cpu_time else time.perf_counter
    work, flops = [], []
    for name, c, k, h, stride in LAYERS:
        out = (h - 1) // stride + 1
        x, w = torch.rand(a.batch, c, h, h) * 2 - 1, torch.rand(k, c, 3, 3) * 0.2 - 0.1
        dy = torch.rand(a.batch, k, out, out) * 2 - 1

        def backward(mask, x=x, w=w, dy=dy, stride=stride):
            return torch.ops.aten.convolution_backward(dy, x, w, None, [stride, stride], [1, 1], [1, 1], False, [0, 0], 1, mask)
        work.append([lambda x=x, w=w, s=stride: F.conv2d(x, w, None, s, 1),
                     lambda b=backward: b([True, False, False]), lambda b=backward: b([False, True, False])])
        flops.append(2 * a.batch * k * out * out * c * 9)
    with torch.no_grad():
        end = time.perf_counter() + a.seconds
        while time.perf_counter() < end:
            for parts in work:
                for part in parts:
                    part()
        print("%-20s %-12s %9s %9s %9s" % ("layer", "part", "best ms", "median ms", "GFLOP/s"))
        total = [0.0, 0.0, 0.0]
        for (name, *_), parts, f in zip(LAYERS, work, flops):
            for p, (label, part) in enumerate(zip(["forward", "input grad", "weight grad"], parts)):
                ms = []
                for _ in range(a.reps):
                    t = clock()
                    part()
                    ms.append((clock() - t) * 1e3)
                ms.sort()
                total[p] += ms[0]
                print("%-20s %-12s %9.3f %9.3f %9.1f" % (name, label, ms[0], ms[len(ms) // 2], f / ms[0] / 1e6))
    print("sum of best: forward %.2f ms, input grad %.2f ms, weight grad %.2f ms (one of each layer); load average %s"
          % (total[0], total[1], total[2], " ".join("%.2f" % v for v in os.getloadavg())))


if __name__ == "__main__":
    main()
