"""Systematic variants of corpus scenarios, for differential runs.

derive(scenario) returns, by transformation, every variant of one scenario:

- "feed_split": in the small scenarios (at most MAX_FEEDS feeds of at most
  MAX_FEED_BYTES bytes each), every 2- and 3-way split of each feed, the
  chunks either grouped (consecutive actions of the same step, no loop run
  between them) or looped (the loop runs between the chunks: the chunks go
  in steps of their own; inside a task, a sleep0 between them);
- "limit": every limit that puts a size of the scenario (a feed, the bytes
  fed so far, a sized read's n, a line) at limit-1, limit, limit+1,
  2*limit-1, 2*limit or 2*limit+1 (the thresholds of readline/readuntil and
  of pausing the transport), and the scenario's own limit -1 and +1;
- "cancel": `cancel` of every operation id the scenario starts, injected
  before and after every step from the one that starts it: as a step of its
  own after the step, first in the step (grouped with its actions) and last
  in it;
- "ungroup": each grouped step cut in two at each gap between its actions
  (the loop runs there), and every grouped step cut at every gap at once.

A variant changes the answer, so it keeps no expectation: each step gets an
empty `expect`, and the differential mode compares the two testees' traces.
A variant is named after its origin and its transformation,
`<origin name>.<Transformation>.<Case>`, and built only when asked for
(Variant.build), since the whole space of the corpus is large: sample()
picks a fixed-seed sample of it.
"""

import dataclasses
import random
from typing import Any, Callable, Dict, Iterator, List, Set, Tuple

from conformance import payload
from conformance import scenario_pb2 as pb

TRANSFORMATIONS = ("feed_split", "limit", "cancel", "ungroup")
# A scenario is small (its feeds are split) with at most this many feeds
# (feed_data, data_received, a task's feed_data), each at most this long.
MAX_FEEDS = 4
MAX_FEED_BYTES = 64
DEFAULT_LIMIT = 65536
_FEEDS = ("feed_data", "data_received")
# Limits above this are not swept to (a size of the scenario may be large).
MAX_LIMIT = 1 << 24


@dataclasses.dataclass(frozen=True)
class Variant:
    """One derived scenario, built on demand."""

    name: str  # <origin>.<Transformation>.<Case>
    transformation: str  # One of TRANSFORMATIONS.
    origin: str  # The corpus scenario's name.
    kind: str  # What sort of case, for a histogram: "3-way looped".
    make: Callable[[], Any] = dataclasses.field(compare=False, repr=False)
    cancelled: int = 0  # "cancel": the id it cancels.

    def build(self) -> Any:
        """The variant as a Scenario, with empty expectations."""
        scenario = self.make()
        scenario.name = self.name
        scenario.description = (
            f"Derived from {self.origin} by conformance/variants.py "
            f"({self.transformation}: {self.name[len(self.origin) + 1:]})."
        )
        scenario.hand_written = False
        for step in scenario.steps:
            step.ClearField("expect")
            step.expect.SetInParent()
        return scenario


def _copy(scenario: Any) -> Any:
    copy = pb.Scenario()
    copy.CopyFrom(scenario)
    return copy


def _variant(
    origin: Any,
    transformation: str,
    case: str,
    kind: str,
    make: Callable[[], Any],
    cancelled: int = 0,
) -> Variant:
    return Variant(
        f"{origin.name}.{_camel(transformation)}.{case}",
        transformation,
        origin.name,
        kind,
        make,
        cancelled,
    )


def _camel(transformation: str) -> str:
    return "".join(part.capitalize() for part in transformation.split("_"))


# -- Feed splits -------------------------------------------------------------


def feeds(scenario: Any) -> List[Tuple[int, int, int, bytes]]:
    """Every feed as (step, action, task entry or -1, its bytes)."""
    found = []
    for index, step in enumerate(scenario.steps):
        for position, action in enumerate(step.actions):
            kind = action.WhichOneof("action")
            if kind in _FEEDS:
                data = payload.expand(getattr(action, kind))
                found.append((index, position, -1, data))
            elif kind == "task":
                for number, entry in enumerate(action.task.awaits):
                    if entry.WhichOneof("kind") == "feed_data":
                        data = payload.expand(entry.feed_data)
                        found.append((index, position, number, data))
    return found


