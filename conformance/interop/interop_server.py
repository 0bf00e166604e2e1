#!/usr/bin/env python3
"""The interop server on CPython 3.11.7's asyncio (conformance/INTEROP.md).

Serves one case until SIGTERM or SIGINT. Its first stdout line is the port
it bound (tcp, tls) or its socket path (unix). On the signal it stops
listening, waits for its connections (at most SHUTDOWN_GRACE_S), prints a
summary and exits 0 if every server-side assert held, else 1 (`FAIL: ...` on
stderr).

Usage: interop_server.py --test_case=echo_lines --transport=tcp [--port=0]
"""

import argparse
import asyncio
import dataclasses
import hashlib
import os
import signal
import socket
import sys
from typing import Any, Awaitable, Callable, Dict, List, Set

import interop_common as common
from interop_common import Failed, check

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


@dataclasses.dataclass
class Open:
    """An open connection's TCP peer, and whether it has read a byte."""

    peer: Any
    heard: bool = False


def tcp_peer(writer: Writer) -> Any:
    """The (host, port) of a TCP connection's peer, else None."""
    sock = writer.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    return writer.get_extra_info("peername")


class State:
    """What the server saw: connections, failures, the case's findings."""

    def __init__(self, flags: argparse.Namespace) -> None:
        self.flags = flags
        self.active = 0
        self.peak = 0
        self.served = 0
        self.failures: List[str] = []
        self.notes: List[str] = []
        self.tasks: Set[asyncio.Task] = set()
        # For kernel duplicates (INTEROP.md, "Duplicate connections from SYN
        # cookies"): each open connection's TCP peer (None when not TCP) and
        # whether it has read a byte, and the peers whose connection read to
        # EOF.
        self.open: Dict[Reader, Open] = {}
        self.finished_peers: Set[Any] = set()

    def kernel_duplicates(self) -> int:
        """Open connections that can never hear from their client: nothing
        read, and another connection with the same TCP peer already read
        its EOF (so no client socket is left to send on this one)."""
        return sum(
            1
            for connection in self.open.values()
            if not connection.heard
            and connection.peer is not None
            and connection.peer in self.finished_peers
        )

    def fail(self, message: str) -> None:
        self.failures.append(message)


async def close(writer: Writer) -> None:
    writer.close()
    await writer.wait_closed()


async def echo(state: State, reader: Reader, writer: Writer) -> None:
    while line := await reader.readline():
        state.open[reader].heard = True
        writer.write(line)
        await writer.drain()
    state.finished_peers.add(state.open[reader].peer)
    await close(writer)


async def echo_lines(state: State, reader: Reader, writer: Writer) -> None:
    count = 0
    while line := await reader.readline():
        if count < common.ECHO_LINES:
            check(
                line == common.echo_line(count),
                "line",
                f"line {count}: got {len(line)} bytes {line[:20]!r}...",
            )
        count += 1
        writer.write(line)
        await writer.drain()
    check(
        count == common.ECHO_LINES,
        "count",
        f"got {count} lines, expected {common.ECHO_LINES}",
    )
    await close(writer)


async def large_payload(state: State, reader: Reader, writer: Writer) -> None:
    async def send() -> None:
        digest = hashlib.sha256()
        for chunk in common.payload_chunks(os.urandom(common.PAYLOAD_CHUNK)):
            digest.update(chunk)
            writer.write(chunk)
            await writer.drain()
        writer.write(b"sha256 %s\n" % digest.hexdigest().encode())
        await writer.drain()

    async def receive() -> bytes:
        digest = hashlib.sha256()
        for _ in range(common.PAYLOAD_CHUNKS):
            digest.update(await reader.readexactly(common.PAYLOAD_CHUNK))
        trailer = await reader.readline()
        if trailer != b"sha256 %s\n" % digest.hexdigest().encode():
            return b"sha256 mismatch: received %s, the client sent %r" % (
                digest.hexdigest().encode(),
                trailer,
            )
        return b"ok"

    async with asyncio.TaskGroup() as group:
        group.create_task(send())
        received = group.create_task(receive())
    writer.write(b"verdict %s\n" % received.result())
    await writer.drain()
    check(received.result() == b"ok", "verdict", repr(received.result()))
    await reader.read()
    await close(writer)


