#!/usr/bin/env python3
"""Records the reference testee's observations into scenario files.

Usage:
  python3 tools/record.py FILE_OR_DIR... [--testee "CMD"] [--dry_run]

For each scenario, runs it through the reference testee (CPython 3.11.7's
asyncio) and writes what it observed into each step's `expect { ... }` block,
in the file text: an existing expect block is replaced, a missing one is
inserted at the end of its step. Comments, order and the formatting of
everything else are kept. An expect block that already says exactly what the
reference observes is left untouched, byte for byte.

Scenarios with `hand_written: true` are never rewritten: the tool only reports
whether the reference agrees with them.

A recorded expectation holds everything the harness always compares
(completed, pending, transport_calls, error, returned, and schema v2's
per-action results, `actions`) and the reader's state: `buffer` when it is at
most 64 bytes long, else `buffer_size`; at_eof, exception_set (with exception
when set) and paused; an `observe` action's state the same way, with
writer_closing. A reader that fails to construct is recorded as the
scenario's `expect_construction_error` (one line, before its closing brace).

A scenario marked beyond_reference that the reference skips as it must is
counted apart and left alone: its expectations are written by hand.
"""

import argparse
import dataclasses
import pathlib
import sys
from typing import List, Optional, Tuple

# Run from a checkout, only this script's folder is on sys.path: put the
# root there so that conformance.bootstrap can be imported.
_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from conformance import bootstrap  # noqa: E402,F401  (Debian's protobuf)

from google.protobuf import text_format  # noqa: E402

from conformance import compare, corpus, pretty, suite, textproto  # noqa: E402
from conformance import scenario_pb2 as pb  # noqa: E402
from conformance.testee import Testee, TesteeError  # noqa: E402

DEFAULT_TESTEE = suite.reference_command()
WIDTH = 100

Edit = Tuple[int, int, str]  # Replace text[start:end] with the string.


class RecordError(Exception):
    """A file the tool cannot rewrite safely."""


@dataclasses.dataclass
class Summary:
    recorded: int = 0
    unchanged: int = 0
    agree: int = 0
    disagree: int = 0
    not_run: int = 0  # Skipped by the testee, or it failed.
    beyond: int = 0  # Marked beyond_reference, skipped by the reference.

    def line(self, path: pathlib.Path) -> str:
        text = (
            f"{path}: {self.recorded} recorded, {self.unchanged} "
            f"unchanged, {self.agree} hand-written agree, "
            f"{self.disagree} hand-written DISAGREE"
        )
        if self.not_run:
            text += f", {self.not_run} NOT RUN"
        if self.beyond:
            text += f", {self.beyond} beyond the reference (not recorded)"
        return text


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end == -1 else end


def _indent_of_line(text: str, offset: int) -> int:
    start = _line_start(text, offset)
    line = text[start : _line_end(text, offset)]
    return len(line) - len(line.lstrip(" "))


def _starts_line(text: str, offset: int) -> bool:
    return not text[_line_start(text, offset) : offset].strip()


def expect_edit(
    text: str,
    step: textproto.Node,
    expect: pb.Observation,
    width: int = WIDTH,
) -> Edit:
    """The edit that makes `step`'s expect block say `expect`."""
    assert step.open is not None and step.close is not None
    old = step.find("expect")
    if len(old) > 1:
        raise RecordError(f"line {step.line}: several expect blocks")
    others = [child for child in step.children if child.name != "expect"]
    single_line = "\n" not in text[step.open : step.close]
    if old:
        node = old[0]
        column = node.start - _line_start(text, node.start)
        trailing = len(text[node.end : _line_end(text, node.end)].rstrip())
        one = textproto.format_field("expect", expect, column, width, trailing)
        if not single_line or "\n" not in one:
            indent = _indent_of_line(text, node.start)
            return (
                node.start,
                node.end,
                textproto.format_field(
                    "expect", expect, column, width, trailing, indent
                ),
            )
    elif single_line:
        at = others[-1].end if others else step.open + 1
        column = at - _line_start(text, at) + 1
        trailing = len(text[at : _line_end(text, at)].rstrip())
        one = textproto.format_field("expect", expect, column, width, trailing)
        if "\n" not in one:
            return (at, at, " " + one)
    else:
        step_indent = _indent_of_line(text, step.start)
        indent = step_indent + 2
        for child in step.children:
            if _starts_line(text, child.start):
                indent = child.start - _line_start(text, child.start)
                break
        block = textproto.format_field("expect", expect, indent, width)
        if _starts_line(text, step.close):
            at = _line_start(text, step.close)
            return (at, at, " " * indent + block + "\n")
        at = step.close
        while text[at - 1] in " \t":
            at -= 1
        return (
            at,
            step.close,
            "\n" + " " * indent + block + "\n" + " " * step_indent,
        )
    # A one-line step whose expectation does not fit on its line: one child
    # per line, then the expect block.
    step_indent = _indent_of_line(text, step.start)
    inner = " " * (step_indent + 2)
    lines = [inner + text[child.start : child.end] for child in others]
    lines.append(
        inner
        + textproto.format_field("expect", expect, step_indent + 2, width)
    )
    return (
        step.open + 1,
        step.close,
        "\n" + "\n".join(lines) + "\n" + " " * step_indent,
    )


