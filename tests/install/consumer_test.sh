#!/usr/bin/env bash
# Installs kiln from BUILD_DIR into a scratch prefix (not the prefix kiln
# was configured for), builds the consumer project against it and runs it,
# then moves the prefix and runs both again. Neither ever sees
# KILN_PLUGIN_PATH: the installed `kiln` binary finds the plugin relative to
# itself (../lib/kiln), and a program linking kiln::kiln through the folder
# the package reported when it was built.
set -euo pipefail
build_dir=$1
source_dir=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source_dir/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
env -u KILN_PLUGIN_PATH "$scratch/prefix/bin/kiln" backends | grep -qx 'cpu'
env -u KILN_PLUGIN_PATH "$scratch/build/consumer"
# A moved prefix: the binary still finds its plugins; a program built
# against the package where it now lies does too.
mv "$scratch/prefix" "$scratch/moved"
env -u KILN_PLUGIN_PATH "$scratch/moved/bin/kiln" backends | grep -qx 'cpu'
rm -rf "$scratch/build"
cmake -S "$source_dir/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/moved" >/dev/null
cmake --build "$scratch/build" >/dev/null
env -u KILN_PLUGIN_PATH "$scratch/build/consumer"
