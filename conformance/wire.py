"""Length-prefixed framing between the harness and a testee.

Each message on the pipe is a 4-byte little-endian length followed by that
many bytes of a serialized protobuf message (the framing of protobuf's own
conformance tests). See the bottom of conformance/scenario.proto.

A frame is at most MAX_FRAME_BYTES long, in both directions, so a forged
length prefix cannot make either side allocate gigabytes. conformance/wire.h
is the C++ testee's twin of this module, with the same limit and messages.
"""

import struct
from typing import BinaryIO, Optional

_LENGTH = struct.Struct("<I")

# The largest frame either side sends or accepts (conformance/wire.h:
# kMaxFrameBytes).
MAX_FRAME_BYTES = 64 << 20


class WireError(Exception):
    """A truncated frame, or one longer than MAX_FRAME_BYTES."""


def _too_long(length: int) -> WireError:
    return WireError(
        f"frame of {length} bytes exceeds the limit of "
        f"{MAX_FRAME_BYTES} bytes"
    )


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    """Writes one frame and flushes; WireError (nothing written) if the
    payload is over MAX_FRAME_BYTES."""
    if len(payload) > MAX_FRAME_BYTES:
        raise _too_long(len(payload))
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


# Payloads are read in pieces of at most this size, so a prefix that claims
# more than the input holds costs what the input holds.
_READ_CHUNK = 1 << 20


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    remaining = n
    while remaining:
        chunk = stream.read(min(remaining, _READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Optional[bytes]:
    """Reads one frame; returns None at a clean EOF (before any byte).

    WireError when the input ends inside a frame, or when the length prefix
    is over MAX_FRAME_BYTES (nothing of the payload is read then).
    """
    header = _read_exactly(stream, _LENGTH.size)
    if not header:
        return None
    if len(header) < _LENGTH.size:
        raise WireError(f"truncated length prefix ({len(header)} of 4 bytes)")
    (length,) = _LENGTH.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise _too_long(length)
    payload = _read_exactly(stream, length)
    if len(payload) < length:
        raise WireError(f"truncated frame ({len(payload)} of {length} bytes)")
    return payload
