"""Tests for tools/check_scenarios.py."""

import contextlib
import io
import pathlib
import tempfile
import unittest

import _path  # noqa: F401

from tools import check_scenarios

GOOD = """# Header.
scenario {
  name: "StreamReader.Read.Good"
  description: "d"
  steps { actions { read { id: 1 readline {} } } expect {} }
  steps { actions { cancel: 1 } actions { drain: 2 } expect {} }
}
"""


class CheckScenariosTest(unittest.TestCase):
    def check(self, text: str, seen: dict = None) -> list:
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "x.textproto"
            path.write_text(text)
            _, problems = check_scenarios.check_file(
                path, {} if seen is None else seen
            )
        return [problem.split(": ", 1)[1] for problem in problems]

    def test_good_file(self) -> None:
        self.assertEqual(self.check(GOOD), [])

    def test_problems(self) -> None:
        text = (
            'scenario {\n  name: "bad.name"\n'
            "  steps { actions { cancel: 4 } }\n"
            "  steps { actions { read { id: 1 readline {} } }"
            " actions { wait_closed: 1 } expect {} }\n"
            "  steps { expect {} }\n}\n"
        )
        problems = self.check(text)
        self.assertEqual(len(problems), 7, problems)
        self.assertIn("no header comment", problems[0])
        joined = "\n".join(problems)
        for part in (
            "is not <Topic>.<Operation>.<Case>",
            "missing description",
            "no expect block",
            "cancel of id 4",
            "id 1 already used",
            "step 3: no actions",
        ):
            self.assertIn(part, joined)

    def test_schema_v2_fields(self) -> None:
        text = (
            '# h\nscenario {\n  name: "StreamReader.V2.X"\n'
            '  description: "d"\n  limit: 3\n  explicit_limit: 0\n'
            '  expect_construction_error { type: "ValueError" }\n'
            '  beyond_reference { cpython: "3.13" cpp_extension: true }\n'
            "  steps { actions { observe {} } expect {} }\n}\n"
            'scenario {\n  name: "StreamReader.V2.Y"\n'
            '  description: "d"\n  explicit_limit: 0\n'
            '  expect_construction_error { type: "ValueError" }\n}\n'
        )
        problems = self.check(text)
        joined = "\n".join(problems)
        for part in (
            "both limit and explicit_limit",
            "expects a construction error, so no step can run",
            "beyond_reference needs exactly one of",
            "beyond_reference needs a reason",
            "observe needs per_action_results",
        ):
            self.assertIn(part, joined)
        self.assertEqual(len(problems), 5, problems)

    def test_task_ids(self) -> None:
        text = (
            '# h\nscenario {\n  name: "StreamReader.Await.X"\n'
            '  description: "d"\n'
            "  steps { actions { task { id: 100"
            " awaits { read { id: 1 readline {} } } awaits { drain: 2 }"
            " awaits { sleep0 {} } awaits { read { id: 1 read {} } }"
            " awaits {} } } expect {} }\n"
            "  steps { actions { cancel: 100 } actions { cancel: 2 }"
            " actions { read { id: 100 readline {} } } expect {} }\n}\n"
        )
        problems = self.check(text)
        self.assertEqual(len(problems), 4, problems)
        joined = "\n".join(problems)
        for part in (
            "id 1 already used in step 1",
            "task 100: empty await",
            "cancel of id 2, which a task awaits",
            "id 100 already used in step 1",
        ):
            self.assertIn(part, joined)

    def test_duplicates_across_files(self) -> None:
        seen: dict = {}
        self.assertEqual(self.check(GOOD, seen), [])
        self.assertIn("duplicate scenario name", self.check(GOOD, seen)[0])

    def test_parse_error_has_line(self) -> None:
        problems = self.check("# h\nscenario {\n  nme: 1\n}\n")
        self.assertEqual(len(problems), 1)
        self.assertIn('no field named "nme"', problems[0])

    def test_main_ok_line(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            (pathlib.Path(directory) / "a.textproto").write_text(GOOD)
            with contextlib.redirect_stdout(io.StringIO()) as output:
                self.assertEqual(check_scenarios.main([directory]), 0)
        self.assertEqual(output.getvalue(), "1 files, 1 scenarios OK\n")


if __name__ == "__main__":
    unittest.main()
