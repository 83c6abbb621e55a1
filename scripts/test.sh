#!/usr/bin/env bash
# The whole test suite:
#  1. the main build's tests (unit, backend conformance, end-to-end);
#  2. the unit tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. the file-format fuzzers, briefly, from their seed corpora.
# Any failure, sanitizer report or fuzzer crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/build.sh
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON -DKILN_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan
# Tests that load a GPU driver (lavapipe, PoCL) run without LeakSanitizer:
# its stop-the-world tracer can crash on the drivers' worker threads at exit
# (a fatal LSan error, not a leak), and the drivers' own allocations are not
# kiln's. AddressSanitizer and UBSan stay on for them; every other unit test
# is leak-checked too.
gpu_tests='[Vv]ulkan|[Oo]pencl|OpenCL'
sanitizers=(UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp)
env "${sanitizers[@]}" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  ctest --test-dir build-asan -L unit -E "$gpu_tests" --output-on-failure -j"$jobs"
env "${sanitizers[@]}" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  ctest --test-dir build-asan -L unit -R "$gpu_tests" --output-on-failure -j"$jobs"

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_FUZZ=ON \
  -DKILN_BUILD_TESTS=ON -DKILN_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target gguf_fuzz safetensors_fuzz npy_fuzz
for target in gguf safetensors npy; do
  corpus=$(mktemp -d)
  build-fuzz/tests/fuzz/${target}_fuzz -max_total_time=20 -max_len=4096 -print_final_stats=0 \
    "$corpus" "tests/fuzz/corpus/$target" 2>&1 | tail -n 2
  rm -rf "$corpus"
done
echo "fuzz: 3 passed, 0 failed"
