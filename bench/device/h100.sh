#!/usr/bin/env bash
# Runs on the GPU machine, from a copy of the repository whose .device/ holds
# binaries built here (bench/device/bundle.sh) and .gl/ the Vulkan loader's
# packages (the device tool's README). Sets up the loaders and drivers, then
# runs what the arguments name, each writing its log under $OUT:
#   backends      kiln backends (the devices and their capabilities)
#   text          greedy text of the shipped model on every backend
#   conformance   the conformance harness on vulkan and opencl
#   tests         the plugins' own tests and the end-to-end tests
#   kernels       bench/vulkan_bench (gemv GB/s, matmul TFLOP/s, dispatch cost)
#   models        synthetic Llama-3.2-1B / 3.1-8B shapes: kiln bench + the PyTorch peer
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
      run conformance env KILN_REQUIRE_BACKENDS=vulkan,opencl KILN_CACHE_DIR="$cache" \
        "$root/.device/bin/backend_conformance_test" --gtest_filter='*vulkan*:*opencl*' ;;
    tests)
      for t in "$root"/.device/bin/*_test; do
        case $(basename "$t") in backend_conformance_test) continue ;; esac
        run "$(basename "$t")" env KILN_REQUIRE_BACKENDS=vulkan,opencl "$t"
      done ;;
    kernels) run vulkan_bench "$root/.device/bin/vulkan_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true ;;
    *) echo "unknown step $step" ;;
  esac
done
