#!/usr/bin/python3
"""Where PyTorch's time goes in one of the side-by-side workloads (torch_workloads.py): the
PyTorch counterpart of profile-step.sh.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 GLIBC_TUNABLES=$(benchmarks/vs_pytorch.py malloc) \\
        /usr/bin/python3 benchmarks/torch_profile.py [--workload resnet20-train-b128] [--threads 1] [--steps 15]

It checks PyTorch's BLAS and its malloc setting as vs_pytorch.py does. After a warm-up
(--seconds), it times --steps calls of the workload by the process's CPU time and by the wall
clock, without the profiler, and prints the best and the median of each. Then it runs
--steps more calls under torch.profiler and prints each operator's share of the profiled CPU time
(self time: an operator's own, not its children's). The profiler adds time of its own, more to
some operators than to others, so read its column as shares, and the first line as the step.
"""
import argparse
import statistics
import sys
import time

from vs_pytorch import chosen_workloads


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="resnet20-train-b128")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=8.0, help="warm-up (default 8)")
    parser.add_argument("--top", type=int, default=12, help="operators listed (default 12)")
    args = parser.parse_args()
    if args.steps < 1 or args.threads < 1 or args.top < 1:
        parser.error("--steps, --threads and --top must be at least 1")

    args.workloads = args.workload
    torch, chosen = chosen_workloads(args)
    if not chosen:
        sys.exit(2)
    from torch.profiler import ProfilerActivity, profile
    _, images, setup = chosen[0]
    step = setup()
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        step()

    cpu, wall = [], []
    for _ in range(args.steps):
        c, w = time.process_time(), time.perf_counter()
        step()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    print(f"PyTorch {torch.__version__}, {args.workload}, {torch.get_num_threads()} threads, {args.steps} calls")
    print(f"a call: CPU time {min(cpu) * 1e3:.1f} ms best, {statistics.median(cpu) * 1e3:.1f} median; "
          f"wall {min(wall) * 1e3:.1f} best, {statistics.median(wall) * 1e3:.1f} median "
          f"({images / statistics.median(wall):.0f} images/s)")

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.steps):
            step()
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    print(f"under the profiler: {total / args.steps / 1e3:.1f} ms of self CPU time a call")
    print(f"{'operator':<48} {'ms/call':>9} {'share':>7}")
    for e in events[:args.top]:
        print(f"{e.key[:48]:<48} {e.self_cpu_time_total / args.steps / 1e3:9.2f} {100 * e.self_cpu_time_total / total:6.1f}%")


if __name__ == "__main__":
    main()
