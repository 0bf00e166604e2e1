"""Length-prefixed framing between the harness and a testee.

Each message on the pipe is a 4-byte little-endian length followed by that
many bytes of a serialized protobuf message (the framing of protobuf's own
conformance tests). See the bottom of conformance/scenario.proto.
"""

import struct
from typing import BinaryIO, Optional

_LENGTH = struct.Struct("<I")


class WireError(Exception):
    """The peer sent a truncated frame."""


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    """Writes one frame and flushes."""
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    remaining = n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Optional[bytes]:
    """Reads one frame; returns None at a clean EOF (before any byte)."""
    header = _read_exactly(stream, _LENGTH.size)
    if not header:
        return None
    if len(header) < _LENGTH.size:
        raise WireError(f"truncated length prefix ({len(header)} of 4 bytes)")
    (length,) = _LENGTH.unpack(header)
    payload = _read_exactly(stream, length)
    if len(payload) < length:
        raise WireError(f"truncated frame ({len(payload)} of {length} bytes)")
    return payload
