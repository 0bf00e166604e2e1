#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: fuzz/corpus/<target>/.

  python3 fuzz/make_corpus.py [--check]

The seeds are small binary files, each a short program that reaches one
corner (a line over the limit, the transport paused and resumed, a read(-1)
cancelled after it gathered, an exception while a read waits, ...), plus a
few pseudo-random programs from fixed seeds. The same seeds always give the
same files, so the corpus is reviewable and reproducible: `--check` fails if
the files on disk differ from what this script writes (the replay tests run
exactly these files through the targets' entry points).

reader_fuzz's seeds are written with fuzz/reader_program.py (the Python twin
of its input grammar); writer_fuzz's encoding is below; wire_fuzz's seeds are
framed Requests and text-format ScenarioFiles (outside Bazel this needs
conformance/scenario_pb2.py:
`protoc --python_out=. conformance/scenario.proto`).
"""

import argparse
import os
import pathlib
import random
import sys
from typing import Dict, List

HERE = pathlib.Path(__file__).resolve().parent
# `bazel run //fuzz:make_corpus` writes into the checkout, not the runfiles.
CORPUS_ROOT = (
    pathlib.Path(os.environ["BUILD_WORKSPACE_DIRECTORY"]) / "fuzz"
    if "BUILD_WORKSPACE_DIRECTORY" in os.environ
    else HERE
)
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import reader_program as rp  # noqa: E402


def _op(name: str, **fields) -> rp.Op:
    return rp.Op(name, **fields)


def feed(data: bytes) -> rp.Op:
    """Feeds `data`: bytes of reader_program.ALPHABET only."""
    if len(data) < 16:
        return _op("feed_text", data=data)
    return _op("feed_run", data=data)


def read(kind: str, separator: bytes = b"", n: int = 0) -> rp.Op:
    return _op("read", reads=[rp.Read(kind, separator, n)])


def task(*reads: rp.Read) -> rp.Op:
    return _op("task", reads=list(reads))


def exc(kind: str, argument: int = 0) -> rp.Op:
    partial = b"p" * (argument % 4) if kind == "IncompleteReadError" else None
    consumed = argument % 8 if kind == "LimitOverrunError" else None
    return _op("set_exception", exception=(kind, "", partial, None, consumed))


IDLE = _op("run_until_idle")
ONE = _op("run_one")
EOF = _op("feed_eof")


def transport(cannot_pause: bool = False) -> rp.Op:
    return _op("set_transport", cannot_pause=cannot_pause)


def cancel(target: int, kind: str = "terminal") -> rp.Op:
    """Cancels op id `target` (ids count from 1)."""
    return _op("cancel", target=target - 1, cancel_type=kind)


R = rp.Read


def reader_seeds() -> Dict[str, bytes]:
    """Named programs, one corner each."""
    programs = {
        "readline_basic": rp.Program(
            8,
            "cancel all",
            [
                feed(b"ab\nx"),
                read("readline"),
                read("readline"),
                IDLE,
                feed(b"Z\n"),
                IDLE,
                EOF,
                read("readline"),
                IDLE,
            ],
        ),
        "readline_over_limit_found": rp.Program(
            3,
            "cancel all",
            [
                feed(b"aaaaaa\nbb\n"),
                read("readline"),
                IDLE,
                read("readline"),
                IDLE,
            ],
        ),
        "readline_over_limit_not_found": rp.Program(
            3,
            "cancel all",
            [
                read("readline"),
                IDLE,
                feed(b"aaaaa"),
                IDLE,
                feed(b"b\n"),
                read("readline"),
                IDLE,
            ],
        ),
        "readuntil_limit": rp.Program(
            4,
            "cancel all",
            [
                feed(b"xxxxxxAZ"),
                read("readuntil", b"AZ"),
                IDLE,
                read("readuntil", b"xxx"),
                IDLE,
                read("readuntil", b""),
                IDLE,
            ],
        ),
        "readuntil_eof_partial": rp.Program(
            16,
            "cancel all",
            [read("readuntil", b"--"), IDLE, feed(b"a-b-"), IDLE, EOF, IDLE],
        ),
        "readexactly_eof_partial": rp.Program(
            8,
            "cancel all",
            [
                feed(b"abA"),
                read("readexactly", n=5),
                IDLE,
                EOF,
                IDLE,
                read("readexactly", n=0),
                read("readexactly", n=-1),
                IDLE,
            ],
        ),
        "readexactly_over_limit_pauses": rp.Program(
            2,
            "cancel all",
            [
                transport(),
                read("readexactly", n=9),
                IDLE,
                feed(b"abAZ"),
                IDLE,
                feed(b"xZab"),
                IDLE,
                feed(b"-\r-"),
                IDLE,
            ],
        ),
        "pause_then_resume": rp.Program(
            2,
            "cancel all",
            [
                transport(),
                feed(b"aaaa\nbbbb\n"),
                IDLE,
                read("readline"),
                IDLE,
                read("readline"),
                IDLE,
                read("read", n=3),
                IDLE,
                feed(b"ZZ"),
                IDLE,
            ],
        ),
        "cannot_pause_is_forgotten": rp.Program(
            2,
            "cancel all",
            [
                transport(cannot_pause=True),
                feed(b"aaaaaaaa"),
                IDLE,
                transport(),
                feed(b"bbbbbbb"),
                IDLE,
                read("read", n=-1),
                EOF,
                IDLE,
            ],
        ),
        "read_all_gathers": rp.Program(
            3,
            "cancel all",
            [
                transport(),
                read("read", n=-1),
                IDLE,
                feed(b"abAZx-ab"),
                IDLE,
                feed(b"ZA\n"),
                IDLE,
                EOF,
                IDLE,
            ],
        ),
        "read_all_cancelled_drops": rp.Program(
            3,
            "cancel all",
            [
                read("read", n=-1),
                IDLE,
                feed(b"abAZx-"),
                IDLE,
                cancel(1),
                IDLE,
                read("read", n=-1),
                feed(b"x"),
                cancel(2, "partial"),
                IDLE,
            ],
        ),
        "read_all_exception_drops": rp.Program(
            5,
            "cancel all",
            [
                read("read", n=-1),
                IDLE,
                feed(b"abAZx-"),
                IDLE,
                exc("ConnectionResetError"),
                IDLE,
            ],
        ),
        "read_n": rp.Program(
            5,
            "cancel all",
            [
                read("read", n=2),
                IDLE,
                feed(b"abAZx-"),
                IDLE,
                read("read", n=0),
                read("read", n=100),
                IDLE,
                EOF,
                read("read", n=3),
                IDLE,
            ],
        ),
        "anext_until_eof": rp.Program(
            6,
            "cancel all",
            [
                feed(b"aZ\nxb\n"),
                read("anext"),
                read("anext"),
                read("anext"),
                ONE,
                ONE,
                EOF,
                IDLE,
            ],
        ),
        "two_readers": rp.Program(
            8,
            "cancel all",
            [
                read("readline"),
                read("readexactly", n=3),
                IDLE,
                feed(b"ab"),
                read("read", n=-1),
                IDLE,
                feed(b"Z\n"),
                IDLE,
            ],
        ),
        "cancel_kinds": rp.Program(
            8,
            "cancel all",
            [
                read("readline"),
                IDLE,
                cancel(1, "partial"),
                IDLE,
                read("readuntil", b"ab"),
                IDLE,
                cancel(2, "total"),
                IDLE,
                read("readexactly", n=4),
                feed(b"abAZ"),
                cancel(3),
                IDLE,
            ],
        ),
        "cancel_woken_read_takes_nothing": rp.Program(
            8,
            "cancel all",
            [
                read("readline"),
                IDLE,
                feed(b"abab\n"),
                cancel(1),
                IDLE,
                read("readline"),
                IDLE,
            ],
        ),
        "exceptions_wake": rp.Program(
            8,
            "cancel all",
            [
                read("readline"),
                IDLE,
                exc("ValueError"),
                IDLE,
                read("readuntil", b"a"),
                IDLE,
                exc("CancelledError"),
                IDLE,
                read("readexactly", n=2),
                IDLE,
                exc("RuntimeError"),
                IDLE,
            ],
        ),
        "exception_incomplete_read_partial": rp.Program(
            8,
            "cancel all",
            [
                feed(b"abA"),
                exc("IncompleteReadError", 2),
                read("readline"),
                read("readexactly", n=9),
                read("anext"),
                IDLE,
            ],
        ),
        "exception_limit_overrun_drops": rp.Program(
            8,
            "cancel all",
            [
                feed(b"ab\nAZ\nx-"),
                read("readline"),
                IDLE,
                exc("LimitOverrunError", 2),
                read("readline"),
                IDLE,
                read("readline"),
                IDLE,
            ],
        ),
        "feed_after_eof": rp.Program(
            8,
            "cancel all",
            [feed(b"ab"), EOF, feed(b"AZ"), read("read", n=-1), IDLE],
        ),
        "task_fast_path": rp.Program(
            8,
            "cancel all",
            [
                feed(b"a\nb\nZ\n"),
                task(R("readline"), R("readline"), R("readexactly", n=2)),
                IDLE,
            ],
        ),
        "task_waits": rp.Program(
            4,
            "cancel all",
            [
                task(R("readline"), R("readuntil", b"--"), R("read", n=-1)),
                IDLE,
                feed(b"x\nA--Z"),
                IDLE,
                EOF,
                IDLE,
            ],
        ),
        "task_cancelled_waiting": rp.Program(
            8,
            "cancel all",
            [
                task(R("readexactly", n=5), R("readline")),
                IDLE,
                feed(b"ab"),
                IDLE,
                cancel(1),
                IDLE,
            ],
        ),
        "task_cancelled_before_start": rp.Program(
            8, "cancel all", [task(R("readline")), cancel(1), IDLE]
        ),
        "task_read_all_cancelled": rp.Program(
            2,
            "cancel all",
            [
                transport(),
                task(R("read", n=-1)),
                IDLE,
                feed(b"abAZx-a"),
                IDLE,
                cancel(1),
                IDLE,
            ],
        ),
        "concurrent_read_alls": rp.Program(
            2,
            "cancel all",
            [
                read("read", n=-1),
                IDLE,
                feed(b"abA"),
                task(R("read", n=-1)),
                ONE,
                feed(b"Zx-"),
                ONE,
                ONE,
                EOF,
                IDLE,
            ],
        ),
        "stale_offset": rp.Program(
            64,
            "cancel all",
            [
                read("readline"),
                read("readline"),
                IDLE,
                feed(b"aaa"),
                IDLE,
                read("readline"),
                feed(b"\n\n\n\n"),
                IDLE,
            ],
        ),
        "destroy_reader_pending": rp.Program(
            8,
            "destroy reader",
            [
                read("readline"),
                task(R("readexactly", n=3)),
                read("read", n=-1),
                IDLE,
                feed(b"a"),
                read("anext"),
            ],
        ),
        "destroy_context_pending": rp.Program(
            8,
            "destroy io_context",
            [
                read("readline"),
                task(R("readexactly", n=3)),
                IDLE,
                feed(b"ab"),
                task(R("readline")),
                ONE,
            ],
        ),
    }
    seeds = {name: rp.encode(program) for name, program in programs.items()}
    for name, data in seeds.items():
        # Each hand-written seed decodes to what it was written from.
        assert rp.encode(rp.decode(data)) == data, name
    rng = random.Random(20231201)
    for number in range(16):
        size = rng.randint(16, 160)
        seeds[f"random_{number:02d}"] = bytes(
            rng.randrange(256) for _ in range(size)
        )
    seeds.update(reader_extended_seeds())
    return seeds


# reader_fuzz's extended inputs (reader_fuzz.cc: Run(), DecodeRead()), which
# reader_program.py does not decode: 0xFF, the header byte, an options byte
# (bits 0-1 overlong_line: 0 kAsyncio, 1 kKeep, 2 kDiscardLine; bit 2
# cancel_safe_read_all), then ops as above, whose reads are one of eight
# kinds: the five of READ_KINDS, then 5 readuntil with 1-3 separators
# (count - 1, then SEPARATORS indices), 6 the line view, 7 fill + consume(n).
ASYNCIO, KEEP, DISCARD, CANCEL_SAFE = 0, 1, 2, 4
UNTIL_ANY, LINE_VIEW, FILL = 5, 6, 7


def extended(limit: int, options: int, *ops: List[int]) -> bytes:
    """An extended input; `ops` are each an op's bytes (ending 0)."""
    out = [0xFF, limit - 1, options]
    for op in ops:
        out.extend(op)
    return bytes(out)


