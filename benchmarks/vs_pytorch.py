#!/usr/bin/python3
"""The PyTorch half of the side-by-side benchmark (benchmarks/vs_pytorch.sh), and its report.

    vs_pytorch.py measure [--threads 2] [--repeats 5] [--seconds 1.0] [--workloads a,b] > torch.json
    vs_pytorch.py report --torch torch1.json [torch2.json ...] --advtrain ours1.json [ours2.json ...]
    vs_pytorch.py blas [--threads 2] [--core-for-cpu]
    vs_pytorch.py malloc
    vs_pytorch.py paired [--threads 2] [--pairs 6] [--seconds 1.0] [--workloads a,b] [--out pairs.json] \
        -- java ... advtrain.bench.SideBySide --serve

`measure` times the same workloads as advtrain.bench.SideBySide (benchmarks/torch_workloads.py
defines them, as SideBySide.java does). Each workload is warmed up, then timed `repeats` times over
windows of at least `seconds`; the median images/s is reported.
Run it with Debian's /usr/bin/python3 (python3-torch).

`blas` prints which BLAS library PyTorch runs on (from the libraries this process has mapped), its
configuration and kernels ("core") as OpenBLAS reports them, and the threads of PyTorch and of
OpenBLAS; it ends with status 1 and one line when two OpenBLAS builds are loaded at once (Debian's
OpenMP and pthreads builds, say, after installing another package). `blas --core-for-cpu` prints the
OPENBLAS_CORETYPE PyTorch should run with: nothing where OpenBLAS's own choice fits the CPU, else
the newest kernels the CPU's flags support (OpenBLAS 0.3.21 does not know newer Xeons, family 6
model 207 for one, and falls back to its Prescott (SSE3) kernels, 3-4x slower in a matrix product).
vs_pytorch.sh runs PyTorch without the environment's OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE and
with that choice. `measure` and `paired` make the same check first and keep its findings in their JSON.

`malloc` prints the GLIBC_TUNABLES PyTorch runs with (MALLOC_TUNABLES below; vs_pytorch.sh and
eval_vs_pytorch.sh set them): glibc's malloc keeps freed blocks of up to 32 MB in its heap instead
of returning each to the kernel. PyTorch allocates every activation afresh; by default a block over
glibc's mmap threshold is a new mapping, and on this VM the page faults of touching it cost more
than the arithmetic: ResNet-20 inference at batch 256 ran at 720-770 images/s without the tunables
and 2,660-2,740 with them, FGSM at batch 256 at 3,100-3,200 and 13,500-14,800, training at batch
32 at 12,300-13,300 and 13,200-13,600 (`measure`, three or five windows each). Raising only one of
the two thresholds was slower still (train-b32 at 3,300 and 2,300). `measure` and `paired` warn
when PyTorch runs without them.

`report` prints the table of advtrain / PyTorch ratios; given several runs of each (alternating
rounds), it uses the median of their medians.

`paired` measures both engines in one run, window by window: it starts advtrain's SideBySide in its
--serve mode, and for each workload warms up both engines (one after the other), then times
`pairs` pairs of windows of about `seconds`, PyTorch's (in this process) and advtrain's (on
command) taking turns in the order ABBA (PyTorch first in even pairs, advtrain first in odd ones),
the idle engine waiting on a pipe. Each pair's ratio compares two windows measured seconds apart,
under the same machine conditions, where separate runs can land in different ones: on this shared
machine a run's speed moves by up to 1.5x for seconds at a time, in both engines. The report gives
each engine's median window and the median of the pair ratios.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

from torch_workloads import build, workloads


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


FORCING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# glibc's malloc settings PyTorch runs with (see the header): freed blocks of up to 32 MB stay in the heap.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
# OpenBLAS 0.3.21's x86-64 kernel sets from older to newer, each with the CPU flags it needs.
CORES = [("Sandybridge", {"avx"}), ("Haswell", {"avx2", "fma"}),
         ("SkylakeX", {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}),
         ("Cooperlake", {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"})]
KNOWN_RANK = {"Sandybridge": 1, "Haswell": 2, "Zen": 2, "SkylakeX": 3, "Cooperlake": 4, "SapphireRapids": 5}


def blas_setup(torch):
    """What BLAS this process runs PyTorch on; exits with status 1 and one line when two OpenBLAS builds are loaded."""
    mapped = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5].startswith("/"):
                mapped.add(fields[5])
    blas = sorted(p for p in mapped if any(k in os.path.basename(p) for k in ("blas", "lapack", "mkl", "blis")))
    openblas = sorted(p for p in blas if os.path.basename(p).startswith("libopenblas"))
    # A build is one folder of libraries: Debian keeps each (openblas-openmp, openblas-pthread, ...) in its own.
    builds = sorted({os.path.dirname(os.path.realpath(p)) for p in blas
                     if os.path.basename(p).startswith("libopenblas") or os.path.basename(os.path.dirname(p)).startswith("openblas")})
    if len(builds) > 1:
        sys.exit(f"vs_pytorch.py: PyTorch has {len(builds)} OpenBLAS builds loaded at once ({', '.join(builds)}): "
                 "keep one (update-alternatives --config libblas.so.3-x86_64-linux-gnu, and the same for liblapack.so.3 "
                 "and libopenblas.so.0) and run again")
    info = {"libraries": blas, "torch_threads": torch.get_num_threads(),
            "torch_parallel": torch.__config__.parallel_info().split("ATen parallel backend:")[-1].strip(),
            "environment": {name: os.environ.get(name) for name in FORCING_VARIABLES + ("GLIBC_TUNABLES",)}}
    if openblas:
        info["openblas_library"] = os.path.realpath(openblas[0])
        library = ctypes.CDLL(openblas[0])  # already loaded: the same handle PyTorch calls through
        for key, function in (("openblas_config", "openblas_get_config"), ("openblas_core", "openblas_get_corename")):
            getattr(library, function).restype = ctypes.c_char_p
            info[key] = getattr(library, function)().decode().strip()
        info["openblas_threads"] = library.openblas_get_num_threads()
    return info


def describe_blas(info):
    settings = ", ".join(f"{k}={v}" if v is not None else f"{k} unset" for k, v in info["environment"].items())
    if "openblas_config" not in info:
        return f"PyTorch's BLAS: {', '.join(info['libraries']) or 'none mapped'}; PyTorch {info['torch_threads']} threads; {settings}"
    return (f"PyTorch's BLAS: {info['openblas_library']} ({info['openblas_config']}), "
            f"kernels {info['openblas_core']}, {info['openblas_threads']} OpenBLAS threads; PyTorch {info['torch_threads']} threads "
            f"({info['torch_parallel']}); {settings}")


def core_for_cpu(info):
    """The OPENBLAS_CORETYPE to run with: None where OpenBLAS's own choice is as new as the CPU's flags allow."""
    flags, model = set(), "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            key, _, value = line.partition(":")
            if key.strip() == "flags":
                flags = set(value.split())
            if key.strip() == "model name":
                model = value.strip()
            if key.strip() == "model" and not model.endswith(")"):
                model += f" (model {value.strip()})"
            if flags and model.endswith(")"):
                break
    best = None
    for core, needed in CORES:
        if needed <= flags:
            best = core
    chosen = info.get("openblas_core")
    if best is None or chosen is None or KNOWN_RANK.get(chosen, 0) >= KNOWN_RANK[best]:
        return None
    print(f"vs_pytorch.py: OpenBLAS picks its {chosen} kernels on this {model}, which it does not know; "
          f"PyTorch runs with OPENBLAS_CORETYPE={best}, the newest kernels the CPU's flags support", file=sys.stderr)
    return best


def blas(args):
    import torch
    torch.set_num_threads(args.threads)
    info = blas_setup(torch)
    if args.core_for_cpu:
        print(core_for_cpu(info) or "")
    else:
        print(describe_blas(info))


def chosen_workloads(args):
    """torch, set to args.threads threads, and (name, images per call, setup) of each workload asked for
    (args.workloads: "all" or names joined by commas); the BLAS is checked first, as `blas` does."""
    prog = os.path.basename(sys.argv[0])
    import torch
    torch.set_num_threads(args.threads)
    args.blas = blas_setup(torch)
    print(describe_blas(args.blas), file=sys.stderr)
    if "glibc.malloc.mmap_threshold" not in (os.environ.get("GLIBC_TUNABLES") or ""):
        print(f"{prog}: warning: PyTorch runs without GLIBC_TUNABLES={MALLOC_TUNABLES}: on a machine "
              "where page faults are dear its large tensors cost it up to 4x (see --help)", file=sys.stderr)
    table = workloads(torch, build(torch))
    names = list(table) if args.workloads == "all" else args.workloads.split(",")
    for name in names:
        if name not in table:
            print(f"{prog}: no PyTorch workload '{name}' (have {', '.join(table)})", file=sys.stderr)
    return torch, [(name, *table[name]) for name in names if name in table]


def measure(args):
    torch, chosen = chosen_workloads(args)
    results = {}
    for name, images, setup in chosen:
        step = setup()
        # Warm-up, and an estimate of the calls a timed window needs.
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            step()
            calls += 1
        per_window = max(1, int(calls * args.seconds / (time.perf_counter() - start)))
        rates = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in range(per_window):
                step()
            rates.append(images * per_window / (time.perf_counter() - t0))
        results[name] = {"images_per_second": statistics.median(rates), "repeats": rates}
    json.dump({"engine": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "blas": args.blas,
               "load_average": load_average(), "workloads": results}, sys.stdout, indent=1)
    print()


def report(args):
    theirs = [json.load(open(f)) for f in args.torch]
    ours = [json.load(open(f)) for f in args.advtrain]
    print(f"PyTorch:  {theirs[0]['engine']}, {theirs[0]['threads']} threads, load average "
          + ", ".join(t["load_average"] for t in theirs))
    print(f"advtrain: {ours[0]['engine']}, load average " + ", ".join(o["load_average"] for o in ours))
    if len(ours) > 1:
        print(f"(median over {len(ours)} alternating rounds)")
    print(f"{'workload':<18} {'PyTorch img/s':>14} {'advtrain img/s':>15} {'advtrain/PyTorch':>17}")
    for name in theirs[0]["workloads"]:
        t = statistics.median(r["workloads"][name]["images_per_second"] for r in theirs if name in r["workloads"])
        mine = [r["workloads"][name]["images_per_second"] for r in ours if name in r["workloads"]]
        if not mine:
            print(f"{name:<18} {t:>14.0f} {'-':>15} {'-':>17}")
            continue
        m = statistics.median(mine)
        print(f"{name:<18} {t:>14.0f} {m:>15.0f} {m / t:>16.2f}x")


def paired(args):
    torch, chosen = chosen_workloads(args)
    command = args.advtrain_command[1:] if args.advtrain_command[:1] == ["--"] else args.advtrain_command
    if not command:
        sys.exit("vs_pytorch.py paired: give advtrain's server command after --")
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(line):
        server.stdin.write(line + "\n")
        server.stdin.flush()
        reply = server.stdout.readline()
        if not reply:
            sys.exit(f"vs_pytorch.py paired: advtrain's server ended (exit status {server.wait()}) after '{line}'")
        return reply.split()

    results = {}
    print(f"{'workload':<18} {'PyTorch img/s':>14} {'advtrain img/s':>15} {'ratio (median of pairs)':>24}"
          f" {'pair ratios, lowest..highest':>30}", file=sys.stderr)
    for name, images, setup in chosen:
        step = setup()
        # PyTorch has no compiler to wait for: a few seconds of calls warm it, and tell its rate.
        calls, start = 0, time.perf_counter()
        while calls < 2 or time.perf_counter() - start < 2 * args.seconds:
            step()
            calls += 1
        torch_calls = max(1, round(calls / (time.perf_counter() - start) * args.seconds))
        _, their_images, calls_per_second = ask(f"setup {name}")
        if int(their_images) != images:
            sys.exit(f"vs_pytorch.py paired: {name} is {their_images} images per call in advtrain, {images} here")
        our_calls = max(1, round(float(calls_per_second) * args.seconds))

        def torch_window():
            t0 = time.perf_counter()
            for _ in range(torch_calls):
                step()
            return images * torch_calls / (time.perf_counter() - t0)

        def our_window():
            return images * our_calls / float(ask(f"run {our_calls}")[0])

        pairs = []
        for i in range(args.pairs):
            first, second = (torch_window, our_window) if i % 2 == 0 else (our_window, torch_window)
            rates = {}
            for window in (first, second):
                time.sleep(0.05)  # the other engine's threads stop spinning (advtrain's after 200 us)
                rates[window] = window()
            pairs.append({"pytorch": rates[torch_window], "advtrain": rates[our_window],
                          "ratio": rates[our_window] / rates[torch_window]})
        ratios = sorted(p["ratio"] for p in pairs)
        results[name] = {"pytorch_images_per_second": statistics.median(p["pytorch"] for p in pairs),
                         "advtrain_images_per_second": statistics.median(p["advtrain"] for p in pairs),
                         "ratio": statistics.median(ratios), "pairs": pairs}
        r = results[name]
        print(f"{name:<18} {r['pytorch_images_per_second']:>14.0f} {r['advtrain_images_per_second']:>15.0f}"
              f" {r['ratio']:>23.2f}x {ratios[0]:>22.2f}..{ratios[-1]:.2f}x", file=sys.stderr)
    server.stdin.close()
    server.wait()
    out = {"pytorch": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "blas": args.blas,
           "load_average": load_average(), "pairs": args.pairs, "seconds": args.seconds, "workloads": results}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--threads", type=int, default=2)
    m.add_argument("--repeats", type=int, default=5)
    m.add_argument("--seconds", type=float, default=1.0)
    m.add_argument("--workloads", default="all")
    r = sub.add_parser("report")
    r.add_argument("--torch", nargs="+", required=True)
    r.add_argument("--advtrain", nargs="+", required=True)
    p = sub.add_parser("paired")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pairs", type=int, default=6)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--workloads", default="all")
    p.add_argument("--out")
    p.add_argument("advtrain_command", nargs=argparse.REMAINDER)
    b = sub.add_parser("blas")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--core-for-cpu", action="store_true")
    sub.add_parser("malloc")
    args = parser.parse_args()
    {"measure": measure, "report": report, "paired": paired, "blas": blas,
     "malloc": lambda _: print(MALLOC_TUNABLES)}[args.command](args)


if __name__ == "__main__":
    main()
