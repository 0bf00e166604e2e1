"""Runs the variants of corpus scenarios through both testees.

  suite_main.py variants [--seed S] [--sample N] [--sample_<t> N]
                         [--filter REGEX] [--max_shrunk N] FILE_OR_DIR...

Derives every variant of every scenario of the files (conformance/
variants.py), takes of each transformation a fixed-seed sample of at most N
(--sample; --sample_feed_split and so on for one transformation; -1: all),
runs each through the reference and the C++ testee and compares their traces
(differential.trace_difference: everything is compared). Prints, per
transformation, "ran N of M derived scenarios", then histograms of what the
variants exercised (their actions, and the errors and transport calls the
reference reported), then each difference with its shrunk scenario ready to
paste into testdata/, and ends with `N passed, M failed`. Under Bazel the
sample is sharded by TEST_TOTAL_SHARDS / TEST_SHARD_INDEX.
"""

import argparse
import collections
import os
import re
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from conformance import corpus, differential, selection, trace_stats
from conformance import variants
from conformance.testee import Testee, TesteeError, run_both


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="suite_main.py variants",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    parser.add_argument("--reference", metavar="CMD", required=True)
    parser.add_argument("--cpp", metavar="CMD", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sample",
        type=int,
        default=-1,
        help="at most this many variants of each transformation "
        "(-1, the default: all of them)",
    )
    for name in variants.TRANSFORMATIONS:
        parser.add_argument(f"--sample_{name}", type=int, metavar="N")
    parser.add_argument("--filter", metavar="REGEX")
    parser.add_argument(
        "--failure_list",
        metavar="FILE",
        help="scenarios the C++ testee is known to fail: not derived from "
        "(their variants would only find the known difference again)",
    )
    parser.add_argument("--max_shrunk", type=int, default=5)
    return parser.parse_args(argv)


def choose(
    args: argparse.Namespace, derived: Dict[str, List[variants.Variant]]
) -> Dict[str, List[variants.Variant]]:
    """The sample of each transformation (before filtering and sharding)."""
    chosen = {}
    for name, found in derived.items():
        size = getattr(args, f"sample_{name}")
        if size is None:
            size = args.sample
        chosen[name] = variants.sample(found, size, args.seed)
    return chosen


