#!/usr/bin/env python3
"""Reference testee: runs conformance scenarios on CPython 3.11.7's asyncio.

Reads length-prefixed `Request` messages on stdin and answers each with one
length-prefixed `Response` on stdout (see conformance/scenario.proto); exits 0
at a clean EOF on stdin (between frames). A truncated or oversized frame
prints "reference_testee: wire error: ..." on stderr and exits 1; a request
whose payloads are invalid or too large (conformance/payload.py) is answered
with a runtime_error and runs nothing. Logs go to stderr only.

Each scenario runs on the real asyncio.StreamReader, StreamReaderProtocol and
StreamWriter, over a fake transport that records the calls made on it:

- a fresh event loop per scenario;
- the actions of a step run in order inside ONE loop callback, stopping at the
  first exception an action raises (it becomes Observation.error); with
  per-action results (schema v2) every action runs and reports its own
  error and return value in Observation.actions;
- then the loop runs until idle: no callback is ready;
- then the testee reports an Observation: operations completed since the last
  step, operations pending, transport calls, and the reader's state.

An Action.task is one coroutine (asyncio.create_task) that awaits its entries
in order, reporting each read and drain as its await returns (scenario.proto,
message Task).

The C++ testee mirrors these semantics exactly.

Usage: python3 conformance/reference_testee.py [--any_version]
(driven by conformance/harness.py or tools/record.py)
"""

import asyncio
import logging
import pathlib
import re
import sys
import traceback
import warnings
from asyncio import exceptions as aexc
from typing import (
    Any,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    List,
    Optional,
    Set,
    Tuple,
)

REQUIRED_VERSION = (3, 11, 7)


def _import_schema() -> Tuple[Any, Any, Any]:
    """Imports the generated schema module, fixing sys.path if needed."""
    try:
        from conformance import bootstrap  # noqa: F401  (Debian's protobuf)
    except ImportError:
        # Run from a checkout: only conformance/ is on sys.path.
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
        from conformance import bootstrap  # noqa: F401
    from conformance import payload, scenario_pb2, wire

    return payload, scenario_pb2, wire


payload, pb, wire = _import_schema()

# The one table mapping exception names (Error.type) to classes. The
# asyncio-specific ones with details are built by `make_exception`.
EXCEPTIONS: Dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Exception,
        ValueError,
        TypeError,
        RuntimeError,
        AssertionError,
        EOFError,
        OSError,
        ConnectionError,
        ConnectionResetError,
        ConnectionAbortedError,
        ConnectionRefusedError,
        BrokenPipeError,
        TimeoutError,
        asyncio.CancelledError,
        aexc.IncompleteReadError,
        aexc.LimitOverrunError,
    )
}


class Unsupported(Exception):
    """The scenario asks for something this testee cannot run."""