async def half_close(state: State, reader: Reader, writer: Writer) -> None:
    request = await reader.read()
    check(reader.at_eof(), "at_eof", "False after read() to EOF")
    check(
        not writer.is_closing(),
        "is_closing",
        "the transport closed at EOF (eof_received() should keep it open)",
    )
    digest = hashlib.sha256(request).hexdigest().encode()
    writer.write(b"received %d sha256 %s\n" % (len(request), digest))
    await writer.drain()
    await close(writer)


async def limit_overrun(state: State, reader: Reader, writer: Writer) -> None:
    # The line's end is still to come after a "not found" ValueError.
    discarding = False
    while True:
        try:
            line = await reader.readline()
        except ValueError as error:
            message = str(error)
            if message not in (common.LIMIT_FOUND, common.LIMIT_NOT_FOUND):
                writer.write(b"error ValueError %s\n" % message.encode())
                raise Failed("assert:message", f"ValueError({message!r})")
            if not discarding:
                writer.write(b"error ValueError\n")
                await writer.drain()
            discarding = message == common.LIMIT_NOT_FOUND
            continue
        if not line:
            break
        if discarding:
            discarding = not line.endswith(b"\n")
            continue
        writer.write(common.limit_report(line))
        await writer.drain()
    await close(writer)


async def client_abort(state: State, reader: Reader, writer: Writer) -> None:
    count = 0
    try:
        while True:
            line = await reader.readline()
            check(bool(line), "reset", f"EOF after {count} lines, not a reset")
            check(
                line == b"line %d\n" % count,
                "line",
                f"line {count}: got {line!r}",
            )
            count += 1
            if count == common.ABORT_LINES:
                writer.write(b"ack %d\n" % count + b"f" * common.ABORT_FILLER)
    except (ConnectionResetError, BrokenPipeError) as error:
        check(
            count == common.ABORT_LINES,
            "lines",
            f"{count} lines before {error!r}, expected "
            f"{common.ABORT_LINES}",
        )
        state.notes.append(f"{count} lines, then {type(error).__name__}")
    except Failed:
        raise
    except Exception as error:  # noqa: BLE001 - the assert
        raise Failed(
            f"assert:{type(error).__name__}",
            f"{count} lines, then {error!r}; expected "
            "ConnectionResetError or BrokenPipeError",
        ) from error
    writer.close()


async def server_close_during_drain(
    state: State, reader: Reader, writer: Writer
) -> None:
    line = await reader.readline()
    check(line == b"stall\n", "stall", f"got {line!r}")
    await asyncio.sleep(common.STALL_SLEEP_S)
    writer.close()
    try:
        await writer.wait_closed()
        state.notes.append("wait_closed: ok")
    except Exception as error:  # noqa: BLE001 - recorded (INTEROP.md)
        state.notes.append(f"wait_closed: {type(error).__name__}")


async def write_after_eof(
    state: State, reader: Reader, writer: Writer
) -> None:
    request = await reader.read()
    check(request == b"before-eof\n", "request", f"got {request!r}")
    writer.write(b"server-part\n")
    await writer.drain()
    writer.write_eof()
    for call, argument in (
        (writer.write, b"z"),
        (writer.writelines, [b"z\n"]),
    ):
        common.expect_raises(
            "write_after_eof",
            call,
            argument,
            cls=RuntimeError,
            message=common.WRITE_AFTER_EOF,
        )
    await close(writer)


