#!/usr/bin/env bash
# The CMake build, end to end, timed step by step:
#   1. configure (Ninja) in build/cmake (kept, so a second run is incremental);
#   2. build the libraries and the tests;
#   3. ctest (the streams/ and streams/internal/ unit tests, loopback tests);
#   4. install into a temporary prefix;
#   5. configure, build and run examples/cmake_consumer against that prefix
#      (find_package(asyncio_streams CONFIG REQUIRED)).
#
# Usage: tools/cmake_build.sh [--build-type TYPE]   (TYPE: Release)
# Needs cmake and ninja-build (tools/setup.sh --ci). Jobs: one per core.
set -euo pipefail
cd "$(dirname "$0")/.."

build_type=Release
while (($#)); do
  case "$1" in
    --build-type) build_type=$2; shift 2 ;;
    *)
      echo "cmake_build: unknown argument '$1' (usage: tools/cmake_build.sh [--build-type TYPE])" >&2
      exit 2
      ;;
  esac
done

build=build/cmake
prefix=$(mktemp -d)
consumer=$(mktemp -d)
trap 'rm -rf "$prefix" "$consumer"' EXIT

timings=()
step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "--- cmake_build: $name"
  "$@"
  timings+=("$name: $((SECONDS - start)) s")
}

total=$SECONDS
step configure cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
step build cmake --build "$build"
step ctest ctest --test-dir "$build" --output-on-failure
step install cmake --install "$build" --prefix "$prefix"
step consumer-configure cmake -S examples/cmake_consumer -B "$consumer" -G Ninja \
  -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_PREFIX_PATH="$prefix"
step consumer-build cmake --build "$consumer"
step consumer-run "$consumer/read_lines"

printf 'cmake_build: %s\n' "${timings[@]}"
echo "cmake_build: OK in $((SECONDS - total)) s ($build_type)"
