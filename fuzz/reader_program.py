"""reader_fuzz's inputs as programs, and programs as conformance scenarios.

fuzz/reader_fuzz.cc reads its input as a program; `decode` reads it the same
way (the grammar is in fuzz/README.md; the two must stay in step), so that
a fuzzer input can be shown (`describe`), turned into a scenario for both
testees (`to_scenario`, used by fuzz/differential.py), or written by hand
(`encode`, used by fuzz/make_corpus.py).

The scenario keeps what the schema can say: feeds, EOF, exceptions, a
transport that can or cannot pause, reads as their own tasks, tasks
awaiting reads, and terminal cancellation; each "run until idle" or "run one
handler" ends a step. It differs from the fuzzer's run in two ways, both
documented in fuzz/README.md: a scenario's step always runs until idle, and
feeds are delivered even while the transport is paused (the fuzzer's
transport holds them back, as a real one would).
"""

import dataclasses
from typing import Any, Iterator, List, Optional, Tuple

ALPHABET = b"\nabAZx-\r"
SEPARATORS = (b"\n", b"a", b"ab", b"AZ", b"--", b"\r\n", b"", b"xxx")
READ_KINDS = ("readline", "readuntil", "read", "readexactly", "anext")
OPS = (
    "feed_text",
    "feed_run",
    "feed_eof",
    "set_exception",
    "set_transport",
    "read",
    "task",
    "cancel",
    "run_until_idle",
    "run_one",
)
CANCEL_TYPES = ("terminal", "partial", "total")
ENDINGS = ("cancel all", "cancel all", "destroy reader", "destroy io_context")


