"""Tests for tools/record.py: splicing expect blocks into scenario files."""

import contextlib
import io
import unittest
from typing import Any, List

import _path  # noqa: F401

from conformance import scenario_pb2 as pb
from tools import record

HEADER = "# proto-message: streams.conformance.ScenarioFile\n# Header.\n\n"


class FakeTestee:
    """Answers every scenario with fixed observations, one per step."""

    def __init__(self, observations: List[pb.Observation]) -> None:
        self.observations = observations
        self.scenarios: List[Any] = []
        self.construction_error: Any = None

    def run(self, scenario: Any) -> pb.Response:
        self.scenarios.append(scenario)
        response = pb.Response()
        if self.construction_error is not None:
            response.trace.construction_error.CopyFrom(self.construction_error)
            return response
        for _ in scenario.steps:
            response.trace.steps.add().CopyFrom(self.observations[0])
        return response


def observed(buffer: bytes = b"", **fields: Any) -> pb.Observation:
    observation = pb.Observation(
        buffer=buffer,
        buffer_size=len(buffer),
        at_eof=False,
        exception_set=False,
        paused=False,
        **fields,
    )
    return observation


SHORT = (
    'expect { buffer: "" at_eof: false exception_set: false paused: false }'
)


class RecordTest(unittest.TestCase):
    def record(
        self, text: str, observation: pb.Observation, width: int = 100
    ) -> str:
        new_text, _ = record.record_text(
            text, FakeTestee([observation]), width
        )
        return new_text

    def test_records_a_construction_error(self) -> None:
        text = HEADER + 'scenario {\n  name: "A.B.C"\n  explicit_limit: 0\n}\n'
        testee = FakeTestee([])
        testee.construction_error = pb.Error(
            type="ValueError", message="Limit cannot be <= 0"
        )
        new_text, summary = record.record_text(text, testee)
        self.assertIn(
            "  explicit_limit: 0\n  expect_construction_error { type: "
            '"ValueError" message: "Limit cannot be <= 0" }\n}\n',
            new_text,
        )
        self.assertEqual(summary.recorded, 1)
        again, summary = record.record_text(new_text, testee)
        self.assertEqual(again, new_text)
        self.assertEqual(summary.unchanged, 1)

    def test_records_per_action_results(self) -> None:
        text = (
            HEADER + 'scenario {\n  name: "A.B.C"\n  steps {\n'
            "    per_action_results: true\n"
            "    actions { observe {} }\n  }\n}\n"
        )
        observation = observed()
        observation.actions.add().state.CopyFrom(
            observed(b"ab", writer_closing=True)
        )
        new_text = self.record(text, observation)
        self.assertIn(
            '      actions {\n        state { buffer: "ab" at_eof: false '
            "exception_set: false paused: false writer_closing: true }\n",
            new_text,
        )

    def test_inserts_into_one_line_step_when_it_fits(self) -> None:
        text = (
            HEADER
            + 'scenario {\n  name: "A.B.C"\n  steps { actions { feed_eof {} } }  # c\n}\n'
        )
        self.assertEqual(
            self.record(text, observed(), width=200),
            HEADER
            + 'scenario {\n  name: "A.B.C"\n  steps { actions { feed_eof {} } '
            + SHORT
            + " }  # c\n}\n",
        )

    def test_expands_one_line_step_when_too_wide(self) -> None:
        text = (
            HEADER
            + "scenario {\n  steps { actions { feed_eof {} } actions { feed_eof {} } }\n}\n"
        )
        self.assertEqual(
            self.record(text, observed()),
            HEADER + "scenario {\n  steps {\n    actions { feed_eof {} }\n"
            "    actions { feed_eof {} }\n    " + SHORT + "\n  }\n}\n",
        )

    def test_inserts_before_closing_brace_line(self) -> None:
        text = HEADER + (
            "scenario {\n  steps {\n    # keep me\n"
            "    actions { feed_eof {} }  # and me\n  }\n}\n"
        )
        self.assertEqual(
            self.record(text, observed()),
            HEADER
            + (
                "scenario {\n  steps {\n    # keep me\n"
                "    actions { feed_eof {} }  # and me\n    "
                + SHORT
                + "\n  }\n}\n"
            ),
        )

    def test_replaces_existing_expect_keeping_comments_around(self) -> None:
        text = HEADER + (
            "scenario {\n  steps {\n    actions { feed_eof {} }\n"
            "    expect { at_eof: true }  # old\n  }\n}\n"
            "# trailer\n"
        )
        self.assertEqual(
            self.record(text, observed()),
            HEADER
            + (
                "scenario {\n  steps {\n    actions { feed_eof {} }\n"
                "    " + SHORT + "  # old\n  }\n}\n# trailer\n"
            ),
        )

    def test_multi_line_expect_is_indented_like_the_step(self) -> None:
        text = (
            HEADER
            + "scenario {\n  steps {\n    actions { feed_eof {} }\n  }\n}\n"
        )
        observation = observed(b"abc", pending=[1, 2])
        observation.completed.add(
            id=3, error=pb.Error(type="ValueError", message="m")
        )
        new_text = self.record(text, observation)
        self.assertEqual(
            new_text,
            HEADER
            + (
                "scenario {\n  steps {\n    actions { feed_eof {} }\n"
                "    expect {\n"
                '      completed { id: 3 error { type: "ValueError" message: "m" } }\n'
                "      pending: [1, 2]\n"
                '      buffer: "abc"\n'
                "      at_eof: false\n"
                "      exception_set: false\n"
                "      paused: false\n"
                "    }\n  }\n}\n"
            ),
        )

    def test_unchanged_expect_is_kept_byte_for_byte(self) -> None:
        text = HEADER + (
            "scenario {\n  steps {\n    actions { feed_eof {} }\n"
            '    expect {   buffer:"" at_eof :false\n'
            "  exception_set: false paused: false}\n  }\n}\n"
        )
        new_text, summary = record.record_text(text, FakeTestee([observed()]))
        self.assertEqual(new_text, text)
        self.assertEqual(summary.unchanged, 1)
        self.assertEqual(summary.recorded, 0)

    def test_big_buffer_is_recorded_as_its_size(self) -> None:
        text = HEADER + "scenario { steps { actions { feed_eof {} } } }\n"
        new_text = self.record(text, observed(b"x" * 65))
        self.assertIn("buffer_size: 65", new_text)
        self.assertNotIn("buffer:", new_text)

    def test_hand_written_scenarios_are_only_checked(self) -> None:
        text = HEADER + (
            "scenario { hand_written: true steps { actions "
            "{ feed_eof {} } expect { at_eof: true } } }\n"
            "scenario { hand_written: true steps { actions "
            "{ feed_eof {} } expect { at_eof: false } } }\n"
        )
        with contextlib.redirect_stdout(io.StringIO()) as output:
            new_text, summary = record.record_text(
                text, FakeTestee([observed()])
            )
        self.assertIn("DISAGREES", output.getvalue())
        self.assertEqual(new_text, text)
        self.assertEqual((summary.agree, summary.disagree), (1, 1))

    def test_several_scenarios_and_steps(self) -> None:
        text = HEADER + (
            "scenario { steps { actions { feed_eof {} } }\n"
            "  steps { actions { feed_eof {} } } }\n"
            "scenario { steps { actions { feed_eof {} } } }\n"
        )
        new_text = self.record(text, observed(), width=200)
        self.assertEqual(new_text.count(SHORT), 3)


if __name__ == "__main__":
    unittest.main()
