"""Each field schema v2 added is read and filled by both testees.

Runs small scenarios through the reference testee (CPython 3.11.7) and the
C++ testee and checks, field by field, that each reads what the scenario
says and fills what the observation must hold: per-action results (on a step
and on the whole scenario), an action's error, return value and cancel()'s
result, `observe` snapshots with writer_closing, explicit_limit and the
construction error, a client_connected coroutine with Observation.logged,
and the beyond_reference mark (the reference skips it
with the reason; the C++ testee runs it).
"""

import unittest
from typing import Any, Dict

import _path  # noqa: F401

from google.protobuf import text_format

from conformance import judge, suite
from conformance import scenario_pb2 as pb
from conformance.corpus import Entry
from conformance.testee import Testee

_TESTEES: Dict[str, Any] = {}


def setUpModule() -> None:
    _TESTEES["reference"] = Testee(suite.reference_command(), "reference")
    _TESTEES["cpp"] = Testee(suite.cpp_command(), "cpp")
    for testee in _TESTEES.values():
        testee.__enter__()


def tearDownModule() -> None:
    for testee in _TESTEES.values():
        testee.__exit__(None, None, None)


def scenario(text: str) -> Any:
    return text_format.Parse('name: "V2.Field.Test" ' + text, pb.Scenario())


class BothTestees(unittest.TestCase):
    def run_both(self, text: str) -> Dict[str, Any]:
        request = scenario(text)
        return {name: t.run(request) for name, t in _TESTEES.items()}

    def traces(self, text: str) -> Dict[str, Any]:
        responses = self.run_both(text)
        for name, response in responses.items():
            self.assertEqual(
                response.WhichOneof("result"), "trace", (name, response)
            )
        return {name: r.trace for name, r in responses.items()}


class PerActionResultsTest(BothTestees):
    STEP = """steps {
      %s
      actions { feed_eof {} }
      actions { feed_data { data: "x" } }
      actions { feed_data { data: "y" } }
    }"""

    def test_off_stops_at_the_first_error(self) -> None:
        for name, trace in self.traces(self.STEP % "").items():
            step = trace.steps[0]
            self.assertEqual(step.error.type, "AssertionError", name)
            self.assertEqual(len(step.actions), 0, name)

    def test_on_a_step_runs_every_action(self) -> None:
        text = self.STEP % "per_action_results: true"
        for name, trace in self.traces(text).items():
            step = trace.steps[0]
            self.assertFalse(step.HasField("error"), name)
            self.assertEqual(len(step.actions), 3, name)
            self.assertFalse(step.actions[0].HasField("error"), name)
            for result in step.actions[1:]:
                self.assertEqual(result.error.type, "AssertionError", name)
                self.assertEqual(
                    result.error.message, "feed_data after feed_eof", name
                )

    def test_on_the_scenario(self) -> None:
        text = "per_action_results: true " + self.STEP % ""
        for name, trace in self.traces(text).items():
            self.assertEqual(len(trace.steps[0].actions), 3, name)

    def test_returned_per_action_not_per_step(self) -> None:
        text = """per_action_results: true steps {
          actions { connection_made { ssl: true } }
          actions { eof_received {} }
          actions { is_closing {} }
          actions { can_write_eof {} }
        }"""
        for name, trace in self.traces(text).items():
            step = trace.steps[0]
            self.assertFalse(step.HasField("returned"), name)
            self.assertFalse(step.actions[0].HasField("returned"), name)
            self.assertEqual(
                [result.returned for result in step.actions[1:]],
                [False, False, True],
                name,
            )

    def test_cancel_result(self) -> None:
        text = """per_action_results: true
          tags: "cancel_unknown_id"
          steps { actions { read { id: 1 readline {} } } }
          steps { actions { cancel: 1 } actions { cancel: 9 } }
          steps { actions { cancel: 1 } }"""
        for name, trace in self.traces(text).items():
            second, third = trace.steps[1], trace.steps[2]
            self.assertTrue(second.actions[0].returned, name)
            self.assertFalse(second.actions[1].HasField("returned"), name)
            self.assertTrue(third.actions[0].HasField("returned"), name)
            self.assertFalse(third.actions[0].returned, name)