class ConstructionFailed(Exception):
    """Constructing the reader raised `error` (construction_error)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class ResponseTooLarge(Exception):
    """The trace grew past what one response frame may carry.

    Each step's observation copies the reader's buffer, so a request within
    the payload limits could still ask for an unbounded response.
    """


def make_exception(error: Any) -> BaseException:
    """Builds the exception an `Error` message describes."""
    cls = EXCEPTIONS.get(error.type)
    if cls is None:
        raise Unsupported(f"unknown exception type {error.type!r}")
    if cls is aexc.IncompleteReadError:
        expected = error.expected if error.HasField("expected") else None
        return aexc.IncompleteReadError(error.partial, expected)
    if cls is aexc.LimitOverrunError:
        return aexc.LimitOverrunError(error.message, error.consumed)
    return cls(error.message)


def error_from_exception(exc: BaseException) -> Any:
    """Describes a Python exception as an `Error` message."""
    error = pb.Error(type=type(exc).__name__, message=str(exc))
    if isinstance(exc, aexc.IncompleteReadError):
        error.partial = exc.partial
        if exc.expected is not None:
            error.expected = exc.expected
    if isinstance(exc, aexc.LimitOverrunError):
        error.consumed = exc.consumed
    return error


def expand(message: Any) -> bytes:
    """The bytes a `Bytes` message stands for. run_request checked every
    payload of the request before the run, so this does not raise."""
    return payload.expand(message)


class FakeTransport(asyncio.Transport):
    """A transport that records the mutating calls made on it.

    All fake transports of a scenario append to one shared `calls` list.
    close() only marks the transport closing: scenarios call
    connection_lost explicitly. After write_eof(), write() and writelines()
    raise as _SelectorSocketTransport.write() does (before looking at the
    data), so scenarios can observe that error.
    """

    def __init__(self, options: Any, calls: List[Any]) -> None:
        super().__init__()
        self._options = options
        self._calls = calls
        self._closing = False
        self._eof = False
        self._ssl_context = object() if options.ssl else None
        # TransportCall.transport: 1, 2, ... with per_transport_logs, else 0.
        self.number = 0
        # The protocol of connection_made, for lose_on_close.
        self.protocol: Optional[asyncio.BaseProtocol] = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._lost = False

    def _record(self, **call: Any) -> None:
        self._calls.append(pb.TransportCall(transport=self.number, **call))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sslcontext":
            return self._ssl_context
        return default

    def is_closing(self) -> bool:
        return self._closing

    def start_closing(self) -> None:
        """The transport starts closing by itself (no close() recorded)."""
        self._closing = True

    def pause_reading(self) -> None:
        if self._options.cannot_pause:
            if self._options.log_failed_pause:
                self._record(pause_reading_failed=pb.Empty())
            raise NotImplementedError
        self._record(pause_reading=pb.Empty())

    def resume_reading(self) -> None:
        self._record(resume_reading=pb.Empty())

    def _check_not_eof(self) -> None:
        if self._eof:
            # selector_events._SelectorSocketTransport.write(), verbatim.
            raise RuntimeError("Cannot call write() after write_eof()")

    def write(self, data: bytes) -> None:
        self._check_not_eof()
        self._record(write=bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        # asyncio.WriteTransport.writelines() is write(b''.join(...)).
        self._check_not_eof()
        lines = [pb.Bytes(data=bytes(data)) for data in list_of_data]
        self._record(writelines=pb.WriteLines(lines=lines))

    def write_eof(self) -> None:
        self._eof = True
        self._record(write_eof=pb.Empty())

    def can_write_eof(self) -> bool:
        return not self._options.cannot_write_eof

    def close(self) -> None:
        self._closing = True
        self._record(close=pb.Empty())
        self._lose()

    def abort(self) -> None:
        self._closing = True
        self._record(abort=pb.Empty())
        self._lose()

    def _lose(self) -> None:
        """With lose_on_close, connection_lost(None) one iteration later,
        once, as _SelectorTransport._force_close / close() do."""
        if (
            self._options.lose_on_close
            and self.protocol is not None
            and self.loop is not None
            and not self._lost
        ):
            self._lost = True
            self.loop.call_soon(self.protocol.connection_lost, None)


# Warnings issued since the current step started (Observation.warnings),
# collected only while a step runs (COLLECTING[0]).
WARNINGS: List[str] = []
COLLECTING = [False]


def normalize_warning(category: str, message: str) -> str:
    """ "<Category>: <message>", the first object repr cut to its type name
    and the rest dropped (reprs hold addresses)."""
    match = re.match(r"([^<]*<\w+)", message)
    text = match.group(1) + ">" if match else message
    return f"{category}: {text}"


def _collect_warning(
    message: Any,
    category: type,
    filename: str,
    lineno: int,
    file: Any = None,
    line: Optional[str] = None,
) -> None:
    """warnings.showwarning: keeps the warning for the step's observation."""
    if COLLECTING[0]:
        WARNINGS.append(normalize_warning(category.__name__, str(message)))


# The loop exception handler's calls since the current step started
# (Observation.logged), kept only in scenarios with a client_connected
# coroutine, while a step runs.
LOGGED: List[Any] = []


def _ignore_exception(
    loop: asyncio.AbstractEventLoop, context: Dict[str, Any]
) -> None:
    """Loop exception handler: scenarios observe errors, nothing is logged."""


