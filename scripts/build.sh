#!/usr/bin/env bash
# Configures and builds one flavour of physalia into build/<flavour>.
# Usage: bash scripts/build.sh debug|asan|release
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
case $flavour in
debug) opts=(-DCMAKE_BUILD_TYPE=Debug) ;;
asan) opts=(-DCMAKE_BUILD_TYPE=Debug -DPH_SANITIZE=ON) ;;
release) opts=(-DCMAKE_BUILD_TYPE=Release) ;;
*) echo "build.sh: unknown flavour '$flavour' (debug, asan or release)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" "${opts[@]}" >/dev/null
cmake --build "build/$flavour" -j"$(nproc)" >/dev/null
echo "build/$flavour: built"
