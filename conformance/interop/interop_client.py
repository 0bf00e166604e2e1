#!/usr/bin/env python3
"""The interop client on CPython 3.11.7's asyncio (conformance/INTEROP.md).

Runs one case against a server, then prints
`RESULT {"ok": N, "failed": {"<place>:<ErrorClass>": count}}` as its last
stdout line and exits 0 when every assert held, else 1 (`FAIL: ...` on
stderr).

Usage: interop_client.py --test_case=echo_lines --transport=tcp --port=N
"""

import argparse
import asyncio
import collections
import hashlib
import json
import os
import socket
import struct
import sys
from typing import Any, Callable, Coroutine, Dict, List

import interop_common as common
from interop_common import Failed, at, at_sync, check


class Outcome:
    """What the client reports: connections completed, failures by key."""

    def __init__(self) -> None:
        self.ok = 0
        self.failed: Dict[str, int] = collections.Counter()
        self.details: List[str] = []

    def fail(self, failure: Failed) -> None:
        self.failed[failure.key] += 1
        if len(self.details) < 20:
            self.details.append(str(failure))


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await at("wait_closed", writer.wait_closed())


async def echo_lines(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))
    lines = [common.echo_line(i) for i in range(common.ECHO_LINES)]

    async def read_echoes() -> None:
        for i, line in enumerate(lines):
            echoed = await at("readline", reader.readline())
            check(
                echoed == line,
                "echo",
                f"line {i}: sent {len(line)} bytes {line[:20]!r}..., got "
                f"{len(echoed)} bytes {echoed[:20]!r}...",
            )

    async def write_lines() -> None:
        for line in lines:
            at_sync("write", writer.write, line)
            await at("drain", writer.drain())

    async with asyncio.TaskGroup() as group:
        group.create_task(read_echoes())
        group.create_task(write_lines())
    await close(writer)


async def large_payload(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))

    async def send() -> None:
        digest = hashlib.sha256()
        for chunk in common.payload_chunks(os.urandom(common.PAYLOAD_CHUNK)):
            digest.update(chunk)
            at_sync("write", writer.write, chunk)
            await at("drain", writer.drain())
        at_sync(
            "write", writer.write, b"sha256 %s\n" % digest.hexdigest().encode()
        )
        await at("drain", writer.drain())

    async def receive() -> None:
        digest = hashlib.sha256()
        for _ in range(common.PAYLOAD_CHUNKS):
            digest.update(
                await at(
                    "readexactly", reader.readexactly(common.PAYLOAD_CHUNK)
                )
            )
        trailer = await at("readline", reader.readline())
        expected = b"sha256 %s\n" % digest.hexdigest().encode()
        check(
            trailer == expected,
            "sha256",
            f"received {digest.hexdigest()}, the server sent {trailer!r}",
        )

    async with asyncio.TaskGroup() as group:
        group.create_task(send())
        group.create_task(receive())
    verdict = await at("readline", reader.readline())
    check(
        verdict == b"verdict ok\n", "verdict", f"the server says {verdict!r}"
    )
    await close(writer)


async def half_close(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))
    for chunk in common.HALF_CLOSE_CHUNKS:
        at_sync("write", writer.write, chunk)
        await at("drain", writer.drain())
    check(writer.can_write_eof(), "can_write_eof", "False")
    at_sync("write_eof", writer.write_eof)
    check(not writer.is_closing(), "is_closing", "True after write_eof()")
    answer = await at("read", reader.read())
    check(
        answer == common.half_close_answer(),
        "answer",
        f"got {answer!r}, expected {common.half_close_answer()!r}",
    )
    await close(writer)


async def limit_overrun(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))
    for number, (pieces, expected) in enumerate(common.limit_steps(), 1):
        for piece in pieces:
            at_sync("write", writer.write, piece)
            await at("drain", writer.drain())
        report = await at("readline", reader.readline())
        check(
            report == expected,
            "report",
            f"message {number}: got {report!r}, expected {expected!r}",
        )
    await close(writer)


async def client_abort(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))
    for i in range(common.ABORT_LINES):
        at_sync("write", writer.write, b"line %d\n" % i)
    await at("drain", writer.drain())
    ack = await at("readline", reader.readline())
    check(ack == b"ack %d\n" % common.ABORT_LINES, "ack", f"got {ack!r}")
    if flags.transport != "unix":
        # Closing then sends RST, not FIN.
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
    at_sync("write", writer.write, b"partial")
    await at("drain", writer.drain())
    writer.transport.abort()
    await at("wait_closed", writer.wait_closed())


async def server_close_during_drain(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))
    at_sync("write", writer.write, b"stall\n")
    await at("drain", writer.drain())
    observed = []
    chunk = b"x" * common.STALL_CHUNK
    for _ in range(common.STALL_CHUNKS):
        at_sync("write", writer.write, chunk)
        try:
            await writer.drain()
        except Exception as exc:  # noqa: BLE001 - the class is the result
            observed.append(f"drain:{type(exc).__name__}")
            break
    else:
        observed.append("drain:ok")
    try:
        line = await reader.readline()
        observed.append("readline:" + ("EOF" if not line else "data"))
    except Exception as exc:  # noqa: BLE001 - the class is the result
        observed.append(f"readline:{type(exc).__name__}")
    writer.close()
    try:
        await writer.wait_closed()
    except Exception:  # noqa: BLE001 - not asserted (INTEROP.md)
        pass
    expected = ["drain:ConnectionResetError", "readline:ConnectionResetError"]
    check(
        observed == expected,
        "outcome",
        f"observed {observed}, CPython gets {expected}",
    )