def x_text(text: bytes) -> List[int]:
    """feed_text; `text` of ALPHABET only, under 16 bytes."""
    assert len(text) < 16
    return [0, len(text)] + [rp.ALPHABET.index(byte) for byte in text]


def x_until_any(*separators: bytes) -> List[int]:
    """A readuntil-with-separators read's bytes (after the op byte)."""
    return [UNTIL_ANY, len(separators) - 1] + [
        rp.SEPARATORS.index(separator) for separator in separators
    ]


def reader_extended_seeds() -> Dict[str, bytes]:
    readline, run, eof = [5, 0], [8], [2]
    return {
        # kDiscardLine: an over-long line with no b"\n" yet pauses the
        # transport; readline fails, the reader drops it all and resumes,
        # keeps dropping the next feed through its b"\n", then reads on.
        "ext_discard_line_readline": extended(
            4,
            DISCARD,
            [4, 0],  # set_transport (can pause)
            [1, 10, 1, 0],  # feed b"a" * 10
            readline,
            run,
            x_text(b"ab\nab\n"),
            readline,
            run,
            eof,
            run,
        ),
        # kDiscardLine after readuntil(("AZ", "--")) over the limit: one
        # byte kept (a separator may start there) through two feeds, then
        # the drop ends at "AZ".
        "ext_discard_until_any_keeps_partial": extended(
            3,
            DISCARD,
            x_text(b"xxxxxxxx"),
            [5] + x_until_any(b"AZ", b"--"),
            run,
            x_text(b"A"),
            x_text(b"Zb\n"),
            readline,
            run,
            eof,
            run,
        ),
        # kDiscardLine: EOF while dropping drops the rest.
        "ext_discard_eof_drops_rest": extended(
            2,
            DISCARD,
            x_text(b"aaaaa"),
            [6, 0, 1, 7],  # task: readuntil(b"xxx")
            run,
            x_text(b"xx"),
            eof,
            run,
        ),
        # kKeep: readline over the limit fails with LimitOverrunError and
        # keeps the bytes; read(4) makes progress, readline then succeeds.
        "ext_keep_readline_then_read": extended(
            3,
            KEEP,
            x_text(b"aaaaaa\n"),
            readline,
            run,
            [5, 2, 4],  # read(4)
            run,
            readline,
            run,
        ),
        # cancel_safe_read_all: read(-1) cancelled (total cancellation,
        # which it now honours) leaves every byte; a second read(-1) gets
        # the whole stream at EOF.
        "ext_cancel_safe_read_all": extended(
            2,
            CANCEL_SAFE,
            [4, 0],
            x_text(b"abab"),
            [5, 2, 0xFF],  # read(-1)
            run,
            x_text(b"ab"),
            [7, 0, 2],  # cancel #1, total
            run,
            [5, 2, 0xFF],
            x_text(b"x\n"),
            eof,
            run,
        ),
        # A task: fill + consume(3), the line view, then fill +
        # consume(20), more than the buffer holds (ValueError).
        "ext_fill_consume_view_task": extended(
            4,
            ASYNCIO,
            [6, 2, FILL, 3, LINE_VIEW, FILL, 20],
            run,
            x_text(b"abab\nab\n"),
            run,
            eof,
            run,
        ),
        # As their own operations: TryReadLineView() (a line; then "would
        # wait"), Consume(2), and the view of the last bytes at EOF.
        "ext_try_view_consume": extended(
            4,
            ASYNCIO,
            x_text(b"ab\nabab"),
            [5, LINE_VIEW],
            [5, LINE_VIEW],
            [5, FILL, 2],
            eof,
            [5, LINE_VIEW],
            run,
        ),
        # readuntil(("\r\n", "\n")) twice in a task, and one with an empty
        # separator (ValueError).
        "ext_until_any": extended(
            8,
            ASYNCIO,
            x_text(b"ab\r\nx\n"),
            [6, 1] + x_until_any(b"\r\n", b"\n") * 2,
            [5] + x_until_any(b"a", b""),
            run,
            eof,
            run,
        ),
    }


