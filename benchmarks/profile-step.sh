#!/usr/bin/env bash
# Where a step's time goes (the seed's Net; a training step at batch 32 by default).
#
#   benchmarks/profile-step.sh [--threads N] [--workload W] [--steps S] [--cpu-time | --bytes] [--backend java]
#
# Runs advtrain.bench.StepProfile on a workload of the side-by-side benchmark (train-b32, train-b4,
# infer-b256, inputgrad-b256; default train-b32): the step timed once without and once with a timer around every
# backend call, printed as a table of time per kernel and per layer. --cpu-time times kernels by
# the thread's CPU time (use with --threads 1 on a machine shared with other work). --bytes counts
# the bytes each kernel allocates instead (use with --threads 1: every allocation is the caller's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jvm=() args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) jvm+=("-Dadvtrain.threads=$2"); shift 2 ;;
    --workload|--steps|--backend) args+=("$1" "$2"); shift 2 ;;
    --cpu-time) args+=(--cpu-time); shift ;;
    --bytes) args+=(--bytes); shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "profile-step.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
mvn -B -q -o test-compile
cp_file=target/bench.classpath
[ -s "$cp_file" ] && [ "$cp_file" -nt pom.xml ] || \
  mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
# -XX:-UseLoopPredicate as in the advtrain launcher (see there), and ADVTRAIN_JAVA_OPTS as it takes them.
# shellcheck disable=SC2206
[ -z "${ADVTRAIN_JAVA_OPTS:-}" ] || jvm+=($ADVTRAIN_JAVA_OPTS)
java --add-modules jdk.incubator.vector -XX:-UseLoopPredicate ${jvm[@]+"${jvm[@]}"} \
  -cp "target/test-classes:target/classes:$(cat "$cp_file")" advtrain.bench.StepProfile ${args[@]+"${args[@]}"} \
  2> >(grep -v '^WARNING: Using incubator modules' >&2)
