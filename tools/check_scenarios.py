#!/usr/bin/env python3
"""Checks scenario files for mistakes a parser alone would not catch.

Usage:
  python3 tools/check_scenarios.py FILE_OR_DIR...

Rejects, with file:line messages: text-format parse errors and unknown
fields; a file without a leading header comment; duplicate scenario names
across all the files given; names not of the form <Topic>.<Operation>.<Case>
(three or more dot-separated CamelCase parts); a missing description; a
scenario without steps; steps without actions or without an `expect` block;
operation ids (read, drain, wait_closed, task, and the reads and drains a task
awaits) used twice in a scenario; `cancel` of an id no earlier action started
(unless the scenario has the tag "cancel_unknown_id"), or of a read or drain
inside a task (cancel the task); a task entry that sets nothing; `Bytes` with
a size but no pattern. Schema v2: `limit` and `explicit_limit` both set; a
scenario that expects a construction error but has steps (it has none to
run); an `observe` action in a step without per-action results; a
beyond_reference mark that names neither a CPython version nor
cpp_extension (or both), or gives no reason.

Prints `N files, M scenarios OK` and exits 0 when all is well.
"""

import pathlib
import re
import sys
from typing import Dict, List, Optional, Tuple

# Run from a checkout, only this script's folder is on sys.path: put the
# root there so that conformance.bootstrap can be imported.
_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from conformance import bootstrap  # noqa: E402,F401  (Debian's protobuf)

from google.protobuf import text_format  # noqa: E402

from conformance import corpus, payload, suite, textproto  # noqa: E402
from conformance import scenario_pb2 as pb  # noqa: E402

# A scenario with this tag may cancel ids nothing started (a no-op).
UNKNOWN_CANCEL_TAG = "cancel_unknown_id"
NAME = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9_]*){2,}$")


def _has_header(text: str) -> bool:
    for line in text.splitlines():
        if line.strip():
            return line.lstrip().startswith("#")
    return False


def _started_id(action: pb.Action) -> Optional[int]:
    kind = action.WhichOneof("action")
    if kind == "read":
        return action.read.id
    if kind in ("drain", "wait_closed"):
        return getattr(action, kind)
    if kind == "task":
        return action.task.id
    return None


def _awaited_ids(action: pb.Action) -> List[int]:
    """The ids of the reads and drains a task awaits."""
    if action.WhichOneof("action") != "task":
        return []
    ids = []
    for entry in action.task.awaits:
        kind = entry.WhichOneof("kind")
        if kind == "read":
            ids.append(entry.read.id)
        elif kind == "drain":
            ids.append(entry.drain)
    return ids


def _check_v2_scenario(scenario: pb.Scenario, where: str) -> List[str]:
    """The scenario-level fields of schema v2."""
    problems = []
    name = scenario.name
    if scenario.HasField("explicit_limit") and scenario.limit:
        problems.append(
            f"{where}: {name}: both limit and explicit_limit: "
            f"explicit_limit overrides limit, set one"
        )
    if scenario.HasField("expect_construction_error") and scenario.steps:
        problems.append(
            f"{where}: {name}: expects a construction error, so no step "
            f"can run: remove the steps"
        )
    if scenario.HasField("beyond_reference"):
        mark = scenario.beyond_reference
        if bool(mark.cpython) == mark.cpp_extension:
            problems.append(
                f"{where}: {name}: beyond_reference needs exactly one of "
                f"cpython (a version) and cpp_extension"
            )
        if not mark.reason.strip():
            problems.append(
                f"{where}: {name}: beyond_reference needs a reason"
            )
    return problems