# -- writer_fuzz -------------------------------------------------------------
# Its grammar (writer_fuzz.cc): a header byte (limit - 1, bit 6 server side,
# bit 7 TLS), an options byte (bit 0 cannot write EOF, bits 1-2 ending, bit 3
# ending 2 destroys the io_context first), then
# ops, each a byte % 16 and its arguments.

(
    WRITE,
    WRITELINES,
    WRITE_EOF,
    CAN_WRITE_EOF,
    DRAIN,
    TASK,
    PAUSE,
    RESUME,
    LOST,
    CLOSE,
    CLOSING,
    WAIT_CLOSED,
    CANCEL,
    W_IDLE,
    W_ONE,
    EVENT,
) = range(16)


def w_data(data: bytes) -> List[int]:
    assert len(data) < 8
    return [len(data)] + [rp.ALPHABET.index(byte) for byte in data]


def w_program(
    ops: List[List[int]],
    limit: int = 8,
    server: bool = False,
    ssl: bool = False,
    cannot_write_eof: bool = False,
    ending: int = 0,
    context_first: bool = False,
) -> bytes:
    header = (limit - 1) | (0x40 if server else 0) | (0x80 if ssl else 0)
    options = (
        (1 if cannot_write_eof else 0)
        | ending << 1
        | (8 if context_first else 0)
    )
    out = [header, options]
    for op in ops:
        out.extend(op)
    return bytes(out)


