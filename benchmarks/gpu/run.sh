#!/usr/bin/env bash
# The one call on a GPU machine: proves the OpenCL backend on a real device in a few minutes, with
# nothing but what benchmarks/gpu/pack.sh put in benchmarks/gpu/pack/ (a Java runtime, the jar, the
# test classes and a JUnit launcher, CIFAR-10 images): no Maven, no JDK, no network.
#
#   benchmarks/gpu/run.sh                  (writes its logs and result.json under $OUT if set)
#
# It lists the GPU and the OpenCL drivers; makes libOpenCL.so and an NVIDIA ICD file reachable in its
# own folder where the system lacks them (LD_LIBRARY_PATH, OCL_ICD_VENDORS); prints the device and
# kernel variant chosen; runs the OpenCL test suite; trains the seed's network one epoch on every
# training image it has at batch 32 and at batch 256 (--backend opencl); runs the PyTorch-parity
# tests and FGSM and PGD on the test images; and ends with ONE JSON line holding every figure.
# Exit status 0 when every phase passed. The phases' time limits add up to 460 s;
# GPU_TIME_SCALE=N multiplies them (a rehearsal on a CPU OpenCL device needs about 10).
# For rehearsing the set-up on another machine: GPU_LIBRARY_DIRS (folders searched instead of the
# system's, no ldconfig), GPU_VENDORS_DIR (instead of /etc/OpenCL/vendors), GPU_PHASES (the phases
# to run, e.g. "device devices"; default all).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pack="$here/pack"
root="$(cd "$here/../.." && pwd)"
scale="${GPU_TIME_SCALE:-1}"
out="${OUT:-${TMPDIR:-/tmp}/advtrain-gpu-out}"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/advtrain-gpu.XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
say() { echo "[gpu $(( $(date +%s) - started ))s] $*" >&2; }
# The last line of a phase's output if it is a JSON object, else null.
last_json() { local l; l="$(tail -n 1 "$1" 2>/dev/null)"; case "$l" in "{"*"}") echo "$l" ;; *) echo null ;; esac; }
# A top-level number or string field of a one-line JSON object ("" when absent).
field() { echo "$1" | grep -o "\"$2\": *\(\"[^\"]*\"\|[-0-9.eE+]*\)" | head -n 1 | sed 's/^[^:]*: *//'; }
json_string() { printf '"%s"' "$(printf '%s' "$1" | tr '\n\t' '  ' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

[ -f "$pack/runtime.tar.gz" ] || { echo "gpu: $pack/runtime.tar.gz is missing; run benchmarks/gpu/pack.sh first" >&2; exit 2; }

# ---- 1. the machine: GPU, OpenCL drivers ---------------------------------------------------------
say "GPU:"
gpu_name=""
if command -v nvidia-smi >/dev/null; then
  nvidia-smi -L >&2 || true
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
  gpu_name="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)"
else
  say "  no nvidia-smi on the PATH"
fi
vendors_dir="${OCL_ICD_VENDORS:-${GPU_VENDORS_DIR:-/etc/OpenCL/vendors}}"
say "OpenCL vendors ($vendors_dir):"
if [ -d "$vendors_dir" ]; then
  for f in "$vendors_dir"/*.icd; do [ -e "$f" ] && echo "  $f: $(cat "$f")" >&2; done
else
  say "  $vendors_dir does not exist"
fi

# Where the dynamic loader would find a library: LD_LIBRARY_PATH, its cache, the usual folders.
find_library() {
  local name="$1" d ld="${LD_LIBRARY_PATH:-}"
  local dirs="${GPU_LIBRARY_DIRS:-${ld//:/ } /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /lib64 /usr/lib /lib
              /usr/local/lib /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/wsl/lib}"
  for d in ${dirs//:/ }; do
    [ -e "$d/$name" ] && { echo "$d/$name"; return 0; }
  done
  [ -n "${GPU_LIBRARY_DIRS:-}" ] && return 1
  if command -v ldconfig >/dev/null || [ -x /sbin/ldconfig ]; then
    local hit
    hit="$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | awk -v n="$name" '$1 == n && !/i386/ {print $NF; exit}')"
    [ -n "$hit" ] && { echo "$hit"; return 0; }
  fi
  return 1
}

# ---- 2. libOpenCL.so and the ICD, in our own folder where missing --------------------------------
ocl="$work/opencl"
mkdir -p "$ocl/lib" "$ocl/vendors"
setup=()
if lib="$(find_library libOpenCL.so)"; then
  setup+=("libOpenCL.so found at $lib")
elif lib="$(find_library libOpenCL.so.1)"; then
  ln -s "$lib" "$ocl/lib/libOpenCL.so"
  export LD_LIBRARY_PATH="$ocl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  setup+=("linked libOpenCL.so -> $lib (JOCL opens only libOpenCL.so)")
elif [ -f "$pack/ocl/libOpenCL.so.1" ]; then
  cp "$pack/ocl/libOpenCL.so.1" "$ocl/lib/libOpenCL.so.1"
  ln -s libOpenCL.so.1 "$ocl/lib/libOpenCL.so"
  export LD_LIBRARY_PATH="$ocl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  setup+=("no OpenCL loader on this machine: using the packed ocl-icd loader")
else
  setup+=("no libOpenCL.so or libOpenCL.so.1 found")
fi
nvidia_icd=""
if [ -d "$vendors_dir" ]; then
  for f in "$vendors_dir"/*.icd; do [ -e "$f" ] && grep -qi nvidia "$f" && nvidia_icd="$f"; done
fi
if [ -n "$nvidia_icd" ]; then
  setup+=("NVIDIA ICD: $nvidia_icd")
elif nv="$(find_library libnvidia-opencl.so.1)"; then
  if [ -d "$vendors_dir" ]; then for f in "$vendors_dir"/*.icd; do [ -e "$f" ] && cp "$f" "$ocl/vendors/"; done; fi
  echo "$nv" > "$ocl/vendors/nvidia.icd"
  export OCL_ICD_VENDORS="$ocl/vendors"           # ocl-icd and recent Khronos loaders
  export OCL_ICD_FILENAMES="$nv"                  # the Khronos loader's way
  setup+=("wrote nvidia.icd -> $nv (OCL_ICD_VENDORS=$ocl/vendors)")
else
  setup+=("no NVIDIA ICD file and no libnvidia-opencl.so.1 found")
fi
for s in "${setup[@]}"; do say "setup: $s"; done

# ---- 3. the Java runtime -------------------------------------------------------------------------
tar -xzf "$pack/runtime.tar.gz" -C "$work" || { echo "gpu: cannot unpack $pack/runtime.tar.gz" >&2; exit 1; }
java="$work/runtime/jre/bin/java"
if ! "$java" -version >/dev/null 2>&1; then
  say "the packed Java runtime does not start here ($(ldd --version 2>&1 | head -n 1); it needs glibc 2.34+); trying the system's"
  java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  "$java" -version >/dev/null 2>&1 || { echo "gpu: no Java runtime that starts on this machine" >&2; exit 1; }
fi
jvm=("$java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -XX:-UseLoopPredicate -Xmx8g)
cp_tests="$work/runtime/test-classes:$work/runtime/advtrain.jar:$work/runtime/junit/*"
advtrain=("${jvm[@]}" -jar "$work/runtime/advtrain.jar")

# The data: the shared CIFAR-10 folder beside the checkout if the machine has it, else the packed images.
if [ -f "$root/../shared/data/cifar-10/data_batch_1.bin.gz" ]; then
  data="$root/../shared/data/cifar-10"; train_n=50000; test_n=10000
else
  data="$pack/data"; train_n="$(cat "$pack/data/TRAIN_IMAGES")"; test_n="$(cat "$pack/data/TEST_IMAGES")"
fi
say "data: $data ($train_n training images, $test_n test images)"

# ---- phases: each with a time limit, its output in $out/NAME.log ---------------------------------
declare -A code
phases="${GPU_PHASES:-device devices tests train_b32 train_b256 parity fgsm pgd}"
phase() {  # phase NAME SECONDS COMMAND...
  local name="$1" limit=$(( $2 * scale )); shift 2
  case " $phases " in *" $name "*) ;; *) code[$name]=skipped; return ;; esac
  local t0=$(date +%s)
  say "$name (limit ${limit}s)"
  timeout -k 10 "$limit" "$@" > "$out/$name.log" 2>&1
  code[$name]=$?
  say "$name: exit ${code[$name]} in $(( $(date +%s) - t0 ))s"
  [ "${code[$name]}" = 0 ] || tail -n 20 "$out/$name.log" >&2
}

phase device 45 "${jvm[@]}" -cp "$cp_tests" advtrain.bench.gpu.DeviceInfo
device_json="$(last_json "$out/device.log")"
say "device: $device_json"
phase devices 45 "${advtrain[@]}" devices --json
opencl_suite=(advtrain.backend.opencl advtrain.autograd.GradCheckOpsTest advtrain.nn.GradCheckNetTest
              advtrain.train.AdversarialObjectiveTest advtrain.attack.AttackTest)
phase tests 140 "${jvm[@]}" -cp "$cp_tests" advtrain.bench.gpu.RunTests "${opencl_suite[@]}"
for batch in 32 256; do
  phase "train_b$batch" 60 "${advtrain[@]}" train --backend opencl --data "$data" --out "$work/run-b$batch" --epochs 1 \
    --batch "$batch" --limit-train "$train_n" --limit-test "$test_n" --seed 1 --json
done
phase parity 60 "${jvm[@]}" -cp "$cp_tests" advtrain.bench.gpu.RunTests \
  advtrain.golden.GoldenOpsTest advtrain.golden.GoldenNetTest advtrain.attack.AttackGoldenTest
model="$work/run-b32/model.safetensors"
phase fgsm 20 "${advtrain[@]}" attack --backend opencl --model "$model" --data "$data" --attack fgsm --eps 0.031372549 \
  --limit-test "$test_n" --json
phase pgd 30 "${advtrain[@]}" attack --backend opencl --model "$model" --data "$data" --attack pgd --eps 0.031372549 \
  --steps 10 --limit-test "$test_n" --json

# ---- the one JSON line ---------------------------------------------------------------------------
tests="$(last_json "$out/tests.log")"; parity="$(last_json "$out/parity.log")"
b32="$(last_json "$out/train_b32.log")"; b256="$(last_json "$out/train_b256.log")"
fgsm="$(last_json "$out/fgsm.log")"; pgd="$(last_json "$out/pgd.log")"
ok=true
for name in device devices tests train_b32 train_b256 parity fgsm pgd; do [ "${code[$name]}" = 0 ] || ok=false; done
num() { local v; v="$(field "$1" "$2")"; echo "${v:-null}"; }
exits=""
for name in device devices tests train_b32 train_b256 parity fgsm pgd; do exits+="${exits:+, }\"$name\": \"${code[$name]}\""; done
setup_json=""
for s in "${setup[@]}"; do setup_json+="${setup_json:+, }$(json_string "$s")"; done
result="{\"ok\": $ok, \"gpu\": $(json_string "$gpu_name"), \"device\": $(num "$device_json" device),"
result+=" \"kernels\": $(num "$device_json" kernels), \"multiply_add\": $(num "$device_json" multiply_add),"
result+=" \"tests_passed\": $(num "$tests" passed), \"tests_failed\": $(num "$tests" failed), \"tests_skipped\": $(num "$tests" skipped),"
result+=" \"parity_passed\": $(num "$parity" passed), \"parity_failed\": $(num "$parity" failed), \"parity_skipped\": $(num "$parity" skipped),"
result+=" \"train_images\": $train_n, \"test_images\": $test_n,"
result+=" \"images_per_second_b32\": $(num "$b32" images_per_second), \"images_per_second_b256\": $(num "$b256" images_per_second),"
result+=" \"test_accuracy_b32\": $(num "$b32" test_accuracy), \"test_accuracy_b256\": $(num "$b256" test_accuracy),"
result+=" \"train_loss_b32\": $(num "$b32" train_loss), \"train_loss_b256\": $(num "$b256" train_loss),"
result+=" \"train_seconds_b32\": $(num "$b32" seconds), \"train_seconds_b256\": $(num "$b256" seconds),"
result+=" \"fgsm_robust_accuracy\": $(num "$fgsm" robust_accuracy), \"pgd_robust_accuracy\": $(num "$pgd" robust_accuracy),"
result+=" \"clean_accuracy\": $(num "$fgsm" clean_accuracy), \"fgsm_images_per_second\": $(num "$fgsm" images_per_second),"
result+=" \"pgd_images_per_second\": $(num "$pgd" images_per_second), \"seconds\": $(( $(date +%s) - started )),"
result+=" \"exit\": {$exits}, \"setup\": [$setup_json],"
result+=" \"details\": {\"device\": $device_json, \"tests\": $tests, \"parity\": $parity, \"train_b32\": $b32, \"train_b256\": $b256,"
result+=" \"fgsm\": $fgsm, \"pgd\": $pgd}}"
echo "$result" > "$out/result.json"
say "logs and result.json in $out"
echo "$result"
[ "$ok" = true ]
