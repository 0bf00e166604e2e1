"""A seeded random generator of scenarios, for differential runs.

generate(seed, count, families) returns `count` Scenario messages; the same
seed always gives the same scenarios. The scenarios lean towards the corners
of asyncio's streams: tiny limits, data made of separators, payloads around
twice the limit (where the reader pauses its transport), every read kind,
cancellation of pending and finished operations, exceptions of several types,
feeding after EOF, protocol events, writer calls, and several actions grouped
in one step (no loop iteration between them).

Every step gets an empty `expect`: differential runs compare the two testees'
traces with each other, not with expectations.

tools/generate_scenarios.py is the command line for this module.
"""

import random
from typing import Callable, Dict, Iterable, List, Optional

from conformance import scenario_pb2 as pb

FAMILIES = ("reader", "protocol", "writer")

LIMITS = (1, 2, 3, 7, 16, 65536)
TOKENS = (
    b"\n",
    b"\n",
    b"ab",
    b"XYZ",
    b"a",
    b"\r\n",
    b"AAA",
    b"--",
    b"\x00",
    b"SEPARATOR!",
    b"0123456789",
    b"\n\n",
    b"Z",
)
SEPARATORS = (
    b"\n",
    b"A",
    b"Z",
    b"ab",
    b"\r\n",
    b"AA",
    b"XYZ\n",
    b"--ab",
    b"SEPARATOR!",
    b"--boundary--\n",
    b"",
)
EXCEPTIONS = (
    "ValueError",
    "RuntimeError",
    "ConnectionResetError",
    "BrokenPipeError",
    "ConnectionAbortedError",
    "OSError",
    "TimeoutError",
    "CancelledError",
    "IncompleteReadError",
    "LimitOverrunError",
)


