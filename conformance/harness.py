#!/usr/bin/env python3
"""The conformance harness: runs scenario files through testees.

Run the corpus through one testee and compare with the expectations:

  python3 conformance/harness.py \
      --testee "python3 conformance/reference_testee.py" \
      [--failure_list conformance/failure_list_cpp.txt] [--filter REGEX] \
      testdata/

Compare both testees scenario by scenario, as a table by topic:

  python3 conformance/harness.py --report --reference "CMD" --cpp "CMD" \
      [--html DIR] [--extra_reference PYTHON|auto] testdata/

(conformance/report.py; --html writes a page per scenario, and each
--extra_reference adds an informational column: the reference testee on
another CPython.)

Run random scenarios through both testees and compare their traces:

  python3 conformance/harness.py --differential --reference "CMD" --cpp "CMD" \
      --seed 1 --count 2000 [--families reader,protocol,writer]

or the scenarios of files (expectations ignored; fuzz/differential.py writes
such files from fuzzer inputs):

  python3 conformance/harness.py --differential --reference "CMD" --cpp "CMD" \
      FILE_OR_DIR...

Every mode ends with a line `N passed, M failed`. Under Bazel, the scenarios
are sharded by TEST_TOTAL_SHARDS / TEST_SHARD_INDEX (index in name order),
and a corpus run writes JUnit XML to XML_OUTPUT_FILE (conformance/junit.py).
"""

import argparse
import collections
import os
import pathlib
import re
import sys
from typing import Any, Callable, List, Optional, Sequence

_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
try:
    import google.protobuf  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")

from conformance import compare, corpus, generator  # noqa: E402
from conformance import junit, payload, pretty  # noqa: E402
from conformance import results as res  # noqa: E402
from conformance import scenario_pb2 as pb  # noqa: E402
from conformance import textproto  # noqa: E402
from conformance.results import Outcome  # noqa: E402
from conformance.testee import Testee, TesteeError, run_both  # noqa: E402


# -- Results -----------------------------------------------------------------


def _step_header(entry: corpus.Entry, number: int) -> List[str]:
    step = entry.scenario.steps[number - 1]
    line = entry.step_lines[number - 1] if entry.step_lines else 0
    where = f" ({entry.path}:{line})" if line else ""
    lines = [
        f"  step {number} of {len(entry.scenario.steps)}{where}"
        + (f": {step.note}" if step.note else "")
    ]
    lines.append("    actions:")
    lines.extend(
        f"      {pretty.show_action(action)}" for action in step.actions
    )
    return lines


def _diff_lines(
    differences: List[compare.Difference],
    first: str = "expected",
    second: str = "observed",
) -> List[str]:
    lines = []
    width = max(len(first), len(second))
    for diff in differences:
        lines.append(f"    {diff.field}:")
        lines.append(
            f"      {first:<{width}} "
            f"{pretty.show_value(diff.field, diff.expected)}"
        )
        lines.append(
            f"      {second:<{width}} "
            f"{pretty.show_value(diff.field, diff.observed)}"
        )
    return lines


def judge(entry: corpus.Entry, response: Any) -> Outcome:
    """Compares a testee's response with the scenario's expectations."""
    kind = response.WhichOneof("result")
    if kind == "skipped":
        return Outcome(
            False,
            f"skipped by the testee: {response.skipped}",
            [f"  skipped by the testee: {response.skipped}"],
        )
    if kind == "runtime_error":
        text = response.runtime_error.rstrip("\n")
        return Outcome(
            False,
            "runtime error in the testee",
            ["  runtime error in the testee:"]
            + ["    " + line for line in text.splitlines()],
        )
    if kind != "trace":
        return Outcome(False, "empty response", ["  empty response"])
    steps = entry.scenario.steps
    observed = response.trace.steps
    if len(observed) != len(steps):
        message = (
            f"the testee returned {len(observed)} observations for "
            f"{len(steps)} steps"
        )
        return Outcome(False, message, ["  " + message])
    failing = []
    for number, (step, observation) in enumerate(zip(steps, observed), 1):
        differences = compare.diff_expectation(step.expect, observation)
        if differences:
            failing.append((number, differences))
    if not failing:
        return Outcome(True)
    number, differences = failing[0]
    details = _step_header(entry, number) + _diff_lines(differences)
    if len(failing) > 1:
        later = ", ".join(str(n) for n, _ in failing[1:])
        if len(failing) == 2:
            details.append(f"  (step {later} differs too)")
        else:
            details.append(f"  (steps {later} differ too)")
    fields = ", ".join(diff.field for diff in differences)
    return Outcome(False, f"step {number}: {fields}", details)