class ObserveTest(BothTestees):
    def test_snapshot_within_the_tick(self) -> None:
        text = """limit: 1 steps {
          per_action_results: true
          actions { set_transport {} }
          actions { observe {} }
          actions { feed_data { data: "abc" } }
          actions { read { id: 1 read { n: 3 } } }
          actions { observe {} }
        }"""
        for name, trace in self.traces(text).items():
            step = trace.steps[0]
            before, after = step.actions[1].state, step.actions[4].state
            self.assertEqual(before.buffer, b"", name)
            self.assertFalse(before.paused, name)
            self.assertEqual(after.buffer, b"abc", name)
            self.assertEqual(after.buffer_size, 3, name)
            self.assertTrue(after.paused, name)
            self.assertFalse(after.at_eof, name)
            self.assertFalse(after.exception_set, name)
            self.assertFalse(after.HasField("writer_closing"), name)
            self.assertEqual(step.buffer, b"", name)  # After the loop ran.

    def test_writer_closing_and_exception(self) -> None:
        text = """steps {
          per_action_results: true
          actions { connection_made {} }
          actions { observe {} }
          actions { close {} }
          actions {
            connection_lost { exc { type: "BrokenPipeError" message: "p" } }
          }
          actions { observe {} }
        }"""
        for name, trace in self.traces(text).items():
            step = trace.steps[0]
            self.assertFalse(step.actions[1].state.writer_closing, name)
            last = step.actions[4].state
            self.assertTrue(last.writer_closing, name)
            self.assertEqual(last.exception.type, "BrokenPipeError", name)
            self.assertTrue(step.writer_closing, name)

    def test_observe_needs_per_action_results(self) -> None:
        for name, response in self.run_both(
            "steps { actions { observe {} } }"
        ).items():
            self.assertEqual(response.WhichOneof("result"), "skipped", name)
            self.assertIn("per_action_results", response.skipped, name)


class ConstructionTest(BothTestees):
    def test_explicit_limit_zero_is_an_error(self) -> None:
        for name, trace in self.traces("explicit_limit: 0").items():
            self.assertEqual(len(trace.steps), 0, name)
            self.assertEqual(trace.construction_error.type, "ValueError")
            self.assertEqual(
                trace.construction_error.message, "Limit cannot be <= 0"
            )

    def test_limit_zero_is_still_the_default(self) -> None:
        text = """limit: 0 steps {
          actions { feed_data { pattern: "x" size: 65536 data: "\\n" } }
          actions { read { id: 1 readline {} } }
        }"""
        for name, trace in self.traces(text).items():
            self.assertFalse(trace.HasField("construction_error"), name)
            self.assertEqual(len(trace.steps[0].completed[0].value), 65537)

    def test_explicit_limit_overrides_limit(self) -> None:
        text = """limit: 100 explicit_limit: 2 steps {
          actions { feed_data { data: "abcd\\n" } }
          actions { read { id: 1 readline {} } }
        }"""
        for name, trace in self.traces(text).items():
            error = trace.steps[0].completed[0].error
            self.assertEqual(error.type, "ValueError", name)


class TransportOptionsTest(BothTestees):
    def calls(self, trace: Any, step: int) -> list:
        return [
            c.WhichOneof("call") for c in trace.steps[step].transport_calls
        ]

    def test_log_failed_pause(self) -> None:
        text = """limit: 1 steps {
          actions {
            set_transport { cannot_pause: true log_failed_pause: true }
          }
          actions { feed_data { data: "abc" } }
          actions { feed_data { data: "def" } }
        }"""
        for name, trace in self.traces(text).items():
            self.assertEqual(
                self.calls(trace, 0), ["pause_reading_failed"], name
            )

    def test_lose_on_close_and_abort(self) -> None:
        for action in ("close", "abort"):
            text = (
                """steps {
              actions { connection_made { lose_on_close: true } }
              actions { wait_closed: 1 }
              actions { %s {} }
            }"""
                % action
            )
            for name, trace in self.traces(text).items():
                step = trace.steps[0]
                self.assertEqual(self.calls(trace, 0), [action], name)
                self.assertTrue(step.completed[0].done, (name, action))
                self.assertTrue(step.at_eof, (name, action))

    def test_no_loss_without_the_option(self) -> None:
        text = """steps {
          actions { connection_made {} }
          actions { wait_closed: 1 }
          actions { abort {} }
        }"""
        for name, trace in self.traces(text).items():
            self.assertEqual(list(trace.steps[0].pending), [1], name)


class WriteSideAndTransportLogsTest(BothTestees):
    def test_writing_paused_and_connection_lost(self) -> None:
        text = """steps {
          per_action_results: true
          actions { observe {} }
          actions { connection_made {} }
          actions { pause_writing {} }
          actions { observe {} }
          actions { connection_lost {} }
          actions { observe {} }
        }"""
        for name, trace in self.traces(text).items():
            step = trace.steps[0]
            before = step.actions[0].state
            self.assertFalse(before.HasField("writing_paused"), name)
            self.assertFalse(before.HasField("connection_lost"), name)
            paused, lost = step.actions[3].state, step.actions[5].state
            self.assertTrue(paused.writing_paused, name)
            self.assertFalse(paused.connection_lost, name)
            self.assertTrue(lost.connection_lost, name)
            self.assertTrue(step.HasField("writing_paused"), name)

    def test_per_transport_logs(self) -> None:
        text = """limit: 1 %s steps {
          actions { set_transport { cannot_pause: true } }
          actions { feed_data { data: "abc" } }
          actions { connection_made {} }
          actions { write { data: "w" } }
          actions { close {} }
        }"""
        for tagged in (True, False):
            flag = "per_transport_logs: true" if tagged else ""
            for name, trace in self.traces(text % flag).items():
                owners = [c.transport for c in trace.steps[0].transport_calls]
                self.assertEqual(owners, [2, 2] if tagged else [0, 0], name)


