#!/usr/bin/env bash
# Consumes the release archive as a Bazel 4.2.3 WORKSPACE user would: builds
# it (tools/release.sh), writes a consumer workspace in a fresh temporary
# directory (examples/consumer's BUILD.bazel, .bazelrc and read_lines.cc, with
# a WORKSPACE whose http_archive points at the archive by a file:// URL and
# pins its sha256), and runs `bazel run //:read_lines` there.
#
# Nothing is downloaded: the archive is a local file and asyncio_streams_deps()
# resolves every dependency from Debian packages. Bazel 4.2.3's http_archive
# has no `integrity` attribute, hence sha256. The temporary workspace has its
# own Bazel output base; both are removed at the end (--keep leaves them).
#
# Usage: tools/consume_release.sh [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    *)
      echo "consume_release: unknown argument '$arg' (usage: tools/consume_release.sh [--keep])" >&2
      exit 2
      ;;
  esac
done

start=$SECONDS
dist=$(mktemp -d)
release=$(tools/release.sh --out "$dist")
echo "$release"
archive=$(sed -n 's/^archive: //p' <<<"$release")
prefix=$(sed -n 's/^prefix: //p' <<<"$release")
sha256=$(sed -n 's/^sha256: //p' <<<"$release")

workspace=$(mktemp -d)
cleanup() {
  if ((keep)); then
    echo "consume_release: kept $workspace and $dist"
    return
  fi
  # One output base per temporary workspace: expunge it, or each run would
  # leave hundreds of MB under ~/.cache/bazel.
  (cd "$workspace" && bazel clean --expunge >/dev/null 2>&1) || true
  rm -rf "$workspace" "$dist"
}
trap cleanup EXIT

cp examples/consumer/BUILD.bazel examples/consumer/.bazelrc examples/consumer/read_lines.cc "$workspace/"
cat >"$workspace/WORKSPACE" <<WORKSPACE
# Written by asyncio_streams' tools/consume_release.sh: examples/consumer's
# WORKSPACE with the release archive in place of local_repository.
workspace(name = "consumer")

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

http_archive(
    name = "asyncio_streams",
    sha256 = "$sha256",
    strip_prefix = "$prefix",
    urls = ["file://$archive"],
)

load("@asyncio_streams//third_party:deps.bzl", "asyncio_streams_deps")

asyncio_streams_deps()
WORKSPACE
echo "--- $workspace/WORKSPACE"
cat "$workspace/WORKSPACE"

echo "--- bazel run //:read_lines (consumer of $(basename "$archive"))"
(cd "$workspace" && bazel run //:read_lines)
echo "consume_release: OK in $((SECONDS - start)) s (from ${repo})"