# -- Selecting scenarios ------------------------------------------------------


def select(
    entries: List[corpus.Entry], pattern: Optional[str]
) -> List[corpus.Entry]:
    """Sorted by name, filtered, then this Bazel shard's part."""
    chosen = sorted(entries, key=lambda entry: entry.name)
    if pattern:
        regex = re.compile(pattern)
        chosen = [entry for entry in chosen if regex.search(entry.name)]
    total = int(os.environ.get("TEST_TOTAL_SHARDS", "0") or 0)
    if total > 1:
        index = int(os.environ.get("TEST_SHARD_INDEX", "0") or 0)
        chosen = [
            entry
            for position, entry in enumerate(chosen)
            if position % total == index
        ]
    status_file = os.environ.get("TEST_SHARD_STATUS_FILE")
    if status_file:
        pathlib.Path(status_file).touch()
    return chosen


def read_failure_list(path: str) -> List[str]:
    """Scenario names, one a line; '#' starts a comment."""
    names = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


def duplicates(entries: List[corpus.Entry]) -> List[str]:
    counts = collections.Counter(entry.name for entry in entries)
    return sorted(name for name, count in counts.items() if count > 1)


def load(paths: Sequence[str]) -> List[corpus.Entry]:
    entries = corpus.load(paths)
    repeated = duplicates(entries)
    if repeated:
        raise corpus.CorpusError(
            "duplicate scenario names: " + ", ".join(repeated)
        )
    return entries


# -- Modes -------------------------------------------------------------------


def run_corpus(args: argparse.Namespace) -> int:
    entries = load(args.paths)
    listed = read_failure_list(args.failure_list) if args.failure_list else []
    known = {entry.name for entry in entries}
    problems = []
    for name in listed:
        if name not in known:
            problems.append(
                f"failure list: {name} is not a scenario of the "
                f"corpus: remove it from the list"
            )
    listed_set = set(listed)
    chosen = select(entries, args.filter)
    passed = failed = 0
    expected_failures = []
    column = res.Column(args.name, {})
    with Testee(args.testee, label=args.name) as testee:
        for entry in chosen:
            response = testee.run(entry.scenario)
            outcome = judge(entry, response)
            status = res.PASSED if outcome.passed else res.FAILED
            column.results[entry.name] = res.Result(
                entry, status, outcome, response
            )
            if entry.name in listed_set:
                if outcome.passed:
                    problems.append(
                        f"failure list: {entry.name} now passes: "
                        f"remove it from the list"
                    )
                    column.results[entry.name] = res.Result(
                        entry, res.FAILED, Outcome(False, problems[-1])
                    )
                else:
                    expected_failures.append(entry.name)
                    column.results[entry.name].status = res.EXPECTED_FAILURE
                continue
            if outcome.passed:
                passed += 1
                continue
            failed += 1
            print(
                f"FAILED {entry.name} ({entry.path}"
                + (f":{entry.line}" if entry.line else "")
                + ")"
            )
            print("\n".join(outcome.details))
            print()
    for problem in problems:
        print(problem)
    if not chosen:
        print("no scenario ran (check the paths, --filter and sharding)")
    if expected_failures:
        print(
            f"{len(expected_failures)} expected failures (listed in "
            f"{args.failure_list}): " + ", ".join(expected_failures)
        )
    print(f"{passed} passed, {failed} failed")
    junit.write_for_bazel([column], problems)
    return 0 if (not failed and not problems and chosen) else 1


