"""What the interop programs and the runner share (see conformance/INTEROP.md).

The case table (bounds, N/A cells with asyncio's reasons, the failures CPython
gets too), the flags, TLS contexts, the data each case sends, and how a
client names a failure: "<place>:<ErrorClass>". interop_client.cc and
interop_server.cc implement the same; this file and INTEROP.md are the spec
they are checked against.
"""

import argparse
import asyncio
import dataclasses
import hashlib
import pathlib
import resource
import ssl
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Optional

TRANSPORTS = ("tcp", "unix", "tls")


@dataclasses.dataclass(frozen=True)
class Case:
    """One interop case: its time bound and where it does not apply."""

    name: str
    bound_s: float
    # transport -> asyncio's reason the case does not apply there.
    not_applicable: Dict[str, str] = dataclasses.field(default_factory=dict)
    # transport -> "<place>:<ErrorClass>" failures CPython 3.11.7 gets too.
    cpython_fails_too: Dict[str, FrozenSet[str]] = dataclasses.field(
        default_factory=dict
    )


_NO_TLS_EOF = (
    "asyncio's TLS transport cannot write EOF: "
    "_SSLProtocolTransport.can_write_eof() is False and "
    "write_eof() raises NotImplementedError"
)

CASES: Dict[str, Case] = {
    case.name: case
    for case in (
        Case("echo_lines", 30),
        Case("large_payload", 60),
        Case("half_close", 30, not_applicable={"tls": _NO_TLS_EOF}),
        Case("limit_overrun", 30),
        Case("client_abort", 30),
        Case("server_close_during_drain", 30),
        Case("write_after_eof", 30, not_applicable={"tls": _NO_TLS_EOF}),
        Case("start_tls_upgrade", 30),
        Case("many_connections", 60),
        Case(
            "burst_connect",
            60,
            cpython_fails_too={
                # A Unix connect to a full queue "succeeds" (EAGAIN taken
                # for in progress); the first write or read then fails
                # (INTEROP.md).
                "unix": frozenset(
                    {"drain:ConnectionResetError", "drain:OSError"}
                ),
            },
        ),
    )
}

# How long a server waits for its connections to finish after SIGTERM.
SHUTDOWN_GRACE_S = 10.0

# -- Data ---------------------------------------------------------------------

ECHO_LINES = 1000


