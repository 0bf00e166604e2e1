"""Tests for conformance/payload.py: expansion of Bytes, and its limits."""

import unittest

import _path  # noqa: F401

from conformance import payload
from conformance import scenario_pb2 as pb


class PayloadTest(unittest.TestCase):
    def test_expand(self) -> None:
        self.assertEqual(payload.expand(pb.Bytes(data=b"ab\n")), b"ab\n")
        self.assertEqual(
            payload.expand(pb.Bytes(pattern=b"xy", size=5, data=b"\n")),
            b"xyxyx\n",
        )
        self.assertEqual(
            payload.expanded_size(pb.Bytes(pattern=b"xy", size=5, data=b"\n")),
            6,
        )

    def test_invalid(self) -> None:
        with self.assertRaisesRegex(
            payload.PayloadError, "^Bytes.size is negative: -2$"
        ):
            payload.expand(pb.Bytes(pattern=b"x", size=-2))
        with self.assertRaisesRegex(
            payload.PayloadError,
            "^Bytes.size is set but Bytes.pattern " "is empty$",
        ):
            payload.expand(pb.Bytes(size=1))

    def test_one_bytes_limit(self) -> None:
        limit = payload.MAX_PAYLOAD_BYTES
        self.assertEqual(
            payload.expanded_size(
                pb.Bytes(pattern=b"x", size=limit - 1, data=b"\n")
            ),
            limit,
        )
        with self.assertRaisesRegex(
            payload.PayloadError,
            "^Bytes expands to 67108865 bytes, more "
            "than the limit of 67108864 for one Bytes$",
        ):
            payload.expanded_size(
                pb.Bytes(pattern=b"x", size=limit, data=b"\n")
            )

    def test_request_limit(self) -> None:
        scenario = pb.Scenario()
        step = scenario.steps.add()
        for _ in range(4):
            step.actions.add().write.CopyFrom(
                pb.Bytes(pattern=b"x", size=payload.MAX_PAYLOAD_BYTES)
            )
        payload.check_scenario(scenario)  # 256 MiB exactly: allowed.
        entry = scenario.steps.add().actions.add().task.awaits.add()
        entry.feed_data.data = b"!"
        with self.assertRaisesRegex(
            payload.PayloadError,
            "^step 2, action 1: the request's "
            "payloads expand to more than 268435456 bytes in all$",
        ):
            payload.check_scenario(scenario)


if __name__ == "__main__":
    unittest.main()
