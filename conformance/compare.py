"""Comparing what a testee observed with what a scenario expects.

Compared always (empty or unset means none): completed, pending,
transport_calls, error, returned, actions (schema v2's per-action results),
warnings and logged (the loop's exception handler calls).
Compared only when the expectation sets them: the reader's state (buffer,
buffer_size, at_eof, exception, exception_set, paused) and writer_closing;
the same holds for the state an `observe` action reports
(ActionResult.state): only the fields the expectation sets.

In an expected Error, `message` is compared only when it is not empty, so a
hand-written expectation may name just the type and details
(`error { type: "LimitOverrunError" consumed: 9 }`); recorded expectations
always carry the message. Differential runs compare everything.
"""

import dataclasses
from typing import Any, List, Optional

from conformance import payload
from conformance import scenario_pb2 as pb

ALWAYS = (
    "completed",
    "pending",
    "transport_calls",
    "error",
    "returned",
    "actions",
    "warnings",
    "logged",
)
STATE = (
    "buffer",
    "buffer_size",
    "at_eof",
    "exception",
    "exception_set",
    "paused",
    "writer_closing",
    "writing_paused",
    "connection_lost",
)
ALL = ALWAYS + STATE


@dataclasses.dataclass
class Difference:
    field: str  # An Observation field name.
    expected: Any  # The field's value in the expectation (None: unset).
    observed: Any  # ... and in the observation.


def field_value(observation: pb.Observation, name: str) -> Any:
    """A field's value: a list for repeated fields, None when unset."""
    field = observation.DESCRIPTOR.fields_by_name[name]
    if field.label == field.LABEL_REPEATED:
        return list(getattr(observation, name))
    if not observation.HasField(name):
        return None
    return getattr(observation, name)


def error_matches(
    expected: Optional[pb.Error], observed: Optional[pb.Error]
) -> bool:
    """Whether an observed Error satisfies an expected one."""
    if expected is None or observed is None:
        return expected is None and observed is None
    if expected.message:
        return expected == observed
    relaxed = pb.Error()
    relaxed.CopyFrom(observed)
    relaxed.message = ""
    return expected == relaxed


def _completion_matches(
    expected: pb.Completion, observed: pb.Completion
) -> bool:
    if expected.HasField("value_bytes"):
        written = pb.Completion()
        written.CopyFrom(expected)
        written.value = payload.expand(expected.value_bytes)
        written.ClearField("value_bytes")
        expected = written
    if expected.HasField("error") and observed.HasField("error"):
        other = pb.Completion()
        other.CopyFrom(observed)
        other.error.CopyFrom(expected.error)
        return (other == expected) and error_matches(
            expected.error, observed.error
        )
    return expected == observed


def _state_matches(expected: Any, observed: Any) -> bool:
    """An observe snapshot: only the state fields `expected` sets."""
    for name in STATE:
        expected_value = field_value(expected, name)
        if expected_value is not None and not _field_matches(
            name, expected_value, field_value(observed, name)
        ):
            return False
    return True


def _action_matches(expected: Any, observed: Any) -> bool:
    return (
        error_matches(
            field_value(expected, "error"), field_value(observed, "error")
        )
        and field_value(expected, "returned")
        == field_value(observed, "returned")
        and _state_matches(expected.state, observed.state)
    )


def _field_matches(name: str, expected: Any, observed: Any) -> bool:
    if name in ("error", "exception"):
        return error_matches(expected, observed)
    if name == "actions":
        return len(expected) == len(observed) and all(
            _action_matches(e, o) for e, o in zip(expected, observed)
        )
    if name == "completed":
        return len(expected) == len(observed) and all(
            _completion_matches(e, o) for e, o in zip(expected, observed)
        )
    return expected == observed


