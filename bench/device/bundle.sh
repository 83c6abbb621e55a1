#!/usr/bin/env bash
# Packs what the GPU machine needs to run kiln built here into .device/
# (ignored by git; name it in the device tool's `carry`): stripped copies of
# the given binaries and of the plugins, and every shared library they load
# that is not part of the C/C++ runtime (Abseil, PCRE2, utf8proc, the ICD
# loaders come from .gl/). On the machine:
#   export LD_LIBRARY_PATH=$PWD/.device/lib KILN_PLUGIN_PATH=$PWD/.device/lib
# Usage: bench/device/bundle.sh [BUILD_DIR] [EXTRA_BINARY...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shift || true
out=.device
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
binaries=("$build/tools/kiln" "$@")
for file in "${binaries[@]}"; do strip -o "$out/bin/$(basename "$file")" "$file"; done
for plugin in "$build"/backends/libkiln-*.so; do strip -o "$out/lib/$(basename "$plugin")" "$plugin"; done
# Libraries outside glibc, libstdc++ and libgcc, which the machine has.
for file in "$out"/bin/* "$out"/lib/libkiln-*.so; do
  ldd "$file" | awk '/=> \// {print $3}'
done | sort -u | grep -v -E '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" "$out/lib/"; done
du -sh "$out"
