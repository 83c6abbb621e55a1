#!/usr/bin/env bash
# Installs kiln from BUILD_DIR into a scratch prefix, builds the consumer
# project against it and runs it. The installed `kiln` binary must find the
# plugin on its own (next to it, in ../lib/kiln); a program elsewhere finds
# it through the KILN_PLUGIN_DIR the package config reports (here a scratch
# prefix, not the prefix kiln was configured for).
set -euo pipefail
build_dir=$1
source_dir=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source_dir/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
env -u KILN_PLUGIN_PATH "$scratch/prefix/bin/kiln" backends | grep -q '^cpu '
plugin_dir=$(grep '^KILN_PLUGIN_DIR:' "$scratch/build/CMakeCache.txt" | cut -d= -f2)
KILN_PLUGIN_PATH=$plugin_dir "$scratch/build/consumer"
