"""Puts the repository root (and Debian's protobuf, if needed) on sys.path."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
try:
    import google.protobuf  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
