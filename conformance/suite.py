"""Where the testees, the corpus and the user's files are.

The same code runs from a checkout (python3 conformance/harness.py ...) and
under Bazel (bazel test //conformance/..., bazel run //tools:record). Under
Bazel the working directory is the runfiles tree, the interpreter is the
registered CPython 3.11.7, and BUILD_WORKING_DIRECTORY is where the user
typed the command.
"""

import os
import pathlib
import shlex
import sys
from typing import List, Sequence

# The repository root: the runfiles tree under Bazel (do not resolve symlinks:
# that would leave it for the source tree).
ROOT = pathlib.Path(os.path.abspath(__file__)).parent.parent


def reference_command() -> str:
    """The reference testee, on this very interpreter (CPython 3.11.7)."""
    testee = ROOT / "conformance" / "reference_testee.py"
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(testee))}"


def cpp_command() -> str:
    """The C++ testee: beside this file under Bazel, else in bazel-bin/."""
    for candidate in (
        ROOT / "conformance" / "cpp_testee",
        ROOT / "bazel-bin" / "conformance" / "cpp_testee",
    ):
        if candidate.exists():
            return shlex.quote(str(candidate))
    raise SystemExit(
        "cpp_testee not found: run it with "
        "`bazel test //conformance:cpp_test`, or "
        "`bazel build //conformance:cpp_testee` first."
    )


def user_paths(paths: Sequence[str]) -> List[str]:
    """Paths as the user typed them, made absolute from where they typed."""
    base = os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())
    return [os.path.join(base, path) for path in paths]
