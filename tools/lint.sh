#!/usr/bin/env bash
# Format and lint gate: C++ (clang-format 14), BUILD/.bzl/WORKSPACE files
# (buildifier 8.2.1, pinned, from npm) and Python (Debian's black and
# flake8, configured in pyproject.toml and .flake8). Fails on any violation.
#
# Usage: tools/lint.sh [--fix]
#   --fix   rewrite what the formatters can fix (clang-format, buildifier's
#           formatting, black), then check again; lint warnings stay to fix
#           by hand.
#
# Needs tools/setup.sh --ci (clang-format, black, flake8, npm). Buildifier is
# installed with npm into ~/.cache/asyncio_streams_lint on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
case "${1:-}" in
  "") ;;
  --fix) fix=1 ;;
  *)
    echo "usage: tools/lint.sh [--fix]" >&2
    exit 2
    ;;
esac

buildifier_version=8.2.1
lint_dir=${XDG_CACHE_HOME:-$HOME/.cache}/asyncio_streams_lint
buildifier=$lint_dir/node_modules/@bazel/buildifier/buildifier-linux_amd64
installed=""
if [[ -x $buildifier ]]; then installed=$("$buildifier" --version 2>/dev/null || true); fi
if [[ $installed != *"version: $buildifier_version "* ]]; then
  echo "lint: installing @bazel/buildifier@$buildifier_version (npm) into $lint_dir"
  mkdir -p "$lint_dir"
  # Three tries: a registry hiccup must not fail the lint gate.
  for attempt in 1 2 3; do
    if npm install --no-audit --no-fund --silent --prefix "$lint_dir" \
      "@bazel/buildifier@$buildifier_version"; then
      break
    fi
    echo "lint: npm install failed (attempt $attempt of 3)" >&2
    sleep $((attempt * 5))
  done
fi

# What each linter sees: the checked-in files (no bazel-* outputs).
mapfile -t cpp < <(git ls-files '*.cc' '*.h')
mapfile -t starlark < <(git ls-files 'BUILD' '*/BUILD' '*.bazel' '*.bzl' \
  'WORKSPACE' '*/WORKSPACE' '*.BUILD')
mapfile -t python < <(git ls-files '*.py')

# Buildifier warnings that cannot be fixed on Bazel 4.2.3:
#   native-cc-*, native-proto, native-py, native-sh-*: there is no rules_cc
#   (third_party/rules_cc is a stand-in), rules_proto, rules_python or
#   rules_shell to load the rules from, offline; the native rules are the
#   only ones.
disabled=(
  native-cc-binary native-cc-fdo-prefetch-hints native-cc-fdo-profile
  native-cc-import native-cc-library native-cc-objc-import
  native-cc-objc-library native-cc-proto native-cc-test native-cc-toolchain
  native-cc-toolchain-suite native-proto native-py native-sh-binary
  native-sh-test
)
warnings="-$(IFS=,; echo "${disabled[*]}" | sed 's/,/,-/g')"

if ((fix)); then
  clang-format -i "${cpp[@]}"
  "$buildifier" -mode=fix "${starlark[@]}"
  black -q "${python[@]}"
fi

status=0
check() {
  local name=$1
  shift
  if "$@"; then
    echo "lint: $name ok"
  else
    echo "lint: $name FAILED (tools/lint.sh --fix fixes formatting)" >&2
    status=1
  fi
}
check "clang-format (${#cpp[@]} files)" \
  clang-format --dry-run -Werror "${cpp[@]}"
check "buildifier (${#starlark[@]} files)" \
  "$buildifier" -mode=check -lint=warn "-warnings=$warnings" "${starlark[@]}"
check "black (${#python[@]} files)" black --check -q "${python[@]}"
check "flake8" flake8 "${python[@]}"
exit "$status"
