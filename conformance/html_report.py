"""The conformance report as static HTML, after Autobahn's test report.

index.html lists every scenario by topic with its result on each testee;
scenarios/NAME.html shows one scenario: its description, each step's actions
and expectations, what each testee observed, and the diff where they differ.
Plain files with a little inline CSS and no script, so they open from disk,
from a CI artifact or offline alike. Every text from the corpus or a testee
is HTML-escaped: scenarios are full of <, & and quotes.
"""

import html
import pathlib
import re
from typing import Any, Dict, List, Sequence

from conformance import compare, corpus, pretty, textproto
from conformance import results as res

_CSS = """
body { font: 14px/1.4 sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left;
  vertical-align: top; }
th { background: #eee; }
td.passed { background: #cfc; } td.failed { background: #f99; }
td.skipped, td.expected, td.beyond, td.other { background: #ffc; }
td.differs { background: #fdb; }
pre { background: #f6f6f6; padding: 6px; margin: 2px 0;
  white-space: pre-wrap; word-break: break-all; }
.info { color: #666; } .meta td:first-child { font-weight: bold; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def page_name(name: str) -> str:
    """The scenario page's file name (under scenarios/)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".html"


def _page(title: str, body: List[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
        ]
        + body
        + ["</body></html>", ""]
    )


def _status(column: res.Column, name: str) -> str:
    """The CSS class and the word shown for a scenario on a column."""
    result = column.results.get(name)
    if result is None:
        return "skipped"
    if column.informational and result.status == res.FAILED:
        return "differs"
    if result.status == res.EXPECTED_FAILURE:
        return "expected"
    if result.status == res.BEYOND:
        return "beyond"
    return result.status


def _cell(column: res.Column, name: str, link: str) -> str:
    status = _status(column, name)
    word = {"expected": "expected failure", "beyond": "beyond 3.11.7"}.get(
        status, status
    )
    return f'<td class="{status}"><a href="{_e(link)}">{word}</a></td>'


def _headers(columns: Sequence[res.Column]) -> str:
    return "".join(
        f"<th>{_e(column.label)}"
        + (f"<br><small>{_e(column.detail)}</small>" if column.detail else "")
        + (
            ' <small class="info">(informational)</small>'
            if column.informational
            else ""
        )
        + "</th>"
        for column in columns
    )


def index(
    entries: Sequence[corpus.Entry], columns: Sequence[res.Column]
) -> str:
    by_topic: Dict[str, List[corpus.Entry]] = {}
    for entry in entries:
        by_topic.setdefault(entry.topic, []).append(entry)
    body = ["<h1>asyncio-streams conformance report</h1>"]
    topics = "topic" if len(by_topic) == 1 else "topics"
    body.append(
        f"<p>{len(entries)} scenarios in {len(by_topic)} {topics}.</p>"
    )
    body.append(
        "<table><tr><th>testee</th><th>passed</th><th>failed</th>"
        "<th>other</th></tr>"
    )
    for column in columns:
        statuses = [_status(column, entry.name) for entry in entries]
        passed = statuses.count("passed")
        failed = statuses.count("failed") + statuses.count("differs")
        body.append(
            f"<tr><td>{_e(column.label)}</td><td>{passed}</td>"
            f"<td>{failed}</td><td>{len(statuses) - passed - failed}</td></tr>"
        )
    body.append("</table>")
    for column in columns:
        if column.informational:
            body.extend(_informational(entries, column))
    # The text table's rows: passes per topic and testee; a cell is red
    # (orange if informational) when its testee fails one of the topic,
    # yellow when the rest are listed failures or beyond 3.11.7 (counted
    # beside the passes), green when all pass.
    body.append("<h2>Topics</h2>")
    body.append(
        f"<table><tr><th>topic</th><th>scenarios</th>{_headers(columns)}</tr>"
    )
    for topic, items in sorted(by_topic.items()):
        cells = []
        for column in columns:
            statuses = [_status(column, entry.name) for entry in items]
            passes = statuses.count("passed")
            failures = statuses.count("failed") + statuses.count("differs")
            others = [
                f"{statuses.count(status)} {word}"
                for status, word in (
                    ("beyond", "beyond 3.11.7"),
                    ("expected", "expected failure"),
                    ("skipped", "skipped"),
                )
                if status in statuses
            ]
            if failures:
                css = "differs" if column.informational else "failed"
            elif others:
                css = "other"
            else:
                css = "passed"
            text = str(passes)
            if others:
                text += f' <small>(+{", ".join(others)})</small>'
            cells.append(f'<td class="{css}">{text}</td>')
        body.append(
            f'<tr><td><a href="#{_e(topic)}">{_e(topic)}</a></td>'
            f"<td>{len(items)}</td>{''.join(cells)}</tr>"
        )
    body.append("</table>")
    for topic, items in sorted(by_topic.items()):
        body.append(f'<h2 id="{_e(topic)}">{_e(topic)}</h2>')
        body.append(f"<table><tr><th>scenario</th>{_headers(columns)}</tr>")
        for entry in items:
            link = "scenarios/" + page_name(entry.name)
            body.append(
                f'<tr><td><a href="{_e(link)}">{_e(entry.name)}</a></td>'
                + "".join(
                    _cell(column, entry.name, link) for column in columns
                )
                + "</tr>"
            )
        body.append("</table>")
    return _page("Conformance report", body)


