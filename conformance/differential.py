"""The differential run: the same scenarios through both testees.

Traces are compared exactly (no expectations needed); a difference is shrunk
(shrink.py) and reported with the shrunk scenario, its expectations recorded
from the reference, ready to paste into a file of testdata/.
"""

import argparse
import collections
from typing import Any, List

from conformance import compare, corpus, generator
from conformance import textproto
from conformance.judge import diff_lines
from conformance.shrink import shrink
from conformance.testee import Testee, run_both
from conformance.trace_stats import (
    action_kinds,
    error_types,
    histogram,
    transport_call_kinds,
)


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
            return [f"  step {number}:"] + diff_lines(
                differences, "reference", "C++"
            )
    return []


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
            textproto.scenario_text(small),
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