_ALPHABET = bytes(range(ord("a"), ord("z") + 1)) * (60000 // 26 + 2)


def echo_line(i: int) -> bytes:
    """Line i of echo_lines; its body's byte j is 'a' + (i + j) % 26."""
    size = 60000 if i % 100 == 99 else (i * 7919) % 4096
    return b"%04d:" % i + _ALPHABET[i % 26 : i % 26 + size] + b"\n"


PAYLOAD_CHUNK = 256 * 1024
PAYLOAD_CHUNKS = 256  # 64 MiB


def payload_chunks(block: bytes) -> Any:
    """large_payload's chunks: k as 8 bytes big-endian, then block[8:]."""
    for k in range(PAYLOAD_CHUNKS):
        yield k.to_bytes(8, "big") + block[8:]


HALF_CLOSE_CHUNKS = [bytes([0x41 + k]) * 65536 for k in range(16)]


def half_close_answer() -> bytes:
    request = b"".join(HALF_CLOSE_CHUNKS)
    digest = hashlib.sha256(request).hexdigest()
    return b"received %d sha256 %s\n" % (len(request), digest.encode())


LIMIT = 1024
LIMIT_FOUND = "Separator is found, but chunk is longer than limit"
LIMIT_NOT_FOUND = "Separator is not found, and chunk exceed the limit"


def limit_report(line: bytes) -> bytes:
    """The server's report for a line it read in limit_overrun."""
    digest = hashlib.sha256(line).hexdigest()[:16]
    return b"line %d %s\n" % (len(line), digest.encode())


def limit_steps() -> Any:
    """limit_overrun's messages: (pieces to write, report expected)."""
    error = b"error ValueError\n"
    long_line = b"c" * 102400 + b"\n"
    steps = [
        ([b"hello\n"], None),
        ([b"a" * LIMIT + b"\n"], None),
        ([b"b" * (LIMIT + 1) + b"\n"], error),
        ([b"after-3\n"], None),
        (
            [long_line[i : i + 1024] for i in range(0, len(long_line), 1024)],
            error,
        ),
        ([b"after-5\n"], None),
        ([b"d" * 5000 + b"\n"], error),
        ([b"after-7\n"], None),
    ]
    for pieces, report in steps:
        yield pieces, report or limit_report(b"".join(pieces))


ABORT_LINES = 100
ABORT_FILLER = 1 << 20
STALL_CHUNK = 1 << 20
STALL_CHUNKS = 64  # more than loopback's socket buffers hold
STALL_SLEEP_S = 0.5
UPGRADE_LINES = 10
MANY_CONNECTIONS = 200
MANY_LINES = 10
BURST_CONNECTIONS = 1000

WRITE_AFTER_EOF = "Cannot call write() after write_eof()"

# -- Flags, TLS, limits -------------------------------------------------------


def parse_flags(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--test_case", required=True, choices=sorted(CASES))
    parser.add_argument("--transport", required=True, choices=TRANSPORTS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--path", default="")
    parser.add_argument("--tls_dir", default="testdata/tls")
    flags = parser.parse_args()
    if flags.transport == "unix" and not flags.path:
        parser.error("--transport=unix needs --path")
    return flags


def server_context(flags: argparse.Namespace) -> ssl.SSLContext:
    directory = pathlib.Path(flags.tls_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    return context


def client_context(flags: argparse.Namespace) -> ssl.SSLContext:
    return ssl.create_default_context(
        cafile=str(pathlib.Path(flags.tls_dir) / "ca.pem")
    )


def raise_file_limit() -> None:
    """RLIMIT_NOFILE's soft limit up to its hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- Failures -----------------------------------------------------------------


class Failed(Exception):
    """A failure at `place`: an exception there, or a failed assert."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail


def check(condition: bool, what: str, detail: str) -> None:
    """A data assert: fails as "assert:<what>"."""
    if not condition:
        raise Failed(f"assert:{what}", detail)


async def at(place: str, awaitable: Awaitable[Any]) -> Any:
    """Awaits `awaitable`; an exception becomes Failed("<place>:<Class>")."""
    try:
        return await awaitable
    except Failed:
        raise
    except Exception as exc:  # noqa: BLE001 - the class is the result
        raise Failed(f"{place}:{type(exc).__name__}", str(exc)) from exc


def at_sync(place: str, call: Callable[..., Any], *args: Any) -> Any:
    """Calls `call`; an exception becomes Failed("<place>:<Class>")."""
    try:
        return call(*args)
    except Exception as exc:  # noqa: BLE001 - the class is the result
        raise Failed(f"{place}:{type(exc).__name__}", str(exc)) from exc


def expect_raises(
    place: str, call: Callable[..., Any], *args: Any, cls: type, message: str
) -> None:
    """`call` must raise `cls` with `message` (str() of the exception)."""
    try:
        call(*args)
    except Exception as exc:  # noqa: BLE001 - compared below
        check(
            type(exc) is cls and str(exc) == message,
            place,
            f"raised {type(exc).__name__}({str(exc)!r}), expected "
            f"{cls.__name__}({message!r})",
        )
        return
    raise Failed(
        f"assert:{place}", f"returned, expected {cls.__name__}({message!r})"
    )


def first_failure(error: BaseException) -> Optional[Failed]:
    """The first Failed in `error` (possibly an ExceptionGroup)."""
    if isinstance(error, Failed):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = first_failure(inner)
            if found is not None:
                return found
    return None


async def open_connection(flags: argparse.Namespace) -> Any:
    """asyncio.open_connection / open_unix_connection for `flags`."""
    if flags.transport == "unix":
        return await asyncio.open_unix_connection(flags.path)
    context = client_context(flags) if flags.transport == "tls" else None
    hostname = "localhost" if context is not None else None
    return await asyncio.open_connection(
        flags.host, flags.port, ssl=context, server_hostname=hostname
    )