class _Input:
    """The fuzzer's bytes, one at a time; 0 once they run out."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def empty(self) -> bool:
        return self.position >= len(self.data)

    def byte(self) -> int:
        if self.empty():
            return 0
        value = self.data[self.position]
        self.position += 1
        return value


def _int8(value: int) -> int:
    return value - 256 if value >= 128 else value


# set_exception's argument: (type, message, partial, expected, consumed).
ExceptionSpec = Tuple[str, str, Optional[bytes], Optional[int], Optional[int]]


@dataclasses.dataclass
class Read:
    kind: str
    separator: bytes = b""  # readuntil
    n: int = 0  # read, readexactly


@dataclasses.dataclass
class Op:
    name: str  # one of OPS
    data: bytes = b""  # feeds
    exception: ExceptionSpec = ("", "", None, None, None)
    cannot_pause: bool = False  # set_transport
    reads: List[Read] = dataclasses.field(default_factory=list)
    target: int = 0  # cancel: byte
    cancel_type: str = "terminal"  # cancel


@dataclasses.dataclass
class Program:
    limit: int
    ending: str
    ops: List[Op]


def _read(stream: _Input) -> Read:
    kind = READ_KINDS[stream.byte() % 5]
    if kind == "readuntil":
        return Read(kind, separator=SEPARATORS[stream.byte() % 8])
    if kind in ("read", "readexactly"):
        return Read(kind, n=_int8(stream.byte()))
    return Read(kind)


def _exception(stream: _Input) -> ExceptionSpec:
    """(type, message, partial, expected, consumed), as reader_fuzz.cc."""
    kind = stream.byte() % 6
    argument = stream.byte()
    if kind == 0:
        return ("ValueError", "boom", None, None, None)
    if kind == 1:
        return ("ConnectionResetError", "reset", None, None, None)
    if kind == 2:
        return ("RuntimeError", "rt", None, None, None)
    if kind == 3:
        return ("CancelledError", "", None, None, None)
    if kind == 4:
        return (
            "IncompleteReadError",
            "",
            b"p" * (argument % 4),
            argument % 4 + 1,
            None,
        )
    return ("LimitOverrunError", "over", None, None, argument % 8)


# The first byte of reader_fuzz's extended inputs (ReaderOptions and the
# zero-copy reads; reader_fuzz.cc: Run()), which this module does not
# decode: the scenario schema has no reader options.
EXTENDED_MARKER = 0xFF


def is_extended(data: bytes) -> bool:
    """Whether `data` is an extended input, which decode() refuses."""
    return data[:1] == bytes([EXTENDED_MARKER])


def decode(data: bytes) -> Program:
    """Reads a reader_fuzz input exactly as reader_fuzz.cc does (not an
    extended one: ValueError)."""
    if is_extended(data):
        raise ValueError("an extended reader_fuzz input (ReaderOptions)")
    stream = _Input(data)
    header = stream.byte()
    program = Program(1 + header % 64, ENDINGS[(header >> 6) & 3], [])
    while not stream.empty():
        name = OPS[stream.byte() % 10]
        op = Op(name)
        if name == "feed_text":
            count = stream.byte() % 16
            op.data = bytes(ALPHABET[stream.byte() % 8] for _ in range(count))
        elif name == "feed_run":
            count = stream.byte()
            char = ALPHABET[stream.byte() % 8]
            op.data = bytes([char]) * count
            if stream.byte() & 1:
                op.data += b"\n"
        elif name == "set_exception":
            op.exception = _exception(stream)
        elif name == "set_transport":
            op.cannot_pause = bool(stream.byte() & 1)
        elif name == "read":
            op.reads = [_read(stream)]
        elif name == "task":
            count = 1 + stream.byte() % 3
            op.reads = [_read(stream) for _ in range(count)]
        elif name == "cancel":
            op.target = stream.byte()
            op.cancel_type = CANCEL_TYPES[stream.byte() % 3]
        program.ops.append(op)
    return program


# -- Writing programs (for seeds) --------------------------------------------


def _encode_read(read: Read) -> bytes:
    out = bytes([READ_KINDS.index(read.kind)])
    if read.kind == "readuntil":
        out += bytes([SEPARATORS.index(read.separator)])
    elif read.kind in ("read", "readexactly"):
        out += bytes([read.n & 0xFF])
    return out


def encode(program: Program) -> bytes:
    """The input that decodes to `program` (feeds: bytes of ALPHABET only;
    feed_run: one byte repeated, then an optional b"\\n")."""
    header = (program.limit - 1) % 64 | ENDINGS.index(program.ending) << 6
    out = bytearray([header])
    for op in program.ops:
        out.append(OPS.index(op.name))
        if op.name == "feed_text":
            assert len(op.data) < 16, op
            out.append(len(op.data))
            out.extend(ALPHABET.index(byte) for byte in op.data)
        elif op.name == "feed_run":
            body = (
                op.data[:-1]
                if op.data.endswith(b"\n")
                and len(set(op.data[:-1])) <= 1
                and op.data[:1] != b"\n"
                else op.data
            )
            newline = len(body) != len(op.data)
            assert len(set(body)) <= 1 and len(body) < 256, op
            out.append(len(body))
            out.append(ALPHABET.index(body[0]) if body else 0)
            out.append(1 if newline else 0)
        elif op.name == "set_exception":
            kinds = (
                "ValueError",
                "ConnectionResetError",
                "RuntimeError",
                "CancelledError",
                "IncompleteReadError",
                "LimitOverrunError",
            )
            kind, _, partial, _, consumed = op.exception
            argument = (
                len(partial or b"")
                if kind == "IncompleteReadError"
                else (consumed or 0)
            )
            out.extend([kinds.index(kind), argument])
        elif op.name == "set_transport":
            out.append(1 if op.cannot_pause else 0)
        elif op.name == "read":
            out.extend(_encode_read(op.reads[0]))
        elif op.name == "task":
            out.append(len(op.reads) - 1)
            for read in op.reads:
                out.extend(_encode_read(read))
        elif op.name == "cancel":
            out.extend([op.target, CANCEL_TYPES.index(op.cancel_type)])
    return bytes(out)


# -- Showing and converting ---------------------------------------------------


def _ids(program: Program) -> Iterator[Tuple[Op, List[int]]]:
    """Each op with the ids it allocates (a task: its own, then its
    reads'), numbered from 1 as reader_fuzz.cc numbers them."""
    next_id = 1
    for op in program.ops:
        ids: List[int] = []
        if op.name == "read":
            ids = [next_id]
        elif op.name == "task":
            ids = list(range(next_id, next_id + 1 + len(op.reads)))
        next_id += len(ids)
        yield op, ids


def _show_read(read: Read) -> str:
    if read.kind == "readuntil":
        return f"readuntil({read.separator!r})"
    if read.kind in ("read", "readexactly"):
        return f"{read.kind}({read.n})"
    return f"{read.kind}()"


def describe(program: Program) -> str:
    """One line per op, with the ids the C++ side gives them."""
    lines = [f"limit {program.limit}, ending: {program.ending}"]
    count = 0
    for op, ids in _ids(program):
        count += len(ids)
        if op.name in ("feed_text", "feed_run"):
            text = f"feed_data({op.data!r})"
        elif op.name == "set_exception":
            text = f"set_exception{op.exception}"
        elif op.name == "set_transport":
            text = f"set_transport(cannot_pause={op.cannot_pause})"
        elif op.name == "read":
            text = f"read #{ids[0]} {_show_read(op.reads[0])}"
        elif op.name == "task":
            reads = ", ".join(
                f"#{op_id} {_show_read(read)}"
                for op_id, read in zip(ids[1:], op.reads)
            )
            text = f"task #{ids[0]} awaits {reads}"
        elif op.name == "cancel":
            target = op.target % count + 1 if count else None
            text = f"cancel #{target} ({op.cancel_type})"
        else:
            text = op.name
        lines.append("  " + text)
    return "\n".join(lines)


def to_scenario(program: Program, name: str) -> Any:
    """The program as a conformance Scenario (see the module docstring)."""
    from conformance import scenario_pb2 as pb

    scenario = pb.Scenario(name=name, limit=program.limit)
    scenario.description = (
        "From a reader_fuzz input by "
        "fuzz/differential.py:\n" + describe(program)
    )
    step = pb.Step()
    count = 0
    for op, ids in _ids(program):
        count += len(ids)
        action = pb.Action()
        if op.name in ("feed_text", "feed_run"):
            action.feed_data.data = op.data
        elif op.name == "feed_eof":
            action.feed_eof.SetInParent()
        elif op.name == "set_exception":
            kind, message, partial, expected, consumed = op.exception
            error = action.set_exception
            error.type = kind
            error.message = message
            if partial is not None:
                error.partial = partial
            if expected is not None:
                error.expected = expected
            if consumed is not None:
                error.consumed = consumed
        elif op.name == "set_transport":
            action.set_transport.cannot_pause = op.cannot_pause
        elif op.name == "read":
            _fill_read(action.read, ids[0], op.reads[0])
        elif op.name == "task":
            action.task.id = ids[0]
            for op_id, read in zip(ids[1:], op.reads):
                _fill_read(action.task.awaits.add().read, op_id, read)
        elif op.name == "cancel":
            if not count:
                continue
            action.cancel = op.target % count + 1
        else:  # run_until_idle, run_one: the step ends.
            scenario.steps.add().CopyFrom(step)
            step = pb.Step()
            continue
        step.actions.add().CopyFrom(action)
    if step.actions:
        scenario.steps.add().CopyFrom(step)
    return scenario


def _fill_read(message: Any, op_id: int, read: Read) -> None:
    message.id = op_id
    if read.kind == "readline":
        message.readline.SetInParent()
    elif read.kind == "readuntil":
        message.readuntil.separator = read.separator
    elif read.kind == "read":
        message.read.n = read.n
    elif read.kind == "readexactly":
        message.readexactly.n = read.n
    else:
        message.anext.SetInParent()


if __name__ == "__main__":
    import sys

    for path in sys.argv[1:]:
        with open(path, "rb") as file:
            print(f"{path}:\n{describe(decode(file.read()))}")
