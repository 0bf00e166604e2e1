"""JUnit XML of a corpus run, so CI shows each scenario as a test case.

Under `bazel test`, Bazel names the file in XML_OUTPUT_FILE (one per shard)
and keeps what the test writes there instead of its one-case default.
The layout is what CI systems read: one <testsuite> per testee, one
<testcase> per scenario with classname = the topic (its file's base name),
and a <failure> carrying the same readable diff the log prints.
"""

import os
import xml.etree.ElementTree as ET
from typing import Iterable, List, Optional, Sequence

from conformance import results as res


def build(
    columns: Iterable[res.Column], problems: Sequence[str] = ()
) -> ET.Element:
    """<testsuites> with a <testsuite> per column.

    `problems` fail the run without being a scenario's (a failure list
    naming no scenario): they become one failing case, so a red run is
    never all green cases in CI.
    """
    root = ET.Element("testsuites")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for column in columns:
        suite = ET.SubElement(root, "testsuite", name=column.label)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        if problems:
            counts["tests"] += 1
            counts["failures"] += 1
            case = ET.SubElement(
                suite, "testcase", name="FailureList", classname="harness"
            )
            failure = ET.SubElement(case, "failure", message=problems[0])
            failure.text = "\n".join(problems)
        for name in sorted(column.results):
            result = column.results[name]
            counts["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                name=name,
                classname=result.entry.topic,
                file=str(result.entry.path),
            )
            if result.status == res.FAILED:
                counts["failures"] += 1
                failure = ET.SubElement(
                    case, "failure", message=result.outcome.summary
                )
                failure.text = result.diff
            elif result.status in (
                res.SKIPPED,
                res.EXPECTED_FAILURE,
                res.BEYOND,
            ):
                counts["skipped"] += 1
                skipped = ET.SubElement(
                    case,
                    "skipped",
                    message=f"{result.status}: {result.outcome.summary}",
                )
                skipped.text = result.diff
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    return root


def write(
    path: str, columns: List[res.Column], problems: Sequence[str] = ()
) -> None:
    tree = ET.ElementTree(build(columns, problems))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def write_for_bazel(
    columns: List[res.Column], problems: Sequence[str] = ()
) -> Optional[str]:
    """Writes to XML_OUTPUT_FILE when Bazel set it; returns the path."""
    path = os.environ.get("XML_OUTPUT_FILE")
    if path:
        write(path, columns, problems)
    return path
