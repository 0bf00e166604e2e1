"""The shrinker: makes a scenario smaller while a predicate still holds.

Used by the differential and variants runs to report a difference between
the testees on the smallest scenario that still shows it.
"""

from typing import Any, Callable, List

from conformance import payload
from conformance import scenario_pb2 as pb


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
                    for part in (original.actions[:1], original.actions[1:]):
                        half = candidate.steps.add()
                        half.per_action_results = original.per_action_results
                        half.actions.extend(part)
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