def w_task(*entries: str) -> List[int]:
    return [TASK, len(entries) - 1] + [
        3 if entry == "wait_closed" else 0 for entry in entries
    ]


def w_cancel(target: int, kind: int = 0) -> List[int]:
    return [CANCEL, target - 1, kind]


def op(*values: int) -> List[int]:
    return list(values)


def writer_seeds() -> Dict[str, bytes]:
    idle, one = op(W_IDLE), op(W_ONE)
    seeds = {
        "drain_not_paused": w_program(
            [op(DRAIN), idle, w_task("drain"), idle]
        ),
        "drains_wake_together": w_program(
            [
                op(PAUSE),
                op(DRAIN),
                op(DRAIN),
                w_task("drain", "drain"),
                idle,
                op(RESUME),
                idle,
                op(PAUSE),
                op(DRAIN),
                op(RESUME),
                op(PAUSE),
                idle,
                op(RESUME),
                idle,
            ]
        ),
        "drain_lost_clean": w_program(
            [op(PAUSE), op(DRAIN), idle, op(LOST, 0), idle, op(DRAIN), idle]
        ),
        "drain_lost_error": w_program(
            [
                op(PAUSE),
                op(DRAIN),
                w_task("drain"),
                idle,
                op(LOST, 1),
                idle,
                w_task("drain"),
                idle,
            ]
        ),
        "drain_cancelled": w_program(
            [
                op(PAUSE),
                op(DRAIN),
                w_task("drain", "drain"),
                idle,
                w_cancel(1),
                w_cancel(2, 0),
                idle,
                w_cancel(1, 1),
                idle,
            ]
        ),
        "drain_closing_transport": w_program(
            [
                op(CLOSE),
                op(DRAIN),
                w_task("drain"),
                one,
                op(LOST, 0),
                idle,
                op(CLOSING),
                op(DRAIN),
                idle,
            ]
        ),
        "drain_reader_exception": w_program(
            [
                op(EVENT, 2),
                op(DRAIN),
                w_task("drain"),
                idle,
                op(PAUSE),
                op(EVENT, 6),
                op(DRAIN),
                idle,
            ]
        ),
        "wait_closed_then_lost": w_program(
            [
                op(WAIT_CLOSED),
                w_task("wait_closed", "drain"),
                idle,
                op(LOST, 2),
                idle,
                op(WAIT_CLOSED),
                idle,
            ]
        ),
        "wait_closed_cancelled": w_program(
            [
                op(WAIT_CLOSED),
                op(WAIT_CLOSED),
                idle,
                w_cancel(1, 2),
                idle,
                op(LOST, 0),
                op(WAIT_CLOSED),
                idle,
            ]
        ),
        "writer_calls": w_program(
            [
                op(WRITE, *w_data(b"ab\n")),
                op(WRITELINES, *w_data(b"a"), *w_data(b"bZ")),
                op(WRITE_EOF),
                op(CAN_WRITE_EOF),
                op(EVENT, 3),
                op(CLOSE),
                op(EVENT, 3),
            ],
            cannot_write_eof=True,
        ),
        "pause_resume_out_of_turn": w_program(
            [
                op(RESUME),
                op(PAUSE),
                op(PAUSE),
                op(RESUME),
                op(RESUME),
                op(DRAIN),
                idle,
            ]
        ),
        "server_side_tls": w_program(
            [
                op(EVENT, 0, *w_data(b"ab\n")),
                op(EVENT, 1),
                op(EVENT, 0, *w_data(b"x")),
                op(DRAIN),
                idle,
                op(LOST, 3),
                op(EVENT, 0, *w_data(b"Z")),
                idle,
            ],
            server=True,
            ssl=True,
        ),
        "reader_pauses_transport": w_program(
            [
                op(EVENT, 0, *w_data(b"abAZx")),
                op(EVENT, 0, *w_data(b"abAZx")),
                op(WRITE, *w_data(b"Z")),
                idle,
            ],
            limit=2,
        ),
        "ending_destroy_pending": w_program(
            [
                op(PAUSE),
                op(DRAIN),
                op(WAIT_CLOSED),
                w_task("drain"),
                idle,
                op(DRAIN),
                w_task("wait_closed"),
            ],
            ending=2,
        ),
        "ending_context_first": w_program(
            [
                op(PAUSE),
                op(DRAIN),
                op(WAIT_CLOSED),
                w_task("drain"),
                idle,
                op(DRAIN),
                w_task("wait_closed"),
            ],
            ending=2,
            context_first=True,
        ),
        # Found by writer_fuzz: a wait_closed() still waiting when the
        # io_context goes first was a heap-use-after-free.
        "context_destroyed_before_protocol": w_program(
            [op(WAIT_CLOSED), idle], ending=2, context_first=True
        ),
        "ending_destroy_then_run": w_program(
            [
                op(PAUSE),
                op(DRAIN),
                op(WAIT_CLOSED),
                w_task("drain"),
                idle,
                op(DRAIN),
                w_task("wait_closed"),
            ],
            ending=3,
        ),
    }
    rng = random.Random(20231202)
    for number in range(12):
        size = rng.randint(8, 120)
        seeds[f"random_{number:02d}"] = bytes(
            rng.randrange(256) for _ in range(size)
        )
    return seeds


