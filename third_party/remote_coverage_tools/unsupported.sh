#!/bin/sh
echo "asyncio_streams: 'bazel coverage' needs Bazel's remote coverage tools," \
  "which are not available offline." >&2
exit 1
