"""The corpus run: every scenario through one testee, judged.

Prints a diff per failure and `N passed, M failed`, honours the failure list
(a listed scenario that passes fails the run) and writes JUnit XML for Bazel
(junit.py).
"""

import argparse

from conformance import junit
from conformance import results as res
from conformance.judge import judge
from conformance.results import Outcome
from conformance.selection import load, read_failure_list, select
from conformance.testee import Testee


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
    beyond = []
    column = res.Column(args.name, {})
    with Testee(args.testee, label=args.name) as testee:
        for entry in chosen:
            response = testee.run(entry.scenario)
            outcome = judge(entry, response, args.is_reference)
            status = res.PASSED if outcome.passed else res.FAILED
            if outcome.beyond:
                status = res.BEYOND
                beyond.append(entry.name)
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
            if outcome.beyond:
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
    if beyond:
        print(
            f"{len(beyond)} beyond the reference (marked beyond_reference, "
            "skipped by it as they must be): " + ", ".join(beyond)
        )
    print(f"{passed} passed, {failed} failed")
    junit.write_for_bazel([column], problems)
    return 0 if (not failed and not problems and chosen) else 1
