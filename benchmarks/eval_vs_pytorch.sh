#!/usr/bin/env bash
# APGD-CE and Square (L-inf) on the first N CIFAR-10 test images, advtrain against a PyTorch
# implementation of the same (benchmarks/eval_vs_pytorch.py), on the same model and images, one
# after the other; prints each side's seconds and robust accuracy and the PyTorch/advtrain time ratio.
# PyTorch runs on the BLAS setting vs_pytorch.sh chooses (OpenBLAS's kernels for this CPU, or the
# newest its flags support where OpenBLAS does not know it: vs_pytorch.py blas --core-for-cpu).
#
#   benchmarks/eval_vs_pytorch.sh --model FILE --data DIR [--n 1000] [--eps 8/255] [--steps 100]
#                                 [--queries 5000] [--backend java] [--threads 2] [--attacks apgd-ce,square]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="" data="" n=1000 eps=8/255 steps=100 queries=5000 backend=java threads=2 attacks=apgd-ce,square
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --n) n="$2"; shift 2 ;;
    --eps) eps="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --queries) queries="$2"; shift 2 ;;
    --backend) backend="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --attacks) attacks="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "eval_vs_pytorch.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$model" ] && [ -n "$data" ] || { echo "eval_vs_pytorch.sh: --model FILE and --data DIR are required" >&2; exit 2; }
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
torch_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads"
  GLIBC_TUNABLES="$(/usr/bin/python3 "$root/benchmarks/vs_pytorch.py" malloc)")
core="$("${torch_env[@]}" /usr/bin/python3 "$root/benchmarks/vs_pytorch.py" blas --threads "$threads" --core-for-cpu)" || exit 1
[ -z "$core" ] || torch_env+=(OPENBLAS_CORETYPE="$core")
"${torch_env[@]}" /usr/bin/python3 "$root/benchmarks/vs_pytorch.py" blas --threads "$threads" >&2 || exit 1
"${torch_env[@]}" /usr/bin/python3 "$root/benchmarks/eval_vs_pytorch.py" --model "$model" --data "$data" --n "$n" --eps "$eps" \
  --steps "$steps" --queries "$queries" --threads "$threads" --attacks "$attacks" | tee -a "$results"
IFS=, read -ra names <<< "$attacks"
for attack in "${names[@]}"; do
  "$root/advtrain" attack --model "$model" --data "$data" --limit-test "$n" --eps "$eps" --attack "$attack" \
    --steps "$steps" --queries "$queries" --backend "$backend" --json 2>/dev/null | tail -n 1 \
    | python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps({"engine": "advtrain", "attack": r["attack"], "n": r["n"], "seconds": r["seconds"], "robust_accuracy": r["robust_accuracy"]}))' \
    | tee -a "$results"
done
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
for attack in dict.fromkeys(r["attack"] for r in rows):
    side = {r["engine"]: r for r in rows if r["attack"] == attack}
    if "pytorch" in side and "advtrain" in side:
        print("%-8s PyTorch %8.1f s, advtrain %8.1f s: advtrain %.2fx PyTorch's speed (robust %.1f %% vs %.1f %%)" % (
            attack, side["pytorch"]["seconds"], side["advtrain"]["seconds"],
            side["pytorch"]["seconds"] / side["advtrain"]["seconds"],
            100 * side["pytorch"]["robust_accuracy"], 100 * side["advtrain"]["robust_accuracy"]))
PY