def is_small(scenario: Any) -> bool:
    """At most MAX_FEEDS feeds, none longer than MAX_FEED_BYTES."""
    try:
        found = feeds(scenario)
    except payload.PayloadError:
        return False
    return len(found) <= MAX_FEEDS and all(
        len(data) <= MAX_FEED_BYTES for *_, data in found
    )


def split_points(size: int) -> Iterator[Tuple[int, ...]]:
    """Every 2-way split (one cut), then every 3-way split (two cuts), of
    `size` bytes into non-empty chunks."""
    for first in range(1, size):
        yield (first,)
    for first in range(1, size):
        for second in range(first + 1, size):
            yield (first, second)


def _chunks(data: bytes, cuts: Tuple[int, ...]) -> List[bytes]:
    bounds = (0,) + cuts + (len(data),)
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def split_feed(
    scenario: Any,
    step: int,
    action: int,
    entry: int,
    cuts: Tuple[int, ...],
    looped: bool,
) -> Any:
    """The scenario with one feed cut at `cuts` (see the module comment)."""
    result = _copy(scenario)
    original = scenario.steps[step].actions[action]
    kind = original.WhichOneof("action")
    if entry >= 0:
        data = payload.expand(original.task.awaits[entry].feed_data)
        awaits = result.steps[step].actions[action].task.awaits
        entries = list(awaits)
        new_entries = []
        for number, chunk in enumerate(_chunks(data, cuts)):
            if number and looped:
                new_entries.append(pb.Await(sleep0=pb.Empty()))
            new_entries.append(pb.Await(feed_data=pb.Bytes(data=chunk)))
        del awaits[:]
        awaits.extend(entries[:entry] + new_entries + entries[entry + 1 :])
        return result
    data = payload.expand(getattr(original, kind))
    pieces = [
        pb.Action(**{kind: pb.Bytes(data=chunk)})
        for chunk in _chunks(data, cuts)
    ]
    actions = list(scenario.steps[step].actions)
    before, after = actions[:action], actions[action + 1 :]
    if looped:
        groups = [before + pieces[:1]]
        groups.extend([piece] for piece in pieces[1:])
        groups[-1].extend(after)
    else:
        groups = [before + pieces + after]
    del result.steps[:]
    for index, original_step in enumerate(scenario.steps):
        if index != step:
            result.steps.add().CopyFrom(original_step)
            continue
        for group in groups:
            part = result.steps.add()
            part.per_action_results = original_step.per_action_results
            part.actions.extend(group)
    return result


def feed_splits(scenario: Any) -> List[Variant]:
    if not is_small(scenario):
        return []
    variants = []
    for step, action, entry, data in feeds(scenario):
        where = f"Step{step + 1}Action{action + 1}"
        if entry >= 0:
            where += f"Await{entry + 1}"
        for cuts in split_points(len(data)):
            for looped in (False, True):
                mode = "looped" if looped else "grouped"
                case = f"{where}At{'_'.join(map(str, cuts))}{mode.title()}"
                kind = f"{len(cuts) + 1}-way {mode}"
                if entry >= 0:
                    kind += ", in a task"
                variants.append(
                    _variant(
                        scenario,
                        "feed_split",
                        case,
                        kind,
                        _bind(
                            split_feed,
                            scenario,
                            step,
                            action,
                            entry,
                            cuts,
                            looped,
                        ),
                    )
                )
    return variants