def run(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    known = set()
    if args.failure_list:
        known = set(selection.read_failure_list(args.failure_list))
    origins = [
        entry.scenario
        for entry in selection.load(args.paths)
        if entry.name not in known
    ]
    origins.sort(key=lambda scenario: scenario.name)
    derived = variants.derive_all(origins)
    sampled = choose(args, derived)
    everything = [
        v for name in variants.TRANSFORMATIONS for v in sampled[name]
    ]
    # select() sorts, filters and shards by .name, which a Variant has.
    selected = selection.select(everything, args.filter)  # type: ignore
    ran: collections.Counter = collections.Counter()
    seconds: collections.Counter = collections.Counter()
    kinds: collections.Counter = collections.Counter()
    cases: collections.Counter = collections.Counter()
    cancels: collections.Counter = collections.Counter()
    errors: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    responses: collections.Counter = collections.Counter()
    passed = failed = 0
    reports: List[List[str]] = []
    with Testee(args.reference, label="reference") as reference, Testee(
        args.cpp, label="C++"
    ) as cpp:
        for variant in selected:
            clock = time.monotonic()
            scenario = variant.build()
            ran[variant.transformation] += 1
            kinds.update(trace_stats.action_kinds(scenario))
            cases[f"{variant.transformation}: {variant.kind}"] += 1
            first, second = run_both(reference, cpp, scenario)
            responses[str(first.WhichOneof("result"))] += 1
            errors.update(trace_stats.error_types(first))
            calls.update(trace_stats.transport_call_kinds(first))
            difference = differential.trace_difference(first, second)
            seconds[variant.transformation] += time.monotonic() - clock
            if variant.cancelled:
                cancels[cancel_outcome(first, variant.cancelled)] += 1
            if not difference:
                passed += 1
                continue
            failed += 1
            reports.append(
                _report(variant, scenario, reference, cpp)
                if failed <= args.max_shrunk
                else [
                    f"DIFFERENT {variant.name} (not shrunk: more than "
                    f"{args.max_shrunk} differences)"
                ]
                + difference
                + [""]
            )
    for line in _summary(args, derived, sampled, ran, seconds, len(selected)):
        print(line)
    print("\n".join(trace_stats.histogram("variant kinds", cases)))
    print(
        "\n".join(
            trace_stats.histogram("responses (on the reference)", responses)
        )
    )
    print("\n".join(trace_stats.histogram("action kinds", kinds)))
    print(
        "\n".join(
            trace_stats.histogram("error types (on the reference)", errors)
        )
    )
    print(
        "\n".join(
            trace_stats.histogram("transport calls (on the reference)", calls)
        )
    )
    print(
        "\n".join(
            trace_stats.histogram(
                "cancelled operations (on the reference)", cancels
            )
        )
    )
    print()
    for report in reports:
        print("\n".join(report))
    print(f"took {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 0 if (not failed and passed) else 1


def cancel_outcome(response: Any, op_id: int) -> str:
    """How the operation a cancel variant cancels ended, on one testee."""
    if response.WhichOneof("result") != "trace":
        return "not run"
    outcome = "its action never ran (an earlier one raised)"
    for observation in response.trace.steps:
        for completion in observation.completed:
            if completion.id != op_id:
                continue
            if completion.error.type == "CancelledError":
                outcome = "ended in CancelledError"
            elif completion.HasField("error"):
                outcome = "ended in another error before the cancel"
            else:
                outcome = "finished before the cancel"
        if op_id in observation.pending:
            outcome = "pending"
    if outcome == "pending":
        return "still pending at the end"
    return outcome


def _report(
    variant: variants.Variant,
    scenario: Any,
    reference: Testee,
    cpp: Testee,
) -> List[str]:
    case = variant.name[len(variant.origin) + 1 :].replace(".", "")
    origin = variant.origin.split(".")
    return differential.shrunk_report(
        scenario,
        reference,
        cpp,
        f"{origin[0]}.{origin[1]}.{origin[-1]}{case}",
        f"Shrunk by suite_main.py variants from {variant.name}, derived "
        f"from {variant.origin} ({variant.transformation}).",
    )


def _summary(
    args: argparse.Namespace,
    derived: Dict[str, List[variants.Variant]],
    sampled: Dict[str, List[variants.Variant]],
    ran: collections.Counter,
    seconds: collections.Counter,
    selected: int,
) -> List[str]:
    total_shards = int(os.environ.get("TEST_TOTAL_SHARDS", "0") or 0)
    shard = ""
    if total_shards > 1:
        index = int(os.environ.get("TEST_SHARD_INDEX", "0") or 0)
        shard = f", shard {index + 1} of {total_shards}"
    lines = [f"variants (seed {args.seed}{shard}):"]
    width = max(len(name) for name in variants.TRANSFORMATIONS)
    for name in variants.TRANSFORMATIONS:
        total = len(derived[name])
        origins = len({v.origin for v in derived[name]})
        note = ""
        if len(sampled[name]) < total:
            note = f", a sample of {len(sampled[name])}"
        lines.append(
            f"  {name:<{width}}  ran {ran[name]} of {total} derived "
            f"scenarios (from {origins} "
            f"scenario{'' if origins == 1 else 's'}{note}; "
            f"{seconds[name]:.1f} s)"
        )
    total = sum(len(found) for found in derived.values())
    chosen = sum(len(found) for found in sampled.values())
    lines.append(
        f"  {'all':<{width}}  ran {sum(ran.values())} of {total} derived "
        f"scenarios (sampled {chosen}; this run's part after --filter and "
        f"sharding: {selected})"
    )
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        return run(list(argv or []))
    except (corpus.CorpusError, TesteeError, re.error, OSError) as exc:
        print(f"variants: {exc}", file=sys.stderr)
        print("0 passed, 0 failed (the run did not complete)")
        return 1
