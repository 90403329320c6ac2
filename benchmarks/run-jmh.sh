#!/usr/bin/env bash
# Builds the JMH benchmarks (benchmarks/java, compiled as test sources) and runs them.
#
#   benchmarks/run-jmh.sh [options] [BENCHMARK_REGEX...] [-- more JMH options]
#
#   --gc            add JMH's gc profiler (allocation per operation: gc.alloc.rate.norm)
#   --quick         1 fork, 2 warm-up and 3 measured iterations of 1 s (a first look)
#   --threads N     worker threads of the java backend (-Dadvtrain.threads=N; default: cores)
#   --backend B     run the kernel and step benchmarks on backend B (java, java-direct, java-im2col, java-channels, opencl;
#                   opencl-tiled, opencl-rows, opencl-plain for one version of the OpenCL kernels)
#   --peak          also run PeakFma, so the summary can give each kernel as a fraction of peak
#
# Examples:
#   benchmarks/run-jmh.sh --peak                 # every benchmark, with the peak FMA rate
#   benchmarks/run-jmh.sh --gc TrainStepBench    # one training step, with allocation per step
#   benchmarks/run-jmh.sh --threads 1 ConvBench.conv1
#
# Kernel scores are ops/ns = GFLOP/s; TrainStepBench is microseconds per step. Results go to
# benchmarks/results/jmh-DATE.json; benchmarks/jmh_summary.py prints GFLOP/s and % of peak from it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jmh=() jvm=() patterns=() peak=""
while [ $# -gt 0 ]; do
  case "$1" in
    --gc) jmh+=(-prof gc); shift ;;
    --quick) jmh+=(-f 1 -wi 2 -i 3 -w 1 -r 1); shift ;;
    --threads) jvm+=("-Dadvtrain.threads=$2"); shift 2 ;;
    --backend) jmh+=(-p "backend=$2"); shift 2 ;;
    --peak) peak=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    --) shift; jmh+=("$@"); break ;;
    -*) echo "run-jmh.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) patterns+=("$1"); shift ;;
  esac
done
[ -n "$peak" ] && [ ${#patterns[@]} -gt 0 ] && patterns+=(PeakFma)
[ ${#jvm[@]} -gt 0 ] && jmh+=(-jvmArgsAppend "${jvm[*]}")

mvn -B -q -o test-compile
cp_file=target/bench.classpath
[ -s "$cp_file" ] && [ "$cp_file" -nt pom.xml ] || \
  mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
mkdir -p benchmarks/results
out="benchmarks/results/jmh-$(date +%Y%m%d-%H%M%S).json"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" >&2
# jmh.ignoreLock: other checkouts on this machine may run JMH at the same time.
java --add-modules jdk.incubator.vector -Djmh.ignoreLock=true -cp "target/test-classes:target/classes:$(cat "$cp_file")" \
  org.openjdk.jmh.Main -rf json -rff "$out" ${jmh[@]+"${jmh[@]}"} ${patterns[@]+"${patterns[@]}"} \
  2> >(grep -v '^WARNING: Using incubator modules' >&2)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
/usr/bin/python3 benchmarks/jmh_summary.py "$out"