async def write_after_eof(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))
    at_sync("write", writer.write, b"before-eof\n")
    await at("drain", writer.drain())
    at_sync("write_eof", writer.write_eof)
    for call, argument in (
        (writer.write, b"x"),
        (writer.write, b""),
        (writer.writelines, [b"y\n"]),
    ):
        common.expect_raises(
            "write_after_eof",
            call,
            argument,
            cls=RuntimeError,
            message=common.WRITE_AFTER_EOF,
        )
    answer = await at("read", reader.read())
    check(answer == b"server-part\n", "answer", f"got {answer!r}")
    await close(writer)


async def start_tls_upgrade(flags: argparse.Namespace) -> None:
    reader, writer = await at("open", common.open_connection(flags))

    async def exchange(prefix: bytes) -> None:
        for i in range(common.UPGRADE_LINES):
            line = b"%s %d\n" % (prefix, i)
            at_sync("write", writer.write, line)
            echoed = await at("readline", reader.readline())
            check(echoed == line, "echo", f"sent {line!r}, got {echoed!r}")

    await exchange(b"plain")
    at_sync("write", writer.write, b"STARTTLS\n")
    ok = await at("readline", reader.readline())
    check(ok == b"OK\n", "starttls", f"got {ok!r}")
    await at(
        "start_tls",
        writer.start_tls(
            common.client_context(flags), server_hostname="localhost"
        ),
    )
    check(
        writer.get_extra_info("sslcontext") is not None,
        "upgraded",
        "no sslcontext after start_tls()",
    )
    await exchange(b"tls")
    await close(writer)


async def converse(
    flags: argparse.Namespace,
    conversation: int,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    for i in range(common.MANY_LINES):
        line = b"conn %d line %d\n" % (conversation, i)
        at_sync("write", writer.write, line)
        await at("drain", writer.drain())
        echoed = await at("readline", reader.readline())
        check(echoed == line, "echo", f"sent {line!r}, got {echoed!r}")


async def many_connections(
    flags: argparse.Namespace, outcome: Outcome
) -> None:
    connections = []
    try:
        for c in range(common.MANY_CONNECTIONS):
            reader, writer = await at("open", common.open_connection(flags))
            connections.append((reader, writer))
            # Accepted before the next connect (INTEROP.md).
            hello = b"conn %d hello\n" % c
            at_sync("write", writer.write, hello)
            echoed = await at("readline", reader.readline())
            check(echoed == hello, "echo", f"sent {hello!r}, got {echoed!r}")
    except Failed as failure:
        outcome.fail(failure)
        return
    results = await asyncio.gather(
        *(
            converse(flags, c, reader, writer)
            for c, (reader, writer) in enumerate(connections)
        ),
        return_exceptions=True,
    )
    for (_, writer), result in zip(connections, results):
        try:
            if isinstance(result, BaseException):
                raise result
            await close(writer)
            outcome.ok += 1
        except Failed as failure:
            outcome.fail(failure)
            writer.close()


async def burst_connect(flags: argparse.Namespace, outcome: Outcome) -> None:
    common.raise_file_limit()

    async def one(i: int) -> None:
        reader, writer = await at("open", common.open_connection(flags))
        try:
            line = b"burst %d\n" % i
            at_sync("write", writer.write, line)
            await at("drain", writer.drain())
            echoed = await at("readline", reader.readline())
            check(echoed == line, "echo", f"sent {line!r}, got {echoed!r}")
            await close(writer)
        finally:
            writer.close()

    results = await asyncio.gather(
        *(one(i) for i in range(common.BURST_CONNECTIONS)),
        return_exceptions=True,
    )
    for result in results:
        if result is None:
            outcome.ok += 1
        elif isinstance(result, Failed):
            outcome.fail(result)
        else:
            outcome.fail(
                Failed(f"unknown:{type(result).__name__}", str(result))
            )


SingleCase = Callable[[argparse.Namespace], Coroutine[Any, Any, None]]
MultiCase = Callable[[argparse.Namespace, Outcome], Coroutine[Any, Any, None]]

SINGLE: Dict[str, SingleCase] = {
    "echo_lines": echo_lines,
    "large_payload": large_payload,
    "half_close": half_close,
    "limit_overrun": limit_overrun,
    "client_abort": client_abort,
    "server_close_during_drain": server_close_during_drain,
    "write_after_eof": write_after_eof,
    "start_tls_upgrade": start_tls_upgrade,
}
MULTI: Dict[str, MultiCase] = {
    "many_connections": many_connections,
    "burst_connect": burst_connect,
}


async def run(flags: argparse.Namespace, outcome: Outcome) -> None:
    bound = common.CASES[flags.test_case].bound_s
    try:
        async with asyncio.timeout(bound):
            if flags.test_case in MULTI:
                await MULTI[flags.test_case](flags, outcome)
                return
            try:
                await SINGLE[flags.test_case](flags)
                outcome.ok += 1
            except BaseException as error:  # noqa: BLE001 - reported
                failure = common.first_failure(error)
                if failure is None:
                    raise
                outcome.fail(failure)
    except TimeoutError:
        outcome.fail(
            Failed(
                "timeout:TimeoutError",
                f"not done within the case's {bound} s bound",
            )
        )


def main() -> int:
    flags = common.parse_flags(__doc__.splitlines()[0])
    outcome = Outcome()
    asyncio.run(run(flags, outcome))
    for detail in outcome.details:
        print(f"FAIL: {detail}", file=sys.stderr)
    if outcome.failed:
        print(
            f"FAIL: {flags.test_case} over {flags.transport}: "
            f"{outcome.ok} completed, failures {dict(outcome.failed)}",
            file=sys.stderr,
        )
    print(
        "RESULT "
        + json.dumps({"ok": outcome.ok, "failed": dict(outcome.failed)}),
        flush=True,
    )
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