class ClientConnectedTest(BothTestees):
    TEXT = """client_connected {
        id: 1 write: "hi" awaits { read { id: 2 readline {} } } %s
      }
      steps { actions { connection_made {} } }
      steps { actions { data_received { data: "x\\n" } } }"""

    def test_raises_is_logged_then_closes(self) -> None:
        text = self.TEXT % 'raises { type: "ValueError" message: "boom" }'
        for name, trace in self.traces(text).items():
            first, second = trace.steps
            self.assertEqual(list(first.pending), [1, 2], name)
            self.assertEqual(
                [c.write for c in first.transport_calls], [b"hi"], name
            )
            self.assertEqual(list(first.logged), [], name)
            self.assertEqual([c.id for c in second.completed], [2, 1], name)
            self.assertEqual(second.completed[0].value, b"x\n", name)
            self.assertEqual(second.completed[1].error.type, "ValueError")
            self.assertEqual(
                [c.WhichOneof("call") for c in second.transport_calls],
                ["close"],
                name,
            )
            self.assertEqual(len(second.logged), 1, name)
            logged = second.logged[0]
            self.assertEqual(
                logged.message,
                "Unhandled exception in client_connected_cb",
                name,
            )
            self.assertEqual(logged.exception.message, "boom", name)

    def test_writer_actions_are_refused(self) -> None:
        text = """client_connected { id: 1 }
          steps { actions { connection_made {} } actions { is_closing {} } }"""
        for name, response in self.run_both(text).items():
            self.assertEqual(
                response.WhichOneof("result"), "skipped", (name, response)
            )


class DropWriterTest(BothTestees):
    def test_unclosed_writer_closes_and_warns(self) -> None:
        text = """steps { actions { connection_made {} } }
          steps { actions { drop_writer {} } }"""
        for name, trace in self.traces(text).items():
            self.assertEqual(list(trace.steps[0].warnings), [], name)
            step = trace.steps[1]
            self.assertEqual(
                list(step.warnings),
                ["ResourceWarning: unclosed <StreamWriter>"],
                name,
            )
            self.assertEqual(
                [c.WhichOneof("call") for c in step.transport_calls],
                ["close"],
                name,
            )

    def test_writer_actions_after_it_are_refused(self) -> None:
        text = """steps { actions { connection_made {} } }
          steps { actions { drop_writer {} } actions { is_closing {} } }"""
        for name, response in self.run_both(text).items():
            self.assertEqual(response.WhichOneof("result"), "skipped", name)


class BeyondReferenceTest(BothTestees):
    # `observe` outside a per-action step stands in for a feature 3.11.7
    # lacks: the reference cannot run it.
    TEXT = """beyond_reference { cpython: "3.13" reason: "stand-in" }
      steps { actions { observe {} } expect {} }"""

    def test_reference_skips_with_the_reason(self) -> None:
        response = self.run_both(self.TEXT)["reference"]
        self.assertEqual(response.WhichOneof("result"), "skipped")
        self.assertTrue(
            response.skipped.startswith(
                "beyond CPython 3.11.7: needs CPython 3.13: stand-in"
            ),
            response.skipped,
        )
        entry = Entry(scenario(self.TEXT), None, 0, [])  # type: ignore
        outcome = judge.judge(entry, response, reference=True)
        self.assertTrue(outcome.beyond)
        self.assertFalse(outcome.passed)

    def test_a_mark_the_reference_can_run_fails(self) -> None:
        text = """beyond_reference { cpp_extension: true reason: "r" }
          steps { actions { feed_data { data: "a" } } expect {} }"""
        responses = self.run_both(text)
        entry = Entry(scenario(text), None, 0, [])  # type: ignore
        outcome = judge.judge(entry, responses["reference"], reference=True)
        self.assertFalse(outcome.passed)
        self.assertFalse(outcome.beyond)
        self.assertIn("remove the mark", outcome.summary)
        # The C++ testee ignores the mark and is judged as usual.
        self.assertEqual(responses["cpp"].WhichOneof("result"), "trace")
        self.assertTrue(judge.judge(entry, responses["cpp"]).passed)


if __name__ == "__main__":
    unittest.main()