def check_scenario(
    scenario: pb.Scenario,
    where: str,
    step_lines: List[int],
    path: pathlib.Path,
) -> List[str]:
    problems = []
    if not NAME.match(scenario.name):
        problems.append(
            f"{where}: name {scenario.name!r} is not "
            f"<Topic>.<Operation>.<Case> (CamelCase parts)"
        )
    if not scenario.description.strip():
        problems.append(f"{where}: {scenario.name}: missing description")
    problems.extend(_check_v2_scenario(scenario, where))
    constructs = not scenario.HasField("expect_construction_error")
    if not scenario.steps and constructs:
        problems.append(f"{where}: {scenario.name}: no steps")
    if scenario.limit < 0:
        problems.append(f"{where}: {scenario.name}: negative limit")
    started: Dict[int, int] = {}
    awaited: Dict[int, int] = {}  # Ids a task awaits, as `started`.
    for number, step in enumerate(scenario.steps, 1):
        line = step_lines[number - 1] if number <= len(step_lines) else 0
        at = f"{path}:{line}" if line else where
        label = f"{scenario.name} step {number}"
        if not step.actions:
            problems.append(f"{at}: {label}: no actions")
        if not step.HasField("expect"):
            problems.append(
                f"{at}: {label}: no expect block (run "
                f"tools/record.py, or write `expect {{}}`)"
            )
        per_action = step.per_action_results or scenario.per_action_results
        for action in step.actions:
            kind = action.WhichOneof("action")
            if kind is None:
                problems.append(f"{at}: {label}: empty action")
            if kind == "observe" and not per_action:
                problems.append(
                    f"{at}: {label}: observe needs per_action_results "
                    f"(on the step or the scenario)"
                )
            op_id = _started_id(action)
            for new_id in ([op_id] if op_id is not None else []) + (
                _awaited_ids(action)
            ):
                if new_id in started or new_id in awaited:
                    first = started.get(new_id) or awaited[new_id]
                    problems.append(
                        f"{at}: {label}: id {new_id} already "
                        f"used in step {first}"
                    )
                elif new_id == op_id:
                    started[new_id] = number
                else:
                    awaited[new_id] = number
            for entry in action.task.awaits if kind == "task" else []:
                entry_kind = entry.WhichOneof("kind")
                if entry_kind is None or (
                    entry_kind == "read"
                    and entry.read.WhichOneof("kind") is None
                ):
                    problems.append(
                        f"{at}: {label}: task {action.task.id}: "
                        f"empty await"
                    )
            if kind == "cancel" and action.cancel in awaited:
                problems.append(
                    f"{at}: {label}: cancel of id "
                    f"{action.cancel}, which a task awaits: "
                    f"cancel the task"
                )
            elif (
                kind == "cancel"
                and (action.cancel not in started)
                and (UNKNOWN_CANCEL_TAG not in scenario.tags)
            ):
                problems.append(
                    f"{at}: {label}: cancel of id "
                    f"{action.cancel}, which no earlier action "
                    f"started (if that is the point, add "
                    f'tags: "{UNKNOWN_CANCEL_TAG}")'
                )
            for data in payload.payloads_of(action):
                try:
                    payload.expand(data)
                except payload.PayloadError as exc:
                    problems.append(f"{at}: {label}: {exc}")
    return problems


def check_file(
    path: pathlib.Path, seen: Dict[str, str]
) -> Tuple[int, List[str]]:
    """Returns (number of scenarios, problems). `seen`: name -> location."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return 0, [f"{path}: {exc}"]
    problems = []
    if not _has_header(text):
        problems.append(
            f"{path}:1: no header comment (say what the file "
            f"covers, in '#' lines at the top)"
        )
    try:
        message = text_format.Parse(text, pb.ScenarioFile())
    except text_format.ParseError as exc:
        return 0, problems + [f"{path}:{exc}"]
    try:
        nodes = [
            node for node in textproto.parse(text) if node.name == "scenario"
        ]
    except textproto.TextprotoError:
        nodes = []
    if not message.scenario:
        problems.append(f"{path}: no scenario")
    for index, scenario in enumerate(message.scenario):
        line = 0
        step_lines: List[int] = []
        if len(nodes) == len(message.scenario):
            line = nodes[index].line
            step_lines = [step.line for step in nodes[index].find("steps")]
        where = f"{path}:{line}" if line else str(path)
        if scenario.name in seen:
            problems.append(
                f"{where}: duplicate scenario name "
                f"{scenario.name} (also at {seen[scenario.name]})"
            )
        else:
            seen[scenario.name] = where
        problems.extend(check_scenario(scenario, where, step_lines, path))
    return len(message.scenario), problems


def main(argv: Optional[List[str]] = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths or any(arg in ("-h", "--help") for arg in paths):
        print(__doc__)
        return 0 if paths else 2
    try:
        files = corpus.find_files(suite.user_paths(paths))
    except corpus.CorpusError as exc:
        print(exc)
        return 1
    seen: Dict[str, str] = {}
    scenarios = 0
    problems: List[str] = []
    for path in files:
        count, found = check_file(path, seen)
        scenarios += count
        problems.extend(found)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problems in {len(files)} files")
        return 1
    if not files:
        print("no .textproto file found")
        return 1
    print(f"{len(files)} files, {scenarios} scenarios OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
