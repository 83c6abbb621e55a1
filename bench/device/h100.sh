#!/usr/bin/env bash
# Runs on the GPU machine, from a copy of the repository whose .device/ holds
# binaries built here (bench/device/bundle.sh) and .gl/ the Vulkan loader's
# packages (the device tool's README). Sets up the loaders and drivers, then
# runs what the arguments name, each writing its log under $OUT:
#   backends      kiln backends (the devices and their capabilities)
#   text          greedy text of the shipped model on every backend
#   conformance   the conformance harness and the fusion-equivalence cases on vulkan and opencl
#   tests         the plugins' own tests and the end-to-end tests
#   kernels       bench/vulkan_bench and bench/opencl_bench (gemv GB/s against the
#                 copy, dispatch cost), JSON under $OUT
#   fusion        bench/fusion_bench on vulkan and on opencl (rmsnorm, decode attention,
#                 each fused op of the decode and convert tables fused and unfused), JSON under $OUT
#   models        the synthetic Llama-3.2-1B shape: kiln bench + the PyTorch peer, and a profile
#   models8b      the synthetic Llama-3.1-8B shape: the same, without torch.compile
#   variants      kiln bench --profile of the 1B shape once per plugin build under
#                 .device/variants/NAME/ (an A/B of kernel constants in one run), and
#                 the backend's kernel bench (gemv against the copy) where bundled;
#                 VARIANT_BACKENDS (default vulkan) names the backends the builds are of
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=${OUT:-/tmp/out}
mkdir -p "$out"
for deb in .gl/*.deb; do dpkg -x "$deb" / ; done
ldconfig
export LD_LIBRARY_PATH=$root/.device/lib KILN_PLUGIN_PATH=$root/.device/lib
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
if [ ! -e /etc/OpenCL/vendors/nvidia.icd ]; then
  mkdir -p /tmp/icd && echo libnvidia-opencl.so.1 > /tmp/icd/nvidia.icd
  cp /etc/OpenCL/vendors/*.icd /tmp/icd/ 2>/dev/null
  export OCL_ICD_VENDORS=/tmp/icd
fi
# Test binaries name the source and build trees where they were built.
[ -e /work/main ] || { mkdir -p /work && ln -s "$root" /work/main; }
mkdir -p build/backends
for plugin in .device/lib/libkiln-*.so; do ln -sf "$root/$plugin" build/backends/; done
kiln=$root/.device/bin/kiln
cache=/tmp/kiln-cache
# The NumPy references run under the python3 the tests were built with
# (/usr/bin/python3); the machine's NumPy is in PyTorch's environment.
# A wrapper, not a link: a virtual environment's python finds its packages
# from the path it is started by.
python=$(python3 -c 'import sys; print(sys.executable)')
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null && [ "$python" != /usr/bin/python3 ] &&
   "$python" -c 'import numpy' 2>/dev/null; then
  rm -f /usr/bin/python3
  printf '#!/bin/sh\nexec %s "$@"\n' "$python" > /usr/bin/python3
  chmod +x /usr/bin/python3
fi
# The machine has no Vulkan validation layer; the tests ask for it only
# where it is installed (lavapipe in CI).
export KILN_VULKAN_VALIDATION=0

run() {  # name, command...
  local name=$1; shift
  echo "== $name: $*" | tee -a "$out/summary.txt"
  ( "$@" ) > "$out/$name.log" 2>&1
  local rc=$?
  tail -n 5 "$out/$name.log" | tee -a "$out/summary.txt"
  echo "   rc=$rc" | tee -a "$out/summary.txt"
}

for step in "$@"; do
  case $step in
    backends) run backends "$kiln" backends ;;
    text)
      for b in cpu vulkan opencl; do
        run "text-$b" "$kiln" run models/kjv-llama.gguf --backend "$b" -p "And the LORD said unto" -n 60 --temp 0 \
          --cache-dir "$cache" --profile
      done ;;
    conformance)
      run conformance env KILN_REQUIRE_BACKENDS=vulkan,opencl \
        "$root/.device/bin/backend_conformance_test" --gtest_filter='*vulkan*:*opencl*'
      run fusion env KILN_REQUIRE_BACKENDS=vulkan,opencl \
        "$root/.device/bin/fusion_equivalence_test" --gtest_filter='*vulkan*:*opencl*' ;;
    e2e)
      run llama_e2e env KILN_REQUIRE_BACKENDS=vulkan,opencl "$root/.device/bin/llama_e2e_test" \
        --gtest_filter='*vulkan*:*opencl*'
      run kjv_backends env KILN_REQUIRE_BACKENDS=vulkan,opencl "$root/.device/bin/kjv_model_test" \
        --gtest_filter='*KjvBackendTest*' ;;
    tests)
      for t in "$root"/.device/bin/vulkan_*_test "$root"/.device/bin/opencl_*_test; do
        run "$(basename "$t")" env KILN_REQUIRE_BACKENDS=vulkan,opencl "$t"
      done ;;
    kernels)
      run vulkan_bench "$root/.device/bin/vulkan_bench" --benchmark_filter='Copy|Gemv|DispatchChain' \
        --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
      run opencl_bench "$root/.device/bin/opencl_bench" --benchmark_repetitions=3 \
        --benchmark_report_aggregates_only=true --benchmark_out="$out/opencl_bench.json" \
        --benchmark_out_format=json ;;
    fusion)
      for b in vulkan opencl; do
        run "fusion_bench-$b" "$root/.device/bin/fusion_bench" --backend "$b" --benchmark_format=console \
          --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
          --benchmark_out="$out/fusion_bench-$b.json" --benchmark_out_format=json
      done ;;
    matmul) run vulkan_matmul "$root/.device/bin/vulkan_bench" --benchmark_filter='Matmul' ;;
    models)
      # Llama-3.2-1B's shape in f16: kiln on both GPU backends beside the
      # PyTorch peer (eager and torch.compile), one run, one table.
      run synth "$kiln" synth llama-3.2-1b -o /tmp/llama-3.2-1b --dtype f16
      run compare python3 bench/peers/compare.py /tmp/llama-3.2-1b --kiln "$kiln" --backends vulkan,opencl \
        --prompt-len 512 --gen 128 --reps 3 --compile --kiln-arg=--cache-dir="$cache" --out "$out/l1b"
      run profile "$kiln" bench /tmp/llama-3.2-1b --backend vulkan --prompt-len 128 --gen 64 --reps 1 \
        --cache-dir "$cache" --profile ;;
    models8b)
      run synth8b "$kiln" synth llama-3.1-8b -o /tmp/llama-3.1-8b --dtype f16
      run compare8b python3 bench/peers/compare.py /tmp/llama-3.1-8b --kiln "$kiln" --backends vulkan,opencl \
        --prompt-len 512 --gen 64 --reps 2 --kiln-arg=--cache-dir="$cache" --out "$out/l8b"
      run profile8b "$kiln" bench /tmp/llama-3.1-8b --backend vulkan --prompt-len 128 --gen 32 --reps 1 \
        --cache-dir "$cache" --profile ;;
    variants)
      [ -d /tmp/llama-3.2-1b ] || run synth "$kiln" synth llama-3.2-1b -o /tmp/llama-3.2-1b --dtype f16
      for dir in .device/lib .device/variants/*/; do
        name=$(basename "$dir")
        for b in ${VARIANT_BACKENDS:-vulkan}; do
          [ -e "$dir/libkiln-$b.so" ] || continue
          run "variant-$name-$b" env KILN_PLUGIN_PATH="$root/$dir" "$kiln" bench /tmp/llama-3.2-1b --backend "$b" \
            --prompt-len 512 --gen 128 --reps 3 --profile
          # The kernel bench loads build/backends/libkiln-<b>.so: this build's.
          if [ -x "$root/.device/bin/${b}_bench" ]; then
            ln -sf "$root/$dir/libkiln-$b.so" build/backends/
            run "variant-$name-${b}_bench" "$root/.device/bin/${b}_bench" --benchmark_filter='Copy|Gemv'
          fi
        done
      done
      for plugin in .device/lib/libkiln-*.so; do ln -sf "$root/$plugin" build/backends/; done ;;
    *) echo "unknown step $step" ;;
  esac
done