class _Builder:
    """Builds one scenario, tracking just enough state to stay interesting."""

    def __init__(self, rng: random.Random, families: List[str]) -> None:
        self.rng = rng
        self.families = families
        self.limit = self._limit()
        self.next_id = 1
        self.started: List[int] = []
        self.connected = False
        self.eof = False
        self.writing_paused = False

    def _limit(self) -> int:
        roll = self.rng.random()
        if roll < 0.08:
            return 0  # The default, 65536.
        if roll < 0.18:
            return self.rng.randint(4, 100)
        return self.rng.choice(LIMITS)

    @property
    def effective_limit(self) -> int:
        return self.limit or 65536

    # -- Values --------------------------------------------------------------

    def data(self) -> pb.Bytes:
        rng = self.rng
        if rng.random() < 0.12:
            size = max(1, 2 * self.effective_limit + rng.randint(-2, 2))
            tail = rng.choice((b"", b"\n", b"ab", b"SEPARATOR!"))
            return pb.Bytes(
                pattern=rng.choice((b"x", b"ab", b"\n", b"xy\n")),
                size=size,
                data=tail,
            )
        count = rng.choice((0, 1, 1, 2, 2, 3, 4, 6))
        return pb.Bytes(
            data=b"".join(rng.choice(TOKENS) for _ in range(count))
        )

    def error(self) -> pb.Error:
        rng = self.rng
        kind = rng.choice(EXCEPTIONS)
        if kind == "IncompleteReadError":
            error = pb.Error(
                type=kind, partial=rng.choice((b"", b"ab", b"x\n"))
            )
            if rng.random() < 0.7:
                error.expected = rng.choice((0, 3, 10))
            return error
        if kind == "LimitOverrunError":
            return pb.Error(
                type=kind, message="limit", consumed=rng.randint(0, 9)
            )
        return pb.Error(type=kind, message=rng.choice(("", "boom", "reset")))

    def options(self) -> pb.TransportOptions:
        rng = self.rng
        return pb.TransportOptions(
            cannot_pause=rng.random() < 0.2,
            ssl=rng.random() < 0.2,
            cannot_write_eof=rng.random() < 0.2,
        )

    def new_id(self) -> int:
        op_id = self.next_id
        self.next_id += 1
        self.started.append(op_id)
        return op_id

    # -- Actions by family ---------------------------------------------------

    def reader_action(self) -> pb.Action:
        rng = self.rng
        roll = rng.random()
        if roll < 0.30 and (not self.eof or rng.random() < 0.05):
            return pb.Action(feed_data=self.data())
        if roll < 0.40:
            self.eof = True
            return pb.Action(feed_eof=pb.Empty())
        if roll < 0.45:
            return pb.Action(set_exception=self.error())
        if roll < 0.48 and (not self.connected or rng.random() < 0.1):
            # A second transport is an AssertionError: rarely.
            self.connected = True
            return pb.Action(set_transport=self.options())
        if roll < 0.58 and self.started:
            return pb.Action(cancel=rng.choice(self.started))
        return pb.Action(read=self.read())

    def read(self) -> pb.Read:
        rng = self.rng
        limit = self.effective_limit
        read = pb.Read(id=self.new_id())
        kind = rng.choice(
            (
                "readline",
                "readuntil",
                "readuntil",
                "read",
                "readexactly",
                "anext",
            )
        )
        if kind == "readline":
            read.readline.SetInParent()
        elif kind == "anext":
            read.anext.SetInParent()
        elif kind == "readuntil":
            read.readuntil.SetInParent()
            if rng.random() < 0.85:
                read.readuntil.separator = rng.choice(SEPARATORS)
        elif kind == "read":
            read.read.n = rng.choice(
                (-1, -1, 0, 1, 2, 5, limit + 1, 3 * limit)
            )
        else:
            read.readexactly.n = rng.choice(
                (-1, 0, 1, 2, 3, 7, limit + 1, 2 * limit + 5)
            )
        return read

    def protocol_action(self) -> pb.Action:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15 and (not self.connected or rng.random() < 0.05):
            # A second connection_made is an AssertionError: rarely.
            self.connected = True
            return pb.Action(connection_made=self.options())
        if roll < 0.50 and (not self.eof or rng.random() < 0.05):
            return pb.Action(data_received=self.data())
        if roll < 0.60:
            self.eof = True
            return pb.Action(eof_received=pb.Empty())
        if roll < 0.70:
            lost = pb.ConnectionLost()
            if rng.random() < 0.5:
                lost.exc.CopyFrom(self.error())
            else:
                self.eof = True
            return pb.Action(connection_lost=lost)
        return self.flow_control_action()

    def writer_action(self) -> pb.Action:
        rng = self.rng
        kind = rng.choice(
            (
                "write",
                "write",
                "writelines",
                "write_eof",
                "can_write_eof",
                "close",
                "is_closing",
                "drain",
                "drain",
                "wait_closed",
                "transport_closing",
                "pause_writing",
                "resume_writing",
            )
        )
        if kind == "write":
            return pb.Action(write=self.data())
        if kind == "writelines":
            lines = [self.data() for _ in range(rng.randint(0, 3))]
            return pb.Action(writelines=pb.WriteLines(lines=lines))
        if kind in ("drain", "wait_closed"):
            return pb.Action(**{kind: self.new_id()})
        if kind in ("pause_writing", "resume_writing"):
            return self.flow_control_action()
        return pb.Action(**{kind: pb.Empty()})

    def flow_control_action(self) -> pb.Action:
        """pause_writing or resume_writing; rarely the wrong one."""
        if self.rng.random() < 0.05:
            paused = self.rng.random() < 0.5  # May be an AssertionError.
        else:
            paused = not self.writing_paused
        self.writing_paused = paused
        if paused:
            return pb.Action(pause_writing=pb.Empty())
        return pb.Action(resume_writing=pb.Empty())

    def action(self, step: pb.Step) -> None:
        family = self.rng.choice(self.families)
        maker: Dict[str, Callable[[], pb.Action]] = {
            "reader": self.reader_action,
            "protocol": self.protocol_action,
            "writer": self.writer_action,
        }
        step.actions.append(maker[family]())

    def scenario(self, name: str, description: str) -> pb.Scenario:
        rng = self.rng
        scenario = pb.Scenario(
            name=name, description=description, limit=self.limit
        )
        scenario.server_side = (
            "protocol" in self.families and rng.random() < 0.2
        )
        connect = "writer" in self.families or (
            "protocol" in self.families and rng.random() < 0.6
        )
        for index in range(rng.randint(1, 8)):
            step = scenario.steps.add()
            if index == 0 and connect:
                # Writer actions need the StreamWriter connection_made
                # creates: it comes first, before anything can fail.
                self.connected = True
                step.actions.add(connection_made=self.options())
            count = 1 if rng.random() < 0.6 else rng.randint(2, 4)
            for _ in range(count):
                self.action(step)
            step.expect.SetInParent()
        return scenario


def generate(
    seed: int, count: int, families: Optional[Iterable[str]] = None
) -> List[pb.Scenario]:
    """`count` random scenarios; the same arguments give the same result.

    `families` restricts the actions to some of FAMILIES ("reader",
    "protocol", "writer"); None means all of them.
    """
    chosen = sorted(set(families)) if families else list(FAMILIES)
    unknown = [family for family in chosen if family not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {FAMILIES}")
    rng = random.Random(seed)
    scenarios = []
    for index in range(count):
        builder = _Builder(rng, chosen)
        scenarios.append(
            builder.scenario(
                f"Generated.Seed{seed}.Case{index:05d}",
                f"Generated by tools/generate_scenarios.py --seed {seed} "
                f"(case {index}, families {','.join(chosen)}).",
            )
        )
    return scenarios
