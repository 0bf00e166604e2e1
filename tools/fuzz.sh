#!/usr/bin/env bash
# Builds the libFuzzer targets (//fuzz:*_libfuzzer: clang 14, ASan, LSan) in
# their own Bazel output base and runs each for a bounded number of
# executions, starting from its checked-in seed corpus. Prints each run's
# executions, speed and coverage (libFuzzer's, and the edges, functions and
# uncovered source lines of //streams and conformance/wire.cc it reached),
# then one summary line per target. Exits non-zero if any target crashes,
# leaks, times out, exceeds its memory limits, or breaks an invariant.
#
# Usage: tools/fuzz.sh [--long] [TARGET...]
#
#   TARGET    reader_fuzz, writer_fuzz, wire_fuzz (default: all three)
#   --long    run each target for FUZZ_SECONDS (default 600) seconds instead
#             of a fixed number of executions, keeping what it finds in its
#             work corpus between runs (see below)
#
# Environment:
#   FUZZ_OUTPUT_BASE  the Bazel output base of the clang build (default:
#                     ~/.cache/asyncio_streams_fuzz/<hash of this checkout>)
#   FUZZ_SECONDS      --long: seconds per target (default 600)
#   FUZZ_JOBS         targets run at once (default 2: the two cores)
#
# Each target works in $FUZZ_OUTPUT_BASE/work/<target>/: corpus/ (the seeds,
# then what libFuzzer adds; the bounded run starts it afresh, --long keeps
# it), log.txt, and any crash-*/leak-*/oom-*/timeout-* input, which replays
# with `bazel run //fuzz:<target> -- <file>` (add FUZZ_TRACE=1 to see each
# step). fuzz/README.md explains the targets, their invariants and figures.
set -euo pipefail
cd "$(dirname "$0")/.."
workspace=$(pwd)

long=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --long) long=1 ;;
    reader_fuzz | writer_fuzz | wire_fuzz) targets+=("$arg") ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "fuzz.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done
