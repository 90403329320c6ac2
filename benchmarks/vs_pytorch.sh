#!/usr/bin/env bash
# Side by side on this machine: the same workloads in PyTorch (Debian's python3-torch, 2 threads)
# and in advtrain, then a table of advtrain/PyTorch ratios.
#
#   benchmarks/vs_pytorch.sh [--backend java|opencl|auto] [--repeats 5] [--seconds 1.0]
#                            [--workloads train-b32,...,goodfellow-epoch|all] [--threads 2]
#                            [--rounds 1 | --paired 6]
#
# Workloads: train-b32, train-b4, infer-b256, inputgrad-b256, fgsm-b256, pgd10-b256, goodfellow-epoch
# (the seed's Net); resnet20-train-b128, resnet20-infer-b256, resnet20-fgsmrs-epoch (ResNet-20).
#
# --paired N runs both engines at once, taking turns window by window (vs_pytorch.py paired: N
# pairs of windows per workload, ABBA order), and reports the median of the pairs' ratios: the two
# windows of a pair are seconds apart, so both see the same machine. Use it on a machine whose
# speed moves (a shared VM). Its JSON goes to benchmarks/results/paired-*.json.
#
# --rounds N instead runs all of PyTorch's workloads, then all of advtrain's, N times, and reports
# the median of each side's N medians.
#
# PyTorch runs on its best BLAS setting: without the environment's OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE (they force other kernels and cache sizes than OpenBLAS's own choice), with
# OpenBLAS's kernels for this CPU, or, where OpenBLAS does not know the CPU and falls back to its
# oldest kernels, the newest the CPU's flags support (vs_pytorch.py blas --core-for-cpu). The script
# prints the BLAS library, its kernels and the threads, and refuses to run (status 1) when PyTorch
# loads two OpenBLAS builds at once.
#
# PyTorch also runs with glibc's malloc told to keep freed blocks of up to 32 MB (vs_pytorch.py
# malloc prints the GLIBC_TUNABLES): without that, each large tensor PyTorch allocates is a fresh
# mapping, and on this VM its page faults cost PyTorch up to 4x (see vs_pytorch.py --help).
#
# advtrain's JVM takes the launcher's options, and ADVTRAIN_JAVA_OPTS after them, as ./advtrain
# does (e.g. the Vector API's bounds checks off: docs/PERFORMANCE.md, "Bounds checks").
#
# Results (JSON) are kept in benchmarks/results/. Workload definitions: benchmarks/torch_workloads.py
# and benchmarks/java/advtrain/bench/SideBySide.java.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backend=java repeats=5 seconds=1.0 workloads=all threads=2 rounds=1 pairs=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --workloads) workloads="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --paired) pairs="$2"; shift 2 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "vs_pytorch.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$root"
mkdir -p benchmarks/results
stamp="$(date +%Y%m%d-%H%M%S)"
cp_file="target/bench.classpath"
# advtrain's JVM, as the launcher runs it (see ./advtrain for -XX:-UseLoopPredicate).
advtrain_jvm=(--add-modules jdk.incubator.vector -XX:+UseParallelGC -XX:-UseLoopPredicate)
# shellcheck disable=SC2206  # split on spaces, as the launcher does
[ -z "${ADVTRAIN_JAVA_OPTS:-}" ] || { advtrain_jvm+=($ADVTRAIN_JAVA_OPTS); echo "== advtrain's JVM also gets ADVTRAIN_JAVA_OPTS: $ADVTRAIN_JAVA_OPTS" >&2; }

# PyTorch's environment: see the header. Checked before anything long starts.
torch_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads"
  GLIBC_TUNABLES="$(/usr/bin/python3 "$root/benchmarks/vs_pytorch.py" malloc)")
for name in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
  [ -z "${!name:-}" ] || echo "== $name=${!name} is set here: PyTorch runs without it" >&2
done
core="$("${torch_env[@]}" /usr/bin/python3 benchmarks/vs_pytorch.py blas --threads "$threads" --core-for-cpu)" || exit 1
[ -z "$core" ] || torch_env+=(OPENBLAS_CORETYPE="$core")
"${torch_env[@]}" /usr/bin/python3 benchmarks/vs_pytorch.py blas --threads "$threads" >&2 || exit 1

echo "== building (mvn test-compile)" >&2
mvn -B -q -o test-compile
[ -s "$cp_file" ] && [ "$cp_file" -nt pom.xml ] || \
  mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null

if [ "$pairs" -gt 0 ]; then
  echo "== paired: PyTorch and advtrain ($backend) taking turns, $threads threads, $pairs pairs of ${seconds} s windows, load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "${torch_env[@]}" /usr/bin/python3 benchmarks/vs_pytorch.py paired --threads "$threads" --pairs "$pairs" \
    --seconds "$seconds" --workloads "$workloads" --out "benchmarks/results/paired-$backend-$stamp.json" -- \
    java "${advtrain_jvm[@]}" -Dadvtrain.threads="$threads" \
    -cp "target/test-classes:target/classes:$(cat "$cp_file")" advtrain.bench.SideBySide --backend "$backend" --serve \
    2> >(grep -v '^WARNING: Using incubator modules' >&2)
  echo "(results: benchmarks/results/paired-$backend-$stamp.json)" >&2
  exit 0
fi

torch_files=() our_files=()
for round in $(seq 1 "$rounds"); do
  torch_json="benchmarks/results/pytorch-$stamp-$round.json"
  ours_json="benchmarks/results/advtrain-$backend-$stamp-$round.json"
  echo "== round $round/$rounds: PyTorch ($threads threads), load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "${torch_env[@]}" /usr/bin/python3 benchmarks/vs_pytorch.py measure --threads "$threads" \
    --repeats "$repeats" --seconds "$seconds" --workloads "$workloads" > "$torch_json"
  echo "== round $round/$rounds: advtrain ($backend, $threads threads), load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  java "${advtrain_jvm[@]}" -Dadvtrain.threads="$threads" \
    -cp "target/test-classes:target/classes:$(cat "$cp_file")" advtrain.bench.SideBySide \
    --backend "$backend" --repeats "$repeats" --seconds "$seconds" --workloads "$workloads" \
    2> >(grep -v '^WARNING: Using incubator modules' >&2) > "$ours_json"
  torch_files+=("$torch_json") our_files+=("$ours_json")
done

/usr/bin/python3 benchmarks/vs_pytorch.py report --torch "${torch_files[@]}" --advtrain "${our_files[@]}"