def diff_expectation(
    expect: pb.Observation, observed: pb.Observation
) -> List[Difference]:
    """The fields where `observed` does not satisfy `expect`."""
    differences = []
    for name in ALL:
        expected_value = field_value(expect, name)
        if name in STATE and expected_value is None:
            continue
        observed_value = field_value(observed, name)
        if not _field_matches(name, expected_value, observed_value):
            differences.append(
                Difference(name, expected_value, observed_value)
            )
    return differences


def diff_exact(
    first: pb.Observation, second: pb.Observation
) -> List[Difference]:
    """Every field where two observations differ (differential mode)."""
    differences = []
    for name in ALL:
        first_value = field_value(first, name)
        second_value = field_value(second, name)
        if first_value != second_value:
            differences.append(Difference(name, first_value, second_value))
    return differences


def compact_bytes(data: bytes, max_tail: int = 64) -> Optional[pb.Bytes]:
    """`data` as a Bytes message, a short pattern repeated then a tail of at
    most `max_tail` bytes, when it is that regular; else None."""
    best = None
    for period in range(1, min(16, len(data) - 1) + 1):
        pattern = data[:period]
        length = period
        while length < len(data) and data[length] == pattern[length % period]:
            length += 1
        # A pattern repeated at least twice; the shortest for the longest run.
        if (
            length >= 2 * period
            and len(data) - length <= max_tail
            and (best is None or length > best[1])
        ):
            best = (pattern, length)
    if best is None:
        return None
    pattern, length = best
    return pb.Bytes(pattern=pattern, size=length, data=data[length:])


def _recorded_state(expect: Any, observed: Any, max_buffer: int) -> None:
    """The reader's state: `buffer` when it is at most `max_buffer` bytes
    long, else `buffer_size`; at_eof, exception_set, exception, paused."""
    if len(observed.buffer) <= max_buffer:
        expect.buffer = observed.buffer
    else:
        expect.buffer_size = observed.buffer_size
    expect.at_eof = observed.at_eof
    expect.exception_set = observed.exception_set
    if observed.HasField("exception"):
        expect.exception.CopyFrom(observed.exception)
    expect.paused = observed.paused


def _recorded_action(observed: Any, max_buffer: int) -> Any:
    """An ActionResult as recorded: its state as a step's, plus
    writer_closing when the writer exists."""
    expect = pb.ActionResult()
    if observed.HasField("error"):
        expect.error.CopyFrom(observed.error)
    if observed.HasField("returned"):
        expect.returned = observed.returned
    if observed.HasField("state"):
        _recorded_state(expect.state, observed.state, max_buffer)
        for name in ("writer_closing", "writing_paused", "connection_lost"):
            if observed.state.HasField(name):
                setattr(expect.state, name, getattr(observed.state, name))
    return expect


def recorded_expectation(
    observed: pb.Observation, max_buffer: int = 64
) -> pb.Observation:
    """The expectation the record tool writes for an observation.

    Everything compared always, plus the reader's state: `buffer` when it is
    at most `max_buffer` bytes long, else `buffer_size`. A completed value
    longer than 256 bytes is written as `value_bytes` when it is regular.
    (writer_closing, writing_paused and connection_lost are recorded in
    `observe` snapshots only, so files recorded before schema v2 stay as
    they are.)
    """
    expect = pb.Observation()
    for completion in observed.completed:
        written = expect.completed.add()
        written.CopyFrom(completion)
        if len(completion.value) > 256:
            compact = compact_bytes(completion.value)
            if compact is not None:
                written.ClearField("value")
                written.value_bytes.CopyFrom(compact)
    expect.pending.extend(observed.pending)
    expect.transport_calls.extend(observed.transport_calls)
    expect.warnings.extend(observed.warnings)
    expect.logged.extend(observed.logged)
    if observed.HasField("error"):
        expect.error.CopyFrom(observed.error)
    if observed.HasField("returned"):
        expect.returned = observed.returned
    for action in observed.actions:
        expect.actions.append(_recorded_action(action, max_buffer))
    _recorded_state(expect, observed, max_buffer)
    return expect
