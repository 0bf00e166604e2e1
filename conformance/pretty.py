"""Showing scenarios and observations the way Python would show them.

Bytes print as their repr; long ones are cut:
b'xxxxxxxxxxxxxxxxxxxxxxxx...' (65536 bytes). Errors print as constructor
calls, actions as the Python call the reference testee makes.
"""

from typing import Any, Optional

from conformance import payload, textproto

MAX_BYTES = 64
HEAD_BYTES = 24


def show_bytes(data: bytes) -> str:
    if len(data) <= MAX_BYTES:
        return repr(bytes(data))
    head = repr(bytes(data[:HEAD_BYTES]))
    return f"{head[:-1]}...{head[-1]} ({len(data)} bytes)"


def show_payload(message: Any) -> str:
    """A `Bytes` message: shows the bytes it stands for."""
    try:
        return show_bytes(payload.expand(message))
    except payload.PayloadError as exc:
        return f"<invalid Bytes: {exc}>"


def show_error(error: Optional[Any]) -> str:
    if error is None:
        return "None"
    details = []
    if error.message or not (
        error.HasField("partial") or error.HasField("consumed")
    ):
        details.append(repr(error.message))
    if error.HasField("partial"):
        details.append(f"partial={show_bytes(error.partial)}")
    if error.HasField("expected"):
        details.append(f"expected={error.expected}")
    elif error.type == "IncompleteReadError":
        details.append("expected=None")
    if error.HasField("consumed"):
        details.append(f"consumed={error.consumed}")
    return f"{error.type}({', '.join(details)})"


def show_completion(completion: Any) -> str:
    if completion.HasField("error"):
        outcome = f"raised {show_error(completion.error)}"
    elif completion.HasField("value"):
        outcome = f"returned {show_bytes(completion.value)}"
    elif completion.HasField("value_bytes"):
        outcome = f"returned {show_payload(completion.value_bytes)}"
    elif completion.done:
        outcome = "returned None"
    else:
        outcome = "(no outcome)"
    return f"op {completion.id} {outcome}"


def show_call(call: Any) -> str:
    owner = f"transport {call.transport}: " if call.transport else ""
    kind = call.WhichOneof("call")
    if kind == "write":
        return f"{owner}write({show_bytes(call.write)})"
    if kind == "writelines":
        lines = ", ".join(show_payload(line) for line in call.writelines.lines)
        return f"{owner}writelines([{lines}])"
    return f"{owner}{kind}()"


def show_transport_options(options: Any) -> str:
    flags = [
        name
        for name in (
            "cannot_pause",
            "ssl",
            "cannot_write_eof",
            "log_failed_pause",
            "lose_on_close",
        )
        if getattr(options, name)
    ]
    return f"FakeTransport({', '.join(f'{flag}=True' for flag in flags)})"


def read_call(read: Any) -> str:
    """The reader call a `Read` stands for: "reader.readline()"."""
    kind = read.WhichOneof("kind")
    if kind == "readuntil":
        argument = (
            show_bytes(read.readuntil.separator)
            if read.readuntil.HasField("separator")
            else ""
        )
        return f"reader.readuntil({argument})"
    if kind in ("read", "readexactly"):
        return f"reader.{kind}({getattr(read, kind).n})"
    if kind == "anext":
        return "reader.__anext__()"
    return f"reader.{kind}()"


def show_read(read: Any) -> str:
    return f"op {read.id} = create_task({read_call(read)})"


def show_await(entry: Any) -> str:
    """One entry of a task, as the line of the coroutine that runs it."""
    kind = entry.WhichOneof("kind")
    if kind == "read":
        return f"op {entry.read.id} = await {read_call(entry.read)}"
    if kind == "drain":
        return f"op {entry.drain} = await writer.drain()"
    if kind == "sleep0":
        return "await asyncio.sleep(0)"
    if kind == "feed_data":
        return f"reader.feed_data({show_payload(entry.feed_data)})"
    if kind == "feed_eof":
        return "reader.feed_eof()"
    return "(empty await)"


def show_task(task: Any) -> str:
    body = "; ".join(show_await(entry) for entry in task.awaits)
    return f"op {task.id} = create_task(a coroutine: {body or 'pass'})"


def show_action(action: Any) -> str:
    kind = action.WhichOneof("action")
    value = getattr(action, kind) if kind else None
    if kind == "feed_data":
        return f"reader.feed_data({show_payload(value)})"
    if kind == "set_exception":
        return f"reader.set_exception({show_error(value)})"
    if kind == "set_transport":
        return f"reader.set_transport({show_transport_options(value)})"
    if kind == "read":
        return show_read(value)
    if kind == "cancel":
        return f"op {value}.cancel()"
    if kind == "task":
        return show_task(value)
    if kind == "connection_made":
        return f"protocol.connection_made({show_transport_options(value)})"
    if kind == "data_received":
        return f"protocol.data_received({show_payload(value)})"
    if kind == "connection_lost":
        exc = show_error(value.exc) if value.HasField("exc") else "None"
        return f"protocol.connection_lost({exc})"
    if kind in ("eof_received", "pause_writing", "resume_writing"):
        return f"protocol.{kind}()"
    if kind == "write":
        return f"writer.write({show_payload(value)})"
    if kind == "writelines":
        lines = ", ".join(show_payload(line) for line in value.lines)
        return f"writer.writelines([{lines}])"
    if kind in ("drain", "wait_closed"):
        return f"op {value} = create_task(writer.{kind}())"
    if kind == "transport_closing":
        return "transport starts closing (is_closing() becomes True)"
    if kind == "feed_eof":
        return "reader.feed_eof()"
    if kind == "abort":
        return "writer.transport.abort()"
    if kind == "observe":
        return "observe the reader's and writer's state (within the tick)"
    if kind is None:
        return "(empty action)"
    return f"writer.{kind}()"


def show_value(field: str, value: Any) -> str:
    """An Observation field's value (as compare.field_value returns it)."""
    if value is None:
        return "(unset)"
    if field == "completed":
        return "[" + "; ".join(show_completion(c) for c in value) + "]"
    if field == "transport_calls":
        return "[" + ", ".join(show_call(c) for c in value) + "]"
    if field in ("error", "exception", "construction_error"):
        return show_error(value)
    if field == "actions":
        shown = (textproto.one_line(result) or "{}" for result in value)
        return "[" + "; ".join(shown) + "]"
    if field == "buffer":
        return show_bytes(value)
    if field == "pending":
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value)