def _record_exception(
    loop: asyncio.AbstractEventLoop, context: Dict[str, Any]
) -> None:
    """Loop exception handler of client_connected scenarios: each call is
    kept for Observation.logged."""
    if not COLLECTING[0]:
        return
    logged = pb.LoggedError(message=context.get("message", ""))
    exc = context.get("exception")
    if exc is not None:
        logged.exception.CopyFrom(error_from_exception(exc))
    LOGGED.append(logged)


def _do_nothing(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """The client_connected_cb of server-side scenarios."""


class ScenarioRun:
    """One scenario on a fresh event loop."""

    def __init__(self, scenario: Any) -> None:
        if scenario.HasField("writer_options"):
            raise Unsupported("writer_options: options of //streams")
        self.scenario = scenario
        self.loop = asyncio.new_event_loop()
        self.loop.set_debug(False)
        coroutine_cb = scenario.HasField("client_connected")
        self.loop.set_exception_handler(
            _record_exception if coroutine_cb else _ignore_exception
        )
        if scenario.HasField("explicit_limit"):
            limit = scenario.explicit_limit
        else:
            limit = scenario.limit or 2**16
        try:
            self.reader = asyncio.StreamReader(limit=limit, loop=self.loop)
        except Exception as exc:  # noqa: BLE001 - observed
            self.loop.close()
            raise ConstructionFailed(exc) from exc
        callback: Any = _do_nothing if scenario.server_side else None
        if coroutine_cb:
            callback = self.client_connected_cb
        self.protocol = asyncio.StreamReaderProtocol(
            self.reader, client_connected_cb=callback, loop=self.loop
        )
        self.writer: Optional[asyncio.StreamWriter] = None
        # Strong references to everything the scenario created, so that no
        # __del__ (StreamWriter closes its transport) runs mid-scenario.
        self.writers: List[asyncio.StreamWriter] = []
        self.transports: List[FakeTransport] = []
        self.calls: List[Any] = []
        self.tasks: List[Tuple[int, asyncio.Task]] = []
        self.task_by_id: Dict[int, asyncio.Task] = {}
        # Ids of the reads and drains that Action.task coroutines await now.
        self.awaiting: Set[int] = set()
        # Ids of the Action.task coroutines that reported their own end.
        self.tasks_ended: Set[int] = set()
        # Ids of the tasks that ended and were let go of (forget()).
        self.finished: Set[int] = set()
        self.completed: List[Any] = []
        self.returned: Optional[bool] = None
        # The ActionResult of the running action, in a step with per-action
        # results; None otherwise.
        self.action_result: Optional[Any] = None
        # connection_made ran (the write side's state exists from then on).
        self.connected = False
        # The client_connected coroutine's id while it runs.
        self.pending_callback: Set[int] = set()

    # -- Running -----------------------------------------------------------

    def run(self) -> Any:
        """Runs every step; returns the StepTrace."""
        trace = pb.StepTrace(implementation=implementation())
        size = 0
        try:
            for number, step in enumerate(self.scenario.steps, 1):
                observation = self.run_step(step)
                trace.steps.append(observation)
                size += observation.ByteSize()
                if size > wire.MAX_FRAME_BYTES:
                    raise ResponseTooLarge(
                        f"response too large: the trace passes "
                        f"{wire.MAX_FRAME_BYTES} bytes at step {number}"
                    )
        finally:
            self.close()
        return trace

    def run_step(self, step: Any) -> Any:
        observation = pb.Observation()
        internal: List[BaseException] = []
        self.returned = None
        per_action = (
            step.per_action_results or self.scenario.per_action_results
        )
        WARNINGS.clear()
        LOGGED.clear()
        COLLECTING[0] = True

        def run_actions() -> None:
            for action in step.actions:
                if per_action:
                    self.action_result = observation.actions.add()
                    self.returned = None
                try:
                    self.run_action(action)
                except Unsupported as exc:
                    internal.append(exc)
                    return
                except Exception as exc:  # noqa: BLE001 - observed
                    error = error_from_exception(exc)
                    if not per_action:
                        observation.error.CopyFrom(error)
                        return
                    self.action_result.error.CopyFrom(error)
                finally:
                    if per_action and self.returned is not None:
                        self.action_result.returned = self.returned
            self.action_result = None
            if per_action:
                self.returned = None

        self.loop.call_soon(run_actions)
        self.run_until_idle()
        if internal:
            raise internal[0]
        self.observe(observation)
        return observation

    def run_until_idle(self) -> None:
        """Runs loop iterations until no callback is ready."""
        while True:
            self.loop.call_soon(self.loop.stop)
            self.loop.run_forever()
            if not self.loop._ready:  # type: ignore[attr-defined]
                return

    def observe(self, observation: Any) -> None:
        observation.completed.extend(self.completed)
        self.completed.clear()
        running = {op_id for op_id, task in self.tasks if not task.done()}
        observation.pending.extend(
            sorted(running | self.awaiting | self.pending_callback)
        )
        observation.transport_calls.extend(self.calls)
        self.calls.clear()
        observation.warnings.extend(WARNINGS)
        WARNINGS.clear()
        observation.logged.extend(LOGGED)
        LOGGED.clear()
        COLLECTING[0] = False
        if self.returned is not None:
            observation.returned = self.returned
        self.observe_state(observation)

    def observe_state(self, observation: Any) -> None:
        """The reader's and writer's state fields of an Observation."""
        reader = self.reader
        observation.buffer = bytes(reader._buffer)
        observation.buffer_size = len(reader._buffer)
        observation.at_eof = reader.at_eof()
        exc = reader.exception()
        observation.exception_set = exc is not None
        if exc is not None:
            observation.exception.CopyFrom(error_from_exception(exc))
        observation.paused = reader._paused
        if self.writer is not None:
            observation.writer_closing = self.writer.is_closing()
        if self.connected:
            # FlowControlMixin's state: pause_writing()/resume_writing(),
            # and connection_lost() seen.
            observation.writing_paused = self.protocol._paused
            observation.connection_lost = self.protocol._connection_lost

    def close(self) -> None:
        """Cancels what is still pending, quietly, and closes the loop."""
        try:
            for _, task in self.tasks:
                if not task.done():
                    task.cancel()
            self.run_until_idle()
        finally:
            # Writers still open are freed later, maybe by the cyclic
            # collector in another scenario's step: their __del__ must not
            # warn "loop is closed" there. A closing transport keeps it
            # quiet (and the scenario is over: nothing observes it).
            for transport in self.transports:
                transport.start_closing()
            self.loop.close()

    def run_action(self, action: Any) -> None:
        kind = action.WhichOneof("action")
        handler = ACTIONS.get(kind)
        if handler is None:
            raise Unsupported(f"unknown action {kind!r}")
        handler(self, getattr(action, kind))

    def start_task(self, op_id: int, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self.tasks.append((op_id, task))
        self.task_by_id[op_id] = task
        task.add_done_callback(lambda t: self.on_done(op_id, t))

    def on_done(self, op_id: int, task: asyncio.Task) -> None:
        completion = pb.Completion(id=op_id)
        if task.cancelled():
            completion.error.CopyFrom(pb.Error(type="CancelledError"))
        elif task.exception() is not None:
            completion.error.CopyFrom(error_from_exception(task.exception()))
        elif task.result() is None:
            completion.done = True
        else:
            completion.value = task.result()
        self.completed.append(completion)
        self.forget(op_id, task)

    def forget(self, op_id: int, task: asyncio.Task) -> None:
        """Lets go of a task whose end was reported, as a program does once
        it has its result.

        A finished task keeps its exception, whose traceback keeps the
        frames it went through: a drain that ended in CancelledError (or in
        a connection error) keeps its writer alive, so __del__ would wait
        for as long as the harness kept the task. Letting go of it here runs
        __del__ in the tick the task's end is reported, as in a program that
        drops the task (CPython 3.11.7 frees the writer as soon as the task
        goes: no cycle, no collector needed). A later `cancel` of the id
        answers as Task.cancel() does for a done task (False).
        """
        self.tasks = [(i, kept) for i, kept in self.tasks if kept is not task]
        if self.task_by_id.get(op_id) is task:
            del self.task_by_id[op_id]
        self.finished.add(op_id)

    def new_transport(self, options: Any) -> FakeTransport:
        transport = FakeTransport(options, self.calls)
        self.transports.append(transport)
        if self.scenario.per_transport_logs:
            transport.number = len(self.transports)
        return transport

    def need_writer(self) -> asyncio.StreamWriter:
        if self.writer is None:
            raise Unsupported("writer action before connection_made")
        return self.writer

    # -- StreamReader, producer side ---------------------------------------

    def feed_data(self, data: Any) -> None:
        self.reader.feed_data(expand(data))

    def feed_eof(self, _: Any) -> None:
        self.reader.feed_eof()

    def set_exception(self, error: Any) -> None:
        self.reader.set_exception(make_exception(error))

    def set_transport(self, options: Any) -> None:
        self.reader.set_transport(self.new_transport(options))

    # -- StreamReader, consumer side ---------------------------------------

    def read_coroutine(
        self, read: Any, reader: Optional[asyncio.StreamReader] = None
    ) -> Coroutine[Any, Any, Any]:
        """The reader call a `Read` message stands for, not yet awaited (on
        the scenario's reader unless another is given)."""
        kind = read.WhichOneof("kind")
        if reader is None:
            reader = self.reader
        if kind == "readline":
            return reader.readline()
        if kind == "readuntil":
            if read.readuntil.separators or read.readuntil.separator_tuple:
                if sys.version_info < (3, 13):
                    raise Unsupported("readuntil with a tuple of separators")
                return reader.readuntil(tuple(read.readuntil.separators))
            if read.readuntil.HasField("separator"):
                return reader.readuntil(read.readuntil.separator)
            return reader.readuntil()
        if kind == "read":
            return reader.read(read.read.n)
        if kind == "readexactly":
            return reader.readexactly(read.readexactly.n)
        if kind == "anext":
            return reader.__anext__()
        raise Unsupported(f"unknown read kind {kind!r}")

    def read(self, read: Any) -> None:
        self.start_task(read.id, self.read_coroutine(read))

    def cancel(self, op_id: int) -> None:
        task = self.task_by_id.get(op_id)
        if task is not None:
            cancelled = task.cancel()
        elif op_id in self.finished:
            cancelled = False  # Task.cancel() of a done task.
        else:
            return
        if self.action_result is not None:
            self.action_result.returned = cancelled

    def observe_action(self, _: Any) -> None:
        """A snapshot within the tick, into this action's result."""
        if self.action_result is None:
            raise Unsupported("observe needs per_action_results")
        self.observe_state(self.action_result.state)

    # -- Tasks that await a sequence (Action.task) ----------------------------

    def task(self, task: Any) -> None:
        """Starts one coroutine that awaits `task.awaits` in order."""
        entries: List[Tuple["AwaitFunction", Any]] = []
        for entry in task.awaits:
            kind = entry.WhichOneof("kind")
            function = AWAITS.get(kind)
            if function is None:
                raise Unsupported(f"unknown await kind {kind!r}")
            argument = getattr(entry, kind)
            if kind == "drain":
                self.need_writer()
            elif kind == "feed_data":
                argument = expand(argument)
            entries.append((function, argument))
        task_id = task.id
        running = self.loop.create_task(self.run_task(task_id, entries))
        self.tasks.append((task_id, running))
        self.task_by_id[task_id] = running
        running.add_done_callback(
            lambda done: self.on_task_done(task_id, done)
        )

    async def run_task(
        self, task_id: int, entries: List[Tuple["AwaitFunction", Any]]
    ) -> None:
        """The coroutine of an Action.task; reports its own end."""
        for function, argument in entries:
            try:
                await function(self, argument)
            except asyncio.CancelledError:
                self.end_task(
                    pb.Completion(
                        id=task_id, error=pb.Error(type="CancelledError")
                    )
                )
                raise
            except Exception as exc:  # noqa: BLE001 - feed_data raised
                self.end_task(
                    pb.Completion(id=task_id, error=error_from_exception(exc))
                )
                return
        self.end_task(pb.Completion(id=task_id, done=True))

    def end_task(self, completion: Any) -> None:
        self.tasks_ended.add(completion.id)
        self.completed.append(completion)

    def on_task_done(self, task_id: int, task: asyncio.Task) -> None:
        if task_id not in self.tasks_ended:
            # Cancelled before its first step: its coroutine never ran.
            self.on_done(task_id, task)
        else:
            self.forget(task_id, task)

    async def await_op(self, op_id: int, awaitable: Awaitable[Any]) -> None:
        """Awaits a task's read or drain; reports it when the await returns.

        Errors are reported and swallowed, except CancelledError, which is
        reported and re-raised: it ends the task.
        """
        completion = pb.Completion(id=op_id)
        self.awaiting.add(op_id)
        try:
            result = await awaitable
        except asyncio.CancelledError:
            completion.error.CopyFrom(pb.Error(type="CancelledError"))
            raise
        except Exception as exc:  # noqa: BLE001 - observed
            completion.error.CopyFrom(error_from_exception(exc))
        else:
            if result is None:
                completion.done = True
            else:
                completion.value = result
        finally:
            self.awaiting.discard(op_id)
            self.completed.append(completion)

    async def await_read(self, read: Any) -> None:
        await self.await_op(read.id, self.read_coroutine(read))

    async def await_drain(self, op_id: int) -> None:
        await self.await_op(op_id, self.need_writer().drain())

    async def await_sleep0(self, _: Any) -> None:
        await asyncio.sleep(0)

    async def await_feed_data(self, data: bytes) -> None:
        self.reader.feed_data(data)

    async def await_feed_eof(self, _: Any) -> None:
        self.reader.feed_eof()

    # -- A client_connected_cb coroutine (Scenario.client_connected) -------

    def client_connected_cb(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Coroutine[Any, Any, None]:
        """The protocol's callback: returns the coroutine connection_made
        wraps in a task; it is listed as pending until it ends."""
        coro = self.run_client_connected(reader, writer)
        self.pending_callback.add(self.scenario.client_connected.id)
        return coro

    async def run_client_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Writes, awaits its entries with what it received, then raises or
        returns; reports its own end under its id."""
        spec = self.scenario.client_connected
        try:
            if spec.write:
                writer.write(spec.write)
            for entry in spec.awaits:
                await self.await_received(entry, reader, writer)
            if spec.HasField("raises"):
                error = spec.raises
                self.completed.append(pb.Completion(id=spec.id, error=error))
                raise make_exception(error)
            self.completed.append(pb.Completion(id=spec.id, done=True))
        finally:
            self.pending_callback.discard(spec.id)

    async def await_received(
        self,
        entry: Any,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        """One Await entry of the callback, on its reader and writer."""
        kind = entry.WhichOneof("kind")
        if kind == "read":
            read = entry.read
            await self.await_op(read.id, self.read_coroutine(read, reader))
        elif kind == "drain":
            await self.await_op(entry.drain, writer.drain())
        elif kind == "sleep0":
            await asyncio.sleep(0)
        elif kind == "feed_data":
            reader.feed_data(expand(entry.feed_data))
        elif kind == "feed_eof":
            reader.feed_eof()
        else:
            raise Unsupported(f"unknown await kind {kind!r}")

    # -- StreamReaderProtocol ----------------------------------------------

    def connection_made(self, options: Any) -> None:
        transport = self.new_transport(options)
        transport.protocol = self.protocol
        transport.loop = self.loop
        self.connected = True
        self.protocol.connection_made(transport)
        if self.scenario.HasField("client_connected"):
            # The callback holds the writer: writer actions are refused.
            # Its task is cancelled at the end like the scenario's own.
            if self.protocol._task is not None:
                spec_id = self.scenario.client_connected.id
                self.tasks.append((spec_id, self.protocol._task))
            return
        if self.scenario.server_side:
            writer = self.protocol._stream_writer
        else:
            writer = asyncio.StreamWriter(
                transport, self.protocol, self.reader, self.loop
            )
        self.writer = writer
        if writer is not None:
            self.writers.append(writer)

    def data_received(self, data: Any) -> None:
        self.protocol.data_received(expand(data))

    def eof_received(self, _: Any) -> None:
        self.returned = bool(self.protocol.eof_received())

    def connection_lost(self, lost: Any) -> None:
        exc = make_exception(lost.exc) if lost.HasField("exc") else None
        self.protocol.connection_lost(exc)

    def pause_writing(self, _: Any) -> None:
        self.protocol.pause_writing()

    def resume_writing(self, _: Any) -> None:
        self.protocol.resume_writing()

    # -- StreamWriter --------------------------------------------------------

    def write(self, data: Any) -> None:
        self.need_writer().write(expand(data))

    def writelines(self, lines: Any) -> None:
        self.need_writer().writelines([expand(line) for line in lines.lines])

    def write_eof(self, _: Any) -> None:
        self.need_writer().write_eof()

    def can_write_eof(self, _: Any) -> None:
        self.returned = bool(self.need_writer().can_write_eof())

    def close_writer(self, _: Any) -> None:
        self.need_writer().close()

    def is_closing(self, _: Any) -> None:
        self.returned = bool(self.need_writer().is_closing())

    def drop_writer(self, _: Any) -> None:
        """Lets go of the last writer: __del__ runs if nothing else holds
        it (the server side's protocol does)."""
        writer = self.need_writer()
        self.writers = [kept for kept in self.writers if kept is not writer]
        self.writer = None
        del writer

    def abort(self, _: Any) -> None:
        self.need_writer().transport.abort()

    def drain(self, op_id: int) -> None:
        self.start_task(op_id, self.need_writer().drain())

    def wait_closed(self, op_id: int) -> None:
        self.start_task(op_id, self.need_writer().wait_closed())

    # -- The fake transport, from its side -----------------------------------

    def transport_closing(self, _: Any) -> None:
        if not self.transports:
            raise Unsupported("transport_closing before any transport exists")
        self.transports[-1].start_closing()


# Action name (the oneof field of Action) -> the function that runs it.
ACTIONS: Dict[str, Callable[[ScenarioRun, Any], None]] = {
    "feed_data": ScenarioRun.feed_data,
    "feed_eof": ScenarioRun.feed_eof,
    "set_exception": ScenarioRun.set_exception,
    "set_transport": ScenarioRun.set_transport,
    "read": ScenarioRun.read,
    "cancel": ScenarioRun.cancel,
    "task": ScenarioRun.task,
    "connection_made": ScenarioRun.connection_made,
    "data_received": ScenarioRun.data_received,
    "eof_received": ScenarioRun.eof_received,
    "connection_lost": ScenarioRun.connection_lost,
    "pause_writing": ScenarioRun.pause_writing,
    "resume_writing": ScenarioRun.resume_writing,
    "write": ScenarioRun.write,
    "writelines": ScenarioRun.writelines,
    "write_eof": ScenarioRun.write_eof,
    "can_write_eof": ScenarioRun.can_write_eof,
    "close": ScenarioRun.close_writer,
    "is_closing": ScenarioRun.is_closing,
    "abort": ScenarioRun.abort,
    "drop_writer": ScenarioRun.drop_writer,
    "drain": ScenarioRun.drain,
    "wait_closed": ScenarioRun.wait_closed,
    "transport_closing": ScenarioRun.transport_closing,
    "observe": ScenarioRun.observe_action,
}


AwaitFunction = Callable[[ScenarioRun, Any], Awaitable[None]]

# Await kind (the oneof field of Await) -> the coroutine that awaits it.
AWAITS: Dict[str, AwaitFunction] = {
    "read": ScenarioRun.await_read,
    "drain": ScenarioRun.await_drain,
    "sleep0": ScenarioRun.await_sleep0,
    "feed_data": ScenarioRun.await_feed_data,
    "feed_eof": ScenarioRun.await_feed_eof,
}


def implementation() -> str:
    version = ".".join(str(part) for part in sys.version_info[:3])
    return f"CPython {version}"


def run_request(request: Any) -> Any:
    """Runs one scenario; never raises."""
    response = pb.Response()
    try:
        payload.check_scenario(request.scenario)
    except payload.PayloadError as exc:
        response.runtime_error = f"invalid request: {exc}"
        return response
    beyond = request.scenario.HasField("beyond_reference")
    try:
        response.trace.CopyFrom(run_scenario(request.scenario))
    except ConstructionFailed as exc:
        response.trace.implementation = implementation()
        response.trace.construction_error.CopyFrom(
            error_from_exception(exc.error)
        )
    except Unsupported as exc:
        response.skipped = str(exc)
        if beyond:
            response.skipped = beyond_reason(request.scenario, str(exc))
    except ResponseTooLarge as exc:
        response.runtime_error = str(exc)
    except Exception as exc:  # noqa: BLE001 - reported to the harness
        response.runtime_error = traceback.format_exc()
        if beyond:
            response.skipped = beyond_reason(request.scenario, repr(exc))
    return response


def beyond_3_11(scenario: Any) -> Optional[str]:
    """What of the scenario CPython 3.11.7's asyncio has not, or None."""
    if scenario.HasField("reader_options"):
        return "reader options (a //streams extension)"
    reads = []
    for step in scenario.steps:
        for action in step.actions:
            kind = action.WhichOneof("action")
            if kind == "read":
                reads.append(action.read)
            elif kind == "task":
                reads.extend(
                    a.read for a in action.task.awaits if a.HasField("read")
                )
    for read in reads:
        if read.WhichOneof("kind") != "readuntil":
            continue
        if read.readuntil.separators or read.readuntil.separator_tuple:
            if sys.version_info < (3, 13):
                return "readuntil with a tuple of separators (CPython 3.13)"
    return None


def run_scenario(scenario: Any) -> Any:
    """The StepTrace of one scenario; no warning collected after it."""
    missing = beyond_3_11(scenario)
    if missing is not None:
        raise Unsupported(missing)
    try:
        return ScenarioRun(scenario).run()
    finally:
        COLLECTING[0] = False


def beyond_reason(scenario: Any, failure: str) -> str:
    """Why a scenario marked beyond_reference did not run here."""
    mark = scenario.beyond_reference
    what = (
        "a C++ extension"
        if mark.cpp_extension
        else f"needs CPython {mark.cpython or '(unnamed)'}"
    )
    return (
        f"beyond CPython {implementation().split()[-1]}: {what}: "
        f"{mark.reason} ({failure})"
    )


def main() -> int:
    version = sys.version.split()[0]
    print(
        f"reference_testee: {sys.executable} (Python {version})",
        file=sys.stderr,
        flush=True,
    )
    # --any_version: another CPython as an informational column of the
    # report (conformance/report.py); its results are never judged.
    any_version = sys.argv[1:] == ["--any_version"]
    if sys.version_info[:3] != REQUIRED_VERSION and not any_version:
        wanted = ".".join(str(part) for part in REQUIRED_VERSION)
        print(
            f"reference_testee: needs CPython {wanted}, the source the C++ "
            f"port follows; {sys.executable} is "
            f"{sys.version.split()[0]}. Run it with the `python3` on PATH.",
            file=sys.stderr,
            flush=True,
        )
        return 2
    requests = sys.stdin.buffer
    responses = sys.stdout.buffer
    sys.stdout = sys.stderr  # Nothing but frames goes to the real stdout.
    # ResourceWarnings (an unclosed StreamWriter's) are observed, not shown.
    warnings.simplefilter("always", ResourceWarning)
    warnings.showwarning = _collect_warning
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    while True:
        try:
            frame = wire.read_frame(requests)
        except wire.WireError as exc:
            print(
                f"reference_testee: wire error: {exc}",
                file=sys.stderr,
                flush=True,
            )
            return 1
        if frame is None:
            return 0
        try:
            request = pb.Request.FromString(frame)
        except Exception:  # noqa: BLE001 - reported to the harness
            response = pb.Response(runtime_error=traceback.format_exc())
        else:
            response = run_request(request)
        try:
            wire.write_frame(responses, response.SerializeToString())
        except wire.WireError as exc:
            print(
                f"reference_testee: wire error: {exc}",
                file=sys.stderr,
                flush=True,
            )
            return 1


if __name__ == "__main__":
    sys.exit(main())
