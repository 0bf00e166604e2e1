#!/usr/bin/env bash
# Benchmarks //streams beside raw Boost.Asio and CPython 3.11.7's asyncio and
# writes benchmarks/REPORT.md (with its PNG plots and the raw figures in
# benchmarks/results.json).
#
# Usage: benchmarks/run.sh [--quick]
#   (default)  5 repetitions of every case (bulk: 15) at full size: 3 to 10
#              minutes.
#   --quick    3 repetitions, smaller in-memory sizes and shorter TCP runs:
#              about 1 minute once built.
#
# Steps: tools/setup.sh --bench (adds gnuplot-nox for the plots); ONE
# optimized `bazel build --config=opt` of every benchmark binary; then
# run_cases.py runs each case for //streams, raw Asio and CPython back to
# back, repetition after repetition; report.py computes the per-repetition
# ratios, their medians and a PASS/FAIL line per target. Failing targets do
# not fail this script (the report is the product); a case that cannot run
# does, after the report is written.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=()
command="benchmarks/run.sh"
case "${1:-}" in
  "") ;;
  --quick)
    mode=(--quick)
    command+=" --quick"
    ;;
  *)
    echo "usage: benchmarks/run.sh [--quick]" >&2
    exit 2
    ;;
esac

tools/setup.sh --bench

# The reference: CPython 3.11.7 exactly (Debian's /usr/bin/python3 is 3.11.2).
python=${ASYNCIO_STREAMS_PYTHON:-python3}
version=$("$python" -c 'import platform; print(platform.python_version())')
if [[ "$version" != 3.11.7 ]]; then
  echo "run.sh: '$python' is CPython $version, not 3.11.7 (set ASYNCIO_STREAMS_PYTHON)" >&2
  exit 1
fi

bazel build --config=opt \
  //benchmarks:reader_benchmark //benchmarks:tcp_asio //benchmarks:tcp_streams
bin=$(bazel info --config=opt bazel-bin 2>/dev/null)
# bazel-out/k8-opt/bin: the output directory names the compilation mode.
compilation_mode="bazel build --config=opt: -c opt, g++ -O2 -DNDEBUG ($(basename "$(dirname "$bin")"))"

status=0
"$python" benchmarks/run_cases.py --bin-dir "$bin/benchmarks" \
  --out benchmarks/results.json --python "$python" \
  --compilation-mode "$compilation_mode" "${mode[@]}" || status=$?
"$python" benchmarks/report.py --results benchmarks/results.json \
  --out benchmarks/REPORT.md --command "$command"
exit "$status"