# -- wire_fuzz ---------------------------------------------------------------

WIRE_TEXTS = {
    "reader": """name: "Fuzz.Wire.Reader" limit: 3
        steps { actions { feed_data { data: "ab\\nc" } }
                actions { read { id: 1 readline {} } } }
        steps { actions { feed_data { pattern: "x" size: 7 data: "\\n" } }
                actions { task { id: 2 awaits { read { id: 3 readuntil {
                  separator: "xx" } } } awaits { feed_eof {} } } } }
        steps { actions { cancel: 2 } actions { set_exception {
                  type: "IncompleteReadError" partial: "p"
                  expected: 2 } } }""",
    "writer": """name: "Fuzz.Wire.Writer" server_side: true
        steps { actions { connection_made { ssl: true } }
                actions { writelines { lines { data: "a" } lines {
                  pattern: "ab" size: 3 } } }
                actions { pause_writing {} } actions { drain: 4 } }
        steps { actions { connection_lost { exc { type: "BrokenPipeError"
                  message: "x" } } } actions { wait_closed: 5 } }""",
    "big_payload": """name: "Fuzz.Wire.Big" steps { actions { write {
        pattern: "y" size: 70000000 } } }""",
    "negative_payload": """name: "Fuzz.Wire.Negative" steps { actions {
        data_received { pattern: "y" size: -5 } } }""",
    "no_pattern": """name: "Fuzz.Wire.NoPattern" steps { actions {
        feed_data { size: 5 } } }""",
}


