#!/usr/bin/env bash
# CI's sanitizer stage (also run by hand):
#   1. every test under AddressSanitizer + LeakSanitizer + UBSan, in one g++
#      build (--config=sanitize; clang 14 cannot compile Asio coroutines with
#      -fsanitize=undefined);
#   2. the tests tagged "threads" under ThreadSanitizer (--config=tsan).
# Each configuration has its own output folder (.bazelrc: --platform_suffix),
# so neither rebuilds the default build. Ends with "N passed, M failed"
# counting the two stages.
#
# Usage: tools/sanitizers.sh
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
run() {
  local name=$1
  shift
  local start=$SECONDS
  echo "--- sanitizers: $name: $*"
  if "$@"; then
    passed=$((passed + 1))
    echo "--- sanitizers: $name passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1))
    echo "--- sanitizers: $name FAILED after $((SECONDS - start)) s"
  fi
}

run asan+ubsan bazel test --config=sanitize --test_summary=short //...
run tsan bazel test --config=tsan --test_tag_filters=threads \
  --test_summary=short //...

echo "sanitizers: ${passed} passed, ${failed} failed"
((failed == 0))