def _informational(
    entries: Sequence[corpus.Entry], column: res.Column
) -> List[str]:
    """The informational column's differences from the reference."""
    lines = [
        f"<h2>Informational: {_e(column.label)}</h2>",
        "<p>Its results never fail the run; the expectations are CPython "
        "3.11.7's.</p><ul>",
    ]
    count = 0
    for entry in entries:
        result = column.results.get(entry.name)
        if result is None or result.status == res.PASSED:
            continue
        count += 1
        link = "scenarios/" + page_name(entry.name)
        lines.append(
            f'<li><a href="{_e(link)}">{_e(entry.name)}</a>: '
            f"{_e(_status(column, entry.name))}: "
            f"{_e(result.outcome.summary)}</li>"
        )
    if not count:
        lines.append("<li>no difference</li>")
    lines.append("</ul>")
    return lines


def _observation(result: res.Result, number: int) -> str:
    response = result.response
    kind = response.WhichOneof("result") if response is not None else None
    if kind != "trace":
        return result.outcome.summary or "no response"
    steps = response.trace.steps
    if number > len(steps):
        return "(no observation)"
    # In the expectation's terms (long buffers as a size, long values as a
    # pattern), as `record` would write it: comparable with `expected`,
    # and pages stay small where a step holds 64 KiB.
    observed = compare.recorded_expectation(steps[number - 1])
    return textproto.format_field("observed", observed, 0)


def _step_differs(result: res.Result, step: Any, number: int) -> bool:
    response = result.response
    if response is None or response.WhichOneof("result") != "trace":
        return True
    if number > len(response.trace.steps):
        return True
    observed = response.trace.steps[number - 1]
    return bool(compare.diff_expectation(step.expect, observed))


def scenario_page(entry: corpus.Entry, columns: Sequence[res.Column]) -> str:
    scenario = entry.scenario
    where = f"{entry.path}:{entry.line}" if entry.line else str(entry.path)
    body = [
        '<p><a href="../index.html">index</a> &gt; '
        f'<a href="../index.html#{_e(entry.topic)}">{_e(entry.topic)}</a></p>',
        f"<h1>{_e(entry.name)}</h1>",
        '<table class="meta">',
        f"<tr><td>description</td><td>{_e(scenario.description)}</td></tr>",
        f"<tr><td>file</td><td>{_e(where)}</td></tr>",
    ]
    if scenario.ported_from:
        body.append(
            f"<tr><td>ported from</td><td>{_e(scenario.ported_from)}</td></tr>"
        )
    if scenario.tags:
        body.append(
            f"<tr><td>tags</td><td>{_e(', '.join(scenario.tags))}</td></tr>"
        )
    body.append("</table>")
    body.append(f"<h2>Results</h2><table><tr>{_headers(columns)}</tr><tr>")
    body.extend(_cell(column, entry.name, "#steps") for column in columns)
    body.append("</tr></table>")
    for column in columns:
        result = column.results.get(entry.name)
        if result is not None and result.status != res.PASSED:
            body.append(
                f"<h3>{_e(column.label)}: {_e(result.outcome.summary)}</h3>"
            )
            body.append(f"<pre>{_e(result.diff)}</pre>")
    body.append('<h2 id="steps">Steps</h2>')
    for number, step in enumerate(scenario.steps, 1):
        title = f"Step {number} of {len(scenario.steps)}"
        if step.note:
            title += f": {step.note}"
        body.append(f"<h3>{_e(title)}</h3><table>")
        actions = "\n".join(pretty.show_action(a) for a in step.actions)
        body.append(
            f"<tr><th>actions</th><td><pre>{_e(actions)}</pre></td></tr>"
        )
        expected = textproto.format_field("expect", step.expect, 0)
        body.append(
            f"<tr><th>expected</th><td><pre>{_e(expected)}</pre></td></tr>"
        )
        for column in columns:
            result = column.results.get(entry.name)
            if result is None:
                continue
            differs = _step_differs(result, step, number)
            css = (
                ("differs" if column.informational else "failed")
                if differs
                else "passed"
            )
            observed = _e(_observation(result, number))
            body.append(
                f"<tr><th>observed on {_e(column.label)}</th>"
                f'<td class="{css}"><pre>{observed}</pre></td></tr>'
            )
        body.append("</table>")
    body.append("<h2>Scenario text</h2>")
    text = textproto.format_field("scenario", scenario, 0, width=79)
    body.append(f"<pre>{_e(text)}</pre>")
    return _page(entry.name, body)


def write(
    directory: pathlib.Path,
    entries: Sequence[corpus.Entry],
    columns: Sequence[res.Column],
) -> pathlib.Path:
    """Writes index.html and scenarios/*.html; returns index.html's path."""
    pages = directory / "scenarios"
    pages.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        (pages / page_name(entry.name)).write_text(
            scenario_page(entry, columns), encoding="utf-8"
        )
    path = directory / "index.html"
    path.write_text(index(entries, columns), encoding="utf-8")
    return path
