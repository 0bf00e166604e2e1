"""Tests for conformance/reference_testee.py, run in-process."""

import sys
import unittest
import warnings

import _path

from google.protobuf import text_format

from conformance import scenario_pb2 as pb

sys.path.insert(0, str(_path.ROOT / "conformance"))
import reference_testee  # noqa: E402


def run(text: str) -> pb.Response:
    scenario = text_format.Parse(text, pb.Scenario())
    return reference_testee.run_request(pb.Request(scenario=scenario))


@unittest.skipUnless(
    sys.version_info[:3] == (3, 11, 7), "needs CPython 3.11.7"
)
class ReferenceTesteeTest(unittest.TestCase):
    def setUp(self) -> None:
        # StreamWriter.__del__ warns when it outlives its loop.
        warnings.simplefilter("ignore", ResourceWarning)

    def test_readuntil_limit_found_sep(self) -> None:
        # Port of test_streams.py::test_readuntil_limit_found_sep.
        response = run(
            """limit: 3
            steps { actions { feed_data { data: "some dataAA" } } }
            steps { actions { read { id: 1 readuntil { separator: "AAA" } } } }"""
        )
        second = response.trace.steps[1]
        self.assertEqual(second.completed[0].error.type, "LimitOverrunError")
        self.assertEqual(second.completed[0].error.consumed, 9)
        self.assertEqual(second.buffer, b"some dataAA")
        self.assertEqual(response.trace.implementation, "CPython 3.11.7")

    def test_grouped_actions_run_before_the_loop(self) -> None:
        # Feeding then cancelling in one step: the read is cancelled even
        # though its data arrived; in two steps it completes.
        grouped = run(
            """steps { actions { read { id: 1 readline {} } } }
            steps { actions { feed_data { data: "a\\n" } } actions { cancel: 1 } }"""
        )
        self.assertEqual(
            grouped.trace.steps[1].completed[0].error.type, "CancelledError"
        )
        split = run(
            """steps { actions { read { id: 1 readline {} } } }
            steps { actions { feed_data { data: "a\\n" } } }
            steps { actions { cancel: 1 } }"""
        )
        self.assertEqual(split.trace.steps[1].completed[0].value, b"a\n")

    def test_sync_error_stops_the_step(self) -> None:
        response = run(
            """steps { actions { feed_eof {} }
            actions { feed_data { data: "x" } } actions { feed_data { data: "y" } } }"""
        )
        step = response.trace.steps[0]
        self.assertEqual(step.error.type, "AssertionError")
        self.assertEqual(step.error.message, "feed_data after feed_eof")
        self.assertEqual(step.buffer, b"")
        self.assertTrue(step.at_eof)

    def test_pause_and_transport_calls(self) -> None:
        response = run(
            """limit: 2
            steps { actions { connection_made {} } actions { write { data: "w" } }
                    actions { data_received { pattern: "x" size: 5 } } }
            steps { actions { read { id: 1 read { n: 3 } } }
                    actions { transport_closing {} } actions { is_closing {} } }"""
        )
        first, second = response.trace.steps
        self.assertEqual(
            [c.WhichOneof("call") for c in first.transport_calls],
            ["write", "pause_reading"],
        )
        self.assertTrue(first.paused)
        self.assertEqual(
            [c.WhichOneof("call") for c in second.transport_calls],
            ["resume_reading"],
        )
        self.assertTrue(second.returned)
        self.assertFalse(second.paused)

    def test_cannot_pause_and_eof_received(self) -> None:
        response = run(
            """limit: 1
            steps { actions { connection_made { cannot_pause: true ssl: true } }
                    actions { data_received { data: "abc" } } actions { eof_received {} } }"""
        )
        step = response.trace.steps[0]
        self.assertEqual(len(step.transport_calls), 0)
        self.assertFalse(step.paused)
        self.assertFalse(step.returned)  # Over SSL.

    def test_errors_and_exceptions(self) -> None:
        response = run(
            """
            steps { actions { read { id: 1 readexactly { n: 5 } } } actions { feed_data { data: "ab" } } actions { feed_eof {} } }
            steps { actions { read { id: 2 anext {} } } }
            steps { actions { set_exception { type: "ConnectionResetError" message: "r" } }
                    actions { read { id: 3 read { n: -1 } } } }"""
        )
        first, second, third = response.trace.steps
        error = first.completed[0].error
        self.assertEqual(
            (error.type, error.partial, error.expected),
            ("IncompleteReadError", b"ab", 5),
        )
        self.assertEqual(second.completed[0].error.type, "StopAsyncIteration")
        self.assertEqual(third.completed[0].error.message, "r")
        self.assertTrue(third.exception_set)
        self.assertEqual(third.exception.type, "ConnectionResetError")

    def test_drain_and_wait_closed(self) -> None:
        response = run(
            """server_side: true
            steps { actions { connection_made {} } actions { pause_writing {} }
                    actions { drain: 1 } actions { wait_closed: 2 } }
            steps { actions { resume_writing {} } }
            steps { actions { connection_lost {} } }"""
        )
        first, second, third = response.trace.steps
        self.assertEqual(list(first.pending), [1, 2])
        self.assertTrue(second.completed[0].done)
        self.assertEqual(second.completed[0].id, 1)
        self.assertTrue(third.completed[0].done)
        self.assertTrue(third.at_eof)

    def test_task_awaits_in_order_and_yields_only_to_wait(self) -> None:
        # Task 100 reads two buffered lines without yielding, then waits;
        # task 200, started after it, runs only once 100 waits. A feed wakes
        # 100; cancel ends it at its next wait, and its last read never runs.
        response = run(
            """steps {
              actions { feed_data { data: "a\\nb\\nc\\n" } }
              actions { task { id: 100
                awaits { read { id: 1 readline {} } }
                awaits { read { id: 2 readline {} } }
                awaits { read { id: 3 read { n: 5 } } }
                awaits { read { id: 4 readline {} } }
                awaits { read { id: 5 readline {} } } } }
              actions { task { id: 200 awaits { feed_data { data: "d" } }
                awaits { sleep0 {} } } } }
            steps { actions { feed_data { data: "\\n" } } }
            steps { actions { cancel: 100 } }"""
        )
        first, second, third = response.trace.steps
        self.assertEqual(
            [(c.id, c.value) for c in first.completed],
            [(1, b"a\n"), (2, b"b\n"), (3, b"c\n"), (200, b"")],
        )
        self.assertTrue(first.completed[-1].done)
        self.assertEqual(list(first.pending), [4, 100])
        self.assertEqual(first.buffer, b"d")
        self.assertEqual(
            [(c.id, c.value) for c in second.completed], [(4, b"d\n")]
        )
        self.assertEqual(list(second.pending), [5, 100])
        self.assertEqual(
            [(c.id, c.error.type) for c in third.completed],
            [(5, "CancelledError"), (100, "CancelledError")],
        )
        self.assertEqual(list(third.pending), [])

    def test_task_errors_and_cancel_before_start(self) -> None:
        response = run(
            """limit: 2
            steps { actions { feed_data { data: "abc\\n" } }
              actions { task { id: 100
                awaits { read { id: 1 readline {} } }
                awaits { feed_eof {} }
                awaits { read { id: 2 readexactly { n: 1 } } }
                awaits { feed_data { data: "x" } }
                awaits { read { id: 3 readline {} } } } } }
            steps { actions { task { id: 200 awaits { sleep0 {} } } }
              actions { cancel: 200 } }"""
        )
        first, second = response.trace.steps
        self.assertEqual(
            [(c.id, c.error.type) for c in first.completed],
            [
                (1, "ValueError"),
                (2, "IncompleteReadError"),
                (100, "AssertionError"),
            ],
        )
        self.assertEqual(
            [(c.id, c.error.type) for c in second.completed],
            [(200, "CancelledError")],
        )
        self.assertIn(
            "connection_made",
            run(
                "steps { actions { task { id: 1 awaits { drain: 2 } } } }"
            ).skipped,
        )

    def test_skipped_and_unknown(self) -> None:
        self.assertIn(
            "connection_made", run("steps { actions { write {} } }").skipped
        )
        self.assertIn(
            "NoSuchError",
            run(
                'steps { actions { set_exception { type: "NoSuchError" } } }'
            ).skipped,
        )
        self.assertEqual(
            len(run("steps { actions { cancel: 9 } }").trace.steps), 1
        )


if __name__ == "__main__":
    unittest.main()
