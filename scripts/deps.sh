#!/usr/bin/env bash
# Installs what kiln needs to build and test on Debian 12 (run as root, or
# with sudo available). Idempotent.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  libabsl-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev libhwy-dev
  python3 python3-numpy
  # /usr/bin/time -v: peak memory in bench/memory.py
  time
  clang libclang-rt-14-dev
  # The opencl plugin: the ICD loader and headers to build, PoCL to run it on
  # the CPU (CI), clinfo to list platforms.
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo
  # The vulkan plugin: the loader and headers, glslang and spirv-val to build
  # and check its shaders, Mesa's lavapipe to run them on the CPU (CI), the
  # Khronos validation layer the tests enable.
  libvulkan-dev glslang-tools spirv-tools mesa-vulkan-drivers vulkan-validationlayers
)
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