def _bind(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: function(*args)


# -- Limit sweeps -------------------------------------------------------------


def _reads(scenario: Any) -> Iterator[Any]:
    for step in scenario.steps:
        for action in step.actions:
            kind = action.WhichOneof("action")
            if kind == "read":
                yield action.read
            elif kind == "task":
                for entry in action.task.awaits:
                    if entry.WhichOneof("kind") == "read":
                        yield entry.read


def _separators(scenario: Any) -> Set[bytes]:
    found = set()
    for read in _reads(scenario):
        kind = read.WhichOneof("kind")
        if kind in ("readline", "anext"):
            found.add(b"\n")
        elif kind == "readuntil":
            separator = read.readuntil
            found.add(
                separator.separator
                if separator.HasField("separator")
                else b"\n"
            )
    found.discard(b"")
    return found


def sizes(scenario: Any) -> Set[int]:
    """The sizes a limit can be compared with: each feed, the bytes fed so
    far after each feed, each sized read's n, and each line (before and
    through its separator) of everything fed, for each separator read."""
    found: Set[int] = set()
    stream = bytearray()
    total = 0
    for step in scenario.steps:
        for action in step.actions:
            for data in payload.payloads_of(action):
                if action.WhichOneof("action") not in _FEEDS + ("task",):
                    continue  # A write: the reader never sees it.
                size = payload.expanded_size(data)
                found.add(size)
                total += size
                found.add(total)
                if len(stream) + size <= MAX_LIMIT:
                    stream += payload.expand(data)
    for read in _reads(scenario):
        if read.WhichOneof("kind") in ("read", "readexactly"):
            n = getattr(read, read.WhichOneof("kind")).n
            if n > 0:
                found.add(n)
    for separator in _separators(scenario):
        start = 0
        while True:
            at = stream.find(separator, start)
            if at < 0:
                break
            found.add(at - start)
            found.add(at - start + len(separator))
            start = at + len(separator)
    return found


def limits_around(size: int) -> Set[int]:
    """The limits L with size in {L-1, L, L+1, 2L-1, 2L, 2L+1}."""
    near = {size - 1, size, size + 1}
    halves = {value // 2 for value in near if value % 2 == 0}
    return {limit for limit in near | halves if 0 < limit <= MAX_LIMIT}


def own_limit(scenario: Any) -> int:
    """The reader's limit: explicit_limit when set (schema v2), else
    `limit`, 0 meaning the default."""
    if scenario.HasField("explicit_limit"):
        return scenario.explicit_limit
    return scenario.limit or DEFAULT_LIMIT


def swept_limits(scenario: Any) -> List[int]:
    """Every limit of the sweep except the scenario's own, ascending."""
    own = own_limit(scenario)
    limits = {own - 1, own + 1}
    try:
        for size in sizes(scenario):
            limits |= limits_around(size)
    except payload.PayloadError:
        return []
    return sorted(
        limit for limit in limits if 0 < limit <= MAX_LIMIT and limit != own
    )


def _reads_the_reader(scenario: Any) -> bool:
    """Whether the limit can matter: something feeds or reads the reader."""
    for step in scenario.steps:
        for action in step.actions:
            if action.WhichOneof("action") in _FEEDS + ("read", "task"):
                return True
    return False


def with_limit(scenario: Any, limit: int) -> Any:
    result = _copy(scenario)
    if result.HasField("explicit_limit"):
        result.explicit_limit = limit
    else:
        result.limit = limit
    return result


def limit_sweeps(scenario: Any) -> List[Variant]:
    if not _reads_the_reader(scenario):
        return []
    own = own_limit(scenario)
    return [
        _variant(
            scenario,
            "limit",
            f"To{limit}",
            "lower" if limit < own else "higher",
            _bind(with_limit, scenario, limit),
        )
        for limit in swept_limits(scenario)
    ]


# -- Cancellation -------------------------------------------------------------


def started_ids(action: Any) -> List[int]:
    """The id an action starts that `cancel` may name (a read, drain,
    wait_closed or task; not the reads a task awaits: scenario.proto)."""
    kind = action.WhichOneof("action")
    if kind == "read":
        return [action.read.id]
    if kind in ("drain", "wait_closed"):
        return [getattr(action, kind)]
    if kind == "task":
        return [action.task.id]
    return []


def inject_cancel(scenario: Any, op_id: int, step: int, where: str) -> Any:
    """`cancel: op_id` at step `step` (0-based): "after" (a step of its own
    after it), "start" or "end" (first or last of its actions)."""
    result = _copy(scenario)
    cancel = pb.Action(cancel=op_id)
    if where == "after":
        del result.steps[step + 1 :]
        result.steps.add().actions.append(cancel)
        result.steps.extend(scenario.steps[step + 1 :])
    elif where == "start":
        actions = result.steps[step].actions
        kept = list(actions)
        del actions[:]
        actions.extend([cancel] + kept)
    else:
        result.steps[step].actions.append(cancel)
    return result


def cancellations(scenario: Any) -> List[Variant]:
    variants = []
    started: List[int] = []
    kinds: Dict[int, str] = {}  # Id -> what it is: "read.readline".
    for index, step in enumerate(scenario.steps):
        before = list(started)
        for action in step.actions:
            for op_id in started_ids(action):
                started.append(op_id)
                kinds[op_id] = _operation(action)
        cases = [("StartOfStep", "start", before)]
        cases += [
            ("EndOfStep", "end", started),
            ("AfterStep", "after", started),
        ]
        for label, where, ids in cases:
            for op_id in ids:
                variants.append(
                    _variant(
                        scenario,
                        "cancel",
                        f"Id{op_id}{label}{index + 1}",
                        f"{_PLACES[where]}: {kinds[op_id]}",
                        _bind(inject_cancel, scenario, op_id, index, where),
                        op_id,
                    )
                )
    return variants


_PLACES = {
    "start": "first in a step",
    "end": "last in a step",
    "after": "a step of its own",
}


def _operation(action: Any) -> str:
    kind = action.WhichOneof("action")
    if kind == "read":
        return "read." + str(action.read.WhichOneof("kind"))
    return kind


# -- Ungrouping ---------------------------------------------------------------


def ungroup(scenario: Any, cuts: Dict[int, List[int]]) -> Any:
    """The scenario with step i (0-based) cut before each action position
    in cuts[i]: the loop runs at each cut."""
    result = _copy(scenario)
    del result.steps[:]
    for index, step in enumerate(scenario.steps):
        bounds = [0] + sorted(cuts.get(index, [])) + [len(step.actions)]
        if len(bounds) == 2:
            result.steps.add().CopyFrom(step)
            continue
        for start, end in zip(bounds, bounds[1:]):
            part = result.steps.add()
            part.actions.extend(step.actions[start:end])
            part.note = step.note
            part.per_action_results = step.per_action_results
    return result


def ungroupings(scenario: Any) -> List[Variant]:
    variants = []
    every: Dict[int, List[int]] = {}
    for index, step in enumerate(scenario.steps):
        gaps = list(range(1, len(step.actions)))
        if gaps:
            every[index] = gaps
        for gap in gaps:
            variants.append(
                _variant(
                    scenario,
                    "ungroup",
                    f"Step{index + 1}At{gap}",
                    "one gap",
                    _bind(ungroup, scenario, {index: [gap]}),
                )
            )
    if len(variants) > 1:
        variants.append(
            _variant(
                scenario,
                "ungroup",
                "All",
                "every gap",
                _bind(ungroup, scenario, every),
            )
        )
    return variants


# -- All of them --------------------------------------------------------------

_DERIVERS = {
    "feed_split": feed_splits,
    "limit": limit_sweeps,
    "cancel": cancellations,
    "ungroup": ungroupings,
}


def derive(scenario: Any) -> Dict[str, List[Variant]]:
    """Every variant of one scenario, by transformation.

    None for a scenario beyond the reference (beyond_reference): the
    reference skips it, so there is nothing to compare the C++ testee with.
    """
    if scenario.HasField("beyond_reference"):
        return {name: [] for name in TRANSFORMATIONS}
    return {name: _DERIVERS[name](scenario) for name in TRANSFORMATIONS}


def derive_all(scenarios: List[Any]) -> Dict[str, List[Variant]]:
    """Every variant of the scenarios, by transformation, in their order."""
    derived: Dict[str, List[Variant]] = {name: [] for name in TRANSFORMATIONS}
    for scenario in scenarios:
        # Variants are judged against the 3.11.7 reference, which cannot run
        # a scenario beyond it.
        if scenario.HasField("beyond_reference"):
            continue
        for name, variants in derive(scenario).items():
            derived[name].extend(variants)
    return derived


def sample(variants: List[Variant], size: int, seed: int) -> List[Variant]:
    """All of them if there are at most `size`, else a sample of `size`
    drawn with `seed`, in their original order. Deterministic."""
    if size < 0 or len(variants) <= size:
        return list(variants)
    chosen = random.Random(seed).sample(range(len(variants)), size)
    return [variants[index] for index in sorted(chosen)]