# -- Differential mode -------------------------------------------------------


def trace_difference(first: Any, second: Any) -> List[str]:
    """Why two responses differ (empty if they are the same)."""
    first_kind = first.WhichOneof("result")
    second_kind = second.WhichOneof("result")
    if first_kind != "trace" or second_kind != "trace":
        # Both refused the scenario in the same words (an invalid payload,
        # conformance/payload.py): that is agreement.
        if (
            first_kind == second_kind
            and first_kind in ("skipped", "runtime_error")
            and (getattr(first, first_kind) == getattr(second, second_kind))
        ):
            return []
        return [
            f"  reference: {first_kind}: "
            f"{getattr(first, first_kind) if first_kind else ''}",
            f"  C++:       {second_kind}: "
            f"{getattr(second, second_kind) if second_kind else ''}",
        ]
    if len(first.trace.steps) != len(second.trace.steps):
        return [
            f"  {len(first.trace.steps)} observations on the reference, "
            f"{len(second.trace.steps)} on C++"
        ]
    for number, (one, two) in enumerate(
        zip(first.trace.steps, second.trace.steps), 1
    ):
        differences = compare.diff_exact(one, two)
        if differences:
            return [f"  step {number}:"] + _diff_lines(
                differences, "reference", "C++"
            )
    return []


def shrink(
    scenario: Any, differs: Callable[[Any], bool], max_tries: int = 400
) -> Any:
    """Greedily makes `scenario` smaller while `differs` still holds.

    Stops after `max_tries` candidates, so a run with many differences stays
    bounded in time.
    """
    best = pb.Scenario()
    best.CopyFrom(scenario)
    changed = True
    tries = 0
    while changed and tries < max_tries:
        changed = False
        for candidate in _smaller(best):
            tries += 1
            if tries > max_tries:
                break
            if differs(candidate):
                best = candidate
                changed = True
                break
    return best


def _copy(scenario: Any) -> Any:
    copy = pb.Scenario()
    copy.CopyFrom(scenario)
    return copy


