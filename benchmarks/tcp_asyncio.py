#!/usr/bin/env python3
"""Loopback TCP benchmark, CPython asyncio implementation.

The counterpart of tcp_streams.cc and tcp_asio.cc (tcp_common.h documents
the command line and the cases): asyncio.start_server / open_connection,
readline() and read(65536), write() + drain(), TCP_NODELAY (asyncio's
default, set again here). Prints the same one-line JSON results.

    tcp_asyncio.py --role=server --case=pingpong --port=0   # prints its port
    tcp_asyncio.py --role=client --case=pingpong --port=N --duration=2
"""

import argparse
import asyncio
import json
import resource
import socket
import sys
import time

IMPLEMENTATION = "cpython"
LINE = (b"0123456789" * 10)[:99] + b"\n"
BULK_CHUNK = 64 * 1024
DEFAULT_CONNECTIONS = {
    "pingpong": 1,
    "pingpong100": 100,
    "bulk": 1,
    "idle": 1000,
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def max_rss_kib() -> int:
    """ru_maxrss (KiB): for reference only; see peak_rss_kib()."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def proc_status_kib(name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return -1


def peak_rss_kib() -> int:
    """This process's own peak RSS (VmHWM). ru_maxrss would include the peak
    RSS of whatever forked us: Linux keeps it across execve()."""
    return proc_status_kib("VmHWM")


def vm_rss_kib() -> int:
    return proc_status_kib("VmRSS")


def raise_nofile_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def set_nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def result(args, **fields) -> None:
    emit(
        impl=IMPLEMENTATION,
        role=args.role,
        case=args.case,
        connections=args.connections,
        **fields,
    )


def work(args, ops: int, nbytes: int, cpu_s: float, wall_s: float) -> dict:
    """Work, time and what they make per round trip (bulk: per MB)."""
    fields = {"ops": ops, "bytes": nbytes, "cpu_s": cpu_s, "wall_s": wall_s}
    bulk = args.case == "bulk"
    units = nbytes / 1e6 if bulk else ops
    if units and wall_s > 0:
        fields["mb_per_s" if bulk else "rt_per_s"] = units / wall_s
        fields["cpu_us_per_mb" if bulk else "cpu_us_per_rt"] = (
            cpu_s / units * 1e6
        )
    return fields


# ---------------------------------------------------------------------------
# Server.
# ---------------------------------------------------------------------------


class Server:
    def __init__(self, args) -> None:
        self.args = args
        self.accepted = 0
        self.finished = 0
        self.ops = 0
        self.bytes = 0
        self.cpu_start = self.wall_start = 0.0
        self.rss_before_kib = 0
        self.writers = []
        self.done = asyncio.get_running_loop().create_future()

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.accepted += 1
        if self.accepted == 1:
            self.cpu_start = cpu_seconds()
            self.wall_start = time.monotonic()
        set_nodelay(writer)
        if self.args.read_kib:
            # The selector transport's bytes per recv() (256 KiB by default).
            writer.transport.max_size = self.args.read_kib * 1024
        if self.args.case == "idle":
            self.writers.append(writer)
            if self.accepted == self.args.connections:
                asyncio.get_running_loop().call_later(0.2, self.report_idle)
        try:
            if self.args.case == "bulk":
                while data := await reader.read(BULK_CHUNK):
                    self.bytes += len(data)
            else:
                while line := await reader.readline():
                    writer.write(line)
                    await writer.drain()
                    self.ops += 1
                    self.bytes += len(line)
        except (ConnectionError, asyncio.CancelledError):
            pass
        writer.close()
        if self.args.case == "idle":
            return
        self.finished += 1
        if self.finished == self.args.connections and not self.done.done():
            result(
                self.args,
                **work(
                    self.args,
                    self.ops,
                    self.bytes,
                    cpu_seconds() - self.cpu_start,
                    time.monotonic() - self.wall_start,
                ),
                peak_rss_kib=peak_rss_kib(),
                maxrss_kib=max_rss_kib(),
                ok=1,
            )
            self.done.set_result(0)

    def report_idle(self) -> None:
        result(
            self.args,
            accepted=self.accepted,
            rss_before_kib=self.rss_before_kib,
            rss_after_kib=vm_rss_kib(),
            peak_rss_kib=peak_rss_kib(),
            maxrss_kib=max_rss_kib(),
            ok=int(self.accepted == self.args.connections),
        )
        for writer in self.writers:
            writer.transport.abort()
        if not self.done.done():
            self.done.set_result(0)


async def run_server(args) -> int:
    state = Server(args)
    server = await asyncio.start_server(state.serve, "127.0.0.1", args.port)
    state.rss_before_kib = vm_rss_kib()
    emit(event="listening", port=server.sockets[0].getsockname()[1])
    try:
        code = await asyncio.wait_for(state.done, args.timeout)
    except asyncio.TimeoutError:
        print("server: timed out", file=sys.stderr)
        code = 1
    server.close()
    return code


# ---------------------------------------------------------------------------
# Client.
# ---------------------------------------------------------------------------


class Client:
    def __init__(self, args) -> None:
        self.args = args
        self.stop = False
        self.ops = 0
        self.bytes = 0
        self.error = ""

    def fail(self, error: str) -> None:
        if not self.error:
            self.error = error
        self.stop = True

    async def ping_pong(self, reader, writer) -> None:
        try:
            while not self.stop and self.ops < self.args.count:
                writer.write(LINE)
                await writer.drain()
                line = await reader.readline()
                if line != LINE:
                    self.fail("the echoed line differs")
                    break
                self.ops += 1
        except ConnectionError as error:
            self.fail(repr(error))
        writer.close()

    async def bulk(self, reader, writer) -> None:
        chunk = b"b" * BULK_CHUNK
        try:
            while not self.stop and self.bytes < self.args.bytes:
                writer.write(chunk)
                await writer.drain()
                self.bytes += len(chunk)
                self.ops += 1
            writer.write_eof()
            # The server closes once it has read everything.
            await reader.read()
        except ConnectionError as error:
            self.fail(repr(error))
        writer.close()

    async def idle(self, reader, writer) -> None:
        try:
            await reader.read()  # Until the server closes the connection.
        except ConnectionError:
            pass  # A reset ends the hold too.
        self.ops += 1
        writer.close()


async def run_client(args) -> int:
    client = Client(args)
    connections = []
    try:
        for _ in range(args.connections):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", args.port
            )
            set_nodelay(writer)
            connections.append((reader, writer))
    except OSError as error:
        client.fail(repr(error))
    cpu_start, wall_start = cpu_seconds(), time.monotonic()
    if not client.error:
        run = {"bulk": client.bulk, "idle": client.idle}.get(
            args.case, client.ping_pong
        )
        tasks = [
            asyncio.create_task(run(reader, writer))
            for reader, writer in connections
        ]
        loop = asyncio.get_running_loop()

        def stop() -> None:
            client.stop = True
            if args.case == "idle":  # Idle connections wait on the server.
                for task in tasks:
                    task.cancel()

        timer = loop.call_later(args.duration, stop)
        done, pending = await asyncio.wait(tasks, timeout=args.timeout)
        timer.cancel()
        if pending:
            client.fail("client timed out")
            for task in pending:
                task.cancel()
    cpu_s, wall_s = cpu_seconds() - cpu_start, time.monotonic() - wall_start
    result(
        args,
        **work(args, client.ops, client.bytes, cpu_s, wall_s),
        peak_rss_kib=peak_rss_kib(),
        maxrss_kib=max_rss_kib(),
        ok=0 if client.error else 1,
        error=client.error,
    )
    return 1 if client.error else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--role", choices=("server", "client"), required=True)
    parser.add_argument(
        "--case", choices=tuple(DEFAULT_CONNECTIONS), required=True
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--count", type=int, default=10_000_000)
    parser.add_argument("--bytes", type=int, default=256 * 1024 * 1024)
    parser.add_argument("--connections", type=int)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--read_kib", type=int, default=0)
    args = parser.parse_args()
    if args.connections is None:
        args.connections = DEFAULT_CONNECTIONS[args.case]
    raise_nofile_limit()
    run = run_server if args.role == "server" else run_client
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
