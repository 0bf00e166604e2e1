"""Makes Debian's python3-protobuf importable from CPython 3.11.7.

The reference runs on the machine's python3, CPython 3.11.7, which does not
search Debian's dist-packages folder, where python3-protobuf lives (only
Debian's own /usr/bin/python3, 3.11.2, does). Every entry point imports this
module before google.protobuf or a *_pb2 module:

    from conformance import bootstrap  # noqa: F401

Under Bazel the workspace root is on sys.path already. A script run from a
checkout (``python3 tools/record.py``) has only its own folder there, so it
puts the root first, in two lines of its own: it cannot import this module
before that.
"""

import sys

DIST_PACKAGES = "/usr/lib/python3/dist-packages"

try:
    import google.protobuf  # noqa: F401
except ImportError:
    if DIST_PACKAGES not in sys.path:
        sys.path.append(DIST_PACKAGES)
