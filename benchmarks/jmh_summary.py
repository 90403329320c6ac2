#!/usr/bin/python3
"""Summarises a JMH JSON result file (benchmarks/run-jmh.sh writes one per run).

    jmh_summary.py RESULTS.json [--peak1 GFLOPS --peak2 GFLOPS]

Conv and linear benchmarks score in ops/ns, which is GFLOP/s (their operations are flops); they are
also given as a fraction of this machine's peak FMA rate, taken from PeakFma in the same file (or from
--peak1/--peak2): one-thread peak for one-thread runs, two-thread peak otherwise. Other scores
(TrainStepBench: us per step) are printed as they are, with images/s for the training step; pool
and element-wise benchmarks count elements (Gelem/s).
"""
import argparse
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--peak1", type=float)
    parser.add_argument("--peak2", type=float)
    args = parser.parse_args()
    runs = json.load(open(args.results))
    peak = {1: args.peak1, 2: args.peak2}
    for r in runs:
        name = r["benchmark"].split(".")[-2] + "." + r["benchmark"].split(".")[-1]
        if name.startswith("PeakFma.peak1x") :
            peak[1] = max(peak[1] or 0, r["primaryMetric"]["score"])
        if name.startswith("PeakFma.peak2x"):
            peak[2] = max(peak[2] or 0, r["primaryMetric"]["score"])
    print(f"peak FMA rate: 1 thread {peak[1] or '?'} GFLOP/s, 2 threads {peak[2] or '?'} GFLOP/s")
    print(f"{'benchmark':<42} {'params':<22} {'score':>10} {'unit':<8} {'% of peak':>9}")
    for r in runs:
        name = r["benchmark"].split(".")[-2] + "." + r["benchmark"].split(".")[-1]
        params = ",".join(f"{k}={v}" for k, v in (r.get("params") or {}).items())
        m = r["primaryMetric"]
        score, unit = m["score"], m["scoreUnit"]
        extra = ""
        if unit == "ops/ns" and not (name.startswith("ConvBench") or name.startswith("LinearBench") or name.startswith("PeakFma")):
            unit = "Gelem/s"   # memory-bound kernels count elements, not flops
        elif unit == "ops/ns":
            unit = "GFLOP/s"
            threads = 1 if "-Dadvtrain.threads=1" in " ".join(r.get("jvmArgs", [])) else 2
            if name.startswith("PeakFma"):
                threads = r.get("threads", 1)
            if peak.get(threads):
                extra = f"{100 * score / peak[threads]:8.1f}%"
        elif name.startswith("TrainStepBench") and unit == "us/op":
            batch = int((r.get("params") or {}).get("batch", 32))
            extra = f"  ({batch * 1e6 / score:.0f} images/s)"
        print(f"{name:<42} {params:<22} {score:>10.2f} {unit:<8} {extra}")
        for key, sec in (r.get("secondaryMetrics") or {}).items():
            if key.endswith("gc.alloc.rate.norm"):
                print(f"{'':<42} {'':<22} {sec['score']:>10.3g} {sec['scoreUnit']:<8}  (allocated per op)")


if __name__ == "__main__":
    main()
