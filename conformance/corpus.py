"""Loading scenario files.

A scenario file is text format, message streams.conformance.ScenarioFile.
"""

import dataclasses
import pathlib
from typing import Iterable, List

from google.protobuf import text_format

from conformance import scenario_pb2 as pb
from conformance import textproto

SUFFIX = ".textproto"


class CorpusError(Exception):
    """A scenario file cannot be read or parsed."""


@dataclasses.dataclass
class Entry:
    """One scenario and where it comes from."""

    scenario: pb.Scenario
    path: pathlib.Path
    line: int  # Line of its `scenario {`; 0 if unknown.
    step_lines: List[int]  # Line of each `steps {`; 0 if unknown.

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def topic(self) -> str:
        """The scenario file's base name, e.g. "stream_reader_readuntil"."""
        return self.path.name[: -len(SUFFIX)]


def find_files(paths: Iterable[str]) -> List[pathlib.Path]:
    """The .textproto files named or found (recursively) under `paths`."""
    files: List[pathlib.Path] = []
    for name in paths:
        path = pathlib.Path(name)
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*" + SUFFIX) if p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            raise CorpusError(f"{name}: no such file or directory")
    return files


def parse_file(path: pathlib.Path) -> pb.ScenarioFile:
    """Parses one file into a ScenarioFile; CorpusError with file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from exc
    try:
        return text_format.Parse(text, pb.ScenarioFile())
    except text_format.ParseError as exc:
        raise CorpusError(f"{path}:{exc}") from exc


def load_file(path: pathlib.Path) -> List[Entry]:
    message = parse_file(path)
    try:
        nodes = [
            node
            for node in textproto.parse(path.read_text("utf-8"))
            if node.name == "scenario"
        ]
    except textproto.TextprotoError:
        nodes = []
    entries = []
    for index, scenario in enumerate(message.scenario):
        line = 0
        step_lines = [0] * len(scenario.steps)
        if len(nodes) == len(message.scenario):
            node = nodes[index]
            line = node.line
            steps = node.find("steps")
            if len(steps) == len(step_lines):
                step_lines = [step.line for step in steps]
        entries.append(Entry(scenario, path, line, step_lines))
    return entries


def load(paths: Iterable[str]) -> List[Entry]:
    """Every scenario of every file under `paths`, in file order."""
    entries: List[Entry] = []
    for path in find_files(paths):
        entries.extend(load_file(path))
    return entries
