"""What a run found, scenario by scenario: the report writers' input.

The harness judges (judge.judge) and fills these; the text table, the HTML
report (html_report.py) and the JUnit XML (junit.py) only read them, so each
writer can be tested on a few hand-made results.
"""

import dataclasses
from typing import Any, Dict, List, Optional

from conformance import corpus

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"  # Informational testees only: it could not run it.
EXPECTED_FAILURE = "expected failure"  # Failed, and in the failure list.
# The reference could not run it, as its beyond_reference mark says (a newer
# CPython's behaviour, or a C++ extension): neither passed nor failed.
BEYOND = "beyond the reference"


@dataclasses.dataclass
class Outcome:
    """How one scenario went on one testee."""

    passed: bool
    summary: str = ""  # One line, for lists of failures.
    details: List[str] = dataclasses.field(default_factory=list)
    # The reference skipped a scenario marked beyond_reference, as it must.
    beyond: bool = False


@dataclasses.dataclass
class Result:
    """One scenario on one testee: the judgement and what it observed."""

    entry: corpus.Entry
    status: str  # PASSED, FAILED, SKIPPED, EXPECTED_FAILURE or BEYOND.
    outcome: Outcome
    response: Optional[Any] = None  # streams.conformance.Response

    @property
    def diff(self) -> str:
        """The readable difference (empty when it passed)."""
        return "\n".join(self.outcome.details)


@dataclasses.dataclass
class Column:
    """One testee's results, by scenario name."""

    label: str  # e.g. "reference (CPython 3.11.7)", "cpp".
    results: Dict[str, Result]
    # Informational columns (another CPython) never fail a run: their
    # differences from the reference are listed, not counted.
    informational: bool = False
    detail: str = ""  # What it is, e.g. "CPython 3.11.7", for the HTML.
