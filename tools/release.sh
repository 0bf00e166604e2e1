#!/usr/bin/env bash
# Builds the source release archive of the committed tree with `git archive`:
#   dist/asyncio_streams-<VERSION>.tar.gz, every file under
#   asyncio_streams-<VERSION>/ (what http_archive's strip_prefix and BCR's
#   source.json expect), nothing untracked (no bazel-* outputs), no .git.
# Then prints its path, its sha256 (Bazel 4's http_archive) and its SRI
# integrity string (Bazel 7's http_archive, BCR's source.json).
#
# Usage: tools/release.sh [--ref REF] [--out DIR]   (REF: HEAD; DIR: dist)
#
# The archive holds REF's commit, not uncommitted edits (a warning says when
# there are some). git's own gzip writes no timestamp and the tar entries
# carry the commit's time, so the same commit gives the same sha256 each run.
set -euo pipefail
cd "$(dirname "$0")/.."

ref=HEAD
out=dist
while (($#)); do
  case "$1" in
    --ref) ref=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *)
      echo "release: unknown argument '$1' (usage: tools/release.sh [--ref REF] [--out DIR])" >&2
      exit 2
      ;;
  esac
done

version=$(git show "$ref:VERSION" | tr -d '[:space:]')
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "release: VERSION at $ref is '$version', not MAJOR.MINOR.PATCH" >&2
  exit 1
fi
# version_test checks this too; failing here keeps a bad archive from existing.
if ! git show "$ref:streams/version.h" | grep -q "kVersion = \"$version\";"; then
  echo "release: streams/version.h at $ref does not say kVersion = \"$version\"" >&2
  exit 1
fi
if [[ "$ref" == HEAD && -n "$(git status --porcelain --untracked-files=no)" ]]; then
  echo "release: warning: uncommitted changes are not in the archive" >&2
fi

mkdir -p "$out"
archive="$out/asyncio_streams-$version.tar.gz"
git archive --format=tar.gz --prefix="asyncio_streams-$version/" -o "$archive" "$ref"

sha256=$(sha256sum "$archive" | cut -d' ' -f1)
integrity="sha256-$(openssl dgst -sha256 -binary "$archive" | base64 -w0)"
echo "archive: $(realpath "$archive")"
echo "prefix: asyncio_streams-$version"
echo "sha256: $sha256"
echo "integrity: $integrity"