def wire_seeds() -> Dict[str, bytes]:
    from conformance import bootstrap  # noqa: F401  (Debian's protobuf)
    from google.protobuf import text_format
    from conformance import scenario_pb2 as pb

    def frame(payload: bytes) -> bytes:
        return len(payload).to_bytes(4, "little") + payload

    seeds: Dict[str, bytes] = {}
    requests = []
    for name, text in WIRE_TEXTS.items():
        scenario = text_format.Parse(text, pb.Scenario())
        request = pb.Request(scenario=scenario).SerializeToString()
        requests.append(request)
        seeds[f"frame_{name}"] = frame(request)
        seeds[f"text_{name}"] = text_format.MessageToString(
            pb.ScenarioFile(scenario=[scenario])
        ).encode()
    seeds["frames_several"] = b"".join(frame(r) for r in requests[:2])
    seeds["frame_then_truncated"] = frame(requests[0]) + b"\x09\x00"
    seeds["prefix_oversized"] = b"\xff\xff\xff\xff"
    seeds["prefix_truncated"] = b"\x05\x00"
    seeds["payload_truncated"] = b"\x05\x00\x00\x00ab"
    seeds["frame_not_a_request"] = frame(b"\xff\xff\xff")
    seeds["frame_empty"] = frame(b"")
    seeds["text_syntax_error"] = b'scenario { name: "x" steps { actions {'
    seeds["text_deep"] = (
        b"scenario { steps { actions { task { awaits { "
        b'read { readuntil { separator: "a" } } } } } } }'
    )
    return seeds


