"""Tests for conformance/report.py: the table, informational columns."""

import contextlib
import io
import unittest
from unittest import mock

import report_fixture

from conformance import report
from conformance import results as res
from conformance import scenario_pb2 as pb
from conformance.testee import TesteeError


class _FakeTestee:
    """Answers every scenario with `response`, or dies on the second."""

    def __init__(self, response: pb.Response, die: bool = False) -> None:
        self.response, self.die, self.runs = response, die, 0

    def __call__(self, *args, **kwargs) -> "_FakeTestee":
        return self

    def __enter__(self) -> "_FakeTestee":
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def run(self, scenario: pb.Scenario) -> pb.Response:
        self.runs += 1
        if self.die and self.runs == 2:
            raise TesteeError("x exited while running it\nstderr tail")
        return self.response


def table(columns) -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        report._print_table(report_fixture.entries(), columns)
    return output.getvalue()


class TableTest(unittest.TestCase):
    def test_two_testees_keep_the_old_layout(self) -> None:
        self.assertEqual(
            table(report_fixture.columns()[:2]),
            "topic  scenarios  pass on reference  pass on C++\n"
            "topic          2                  2            1\n"
            + "-" * 50  # Two wider than the rows, as it always was.
            + "\n"
            "total          2                  2            1\n",
        )

    def test_informational_column(self) -> None:
        lines = table(report_fixture.columns()).splitlines()
        self.assertTrue(lines[0].endswith("  CPython 3.11.2 (info)"))
        self.assertTrue(lines[1].endswith("  1"))


class BeyondReferenceTest(unittest.TestCase):
    TEXT = (
        'name: "Topic.Op.Beyond" description: "d" '
        'beyond_reference { cpython: "3.13" reason: "new" } '
        'steps { expect { buffer: "a" } }'
    )

    def test_marked_scenarios_have_their_own_row(self) -> None:
        marked = report_fixture.entry(self.TEXT)
        skipped = pb.Response(skipped="beyond CPython 3.11.7: needs 3.13")
        with mock.patch.object(report, "Testee", _FakeTestee(skipped)):
            reference = report._run_column(
                "reference", "ref", [marked], False, True
            )
        self.assertEqual(reference.results[marked.name].status, res.BEYOND)
        cpp = res.Column(
            "C++",
            {marked.name: res.Result(marked, res.PASSED, res.Outcome(True))},
        )
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            report._print_table([marked], [reference, cpp])
        lines = output.getvalue().splitlines()
        self.assertTrue(lines[-2].startswith("total  "), lines)
        self.assertTrue(lines[-2].endswith("  0"), lines)
        self.assertEqual(lines[-1].split()[-3:], ["1", "1", "1"], lines)
        self.assertTrue(lines[-1].startswith("beyond CPython 3.11.7"))


class InformationalColumnTest(unittest.TestCase):
    def run_column(self, testee: _FakeTestee) -> res.Column:
        with mock.patch.object(report, "Testee", testee):
            return report._run_column(
                "CPython 3.11.2", "python", report_fixture.entries(), True
            )

    def test_what_it_cannot_run_is_skipped_with_the_reason(self) -> None:
        error = "Traceback (most recent call last):\nAttributeError: no x\n"
        column = self.run_column(_FakeTestee(pb.Response(runtime_error=error)))
        for result in column.results.values():
            self.assertEqual(result.status, res.SKIPPED)
            self.assertEqual(result.outcome.summary, "AttributeError: no x")

    def test_a_dead_testee_skips_the_rest(self) -> None:
        column = self.run_column(
            _FakeTestee(report_fixture.response(b"<&>"), die=True)
        )
        statuses = [
            column.results[e.name].status for e in report_fixture.entries()
        ]
        self.assertEqual(statuses, [res.PASSED, res.SKIPPED])
        skipped = column.results[report_fixture.entries()[1].name]
        self.assertEqual(skipped.outcome.summary, "x exited while running it")

    def test_a_dead_required_testee_fails_the_run(self) -> None:
        testee = _FakeTestee(pb.Response(), die=True)
        with mock.patch.object(report, "Testee", testee):
            with self.assertRaises(TesteeError):
                report._run_column(
                    "C++", "cpp", report_fixture.entries(), False
                )


class DetectTest(unittest.TestCase):
    def test_one_per_version_and_not_this_one(self) -> None:
        paths = {
            "/usr/bin/python3*": [
                "/usr/bin/python3",
                "/usr/bin/python3-config",
                "/usr/bin/python3.11",
            ],
            "/usr/local/bin/python3*": ["/usr/local/bin/python3.11"],
        }
        versions = {
            "/usr/bin/python3": "3.11.2",
            "/usr/bin/python3.11": "3.11.2",
            "/usr/local/bin/python3.11": "3.11.7",
        }
        with mock.patch.object(
            report.glob, "glob", paths.get
        ), mock.patch.object(report, "python_version", versions.get):
            self.assertEqual(
                report.detect_pythons("3.11.7"), ["/usr/bin/python3"]
            )


if __name__ == "__main__":
    unittest.main()
