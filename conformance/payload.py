"""Expansion of the schema's `Bytes` message into the bytes it stands for.

A `Bytes` is at most MAX_PAYLOAD_BYTES once expanded, and all the `Bytes` of
a request at most MAX_REQUEST_PAYLOAD_BYTES in all: a 30-byte request could
otherwise ask a testee for gigabytes. conformance/wire.h is the C++ testee's
twin of this module, with the same limits and messages, so both testees
refuse the same request in the same words.
"""

from typing import Any, List

# conformance/wire.h: kMaxPayloadBytes, kMaxRequestPayloadBytes.
MAX_PAYLOAD_BYTES = 64 << 20
MAX_REQUEST_PAYLOAD_BYTES = 256 << 20


class PayloadError(ValueError):
    """A `Bytes` message that describes no bytes (size without pattern, a
    negative size), or too many."""


def expanded_size(message: Any) -> int:
    """size + len(data), checked; PayloadError if invalid or too large.

    `message` is a streams.conformance.Bytes.
    """
    size = message.size
    if size < 0:
        raise PayloadError(f"Bytes.size is negative: {size}")
    if size and not message.pattern:
        raise PayloadError("Bytes.size is set but Bytes.pattern is empty")
    total = size + len(message.data)
    if total > MAX_PAYLOAD_BYTES:
        raise PayloadError(
            f"Bytes expands to {total} bytes, more than the "
            f"limit of {MAX_PAYLOAD_BYTES} for one Bytes"
        )
    return total


def expand(message: Any) -> bytes:
    """Returns `pattern` repeated and cut to `size` bytes, then `data`.

    `message` is a streams.conformance.Bytes; PayloadError as expanded_size.
    """
    expanded_size(message)
    size = message.size
    pattern = message.pattern
    head = b""
    if size:
        head = (pattern * (size // len(pattern) + 1))[:size]
    return head + message.data


def check_scenario(scenario: Any) -> None:
    """Checks every payload of a scenario's actions, and their sum.

    Raises PayloadError naming the first bad one: "step 2, action 1: ...".
    """
    total = 0
    for step_number, step in enumerate(scenario.steps, 1):
        for action_number, action in enumerate(step.actions, 1):
            where = f"step {step_number}, action {action_number}"
            for data in payloads_of(action):
                try:
                    total += expanded_size(data)
                except PayloadError as exc:
                    raise PayloadError(f"{where}: {exc}") from exc
                if total > MAX_REQUEST_PAYLOAD_BYTES:
                    raise PayloadError(
                        f"{where}: the request's payloads expand to more "
                        f"than {MAX_REQUEST_PAYLOAD_BYTES} bytes in all"
                    )


def payloads_of(action: Any) -> List[Any]:
    """The `Bytes` messages an `Action` carries (feeds, writes, and the feeds
    of a task)."""
    kind = action.WhichOneof("action")
    if kind in ("feed_data", "data_received", "write"):
        return [getattr(action, kind)]
    if kind == "writelines":
        return list(action.writelines.lines)
    if kind == "task":
        return [
            entry.feed_data
            for entry in action.task.awaits
            if entry.WhichOneof("kind") == "feed_data"
        ]
    return []