def write(target: str, seeds: Dict[str, bytes], check: bool) -> List[str]:
    """Writes (or checks) corpus/<target>/; returns the problems found."""
    directory = CORPUS_ROOT / "corpus" / target
    problems = []
    if not check:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.iterdir():
            if stale.name not in seeds:
                stale.unlink()
    present = (
        {path.name for path in directory.glob("*")}
        if directory.exists()
        else set()
    )
    for name, data in sorted(seeds.items()):
        path = directory / name
        if check:
            if not path.exists() or path.read_bytes() != data:
                problems.append(f"{path}: differs from make_corpus.py")
        else:
            path.write_bytes(data)
    if check:
        problems.extend(
            f"{directory / name}: not written by make_corpus.py"
            for name in sorted(present - set(seeds))
        )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with the files on disk, write nothing",
    )
    args = parser.parse_args()
    problems: List[str] = []
    targets = (
        ("reader_fuzz", reader_seeds()),
        ("writer_fuzz", writer_seeds()),
        ("wire_fuzz", wire_seeds()),
    )
    for target, seeds in targets:
        problems.extend(write(target, seeds, args.check))
        if not args.check:
            print(
                f"fuzz/corpus/{target}: {len(seeds)} seeds, "
                f"{sum(map(len, seeds.values()))} bytes"
            )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
