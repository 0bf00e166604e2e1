"""A small tokenizer and block finder for protobuf text format, and a printer.

The record tool rewrites only the `expect { ... }` blocks of scenario files and
keeps everything else (comments, order, formatting) byte for byte. For that it
needs to know where each field starts and ends in the text, which
google.protobuf.text_format does not say. This module finds those spans; the
file's meaning still comes from text_format.Parse.

`format_field` prints a message field in text format the way a person would
write it: on one line when it fits, else one field per line.
"""

import dataclasses
from typing import Any, List, Optional

from google.protobuf import descriptor, text_encoding

from conformance import scenario_pb2 as pb

_PUNCTUATION = "{}<>:[],;"
_OPENING = {"{": "}", "<": ">"}


class TextprotoError(ValueError):
    """The text is not well-formed text format."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclasses.dataclass
class Token:
    kind: str  # "ident" (names, numbers, true...), "string", or "punct".
    text: str
    start: int  # Offsets into the source text: text[start:end] == self.text.
    end: int
    line: int  # 1-based.


def tokenize(text: str) -> List[Token]:
    """Splits text into tokens; comments and whitespace are dropped."""
    tokens = []
    pos = 0
    line = 1
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "\n":
            line += 1
            pos += 1
        elif char.isspace():
            pos += 1
        elif char == "#":
            newline = text.find("\n", pos)
            pos = length if newline == -1 else newline
        elif char in "\"'":
            start = pos
            pos += 1
            while True:
                if pos >= length or text[pos] == "\n":
                    raise TextprotoError(line, "unterminated string")
                if text[pos] == "\\":
                    pos += 2
                    continue
                if text[pos] == char:
                    pos += 1
                    break
                pos += 1
            tokens.append(Token("string", text[start:pos], start, pos, line))
        elif char in _PUNCTUATION:
            tokens.append(Token("punct", char, pos, pos + 1, line))
            pos += 1
        else:
            start = pos
            while (
                pos < length
                and not text[pos].isspace()
                and text[pos] not in _PUNCTUATION
                and text[pos] not in "#\"'"
            ):
                pos += 1
            tokens.append(Token("ident", text[start:pos], start, pos, line))
    return tokens


@dataclasses.dataclass
class Node:
    """One field occurrence: `name: value` or `name { children }`.

    `start`/`end` span the whole field text (from its name to its last
    token). For message fields, `open`/`close` are the offsets of the
    delimiters.
    """

    name: str
    start: int
    end: int
    line: int
    children: List["Node"] = dataclasses.field(default_factory=list)
    open: Optional[int] = None
    close: Optional[int] = None

    @property
    def is_message(self) -> bool:
        return self.open is not None

    def find(self, name: str) -> List["Node"]:
        return [child for child in self.children if child.name == name]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> Optional[Token]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1].line if self.tokens else 1
            raise TextprotoError(last, "unexpected end of text")
        self.pos += 1
        return token

    def fields(self, closing: Optional[str]) -> List[Node]:
        nodes: List[Node] = []
        while True:
            token = self.peek()
            if token is None:
                if closing is not None:
                    raise TextprotoError(
                        self.tokens[-1].line, f"missing {closing!r}"
                    )
                return nodes
            if token.kind == "punct" and token.text == closing:
                return nodes
            if token.kind == "punct" and token.text in ",;":
                self.pos += 1
                continue
            nodes.extend(self.field())

    def field(self) -> List[Node]:
        name = self.take()
        if name.kind == "punct" and name.text == "[":
            # An extension or Any type URL: [foo.bar].
            parts = []
            while True:
                token = self.take()
                if token.text == "]":
                    break
                parts.append(token.text)
            name = Token(
                "ident",
                "[" + "".join(parts) + "]",
                name.start,
                token.end,
                name.line,
            )
        elif name.kind != "ident":
            raise TextprotoError(
                name.line, f"expected a field name, " f"found {name.text!r}"
            )
        token = self.peek()
        has_colon = token is not None and token.text == ":"
        if has_colon:
            self.pos += 1
            token = self.peek()
        if token is not None and token.text == "[":
            self.pos += 1
            nodes = []
            while True:
                token = self.peek()
                if token is not None and token.text == "]":
                    self.pos += 1
                    break
                if token is not None and token.text == ",":
                    self.pos += 1
                    continue
                nodes.append(self.value(name))
            if nodes:
                nodes[0].start = name.start
                nodes[-1].end = self.tokens[self.pos - 1].end
            return nodes
        return [self.value(name)]

    def value(self, name: Token) -> Node:
        token = self.take()
        if token.kind == "punct" and token.text in _OPENING:
            closing = _OPENING[token.text]
            children = self.fields(closing)
            close = self.take()
            return Node(
                name.text,
                name.start,
                close.end,
                name.line,
                children,
                token.start,
                close.start,
            )
        if token.kind == "punct":
            raise TextprotoError(token.line, f"unexpected {token.text!r}")
        end = token.end
        if token.kind == "string":
            # Adjacent strings concatenate.
            while self.peek() is not None and self.peek().kind == "string":
                end = self.take().end
        elif token.text == "-":
            end = self.take().end
        return Node(name.text, name.start, end, name.line)


def parse(text: str) -> List[Node]:
    """Returns the top-level fields of a text-format message, with spans."""
    parser = _Parser(text)
    nodes = parser.fields(None)
    return nodes


# -- Printing ----------------------------------------------------------------


def _scalar(field: Any, value: Any) -> str:
    if field.type == descriptor.FieldDescriptor.TYPE_BYTES:
        return '"' + text_encoding.CEscape(value, as_utf8=False) + '"'
    if field.type == descriptor.FieldDescriptor.TYPE_STRING:
        return '"' + text_encoding.CEscape(value, as_utf8=True) + '"'
    if field.type == descriptor.FieldDescriptor.TYPE_BOOL:
        return "true" if value else "false"
    if field.type == descriptor.FieldDescriptor.TYPE_ENUM:
        enum_value = field.enum_type.values_by_number.get(value)
        return enum_value.name if enum_value else str(value)
    return str(value)


def _items(message: Any) -> List[Any]:
    """(field, value) pairs in field-number order; repeated ones expanded.

    Repeated scalars stay grouped: they print as `name: [a, b]`.
    """
    items = []
    for field, value in message.ListFields():
        is_repeated = field.label == descriptor.FieldDescriptor.LABEL_REPEATED
        is_message = field.type == descriptor.FieldDescriptor.TYPE_MESSAGE
        if is_repeated and is_message:
            items.extend((field, element) for element in value)
        else:
            items.append((field, value))
    return items


def _item(field: Any, value: Any) -> str:
    """One item of `_items` on one line."""
    if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
        return _item_named(field.name, value)
    if field.label == descriptor.FieldDescriptor.LABEL_REPEATED:
        values = ", ".join(_scalar(field, element) for element in value)
        return f"{field.name}: [{values}]"
    return f"{field.name}: {_scalar(field, value)}"


def one_line(message: Any) -> str:
    """The fields of `message` in text format, on one line."""
    return " ".join(_item(field, value) for field, value in _items(message))


def format_field(
    name: str,
    message: Any,
    column: int,
    width: int = 100,
    trailing: int = 0,
    indent: Optional[int] = None,
) -> str:
    """Prints `name { ...message... }` for text starting at `column`.

    One line when column + length + trailing <= width; otherwise the fields
    go one per line, indented by two more spaces than `indent` (default:
    `column`), each on one line when it fits, and the closing brace is
    indented by `indent`. The result has no trailing newline; lines after
    the first carry their indentation.
    """
    if indent is None:
        indent = column
    single = _item_named(name, message)
    if column + len(single) + trailing <= width:
        return single
    lines = [f"{name} {{"]
    for field, value in _items(message):
        if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            text = format_field(field.name, value, indent + 2, width)
        else:
            text = _item(field, value)
        lines.append(" " * (indent + 2) + text)
    lines.append(" " * indent + "}")
    return "\n".join(lines)


def _item_named(name: str, message: Any) -> str:
    inner = one_line(message)
    return f"{name} {{ {inner} }}" if inner else f"{name} {{}}"


def scenario_text(scenario: Any) -> str:
    """A scenario as a block to paste into a file under testdata/."""
    lines = ["scenario {"]
    for field, value in scenario.ListFields():
        if field.name == "steps":
            continue
        holder = pb.Scenario()
        if field.label == field.LABEL_REPEATED:
            getattr(holder, field.name).extend(value)
        elif field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            getattr(holder, field.name).CopyFrom(value)
        else:
            setattr(holder, field.name, value)
        lines.append("  " + one_line(holder))
    for step in scenario.steps:
        lines.append("  steps {")
        if step.per_action_results:
            lines.append("    per_action_results: true")
        for action in step.actions:
            lines.append("    " + format_field("actions", action, 4))
        if step.note:
            lines.append("    " + one_line(pb.Step(note=step.note)))
        lines.append("    " + format_field("expect", step.expect, 4))
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)
