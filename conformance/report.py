"""The report mode: every scenario on both testees, as a table by topic.

Also, on request, the same results as HTML (html_report.py) and the
informational columns: other CPython interpreters found on the machine
(Debian's 3.11.2, whose streams differ) running the reference testee. Their
differences from CPython 3.11.7 are listed, never counted as failures.
"""

import argparse
import collections
import glob
import os
import pathlib
import re
import shlex
import subprocess
import sys
from typing import Any, Dict, List, Optional, Sequence

from conformance import corpus, html_report, selection
from conformance.judge import judge
from conformance import results as res
from conformance.testee import Testee, TesteeError

_REFERENCE_TESTEE = (
    pathlib.Path(os.path.abspath(__file__)).parent / "reference_testee.py"
)
_THIS_VERSION = ".".join(str(part) for part in sys.version_info[:3])
# Where `--extra_reference auto` looks for other interpreters.
_AUTO_GLOBS = ("/usr/bin/python3*", "/usr/local/bin/python3*")


def python_version(python: str) -> Optional[str]:
    """The version of a CPython interpreter (e.g. 3.11.2); None if it fails."""
    try:
        done = subprocess.run(
            [
                python,
                "-c",
                "import sys; print(*sys.version_info[:3], sep='.')",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def detect_pythons(skip_version: str) -> List[str]:
    """Other CPython 3 interpreters on the machine, one per version."""
    found: Dict[str, str] = {}
    for pattern in _AUTO_GLOBS:
        for path in sorted(glob.glob(pattern)):
            if not re.fullmatch(r"python3(\.\d+)?", os.path.basename(path)):
                continue
            version = python_version(path)
            if version and version != skip_version:
                found.setdefault(version, path)
    return list(found.values())


def _run_column(
    label: str,
    command: str,
    chosen: Sequence[corpus.Entry],
    informational: bool,
    reference: bool = False,
) -> res.Column:
    column = res.Column(label, {}, informational)
    try:
        with Testee(command, label=label, echo_stderr=not informational) as t:
            for entry in chosen:
                response = t.run(entry.scenario)
                outcome = judge(entry, response, reference)
                kind = response.WhichOneof("result")
                if outcome.passed:
                    status = res.PASSED
                elif outcome.beyond:
                    status = res.BEYOND
                elif informational and kind != "trace":
                    # It cannot run this one (a feature 3.11.7 added, or
                    # an asyncio internal it lacks): skipped, with why.
                    status = res.SKIPPED
                    outcome = res.Outcome(
                        False, _why_not(response), outcome.details
                    )
                else:
                    status = res.FAILED
                column.results[entry.name] = res.Result(
                    entry, status, outcome, response
                )
    except TesteeError as exc:
        if not informational:
            raise
        # A dead informational testee skips the rest; the run goes on.
        reason = str(exc).splitlines()[0]
        for entry in chosen:
            if entry.name not in column.results:
                outcome = res.Outcome(False, reason, ["  " + reason])
                column.results[entry.name] = res.Result(
                    entry, res.SKIPPED, outcome
                )
    return column


def _why_not(response: Any) -> str:
    """One line: why a testee did not run a scenario."""
    if response.WhichOneof("result") == "skipped":
        return response.skipped
    lines = [line for line in response.runtime_error.splitlines() if line]
    return lines[-1] if lines else "no trace"


def _columns(
    args: argparse.Namespace, chosen: Sequence[corpus.Entry]
) -> List[res.Column]:
    columns = [
        _run_column("reference", args.reference, chosen, False, True),
        _run_column("C++", args.cpp, chosen, False),
    ]
    columns[0].detail = f"CPython {_THIS_VERSION}"
    columns[1].detail = "//streams (cpp_testee)"

    pythons: List[str] = []
    for extra in args.extra_reference or []:
        if extra == "auto":
            found = detect_pythons(_THIS_VERSION)
            if not found:
                print(
                    "informational: no other CPython 3 in "
                    + ", ".join(_AUTO_GLOBS)
                )
            pythons.extend(found)
        else:
            pythons.append(extra)
    for python in pythons:
        version = python_version(python) or "unknown version"
        command = (
            f"{shlex.quote(python)} {shlex.quote(str(_REFERENCE_TESTEE))} "
            "--any_version"
        )
        label = f"CPython {version}"
        columns.append(_run_column(label, command, chosen, True))
        columns[-1].detail = python
    return columns


def _print_table(
    chosen: Sequence[corpus.Entry], columns: Sequence[res.Column]
) -> None:
    by_topic: Dict[str, List[int]] = collections.OrderedDict()
    # Scenarios marked beyond_reference have their own row, after the
    # total: on the reference, "pass" there means skipped as it must be.
    beyond = [0] * (len(columns) + 1)
    for entry in chosen:
        if entry.scenario.HasField("beyond_reference"):
            row = beyond
        else:
            row = by_topic.setdefault(entry.topic, [0] * (len(columns) + 1))
        row[0] += 1
        for number, column in enumerate(columns, 1):
            status = column.results[entry.name].status
            if status in (res.PASSED, res.BEYOND):
                row[number] += 1
    rows = [(topic, *counts) for topic, counts in sorted(by_topic.items())]
    total = (
        "total",
        *(sum(row[i] for row in rows) for i in range(1, len(columns) + 2)),
    )
    extra = [("beyond CPython 3.11.7", *beyond)] if beyond[0] else []
    headers = ["topic", "scenarios", "pass on reference", "pass on C++"]
    headers += [f"{column.label} (info)" for column in columns[2:]]
    width = max(
        [len(headers[0])] + [len(row[0]) for row in rows + [total] + extra]
    )
    widths = [width, 9, 17, 11] + [len(h) for h in headers[4:]]

    def line(cells: Sequence[object]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        rest = (f"{cell:>{w}}" for cell, w in zip(cells[1:], widths[1:]))
        return "  ".join([first, *rest])

    print(line(headers))
    for row in rows + [total]:
        if row is total:
            print("-" * (sum(widths) + 2 * len(widths)))
        print(line(row))
    for row in extra:
        print(line(row))


def run_report(args: argparse.Namespace) -> int:
    entries = selection.load(args.paths)
    chosen = selection.select(entries, args.filter)
    columns = _columns(args, chosen)
    listed = set(
        selection.read_failure_list(args.failure_list)
        if args.failure_list
        else []
    )
    problems = []
    if len(columns) > 1:
        # The C++ column: a listed failure is expected; a listed pass is not.
        for name, result in columns[1].results.items():
            if name not in listed:
                continue
            if result.status == res.FAILED:
                result.status = res.EXPECTED_FAILURE
            elif result.status == res.PASSED:
                problems.append(
                    f"  failure list: {name} now passes: remove it"
                )
    _print_table(chosen, columns)
    failures = problems + [
        f"  {column.label}: {entry.name}: {result.outcome.summary}"
        for column in columns[:2]
        for entry in chosen
        for result in [column.results[entry.name]]
        if result.status not in (res.PASSED, res.BEYOND, res.EXPECTED_FAILURE)
    ]
    if failures:
        print("\nfailures:")
        print("\n".join(failures))
    for column in columns[2:]:
        _print_informational(chosen, column)
    if args.html:
        path = html_report.write(html_directory(args.html), chosen, columns)
        print(f"HTML report: {path}")
    passed = sum(
        result.status == res.PASSED
        for column in columns[:2]
        for result in column.results.values()
    )
    failed = len(failures)
    print(f"{passed} passed, {failed} failed")
    return 0 if (not failed and chosen) else 1


def _print_informational(
    chosen: Sequence[corpus.Entry], column: res.Column
) -> None:
    lines = []
    for entry in chosen:
        result = column.results[entry.name]
        if result.status != res.PASSED:
            word = "skipped" if result.status == res.SKIPPED else "differs"
            lines.append(f"  {entry.name}: {word}: {result.outcome.summary}")
    print(
        f"\ninformational: {column.label} differs from the reference on "
        f"{len(lines)} of {len(chosen)} scenarios (not counted)"
        + (":" if lines else "")
    )
    if lines:
        print("\n".join(lines))


def html_directory(name: str) -> pathlib.Path:
    """DIR as the user meant it: `bazel run` resolves it in the checkout."""
    base = os.environ.get("BUILD_WORKSPACE_DIRECTORY", os.getcwd())
    return pathlib.Path(base, name)
