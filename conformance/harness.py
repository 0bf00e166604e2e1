#!/usr/bin/env python3
"""The conformance harness: runs scenario files through testees.

Run the corpus through one testee and compare with the expectations:

  python3 conformance/harness.py \
      --testee "python3 conformance/reference_testee.py" \
      [--failure_list conformance/failure_list_cpp.txt] [--filter REGEX] \
      testdata/

Compare both testees scenario by scenario, as a table by topic:

  python3 conformance/harness.py --report --reference "CMD" --cpp "CMD" \
      [--html DIR] [--extra_reference PYTHON|auto] testdata/

(conformance/report.py; --html writes a page per scenario, and each
--extra_reference adds an informational column: the reference testee on
another CPython.)

Run random scenarios through both testees and compare their traces:

  python3 conformance/harness.py --differential --reference "CMD" --cpp "CMD" \
      --seed 1 --count 2000 [--families reader,protocol,writer]

or the scenarios of files (expectations ignored; fuzz/differential.py writes
such files from fuzzer inputs):

  python3 conformance/harness.py --differential --reference "CMD" --cpp "CMD" \
      FILE_OR_DIR...

Every mode ends with a line `N passed, M failed`. Under Bazel, the scenarios
are sharded by TEST_TOTAL_SHARDS / TEST_SHARD_INDEX (index in name order),
and a corpus run writes JUnit XML to XML_OUTPUT_FILE (conformance/junit.py).

This file is the command line only; each mode lives in its own module:
judge.py (outcomes), selection.py (loading, filtering, sharding),
corpus_run.py, report.py, differential.py, shrink.py and trace_stats.py.
"""

import argparse
import pathlib
import re
import sys
from typing import Optional, Sequence

# Run as a script (fuzz/differential.py does), only this folder is on
# sys.path: put the root there so that conformance.bootstrap can be imported.
_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from conformance import bootstrap  # noqa: E402,F401  (Debian's protobuf)
from conformance import corpus, generator  # noqa: E402
from conformance.corpus_run import run_corpus  # noqa: E402
from conformance.differential import run_differential  # noqa: E402
from conformance.testee import TesteeError  # noqa: E402

# -- Command line ------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="FILE_OR_DIR",
        help="scenario files (.textproto) or directories",
    )
    parser.add_argument("--testee", help="testee command line")
    parser.add_argument(
        "--name",
        default="testee",
        help="the testee's name in logs and JUnit XML (%(default)s)",
    )
    parser.add_argument(
        "--is_reference",
        action="store_true",
        help="the testee is the CPython 3.11.7 reference: scenarios marked "
        "beyond_reference must be skipped by it, and are counted apart",
    )
    parser.add_argument(
        "--failure_list",
        metavar="FILE",
        help="scenarios expected to fail, one a line",
    )
    parser.add_argument(
        "--filter",
        metavar="REGEX",
        help="run the scenarios whose name matches",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="table of both testees' results by topic",
    )
    parser.add_argument(
        "--differential",
        action="store_true",
        help="random scenarios through both testees",
    )
    parser.add_argument(
        "--reference", metavar="CMD", help="reference testee command line"
    )
    parser.add_argument("--cpp", metavar="CMD", help="C++ testee command line")
    parser.add_argument(
        "--html",
        metavar="DIR",
        help="report: also write index.html and a page per scenario",
    )
    parser.add_argument(
        "--extra_reference",
        action="append",
        metavar="PYTHON",
        help="report: run the reference testee on another CPython too, "
        "as an informational column ('auto': those in /usr/bin, "
        "/usr/local/bin)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument(
        "--max_shrunk",
        type=int,
        default=5,
        help="differential: shrink at most this many "
        "differences (default %(default)s)",
    )
    parser.add_argument(
        "--families",
        metavar="LIST",
        help="generator families, comma-separated "
        f"({','.join(generator.FAMILIES)})",
    )
    args = parser.parse_args(argv)
    if args.report or args.differential:
        if not (args.reference and args.cpp):
            parser.error(
                "--report and --differential need --reference " "and --cpp"
            )
    elif not args.testee:
        parser.error("--testee is required")
    if not args.differential and not args.paths:
        parser.error("give scenario files or directories")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if args.differential:
            return run_differential(args)
        if args.report:
            from conformance import report

            return report.run_report(args)
        return run_corpus(args)
    except (corpus.CorpusError, TesteeError, re.error, OSError) as exc:
        print(f"harness: {exc}", file=sys.stderr)
        print("0 passed, 0 failed (the run did not complete)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
