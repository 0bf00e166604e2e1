"""Entry point of the conformance suite's Bazel targets.

  suite_main.py reference [harness args]     the corpus on CPython 3.11.7
  suite_main.py cpp [harness args]           the corpus on //streams
  suite_main.py report [harness args]        both, as a table by topic
  suite_main.py differential --seeds 1,2,3 [--count N] [--families F]
                                             random scenarios on both
  suite_main.py variants [--sample N] [--seed S] FILE_OR_DIR...
                                             variants of the corpus on both
                                             (conformance/variants_run.py)

Bazel runs it in the runfiles tree, where the corpus is `testdata`.
"""

import sys
from typing import List

from conformance import harness, suite, variants_run


def main(argv: List[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    mode, args = argv[0], argv[1:]
    if mode == "reference":
        return harness.main(
            [
                "--testee",
                suite.reference_command(),
                "--name=reference",
                "--is_reference",
            ]
            + args
        )
    if mode == "cpp":
        return harness.main(
            ["--testee", suite.cpp_command(), "--name=cpp"] + args
        )
    if mode == "report":
        return harness.main(
            [
                "--report",
                "--reference",
                suite.reference_command(),
                "--cpp",
                suite.cpp_command(),
            ]
            + args
        )
    if mode == "differential":
        seeds: List[str] = []
        options: List[str] = []
        for arg in args:
            if arg.startswith("--seeds="):
                seeds.extend(arg[len("--seeds=") :].split(","))
            else:
                options.append(arg)
        status = 0
        for seed in seeds:
            print(f"=== seed {seed}", flush=True)
            status |= harness.main(
                [
                    "--differential",
                    "--reference",
                    suite.reference_command(),
                    "--cpp",
                    suite.cpp_command(),
                    "--seed",
                    seed,
                ]
                + options
            )
        return status
    if mode == "variants":
        return variants_run.main(
            [
                "--reference",
                suite.reference_command(),
                "--cpp",
                suite.cpp_command(),
            ]
            + args
        )
    print(f"unknown mode {mode!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
