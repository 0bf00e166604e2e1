#!/usr/bin/env python3
"""In-memory read benchmarks on CPython 3.11.7's asyncio.StreamReader.

The counterpart of reader_benchmark.cc: the same cases, sizes and chunking.
The data is fed in 64 KiB chunks by a producer task; after each chunk it
yields with `await asyncio.sleep(0)` until the consumer has taken every whole
record fed so far (once per chunk on asyncio, whose reads of buffered data
do not yield). Prints one JSON line per case with the CPU time per operation
(time.process_time_ns()):

    {"name": "lines100/cpython", "ops": 671088, "bytes": 67108800,
     "cpu_ns": 301234567, "ns_per_op": 448.9}

Usage: reader_benchmark.py [--case FAMILY ...] [--stream-kib N]
           [--bulk-kib N] [--big-kib N,N,...]
Families: lines100 lines10 exactly100 read65536 readuntil1k bigbuffer.
"""

import argparse
import asyncio
import json
import sys
import time

KIB = 1024
MIB = 1024 * KIB
CHUNK = 64 * KIB
RECORD_SIZE = 1024
RECORD_SEPARATOR = b"\r\n\r\n"
# A consumer that has not caught up after this many yields is stuck.
MAX_YIELDS_PER_CHUNK = 10_000_000

FAMILIES = (
    "lines100",
    "lines10",
    "exactly100",
    "read65536",
    "readuntil1k",
    "bigbuffer",
)


def line_data(line_size: int, total: int) -> bytes:
    """`total // line_size` lines of `line_size` bytes ending in b"\\n"."""
    # Line i holds the letters from 'a' + i % 26 on, as in the C++ benchmark;
    # so 26 lines repeat.
    count = total // line_size
    period = b"".join(
        bytes(97 + (i + j) % 26 for j in range(line_size - 1)) + b"\n"
        for i in range(26)
    )
    whole, rest = divmod(count, 26)
    return period * whole + period[: rest * line_size]


def record_data(total: int) -> bytes:
    """1 KiB HTTP-like header blocks ending in b"\\r\\n\\r\\n"."""
    record = (
        b"GET /index.html HTTP/1.1\r\nHost: example.org\r\n"
        b"Accept: */*\r\nX-Padding: "
    )
    record += b"p" * (RECORD_SIZE - len(record) - len(RECORD_SEPARATOR))
    record += RECORD_SEPARATOR
    return record * (total // RECORD_SIZE)


def bulk_data(total: int) -> bytes:
    """Bytes without structure, for read(n)."""
    return bytes((i * 131) % 256 for i in range(256)) * (total // 256)


class Progress:
    """Shared by the producer and the consumer of one run."""

    def __init__(self) -> None:
        self.fed = 0
        self.consumed = 0
        self.ops = 0


async def produce(
    reader: asyncio.StreamReader, data: bytes, record: int, progress: Progress
) -> None:
    view = memoryview(data)
    for offset in range(0, len(data), CHUNK):
        chunk = view[offset : offset + CHUNK]
        reader.feed_data(chunk)
        progress.fed += len(chunk)
        yields = 0
        while True:
            await asyncio.sleep(0)
            yields += 1
            if progress.fed - progress.consumed < record:
                break
            if yields >= MAX_YIELDS_PER_CHUNK:
                raise RuntimeError("the consumer stopped reading")
    reader.feed_eof()


async def consume(read, progress: Progress) -> None:
    while True:
        try:
            data = await read()
        except asyncio.IncompleteReadError as error:
            if error.partial:
                raise
            break  # readexactly() at the end of the data.
        if not data:
            break
        progress.consumed += len(data)
        progress.ops += 1


async def stream_case(data: bytes, make_read, record: int) -> dict:
    reader = asyncio.StreamReader()
    progress = Progress()
    start = time.process_time_ns()
    await asyncio.gather(
        consume(make_read(reader), progress),
        produce(reader, data, record, progress),
    )
    cpu_ns = time.process_time_ns() - start
    if progress.consumed != len(data):
        raise RuntimeError(f"consumed {progress.consumed} of {len(data)}")
    return {"ops": progress.ops, "bytes": progress.consumed, "cpu_ns": cpu_ns}


async def big_buffer_case(data: bytes) -> dict:
    """Only the reads are timed, as in the C++ benchmark."""
    reader = asyncio.StreamReader()
    progress = Progress()
    reader.feed_data(data)
    reader.feed_eof()
    start = time.process_time_ns()
    await consume(reader.readline, progress)
    cpu_ns = time.process_time_ns() - start
    if progress.consumed != len(data):
        raise RuntimeError(f"consumed {progress.consumed} of {len(data)}")
    return {"ops": progress.ops, "bytes": progress.consumed, "cpu_ns": cpu_ns}


def emit(name: str, result: dict) -> None:
    result = {
        "name": name,
        **result,
        "ns_per_op": result["cpu_ns"] / max(result["ops"], 1),
    }
    print(json.dumps(result), flush=True)


async def run(families, stream_bytes: int, bulk_bytes: int, big_sizes) -> None:
    for family in families:
        if family in ("lines100", "lines10"):
            size = 100 if family == "lines100" else 10
            result = await stream_case(
                line_data(size, stream_bytes), lambda r: r.readline, size
            )
        elif family == "exactly100":
            result = await stream_case(
                line_data(100, stream_bytes),
                lambda r: lambda: r.readexactly(100),
                100,
            )
        elif family == "read65536":
            result = await stream_case(
                bulk_data(bulk_bytes), lambda r: lambda: r.read(65536), 1
            )
        elif family == "readuntil1k":
            result = await stream_case(
                record_data(stream_bytes),
                lambda r: lambda: r.readuntil(RECORD_SEPARATOR),
                RECORD_SIZE,
            )
        else:
            for size in big_sizes:
                emit(
                    f"bigbuffer/cpython/{size // KIB}KiB",
                    await big_buffer_case(line_data(100, size)),
                )
            continue
        emit(f"{family}/cpython", result)


def kib_list(text: str):
    return [int(item) * KIB for item in text.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--case",
        action="append",
        choices=FAMILIES,
        help="a family to run (repeatable; default: all)",
    )
    parser.add_argument("--stream-kib", type=int, default=64 * 1024)
    parser.add_argument("--bulk-kib", type=int, default=256 * 1024)
    parser.add_argument(
        "--big-kib",
        type=kib_list,
        default=[4 * MIB, 8 * MIB, 16 * MIB, 32 * MIB],
    )
    args = parser.parse_args()
    asyncio.run(
        run(
            args.case or FAMILIES,
            args.stream_kib * KIB,
            args.bulk_kib * KIB,
            args.big_kib,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
