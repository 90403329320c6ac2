#!/usr/bin/env bash
# The heap a training run needs and the time it spends in garbage collection.
#
#   benchmarks/heap-gc.sh [--xmx 256m] [--epochs 1] [--limit-train N] [any other train option]
#
# Runs `./advtrain train` on the real CIFAR-10 (found as the train command finds it) with the
# launcher's collector (ParallelGC) under -Xmx, logging every collection (-Xlog:gc), then prints the
# number of collections, their total and longest pause, the heap in use after the last collection
# (the live set: data set, model, pooled tensors) and the largest heap the JVM reserved. A run that
# does not fit in -Xmx fails with OutOfMemoryError: lower -Xmx until it does to find the floor.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
xmx=256m args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --xmx) xmx="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
log="$out/gc.log"
start=$(date +%s.%N)
ADVTRAIN_JAVA_OPTS="-Xmx$xmx -Xlog:gc:file=$log" ./advtrain train --out "$out/run" --epochs 1 "${args[@]}" >/dev/null
end=$(date +%s.%N)
/usr/bin/python3 - "$log" "$xmx" "$start" "$end" <<'PY'
import re, sys
log, xmx, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
pauses, after, committed = [], [], []
for line in open(log):
    m = re.search(r"Pause (\w+).*?(\d+)M->(\d+)M\((\d+)M\) ([\d.]+)ms", line)
    if m:
        pauses.append((m.group(1), float(m.group(5))))
        after.append(int(m.group(3)))
        committed.append(int(m.group(4)))
young = sum(1 for kind, _ in pauses if kind == "Young")
total = sum(ms for _, ms in pauses)
print(f"-Xmx{xmx}, ParallelGC, whole command {end - start:.1f} s")
print(f"collections: {len(pauses)} ({young} young, {len(pauses) - young} full), "
      f"total pause {total:.0f} ms, longest {max((ms for _, ms in pauses), default=0):.1f} ms")
if after:
    print(f"heap after the last collection: {after[-1]} MB (largest after any: {max(after)} MB); "
          f"largest heap reserved: {max(committed)} MB")
PY