def apply_edits(text: str, edits: List[Edit]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _report_disagreement(scenario: pb.Scenario, trace: pb.StepTrace) -> None:
    print(f"  hand-written {scenario.name} DISAGREES with the reference:")
    for number, (step, observed) in enumerate(
        zip(scenario.steps, trace.steps), start=1
    ):
        for diff in compare.diff_expectation(step.expect, observed):
            print(
                f"    step {number}: {diff.field}: expected "
                f"{pretty.show_value(diff.field, diff.expected)}, reference "
                f"{pretty.show_value(diff.field, diff.observed)}"
            )


def construction_edit(
    text: str, node: textproto.Node, expected: pb.Error
) -> Optional[Edit]:
    """The edit that makes a scenario's expect_construction_error say
    `expected` (None: no edit needed or possible)."""
    assert node.close is not None
    old = node.find("expect_construction_error")
    line = textproto.one_line(pb.Scenario(expect_construction_error=expected))
    if old:
        return (old[0].start, old[0].end, line)
    indent = _indent_of_line(text, node.start) + 2
    at = _line_start(text, node.close)
    if not _starts_line(text, node.close):
        return (node.close, node.close, " " + line + " ")
    return (at, at, " " * indent + line + "\n")


def _trace_of(testee: Testee, scenario: pb.Scenario) -> Optional[pb.StepTrace]:
    response = testee.run(scenario)
    kind = response.WhichOneof("result")
    if kind == "trace" and response.trace.HasField("construction_error"):
        return response.trace
    if kind == "trace":
        if len(response.trace.steps) != len(scenario.steps):
            print(
                f"  {scenario.name}: the testee returned "
                f"{len(response.trace.steps)} observations for "
                f"{len(scenario.steps)} steps"
            )
            return None
        return response.trace
    detail = getattr(response, kind) if kind else "(empty response)"
    print(
        f"  {scenario.name}: not recorded, the testee says {kind}: "
        f"{detail}"
    )
    return None


def record_text(
    text: str, testee: Testee, width: int = WIDTH
) -> Tuple[str, Summary]:
    """Records every scenario of one file's text; returns the new text."""
    message = text_format.Parse(text, pb.ScenarioFile())
    nodes = [node for node in textproto.parse(text) if node.name == "scenario"]
    if len(nodes) != len(message.scenario):
        raise RecordError("cannot match the scenario blocks in the text")
    summary = Summary()
    edits: List[Edit] = []
    for scenario, node in zip(message.scenario, nodes):
        steps = node.find("steps")
        if len(steps) != len(scenario.steps) or not node.is_message:
            raise RecordError(
                f"line {node.line}: cannot match the steps "
                f"of {scenario.name}"
            )
        if scenario.HasField("beyond_reference"):
            response = testee.run(scenario)
            if response.WhichOneof("result") == "skipped":
                summary.beyond += 1
                continue
        trace = _trace_of(testee, scenario)
        if trace is None:
            summary.not_run += 1
            continue
        constructed = compare.error_matches(
            compare.field_value(scenario, "expect_construction_error"),
            compare.field_value(trace, "construction_error"),
        )
        if scenario.hand_written:
            if constructed and all(
                not compare.diff_expectation(step.expect, observed)
                for step, observed in zip(scenario.steps, trace.steps)
            ):
                summary.agree += 1
            else:
                summary.disagree += 1
                _report_disagreement(scenario, trace)
            continue
        changed = False
        if trace.HasField("construction_error"):
            if scenario.expect_construction_error != trace.construction_error:
                edit = construction_edit(text, node, trace.construction_error)
                if edit is not None:
                    edits.append(edit)
                    changed = True
        for step, step_node, observed in zip(
            scenario.steps, steps, trace.steps
        ):
            expect = compare.recorded_expectation(observed)
            if step.HasField("expect") and step.expect == expect:
                continue
            changed = True
            edits.append(expect_edit(text, step_node, expect, width))
        if changed:
            summary.recorded += 1
        else:
            summary.unchanged += 1
    return apply_edits(text, edits), summary


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    parser.add_argument(
        "--testee",
        default=DEFAULT_TESTEE,
        help="reference testee command line " "(default: %(default)s)",
    )
    parser.add_argument(
        "--dry_run",
        action="store_true",
        help="report what would change, write nothing",
    )
    args = parser.parse_args(argv)
    try:
        files = corpus.find_files(suite.user_paths(args.paths))
    except corpus.CorpusError as exc:
        print(exc, file=sys.stderr)
        return 1
    problems = 0
    with Testee(args.testee, label="reference") as testee:
        for path in files:
            try:
                corpus.parse_file(path)  # A readable file:line message.
                text = path.read_text(encoding="utf-8")
                new_text, summary = record_text(text, testee)
            except (
                corpus.CorpusError,
                RecordError,
                textproto.TextprotoError,
            ) as exc:
                print(f"{path}: not recorded: {exc}")
                problems += 1
                continue
            except TesteeError as exc:
                print(exc, file=sys.stderr)
                return 1
            if new_text != text and not args.dry_run:
                path.write_text(new_text, encoding="utf-8")
            print(summary.line(path))
            problems += summary.disagree + summary.not_run
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
