"""Statistics of scenarios and traces, printed as histograms.

What a differential or variants run exercised: the kinds of actions, the
error types and the transport calls the reference reported.
"""

import collections
from typing import Any, List


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
