#!/usr/bin/env bash
# The corpus's mutation check: each patch under conformance/mutants/ breaks
# the C++ library (or its testee) on purpose, as a port could get a behaviour
# wrong; the corpus must notice. For each patch:
#   1. apply it to the work tree (git apply);
#   2. run the corpus on the C++ testee (bazel run //conformance:cpp_test:
#      the whole corpus, unsharded);
#   3. revert the patch (also on failure or interrupt);
#   4. print the scenarios that kill the mutant (fail on it), or SURVIVED.
# Ends with "mutants: N killed, M survived"; exits 1 if one survived or did
# not build (a mutant that does not compile proves nothing).
#
# Usage: tools/mutants.sh [conformance/mutants/NAME.patch ...]  (default: all)
# The files a patch touches must be unmodified. Not part of CI: each mutant
# rebuilds the library and the testee (about a minute each, warm).
set -uo pipefail
cd "$(dirname "$0")/.."

patches=("$@")
if ((${#patches[@]} == 0)); then
  patches=(conformance/mutants/*.patch)
fi

applied=""
revert() {
  if [[ -n $applied ]]; then
    git apply -R "$applied"
    applied=""
  fi
}
trap revert EXIT
trap 'revert; exit 130' INT TERM

killed=0
survived=0
broken=0
log=$(mktemp)
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  if ! git apply --check "$patch" 2>/dev/null; then
    echo "mutants: $name: does not apply to this tree"
    broken=$((broken + 1))
    continue
  fi
  git apply "$patch"
  applied=$patch
  bazel run --test_sharding_strategy=disabled //conformance:cpp_test \
    >"$log" 2>&1
  revert
  if grep -qE '^(ERROR: .* failed|FAILED: Build did NOT complete)' "$log"; then
    echo "mutants: $name: does not build"
    grep -m3 'error:' "$log"
    broken=$((broken + 1))
    continue
  fi
  mapfile -t killers < <(grep -oE '^FAILED [^ ]+' "$log" | cut -d' ' -f2)
  if ((${#killers[@]} > 0)); then
    killed=$((killed + 1))
    echo "mutants: $name: killed by ${#killers[@]}: ${killers[*]:0:8}$(
      ((${#killers[@]} > 8)) && echo " ...")"
  else
    survived=$((survived + 1))
    echo "mutants: $name: SURVIVED ($(grep -E '^[0-9]+ passed' "$log"))"
  fi
done
rm -f "$log"
echo "mutants: ${killed} killed, ${survived} survived, ${broken} broken"
((survived == 0 && broken == 0))
