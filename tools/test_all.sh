#!/usr/bin/env bash
# README command 2: set up, then run every test.
#   1. tools/setup.sh (Debian packages; fast when present);
#   2. bazel test //... in this workspace (library, conformance suite, tools);
#   3. the consumer workspace (examples/consumer), with its own bazel
#      invocation, builds and runs a program using @asyncio_streams//streams.
# Ends with a line "N passed, M failed" counting Bazel test targets and the
# consumer program.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bazel test --test_summary=short //... 2>&1 | tee "$log"
bazel_status=${PIPESTATUS[0]}
passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//\S+\s+.*(FAILED|TIMEOUT|NO STATUS|FLAKY)' "$log")

echo "--- consumer workspace (examples/consumer)"
if (cd examples/consumer && bazel run //:read_lines); then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

if ((bazel_status != 0 && failed == 0)); then
  echo "bazel test exited with status $bazel_status" >&2
  failed=1
fi
echo "${passed} passed, ${failed} failed"
((failed == 0))
