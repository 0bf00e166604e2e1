"""Tests for conformance/compare.py: expectation semantics."""

import unittest

import _path  # noqa: F401

from conformance import compare
from conformance import scenario_pb2 as pb


def observed() -> pb.Observation:
    observation = pb.Observation(
        buffer=b"ab",
        buffer_size=2,
        at_eof=False,
        exception_set=False,
        paused=False,
    )
    observation.completed.add(
        id=1,
        error=pb.Error(
            type="LimitOverrunError",
            message="Separator is found, but chunk is " "longer than limit",
            consumed=9,
        ),
    )
    return observation


class DiffExpectationTest(unittest.TestCase):
    def fields(self, expect: pb.Observation) -> list:
        return [d.field for d in compare.diff_expectation(expect, observed())]

    def test_state_is_compared_only_when_expected(self) -> None:
        expect = pb.Observation()
        expect.completed.extend(observed().completed)
        self.assertEqual(self.fields(expect), [])
        expect.buffer = b"a"
        expect.paused = True
        self.assertEqual(self.fields(expect), ["buffer", "paused"])

    def test_always_compared_fields(self) -> None:
        expect = pb.Observation()
        self.assertEqual(self.fields(expect), ["completed"])
        expect.completed.extend(observed().completed)
        expect.pending.append(3)
        expect.returned = False
        expect.error.type = "ValueError"
        self.assertEqual(self.fields(expect), ["pending", "error", "returned"])

    def test_empty_expected_message_matches_any_message(self) -> None:
        expect = pb.Observation()
        expect.completed.add(
            id=1, error=pb.Error(type="LimitOverrunError", consumed=9)
        )
        self.assertEqual(self.fields(expect), [])
        expect.completed[0].error.consumed = 8
        self.assertEqual(self.fields(expect), ["completed"])
        expect.completed[0].error.consumed = 9
        expect.completed[0].error.message = "other"
        self.assertEqual(self.fields(expect), ["completed"])

    def test_error_presence_details_matter(self) -> None:
        expected = pb.Error(type="IncompleteReadError", partial=b"")
        actual = pb.Error(
            type="IncompleteReadError", message="m", partial=b"", expected=3
        )
        self.assertFalse(compare.error_matches(expected, actual))
        expected.expected = 3
        self.assertTrue(compare.error_matches(expected, actual))
        self.assertFalse(compare.error_matches(None, actual))
        self.assertTrue(compare.error_matches(None, None))


class DiffExactTest(unittest.TestCase):
    def test_every_field(self) -> None:
        first = observed()
        second = observed()
        self.assertEqual(compare.diff_exact(first, second), [])
        second.completed[0].error.message = ""
        second.ClearField("paused")
        self.assertEqual(
            [d.field for d in compare.diff_exact(first, second)],
            ["completed", "paused"],
        )


class RecordedExpectationTest(unittest.TestCase):
    def test_small_and_large_buffers(self) -> None:
        expect = compare.recorded_expectation(observed())
        self.assertTrue(expect.HasField("buffer"))
        self.assertFalse(expect.HasField("buffer_size"))
        self.assertEqual(compare.diff_expectation(expect, observed()), [])
        big = observed()
        big.buffer = b"x" * 65
        big.buffer_size = 65
        expect = compare.recorded_expectation(big)
        self.assertFalse(expect.HasField("buffer"))
        self.assertEqual(expect.buffer_size, 65)


class ValueBytesTest(unittest.TestCase):
    def test_long_regular_value_is_recorded_as_bytes_and_matches(self) -> None:
        value = b"x" * 65536 + b"\n"
        seen = pb.Observation(
            buffer=b"",
            buffer_size=0,
            at_eof=False,
            exception_set=False,
            paused=False,
        )
        seen.completed.add(id=1, value=value)
        expect = compare.recorded_expectation(seen)
        written = expect.completed[0]
        self.assertFalse(written.HasField("value"))
        self.assertEqual(
            written.value_bytes, pb.Bytes(pattern=b"x", size=65536, data=b"\n")
        )
        self.assertEqual(compare.diff_expectation(expect, seen), [])
        seen.completed[0].value = value + b"!"
        self.assertEqual(
            [d.field for d in compare.diff_expectation(expect, seen)],
            ["completed"],
        )

    def test_irregular_or_short_values_stay_verbatim(self) -> None:
        self.assertIsNone(compare.compact_bytes(bytes(range(256)) * 2))
        self.assertEqual(
            compare.compact_bytes(b"abcabcabcabcXY"),
            pb.Bytes(pattern=b"abc", size=12, data=b"XY"),
        )
        seen = pb.Observation()
        seen.completed.add(id=1, value=b"x" * 100)
        self.assertTrue(
            compare.recorded_expectation(seen).completed[0].HasField("value")
        )


if __name__ == "__main__":
    unittest.main()
