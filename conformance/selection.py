"""Choosing the scenarios of a run: loading, filtering, sharding.

Scenarios are sorted by name, filtered by a regex, then cut to this Bazel
shard's part (TEST_TOTAL_SHARDS / TEST_SHARD_INDEX, index in name order).
Also the failure list's reader.
"""

import collections
import os
import pathlib
import re
from typing import List, Optional, Sequence

from conformance import corpus


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