def _smaller(scenario: Any):
    """Candidates one edit smaller than `scenario`, biggest cuts first."""
    steps = scenario.steps
    for index in reversed(range(len(steps))):
        candidate = _copy(scenario)
        del candidate.steps[index]
        if candidate.steps:
            yield candidate
    for index, step in enumerate(steps):
        if len(step.actions) > 1:
            for position in reversed(range(len(step.actions))):
                candidate = _copy(scenario)
                del candidate.steps[index].actions[position]
                yield candidate
    for index, step in enumerate(steps):
        if len(step.actions) > 1:
            # Split a grouped step in two, in case the difference does not
            # need the grouping.
            candidate = _copy(scenario)
            del candidate.steps[:]
            for position, original in enumerate(steps):
                if position == index:
                    candidate.steps.add().actions.extend(original.actions[:1])
                    candidate.steps.add().actions.extend(original.actions[1:])
                else:
                    candidate.steps.add().CopyFrom(original)
            yield candidate
    for index, step in enumerate(steps):
        for position, action in enumerate(step.actions):
            for number, data in enumerate(payload.payloads_of(action)):
                for size in _shorter(data.size):
                    candidate = _copy(scenario)
                    target = payload.payloads_of(
                        candidate.steps[index].actions[position]
                    )[number]
                    target.size = size
                    if not size:
                        target.ClearField("pattern")
                    yield candidate
                for length in _shorter(len(data.data)):
                    candidate = _copy(scenario)
                    target = payload.payloads_of(
                        candidate.steps[index].actions[position]
                    )[number]
                    target.data = data.data[:length]
                    yield candidate
    for index, step in enumerate(steps):
        for position, action in enumerate(step.actions):
            for number, data in enumerate(payload.payloads_of(action)):
                if data.size and data.size <= 64:
                    candidate = _copy(scenario)
                    target = payload.payloads_of(
                        candidate.steps[index].actions[position]
                    )[number]
                    target.CopyFrom(pb.Bytes(data=payload.expand(data)))
                    yield candidate
    if scenario.server_side:
        candidate = _copy(scenario)
        candidate.server_side = False
        yield candidate
    if scenario.limit not in (0, 1):
        for limit in (1, scenario.limit // 2):
            if 0 < limit < scenario.limit:
                candidate = _copy(scenario)
                candidate.limit = limit
                yield candidate


def _shorter(size: int) -> List[int]:
    options = [0, 1, size // 2, size - 1]
    return sorted({option for option in options if 0 <= option < size})


def histogram(title: str, counts: collections.Counter) -> List[str]:
    lines = [f"{title}:"]
    if not counts:
        lines.append("  (none)")
    width = max((len(key) for key in counts), default=0)
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {key:<{width}}  {count}")
    return lines


def action_kinds(scenario: Any) -> List[str]:
    kinds = []
    for step in scenario.steps:
        if len(step.actions) > 1:
            kinds.append("(grouped step)")
        for action in step.actions:
            kind = action.WhichOneof("action")
            if kind == "read":
                kind = "read." + action.read.WhichOneof("kind")
            if kind == "task":
                kinds.extend(
                    "task." + str(entry.WhichOneof("kind"))
                    for entry in action.task.awaits
                )
            kinds.append(kind)
    return kinds


def error_types(response: Any) -> List[str]:
    if response.WhichOneof("result") != "trace":
        return []
    types = []
    for observation in response.trace.steps:
        for completion in observation.completed:
            if completion.HasField("error"):
                types.append(completion.error.type)
        if observation.HasField("error"):
            types.append(observation.error.type + " (synchronous)")
    return types


def transport_call_kinds(response: Any) -> List[str]:
    if response.WhichOneof("result") != "trace":
        return []
    return [
        call.WhichOneof("call")
        for observation in response.trace.steps
        for call in observation.transport_calls
    ]


def scenario_text(scenario: Any) -> str:
    """A scenario as a block to paste into a file under testdata/."""
    lines = ["scenario {"]
    for field, value in scenario.ListFields():
        if field.name == "steps":
            continue
        holder = pb.Scenario()
        if field.label == field.LABEL_REPEATED:
            getattr(holder, field.name).extend(value)
        else:
            setattr(holder, field.name, value)
        lines.append("  " + textproto.one_line(holder))
    for step in scenario.steps:
        lines.append("  steps {")
        for action in step.actions:
            lines.append("    " + textproto.format_field("actions", action, 4))
        if step.note:
            lines.append("    " + textproto.one_line(pb.Step(note=step.note)))
        lines.append("    " + textproto.format_field("expect", step.expect, 4))
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def shrunk_report(
    scenario: Any, reference: Testee, cpp: Testee, name: str, description: str
) -> List[str]:
    """Shrinks a scenario on which the testees differ and returns the report:
    the difference, then the shrunk scenario with the reference's
    expectations, named `name`, ready to paste into a file of testdata/."""

    def differs(candidate: Any) -> bool:
        return bool(trace_difference(*run_both(reference, cpp, candidate)))

    small = shrink(scenario, differs)
    small_reference = reference.run(small)
    if small_reference.WhichOneof("result") == "trace":
        for step, observed in zip(small.steps, small_reference.trace.steps):
            step.expect.CopyFrom(compare.recorded_expectation(observed))
    small.name = name
    small.description = description
    return (
        [
            f"DIFFERENT {scenario.name} (shrunk from "
            f"{len(scenario.steps)} to {len(small.steps)} steps):"
        ]
        + trace_difference(small_reference, cpp.run(small))
        + [
            "  shrunk scenario (expectations from the reference):",
            scenario_text(small),
            "",
        ]
    )


def run_differential(args: argparse.Namespace) -> int:
    if args.paths:
        # Scenarios from files (e.g. fuzz/differential.py's): their
        # expectations, if any, are ignored.
        scenarios = [entry.scenario for entry in corpus.load(args.paths)]
    else:
        families = set(args.families.split(",")) if args.families else None
        scenarios = generator.generate(args.seed, args.count, families)
    kinds: collections.Counter = collections.Counter()
    errors: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    passed = failed = 0
    reports = []
    with Testee(args.reference, label="reference") as reference, Testee(
        args.cpp, label="C++"
    ) as cpp:
        for scenario in scenarios:
            kinds.update(action_kinds(scenario))
            first = reference.run(scenario)
            second = cpp.run(scenario)
            errors.update(error_types(first))
            calls.update(transport_call_kinds(first))
            if not trace_difference(first, second):
                passed += 1
                continue
            failed += 1
            if failed > args.max_shrunk:
                # Only the first few are shrunk: each costs many runs.
                reports.append(
                    [
                        f"DIFFERENT {scenario.name} (not shrunk: "
                        f"more than {args.max_shrunk} differences)"
                    ]
                    + trace_difference(first, second)
                    + [""]
                )
                continue
            origin = "Files" if args.paths else f"Seed{args.seed}"
            reports.append(
                shrunk_report(
                    scenario,
                    reference,
                    cpp,
                    f"Differential.{origin}.{scenario.name.split('.')[-1]}",
                    f"Shrunk by harness.py --differential from "
                    f"{scenario.name}: {scenario.description}",
                )
            )
    print("\n".join(histogram("action kinds", kinds)))
    print("\n".join(histogram("error types (on the reference)", errors)))
    print("\n".join(histogram("transport calls (on the reference)", calls)))
    print()
    for report in reports:
        print("\n".join(report))
    print(f"{passed} passed, {failed} failed")
    return 0 if (not failed and passed) else 1


# -- Command line ------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="FILE_OR_DIR",
        help="scenario files (.textproto) or directories",
    )
    parser.add_argument("--testee", help="testee command line")
    parser.add_argument(
        "--name",
        default="testee",
        help="the testee's name in logs and JUnit XML (%(default)s)",
    )
    parser.add_argument(
        "--failure_list",
        metavar="FILE",
        help="scenarios expected to fail, one a line",
    )
    parser.add_argument(
        "--filter",
        metavar="REGEX",
        help="run the scenarios whose name matches",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="table of both testees' results by topic",
    )
    parser.add_argument(
        "--differential",
        action="store_true",
        help="random scenarios through both testees",
    )
    parser.add_argument(
        "--reference", metavar="CMD", help="reference testee command line"
    )
    parser.add_argument("--cpp", metavar="CMD", help="C++ testee command line")
    parser.add_argument(
        "--html",
        metavar="DIR",
        help="report: also write index.html and a page per scenario",
    )
    parser.add_argument(
        "--extra_reference",
        action="append",
        metavar="PYTHON",
        help="report: run the reference testee on another CPython too, "
        "as an informational column ('auto': those in /usr/bin, "
        "/usr/local/bin)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument(
        "--max_shrunk",
        type=int,
        default=5,
        help="differential: shrink at most this many "
        "differences (default %(default)s)",
    )
    parser.add_argument(
        "--families",
        metavar="LIST",
        help="generator families, comma-separated "
        f"({','.join(generator.FAMILIES)})",
    )
    args = parser.parse_args(argv)
    if args.report or args.differential:
        if not (args.reference and args.cpp):
            parser.error(
                "--report and --differential need --reference " "and --cpp"
            )
    elif not args.testee:
        parser.error("--testee is required")
    if not args.differential and not args.paths:
        parser.error("give scenario files or directories")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if args.differential:
            return run_differential(args)
        if args.report:
            # report.py builds on this module's judge() and select().
            from conformance import report

            return report.run_report(args)
        return run_corpus(args)
    except (corpus.CorpusError, TesteeError, re.error, OSError) as exc:
        print(f"harness: {exc}", file=sys.stderr)
        print("0 passed, 0 failed (the run did not complete)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
