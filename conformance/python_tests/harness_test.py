"""Tests for the harness: selection, judging, shrinking, runs."""

import io
import contextlib
import os
import pathlib
import sys
import tempfile
import unittest
from typing import Optional
from unittest import mock
from xml.etree import ElementTree

import _path

from google.protobuf import text_format

from conformance import corpus, harness, judge, selection, shrink
from conformance import scenario_pb2 as pb

TESTEE = (
    f"{sys.executable} {_path.ROOT / 'conformance' / 'reference_testee.py'}"
)

FILE = """# Header.
scenario {
  name: "StreamReader.Read.Passes"
  description: "d"
  steps { actions { feed_data { data: "ab" } } expect { buffer: "ab" } }
}
scenario {
  name: "StreamReader.Read.Fails"
  description: "d"
  steps { note: "n" actions { feed_data { data: "ab" } } expect { buffer: "zz" } }
}
"""


def entry(text: str) -> corpus.Entry:
    scenario = text_format.Parse(text, pb.Scenario())
    return corpus.Entry(
        scenario, pathlib.Path("t.textproto"), 1, [0] * len(scenario.steps)
    )


class SelectTest(unittest.TestCase):
    def entries(self) -> list:
        return [entry(f'name: "A.B.C{n}"') for n in (3, 1, 2, 0)]

    def test_sorted_and_filtered(self) -> None:
        with mock.patch.dict(os.environ, {}, clear=True):
            names = [
                e.name for e in selection.select(self.entries(), r"C[12]")
            ]
        self.assertEqual(names, ["A.B.C1", "A.B.C2"])

    def test_shards(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            status = pathlib.Path(directory) / "status"
            env = {
                "TEST_TOTAL_SHARDS": "2",
                "TEST_SHARD_INDEX": "1",
                "TEST_SHARD_STATUS_FILE": str(status),
            }
            with mock.patch.dict(os.environ, env, clear=True):
                names = [
                    e.name for e in selection.select(self.entries(), None)
                ]
            self.assertTrue(status.exists())
        self.assertEqual(names, ["A.B.C1", "A.B.C3"])


class JudgeTest(unittest.TestCase):
    def test_pass_fail_and_testee_errors(self) -> None:
        scenario = entry('name: "A.B.C" steps { expect { buffer: "a" } }')
        response = pb.Response()
        response.trace.steps.add(buffer=b"a")
        self.assertTrue(judge.judge(scenario, response).passed)
        response.trace.steps[0].buffer = b"b"
        outcome = judge.judge(scenario, response)
        self.assertFalse(outcome.passed)
        self.assertEqual(outcome.summary, "step 1: buffer")
        self.assertIn("      expected b'a'", outcome.details)
        self.assertFalse(
            judge.judge(scenario, pb.Response(skipped="why")).passed
        )
        self.assertFalse(
            judge.judge(scenario, pb.Response(runtime_error="tb")).passed
        )
        self.assertFalse(
            judge.judge(scenario, pb.Response(trace=pb.StepTrace())).passed
        )


class ShrinkTest(unittest.TestCase):
    def test_keeps_only_what_the_difference_needs(self) -> None:
        scenario = text_format.Parse(
            """
            name: "A.B.C" limit: 16 server_side: true
            steps { actions { feed_data { pattern: "x" size: 40 data: "Qtail" } }
                    actions { feed_eof {} } }
            steps { actions { read { id: 1 readline {} } } }
            steps { actions { write { data: "zzz" } } }
        """,
            pb.Scenario(),
        )

        def differs(candidate: pb.Scenario) -> bool:
            return any(
                b"Q" in action.feed_data.data
                for step in candidate.steps
                for action in step.actions
            )

        small = shrink.shrink(scenario, differs)
        self.assertEqual(
            text_format.MessageToString(small, as_one_line=True),
            'name: "A.B.C" limit: 1 steps { actions { '
            'feed_data { data: "Q" } } }',
        )


class RunTest(unittest.TestCase):
    """Runs the reference testee as a subprocess."""

    def run_harness(self, *args: str, env: Optional[dict] = None) -> tuple:
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(
            io.StringIO()
        ), mock.patch.dict(os.environ, {}, clear=False):
            # Not this test's sharding, nor its own JUnit file (a run
            # would overwrite it); `env` sets what a case needs.
            for name in (
                "TEST_TOTAL_SHARDS",
                "TEST_SHARD_INDEX",
                "XML_OUTPUT_FILE",
            ):
                os.environ.pop(name, None)
            os.environ.update(env or {})
            code = harness.main(list(args))
        return code, output.getvalue()

    def test_corpus_and_failure_list(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "topic.textproto"
            path.write_text(FILE)
            failure_list = pathlib.Path(directory) / "list.txt"
            code, output = self.run_harness("--testee", TESTEE, str(path))
            self.assertEqual(code, 1)
            self.assertIn("FAILED StreamReader.Read.Fails", output)
            self.assertIn("step 1 of 1", output)
            self.assertIn("expected b'zz'", output)
            self.assertTrue(output.endswith("1 passed, 1 failed\n"))

            failure_list.write_text("# known\nStreamReader.Read.Fails\n")
            code, output = self.run_harness(
                "--testee",
                TESTEE,
                "--failure_list",
                str(failure_list),
                str(path),
            )
            self.assertEqual(code, 0, output)
            self.assertIn("1 expected failures", output)
            self.assertTrue(output.endswith("1 passed, 0 failed\n"))

            failure_list.write_text("StreamReader.Read.Passes\nNo.Such.One\n")
            code, output = self.run_harness(
                "--testee",
                TESTEE,
                "--failure_list",
                str(failure_list),
                "--filter",
                "Passes",
                str(path),
            )
            self.assertEqual(code, 1)
            self.assertIn("StreamReader.Read.Passes now passes", output)
            self.assertIn("No.Such.One is not a scenario", output)

    def test_report(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "topic.textproto"
            path.write_text(FILE)
            code, output = self.run_harness(
                "--report", "--reference", TESTEE, "--cpp", TESTEE, str(path)
            )
        self.assertEqual(code, 1)
        self.assertIn("topic", output)
        self.assertTrue(output.endswith("2 passed, 2 failed\n"))

    def test_corpus_writes_junit_for_bazel(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "topic.textproto"
            path.write_text(FILE)
            xml = pathlib.Path(directory) / "test.xml"
            self.run_harness(
                "--testee",
                TESTEE,
                "--name=ref",
                str(path),
                env={"XML_OUTPUT_FILE": str(xml)},
            )
            root = ElementTree.parse(xml).getroot()
        suite = root.find("testsuite")
        self.assertEqual(suite.get("name"), "ref")
        self.assertEqual(
            (suite.get("tests"), suite.get("failures")), ("2", "1")
        )
        failing = suite.find("testcase[@name='StreamReader.Read.Fails']")
        self.assertEqual(failing.get("classname"), "topic")
        self.assertIn("expected b'zz'", failing.find("failure").text)

    def test_report_html_and_extra_references(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "topic.textproto"
            path.write_text(FILE)
            with mock.patch.dict(
                os.environ, {"BUILD_WORKSPACE_DIRECTORY": directory}
            ):
                code, output = self.run_harness(
                    "--report",
                    "--reference",
                    TESTEE,
                    "--cpp",
                    TESTEE,
                    "--html",
                    "out",
                    "--extra_reference",
                    sys.executable,
                    "--extra_reference",
                    "/no/such/python3",
                    str(path),
                )
            index = pathlib.Path(directory, "out", "index.html").read_text()
        self.assertEqual(code, 1)
        self.assertIn("CPython unknown version (info)", output)
        self.assertIn(
            "informational: CPython unknown version differs from the "
            "reference on 2 of 2 scenarios (not counted):\n"
            "  StreamReader.Read.Fails: skipped: ",
            output,
        )
        self.assertIn(
            "StreamReader.Read.Fails: differs: step 1: buffer", output
        )
        self.assertTrue(output.endswith("2 passed, 2 failed\n"))
        self.assertIn("StreamReader.Read.Fails", index)

    def test_differential_same_testee(self) -> None:
        code, output = self.run_harness(
            "--differential",
            "--reference",
            TESTEE,
            "--cpp",
            TESTEE,
            "--seed",
            "4",
            "--count",
            "150",
        )
        self.assertEqual(code, 0, output)
        self.assertIn("action kinds:", output)
        self.assertTrue(output.endswith("150 passed, 0 failed\n"))

    def test_dead_testee(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "topic.textproto"
            path.write_text(FILE)
            errors = io.StringIO()
            command = (
                f"{sys.executable} -c 'import sys; "
                f'print("dying words", file=sys.stderr)\''
            )
            with contextlib.redirect_stdout(
                io.StringIO()
            ), contextlib.redirect_stderr(errors):
                code = harness.main(["--testee", command, str(path)])
        self.assertEqual(code, 1)
        self.assertIn("exited while running", errors.getvalue())
        self.assertIn("dying words", errors.getvalue())


if __name__ == "__main__":
    unittest.main()
