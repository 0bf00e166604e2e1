"""CMakeLists.txt builds the libraries from the BUILD files' source lists.

Fails when a .cc file of a cc_library in streams/, streams/internal/
(CMake's asyncio_streams::core), streams/net/ but //streams/net:tls, and
streams/net/internal/ (asyncio_streams::net), or of //streams/net:tls
(asyncio_streams::tls) is in one build description and not the other, and
when a cc_test of streams/ or streams/internal/ is not a CTest test in
cmake/tests.cmake. Both files are read as text; nothing is built here
(tools/cmake_build.sh builds and runs the CMake side).
"""

import ast
import re
import unittest
from typing import List, Set

import build_files

# CMake source list -> (Bazel package, the cc_library names it takes: None
# for all, or a predicate) pairs whose srcs it holds.
_LISTS = {
    "ASYNCIO_STREAMS_CORE_SOURCES": [
        ("streams", None),
        ("streams/internal", None),
    ],
    "ASYNCIO_STREAMS_NET_SOURCES": [
        ("streams/net", lambda name: name != "tls"),
        ("streams/net/internal", None),
    ],
    "ASYNCIO_STREAMS_TLS_SOURCES": [
        ("streams/net", lambda name: name == "tls")
    ],
}
_TESTED_PACKAGES = ["streams", "streams/internal"]


def _srcs(package: str, rule: str, take=None) -> Set[str]:
    """The .cc files of every `rule` in `package` whose name `take` accepts
    (all when None), relative to the root."""
    text = build_files.build_files()[f"{package}/BUILD.bazel"]
    found = set()
    for node in ast.walk(ast.parse(text, f"{package}/BUILD.bazel")):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == rule
        ):
            names = [
                ast.literal_eval(k.value)
                for k in node.keywords
                if k.arg == "name"
            ]
            if take is not None and not (names and take(names[0])):
                continue
            for keyword in node.keywords:
                if keyword.arg == "srcs":
                    for src in ast.literal_eval(keyword.value):
                        if src.endswith(".cc"):
                            found.add(f"{package}/{src}")
    return found


def _cmake_list(text: str, variable: str) -> Set[str]:
    match = re.search(r"set\(\s*%s\s+([^)]*)\)" % variable, text)
    if not match:
        raise AssertionError(f"CMakeLists.txt does not set({variable} ...)")
    return {
        word for word in match.group(1).split() if not word.startswith("#")
    }


class CmakeSourcesTest(unittest.TestCase):
    def test_library_sources_match(self) -> None:
        cmake = build_files.read("CMakeLists.txt")
        for variable, packages in _LISTS.items():
            with self.subTest(list=variable):
                bazel: Set[str] = set()
                for package, take in packages:
                    bazel |= _srcs(package, "cc_library", take)
                listed = _cmake_list(cmake, variable)
                self.assertTrue(
                    bazel, "no cc_library sources found: is the parser stale?"
                )
                self.assertEqual(
                    sorted(bazel - listed),
                    [],
                    f"in BUILD files, not in CMakeLists.txt's {variable}",
                )
                self.assertEqual(
                    sorted(listed - bazel),
                    [],
                    f"in CMakeLists.txt's {variable}, not in BUILD files",
                )

    def test_unit_tests_are_ctest_tests(self) -> None:
        tests = build_files.read("cmake/tests.cmake")
        listed = set(
            re.findall(r"^\s*(streams/\S+_test\.cc)", tests, re.MULTILINE)
        )
        wanted: List[str] = []
        for package in _TESTED_PACKAGES:
            wanted.extend(_srcs(package, "cc_test"))
        self.assertTrue(wanted)
        self.assertEqual(
            sorted(set(wanted) - listed),
            [],
            "cc_test not registered in cmake/tests.cmake",
        )
        for test in listed:
            self.assertIn(
                test.rsplit("/", 1)[0],
                _TESTED_PACKAGES + ["streams/net"],
                test,
            )


if __name__ == "__main__":
    unittest.main()