async def start_tls_upgrade(
    state: State, reader: Reader, writer: Writer
) -> None:
    seen = []
    while line := await reader.readline():
        seen.append(line)
        if line == b"STARTTLS\n":
            writer.write(b"OK\n")
            await writer.drain()
            await writer.start_tls(common.server_context(state.flags))
            check(
                writer.get_extra_info("sslcontext") is not None,
                "upgraded",
                "no sslcontext after start_tls()",
            )
            continue
        writer.write(line)
        await writer.drain()
    expected = (
        [b"plain %d\n" % i for i in range(common.UPGRADE_LINES)]
        + [b"STARTTLS\n"]
        + [b"tls %d\n" % i for i in range(common.UPGRADE_LINES)]
    )
    check(seen == expected, "lines", f"got {seen!r}")
    await close(writer)


Handler = Callable[[State, Reader, Writer], Awaitable[None]]

HANDLERS: Dict[str, Handler] = {
    "echo_lines": echo_lines,
    "large_payload": large_payload,
    "half_close": half_close,
    "limit_overrun": limit_overrun,
    "client_abort": client_abort,
    "server_close_during_drain": server_close_during_drain,
    "write_after_eof": write_after_eof,
    "start_tls_upgrade": start_tls_upgrade,
    "many_connections": echo,
    "burst_connect": echo,
}


def final_checks(state: State) -> None:
    if state.flags.test_case == "many_connections":
        wanted = common.MANY_CONNECTIONS
        if state.served != wanted or state.peak != wanted:
            state.fail(
                f"served {state.served} connections, {state.peak} at "
                f"once; expected {wanted} and {wanted}"
            )


async def serve(flags: argparse.Namespace) -> int:
    if flags.test_case == "burst_connect":
        common.raise_file_limit()
    state = State(flags)
    handler = HANDLERS[flags.test_case]

    async def client_connected(reader: Reader, writer: Writer) -> None:
        state.served += 1
        state.active += 1
        state.peak = max(state.peak, state.active)
        task = asyncio.current_task()
        assert task is not None
        state.tasks.add(task)
        state.open[reader] = Open(tcp_peer(writer))
        try:
            await handler(state, reader, writer)
        except Failed as failure:
            state.fail(str(failure))
        except Exception as error:  # noqa: BLE001 - a server-side failure
            state.fail(
                f"connection {state.served}: {type(error).__name__}: "
                f"{error}"
            )
        finally:
            state.active -= 1
            state.tasks.discard(task)
            del state.open[reader]
            writer.close()

    kwargs: Dict[str, Any] = {}
    if flags.test_case == "limit_overrun":
        kwargs["limit"] = common.LIMIT
    if flags.transport == "unix":
        server = await asyncio.start_unix_server(
            client_connected, flags.path, **kwargs
        )
        print(flags.path, flush=True)
    else:
        if flags.transport == "tls":
            kwargs["ssl"] = common.server_context(flags)
        server = await asyncio.start_server(
            client_connected, flags.host, flags.port, **kwargs
        )
        print(server.sockets[0].getsockname()[1], flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    await stop.wait()
    server.close()
    deadline = loop.time() + common.SHUTDOWN_GRACE_S
    while state.active > state.kernel_duplicates() and loop.time() < deadline:
        await asyncio.sleep(0.01)
    duplicates = state.kernel_duplicates()
    state.notes += [
        "kernel duplicate of a finished connection, closed unheard"
    ] * duplicates
    if state.active > duplicates:
        state.fail(
            f"{state.active - duplicates} connections still open "
            f"{common.SHUTDOWN_GRACE_S} s after SIGTERM"
        )
    final_checks(state)
    for note in sorted(set(state.notes)):
        print(f"note: {note} (x{state.notes.count(note)})")
    for failure in state.failures[:20]:
        print(f"FAIL: {failure}", file=sys.stderr)
    print(
        f"server: {state.served} connections, {state.peak} at once, "
        f"{len(state.failures)} failures",
        flush=True,
    )
    return 1 if state.failures else 0


def main() -> int:
    flags = common.parse_flags(__doc__.splitlines()[0])
    return asyncio.run(serve(flags))


if __name__ == "__main__":
    sys.exit(main())
