#!/bin/sh
# Stands in for the interpreter when no CPython %{WANTED} was found, so that
# C++ targets still build and Python targets fail with this message.
echo "asyncio_streams: no CPython %{WANTED} found (looked at: %{LOOKED})." >&2
echo "The reference runner must run on CPython %{WANTED} exactly: put it on" >&2
echo "PATH as python3, or set ASYNCIO_STREAMS_PYTHON to its path, then run" >&2
echo "'bazel sync --configure' (or 'bazel clean --expunge')." >&2
exit 1
