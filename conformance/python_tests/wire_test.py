"""Tests for conformance/wire.py: length-prefixed framing."""

import io
import unittest

import _path  # noqa: F401

from conformance import wire


class WireTest(unittest.TestCase):
    def test_round_trip(self) -> None:
        stream = io.BytesIO()
        wire.write_frame(stream, b"hello")
        wire.write_frame(stream, b"")
        self.assertEqual(stream.getvalue()[:4], b"\x05\x00\x00\x00")
        stream.seek(0)
        self.assertEqual(wire.read_frame(stream), b"hello")
        self.assertEqual(wire.read_frame(stream), b"")
        self.assertIsNone(wire.read_frame(stream))

    def test_large_frame_is_little_endian(self) -> None:
        stream = io.BytesIO()
        wire.write_frame(stream, b"x" * 70000)
        self.assertEqual(stream.getvalue()[:4], (70000).to_bytes(4, "little"))

    def test_truncated_prefix(self) -> None:
        with self.assertRaises(wire.WireError):
            wire.read_frame(io.BytesIO(b"\x05\x00"))

    def test_truncated_payload(self) -> None:
        with self.assertRaises(wire.WireError):
            wire.read_frame(io.BytesIO(b"\x05\x00\x00\x00abc"))

    def test_oversized_prefix_reads_no_payload(self) -> None:
        stream = io.BytesIO(b"\xff\xff\xff\xffpayload")
        with self.assertRaisesRegex(
            wire.WireError,
            "^frame of 4294967295 bytes exceeds the limit "
            "of 67108864 bytes$",
        ):
            wire.read_frame(stream)
        self.assertEqual(stream.tell(), 4)

    def test_largest_frame_is_accepted(self) -> None:
        prefix = wire.MAX_FRAME_BYTES.to_bytes(4, "little")
        with self.assertRaisesRegex(
            wire.WireError, r"^truncated frame \(1 of"
        ):
            wire.read_frame(io.BytesIO(prefix + b"x"))

    def test_oversized_write_writes_nothing(self) -> None:
        stream = io.BytesIO()
        with self.assertRaises(wire.WireError):
            wire.write_frame(stream, bytes(wire.MAX_FRAME_BYTES + 1))
        self.assertEqual(stream.getvalue(), b"")


if __name__ == "__main__":
    unittest.main()
