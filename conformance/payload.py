"""Expansion of the schema's `Bytes` message into the bytes it stands for."""

from typing import Any, List


class PayloadError(ValueError):
    """A `Bytes` message that describes no bytes (size without pattern)."""


def expand(message: Any) -> bytes:
    """Returns `pattern` repeated and cut to `size` bytes, then `data`.

    `message` is a streams.conformance.Bytes.
    """
    size = message.size
    pattern = message.pattern
    if size < 0:
        raise PayloadError(f"Bytes.size is negative: {size}")
    if size and not pattern:
        raise PayloadError("Bytes.size is set but Bytes.pattern is empty")
    head = b""
    if size:
        head = (pattern * (size // len(pattern) + 1))[:size]
    return head + message.data


def payloads_of(action: Any) -> List[Any]:
    """The `Bytes` messages an `Action` carries (feeds, writes, and the feeds
    of a task)."""
    kind = action.WhichOneof("action")
    if kind in ("feed_data", "data_received", "write"):
        return [getattr(action, kind)]
    if kind == "writelines":
        return list(action.writelines.lines)
    if kind == "task":
        return [entry.feed_data for entry in action.task.awaits
                if entry.WhichOneof("kind") == "feed_data"]
    return []
