"""The BUILD and .bzl files of this module, for the packaging tests.

A package's BUILD file is visible only where its package says, so rather
than exporting every BUILD file to these tests, they read the source tree
behind the runfiles symlink of MODULE.bazel (a declared input). Bazel cannot
see those reads, so the tests are tagged "external": Bazel runs them every
time instead of trusting a cached result.
"""

import os
import pathlib
from typing import Dict

# Folders of the source tree that are not part of this Bazel module.
_SKIP_DIRS = {".git", "build", "dist", "examples/bzlmod", "examples/consumer"}


def runfiles_root() -> pathlib.Path:
    """The main repository's runfiles folder (the test's working directory)."""
    return pathlib.Path.cwd()


def source_root() -> pathlib.Path:
    """The source tree, behind the symlink of the declared MODULE.bazel."""
    return (runfiles_root() / "MODULE.bazel").resolve().parent


def read(path: str) -> str:
    """A declared input, by its path from the repository root."""
    return (runfiles_root() / path).read_text()


def read_source(path: str) -> str:
    """A file of the source tree that Bazel cannot declare (.bazelignore'd)."""
    return (source_root() / path).read_text()


def build_files() -> Dict[str, str]:
    """Every BUILD and .bzl file of the source tree: path -> text."""
    root = source_root()
    found = {}
    for folder, dirs, files in os.walk(root):
        relative = pathlib.Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith("bazel-") and prefix + d not in _SKIP_DIRS
        ]
        for name in files:
            if name in ("BUILD", "BUILD.bazel") or name.endswith(".bzl"):
                found[prefix + name] = (
                    pathlib.Path(folder) / name
                ).read_text()
    return found
