#!/usr/bin/env bash
# Where a step's time goes (the seed's Net; a training step at batch 32 by default).
#
#   benchmarks/profile-step.sh [--threads N] [--workload W] [--steps S] [--cpu-time | --bytes] [--jfr] [--backend java]
#
# Runs advtrain.bench.StepProfile on a workload of the side-by-side benchmark (train-b32, train-b4,
# infer-b256, inputgrad-b256; default train-b32): the step timed once without and once with a timer around every
# backend call, printed as a table of time per kernel and per layer. --cpu-time times kernels by
# the thread's CPU time (use with --threads 1 on a machine shared with other work). --jfr also
# records the run with Java Flight Recorder and prints the methods its execution samples land in.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jvm=() args=() jfr=""
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) jvm+=("-Dadvtrain.threads=$2"); shift 2 ;;
    --workload|--steps|--backend) args+=("$1" "$2"); shift 2 ;;
    --cpu-time) args+=(--cpu-time); shift ;;
    --bytes) args+=(--bytes); shift ;;
    --jfr) jfr=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "profile-step.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
mvn -B -q -o test-compile
cp_file=target/bench.classpath
[ -s "$cp_file" ] && [ "$cp_file" -nt pom.xml ] || \
  mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
mkdir -p benchmarks/results
recording="benchmarks/results/step-$(date +%Y%m%d-%H%M%S).jfr"
[ -n "$jfr" ] && jvm+=("-XX:StartFlightRecording=filename=$recording,settings=profile")
# -XX:-UseLoopPredicate as in the advtrain launcher (see there).
java --add-modules jdk.incubator.vector -XX:-UseLoopPredicate ${jvm[@]+"${jvm[@]}"} \
  -cp "target/test-classes:target/classes:$(cat "$cp_file")" advtrain.bench.StepProfile ${args[@]+"${args[@]}"} \
  2> >(grep -v -e '^WARNING: Using incubator modules' -e 'Started recording' -e 'Use jcmd' >&2)
if [ -n "$jfr" ]; then
  jfr print --json --events jdk.ExecutionSample "$recording" > "$recording.json"
  /usr/bin/python3 benchmarks/jfr_hot.py "$recording.json"
fi
