#!/usr/bin/env bash
# Installs the Debian packages this repository builds and tests with, and
# nothing else. Idempotent: when everything is present it only checks (well
# under a second); it runs `apt-get update` only when something is missing.
#
# Usage: tools/setup.sh [--ci] [--bench]   (as root, or with sudo available)
#
#   (none)   what README command 1 needs: Bazel, the compilers and libraries,
#            protobuf for the reference runner;
#   --ci     also the packages of the CI-only stages: clang 14 with its
#            sanitizer and libFuzzer runtimes, lld and llvm-symbolizer, for
#            the libFuzzer build (tools/fuzz.sh); clang-format, black,
#            flake8 (and npm, for buildifier) for tools/lint.sh; cmake and
#            ninja-build for the packaging stage (tools/cmake_build.sh).
#            g++'s own sanitizers (--config=asan/ubsan/tsan) come with g++;
#   --bench  also what only the benchmarks need (benchmarks/run.sh calls it).
set -euo pipefail

ci=0
bench=0
for arg in "$@"; do
  case "$arg" in
    --ci) ci=1 ;;
    --bench) bench=1 ;;
    *)
      echo "setup: unknown argument '$arg' (usage: tools/setup.sh [--ci] [--bench])" >&2
      exit 2
      ;;
  esac
done

packages=(
  bazel-bootstrap      # Bazel 4.2.3 (WORKSPACE mode)
  bazel-platforms      # @platforms
  bazel-rules-java     # @rules_java (Bazel 4.2.3 asks for it with py_test)
  g++                  # the C++ toolchain Bazel detects
  pkg-config           # link flags for the system libraries (third_party/deps.bzl)
  libabsl-dev          # Abseil 20220623
  libgtest-dev         # GoogleTest
  libgmock-dev         # GoogleMock
  libbenchmark-dev     # Google Benchmark
  libprotobuf-dev      # protobuf runtime (conformance testee)
  protobuf-compiler    # protoc
  python3-protobuf     # protobuf for the Python reference runner
  libboost1.81-dev     # Boost.Asio with C++20 coroutines (not libboost-dev: 1.74)
  libssl-dev           # TLS for Boost.Asio SSL
  openssl              # test certificates
  netcat-openbsd       # README's examples talk to the echo server with nc
)
if ((ci)); then
  packages+=(
    clang-14             # the libFuzzer build (tools/fuzz.sh): GCC has no libFuzzer
    libclang-rt-14-dev   # libFuzzer, ASan and LSan runtimes for clang 14
    lld-14               # its linker (gold warns once per ASan symbol)
    llvm-14              # llvm-symbolizer: symbolized reports, -print_coverage
    clang-format         # tools/lint.sh: the C++ format check (14)
    black                # tools/lint.sh: Python format
    flake8               # tools/lint.sh: Python lint
    cmake                # the CMake build (tools/cmake_build.sh): 3.25
    ninja-build          # its generator
  )
  # tools/lint.sh installs buildifier with npm. This machine kind ships
  # Node.js and npm; a machine without them gets Debian's.
  if ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
fi
if ((bench)); then
  packages+=(
    gnuplot-nox          # benchmarks/report.py draws REPORT.md's plots
    util-linux           # taskset: benchmarks/run.sh pins both processes to CPU 0
  )
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  # Three tries: a mirror hiccup must not fail the set-up.
  for attempt in 1 2 3; do
    if "${sudo[@]}" apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
        --no-install-recommends "${missing[@]}"; then
      break
    fi
    if ((attempt == 3)); then
      echo "setup: apt-get failed three times" >&2
      exit 1
    fi
    echo "setup: apt-get failed (attempt $attempt of 3)" >&2
    sleep $((attempt * 10))
  done
fi

# The reference runner needs CPython 3.11.7 exactly (Debian's python3 is 3.11.2,
# whose asyncio streams differ). It is not a Debian package: say so early.
want=3.11.7
python=${ASYNCIO_STREAMS_PYTHON:-python3}
have=$("$python" -c 'import platform; print(platform.python_version())' 2>/dev/null || true)
if [[ "$have" != "$want" ]]; then
  echo "setup: warning: '$python' is CPython '${have:-missing}', not $want;" \
    "the reference runner needs $want (set ASYNCIO_STREAMS_PYTHON)." >&2
fi
echo "setup: all ${#packages[@]} Debian packages present."