if ((${#targets[@]} == 0)); then
  targets=(reader_fuzz writer_fuzz wire_fuzz)
fi

# Bounded runs: executions per target. reader_fuzz is the one that matters
# most (and the slowest per input); the others reach their plateau sooner
# (writer_fuzz: cov 2064 after 100,000, 2067 after 150,000; wire_fuzz: 1486
# after 100,000, most of it in the first 20,000).
declare -A runs=([reader_fuzz]=200000 [writer_fuzz]=60000 [wire_fuzz]=50000)
# Inputs stay small: programs of a hundred operations already reach every
# corner (coverage after 60,000 reader executions: 2979 at 256 bytes, 2983
# at 512), and short inputs keep the executions per second up (+25%).
declare -A max_len=([reader_fuzz]=256 [writer_fuzz]=256 [wire_fuzz]=4096)
# wire_fuzz must never allocate more than 256 MB at once (DESIGN: a hostile
# request cannot cost gigabytes), and never use more than 512 MB in all.
declare -A extra=([reader_fuzz]="" [writer_fuzz]=""
  [wire_fuzz]="-malloc_limit_mb=256 -rss_limit_mb=512")

tools/setup.sh --ci
# Symbolized reports and -print_coverage need llvm-symbolizer.
if [[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

hash=$(printf '%s' "$workspace" | md5sum | cut -c1-12)
output_base=${FUZZ_OUTPUT_BASE:-${XDG_CACHE_HOME:-$HOME/.cache}/asyncio_streams_fuzz/$hash}
mkdir -p "$output_base"
bazel_fuzz=(bazel "--output_base=$output_base")
build_flags=(--config=fuzz)

labels=()
for target in "${targets[@]}"; do labels+=("//fuzz:${target}_libfuzzer"); done
echo "fuzz.sh: building ${labels[*]} (clang 14, ASan) in $output_base"
start=$(date +%s)
"${bazel_fuzz[@]}" build "${build_flags[@]}" "${labels[@]}"
bin=$("${bazel_fuzz[@]}" info "${build_flags[@]}" bazel-bin 2>/dev/null)
echo "fuzz.sh: built in $(($(date +%s) - start)) s"

# Runs one target; its log goes to work/<target>/log.txt.
run_target() {
  local target=$1 work="$output_base/work/$1"
  mkdir -p "$work"
  if ((!long)); then rm -rf "$work/corpus"; fi
  mkdir -p "$work/corpus"
  cp -n fuzz/corpus/"$target"/* "$work/corpus/"
  rm -f "$work"/crash-* "$work"/leak-* "$work"/oom-* "$work"/timeout-*
  local budget=(-runs="${runs[$target]}")
  if ((long)); then budget=(-max_total_time="${FUZZ_SECONDS:-600}"); fi
  # -entropic=0: libFuzzer's entropic scheduling spends half the time of
  # these short runs updating feature frequencies, for no more coverage.
  # quarantine_size_mb=16: ASan's default 256 MB quarantine of freed memory
  # makes every input touch fresh pages; 16 MB still catches the
  # use-after-frees of one input (each input allocates far less) at 2-3
  # times the speed.
  # shellcheck disable=SC2086 # extra holds several flags.
  (cd "$work" && ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=16 \
    "$bin/fuzz/${target}_libfuzzer" "${budget[@]}" \
    -max_len="${max_len[$target]}" -entropic=0 -timeout=20 \
    -print_final_stats=1 -print_coverage=1 -artifact_prefix="$work/" \
    ${extra[$target]} "$work/corpus" >"$work/log.txt" 2>&1)
}

# Sums -print_coverage=1 over the files of //streams (not its test doubles)
# and conformance/wire.cc: functions reached, edges covered, and the source
# lines libFuzzer reports uncovered inside reached functions.
coverage_summary() {
  awk '
    /^(COVERED|UNCOVERED)_FUNC:/ {
      where = $NF; sub(/:[0-9]+$/, "", where); sub(/^.*\/cwd\/(\.\/)?/, "", where)
      ours = (where ~ /^streams\// && where !~ /^streams\/testing\//) || where ~ /^conformance\/wire\.cc/
      if (!ours) { in_ours = 0; next }
      in_ours = 1
      split($5, e, "/"); edges += e[1]; all_edges += e[2]; funcs++
      if ($1 == "COVERED_FUNC:") covered_funcs++
      next
    }
    /^  UNCOVERED_PC:/ && in_ours {
      line = $2; sub(/^.*\/cwd\/(\.\/)?/, "", line)
      # Our lines only (not inlined library code); line 0 is compiler-made.
      if (line ~ /^(streams|conformance)\// && line !~ /:0$/) uncovered[line] = 1
    }
    END {
      n = 0; for (l in uncovered) n++
      printf "  ours (streams/, conformance/wire.cc): %d/%d functions reached, %d/%d edges; %d lines with an uncovered edge:\n", covered_funcs, funcs, edges, all_edges, n
      for (l in uncovered) print "    " l | "sort -V"
      close("sort -V")
    }' "$1"
}

status=0
declare -A pid_of
jobs=${FUZZ_JOBS:-2}
start=$(date +%s)
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  echo "fuzz.sh: running $target ($( ((long)) && echo "${FUZZ_SECONDS:-600} s" || echo "${runs[$target]} executions"))"
  run_target "$target" &
  pid_of[$target]=$!
done
declare -A rc
for target in "${targets[@]}"; do
  if wait "${pid_of[$target]}"; then rc[$target]=0; else rc[$target]=$?; fi
done
elapsed=$(($(date +%s) - start))

summary=()
for target in "${targets[@]}"; do
  work="$output_base/work/$target"
  log="$work/log.txt"
  echo
  echo "=== $target (exit ${rc[$target]}; log: $log)"
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|Done )' "$log" || true
  grep -E 'invariant violated|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY:' "$log" || true
  coverage_summary "$log"
  artifacts=$(ls "$work"/crash-* "$work"/leak-* "$work"/oom-* "$work"/timeout-* 2>/dev/null || true)
  if [[ -n "$artifacts" ]]; then echo "  saved inputs: $artifacts"; fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p' | tail -1)
  verdict=ok
  if ((rc[$target] != 0)) || [[ -n "$artifacts" ]]; then
    verdict=FAILED
    status=1
  fi
  summary+=("$(printf '%-12s %-6s %9s executions, %5s exec/s, %s' "$target" "$verdict" "${executions:-?}" "${speed:-?}" "${cov:-no final coverage line}")")
done
echo
echo "fuzz.sh: fuzzed for ${elapsed} s"
printf '%s\n' "${summary[@]}"
exit "$status"
