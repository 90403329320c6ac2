#!/usr/bin/env bash
# Prepares benchmarks/gpu/pack/ (git-ignored), everything benchmarks/gpu/run.sh needs on a machine
# with no Maven and no JDK, at most 64 MiB:
#   runtime.tar.gz  a jlink Java runtime with the modules the jar and the tests use (libjvm stripped),
#                   target/advtrain.jar, the test classes and the JUnit platform's jars (the
#                   launcher is advtrain.bench.gpu.RunTests, in the test classes)
#   data/           CIFAR-10: the first TRAIN_IMAGES images of data_batch_1 and the first
#                   TEST_IMAGES of test_batch, each file padded to its official 10,000 records with
#                   zero records (which gzip to almost nothing; run.sh reads only the real ones),
#                   and data_batch_2..5 all zero records, so the folder reads as CIFAR-10
#   ocl/            this machine's OpenCL ICD loader (libOpenCL.so.1), used only where the GPU
#                   machine has none
#
#   benchmarks/gpu/pack.sh          (TRAIN_IMAGES=6000 TEST_IMAGES=2000 by default; CIFAR_DIR: the
#                                    gzipped CIFAR-10 binaries, default ../shared/data/cifar-10)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pack="$here/pack"
train_images="${TRAIN_IMAGES:-6000}"
test_images="${TEST_IMAGES:-2000}"
cifar="${CIFAR_DIR:-$root/../shared/data/cifar-10}"
limit=$((64 * 1024 * 1024))
record=3073  # bytes of one CIFAR-10 record: a label and 3 x 32 x 32 pixels

for f in data_batch_1.bin.gz test_batch.bin.gz; do
  [ -f "$cifar/$f" ] || { echo "pack: $cifar/$f is missing (set CIFAR_DIR)" >&2; exit 1; }
done
command -v jlink >/dev/null || { echo "pack: jlink (a JDK 17) is needed" >&2; exit 1; }

echo "pack: building the jar and the test classes (mvn package, tests not run)" >&2
(cd "$root" && mvn -B -o -q -DskipTests package)
(cd "$root" && mvn -B -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/gpu-pack.classpath)

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/runtime/junit"
cp "$root/target/advtrain.jar" "$stage/runtime/"
cp -r "$root/target/test-classes" "$stage/runtime/"
tr ':' '\n' < "$root/target/gpu-pack.classpath" | grep -E '/(junit-jupiter|junit-platform|opentest4j|apiguardian)[^/]*\.jar$' \
  | while read -r jar; do cp "$jar" "$stage/runtime/junit/"; done

# The modules: what jdeps finds in the jar, the test classes and JUnit, plus the Vector API.
modules="$(jdeps --print-module-deps --ignore-missing-deps --multi-release 17 \
  --class-path "$stage/runtime/advtrain.jar:$(ls "$stage"/runtime/junit/*.jar | tr '\n' ':')" \
  "$stage/runtime/advtrain.jar" "$stage/runtime/test-classes" "$stage"/runtime/junit/*.jar 2>/dev/null | tail -n 1)"
modules="$modules,jdk.incubator.vector"
echo "pack: jlink runtime with $modules" >&2
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=0 --output "$stage/runtime/jre"
strip --strip-unneeded "$stage/runtime/jre/lib/server/libjvm.so" 2>/dev/null || true
"$stage/runtime/jre/bin/java" --add-modules jdk.incubator.vector -cp "$stage/runtime/advtrain.jar" advtrain.cli.Main --help >/dev/null 2>&1 \
  || { echo "pack: the packed runtime cannot start the jar" >&2; exit 1; }

rm -rf "$pack"
mkdir -p "$pack/data" "$pack/ocl"
tar -C "$stage" -cf - runtime | gzip -9 > "$pack/runtime.tar.gz"

# Real records first, then zero records up to the official 10,000 (a label 0, black pixels).
padded() {  # padded SOURCE.gz IMAGES TARGET.gz
  { (gzip -dc "$1" || true) | head -c $(($2 * record)); head -c $(((10000 - $2) * record)) /dev/zero; } | gzip -9 > "$3"
  [ "$(gzip -dc "$3" | wc -c)" = $((10000 * record)) ] || { echo "pack: $3 came out the wrong size" >&2; exit 1; }
}
padded "$cifar/data_batch_1.bin.gz" "$train_images" "$pack/data/data_batch_1.bin.gz"
padded "$cifar/test_batch.bin.gz" "$test_images" "$pack/data/test_batch.bin.gz"
# The data folder must look like CIFAR-10 (five training files): the other four are all zero records.
for i in 2 3 4 5; do padded "$cifar/data_batch_1.bin.gz" 0 "$pack/data/data_batch_$i.bin.gz"; done
echo "$train_images" > "$pack/data/TRAIN_IMAGES"
echo "$test_images" > "$pack/data/TEST_IMAGES"

loader="$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | awk '$1 == "libOpenCL.so.1" && !/i386/ {print $NF; exit}' || true)"
[ -n "$loader" ] && cp -L "$loader" "$pack/ocl/libOpenCL.so.1"

size="$(du -sb "$pack" | cut -f1)"
{
  echo "advtrain GPU pack: $(cd "$root" && git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "modules: $modules"
  echo "data: $train_images training images, $test_images test images"
  echo "bytes: $size"
} > "$pack/MANIFEST.txt"
du -sh "$pack"/* >&2
echo "pack: $pack is $((size / 1024 / 1024)) MiB (limit 64 MiB)" >&2
[ "$size" -le "$limit" ] || { echo "pack: over 64 MiB; lower TRAIN_IMAGES / TEST_IMAGES" >&2; exit 1; }
