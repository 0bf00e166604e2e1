"""Puts the repository root, then Debian's protobuf, on sys.path.

The tests import it first (`import _path`) as their sibling: that works
before the root is on sys.path; conformance.bootstrap does the rest.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conformance import bootstrap  # noqa: E402,F401
