"""Judging: a testee's response against a scenario's expectations.

`judge` turns a Response into an Outcome (results.py) with a readable diff of
the first failing step; `diff_lines` formats compare.Difference lists, for
the differential run too.
"""

from typing import Any, List, Optional

from conformance import compare, corpus, pretty
from conformance.results import Outcome


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


def diff_lines(
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


BEYOND_PREFIX = "beyond CPython"


def _judge_beyond(scenario: Any, response: Any) -> Optional[Outcome]:
    """On the reference, a scenario marked beyond_reference must be one it
    cannot run: skipped with the reason (Outcome.beyond), not run."""
    kind = response.WhichOneof("result")
    if kind == "skipped" and response.skipped.startswith(BEYOND_PREFIX):
        return Outcome(
            False, response.skipped, ["  " + response.skipped], beyond=True
        )
    if kind == "trace":
        message = (
            "marked beyond_reference, but the reference runs it: remove "
            "the mark (or the expectations are 3.11.7's)"
        )
        return Outcome(False, message, ["  " + message])
    return None


def _judge_construction(scenario: Any, trace: Any) -> Optional[Outcome]:
    """The construction error expected and observed (schema v2)."""
    expected = compare.field_value(scenario, "expect_construction_error")
    observed = compare.field_value(trace, "construction_error")
    if compare.error_matches(expected, observed):
        return None
    difference = compare.Difference("construction_error", expected, observed)
    return Outcome(
        False,
        "construction_error",
        ["  constructing the reader:"] + diff_lines([difference]),
    )


def judge(
    entry: corpus.Entry, response: Any, reference: bool = False
) -> Outcome:
    """Compares a testee's response with the scenario's expectations.

    `reference`: the testee is the 3.11.7 reference, which must not run the
    scenarios marked beyond_reference.
    """
    if reference and entry.scenario.HasField("beyond_reference"):
        outcome = _judge_beyond(entry.scenario, response)
        if outcome is not None:
            return outcome
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
    construction = _judge_construction(entry.scenario, response.trace)
    if construction is not None:
        return construction
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
    details = _step_header(entry, number) + diff_lines(differences)
    if len(failing) > 1:
        later = ", ".join(str(n) for n, _ in failing[1:])
        if len(failing) == 2:
            details.append(f"  (step {later} differs too)")
        else:
            details.append(f"  (steps {later} differ too)")
    fields = ", ".join(diff.field for diff in differences)
    return Outcome(False, f"step {number}: {fields}", details)
