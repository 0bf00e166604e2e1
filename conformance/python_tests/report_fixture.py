"""A tiny fixed run for the report writers' tests: one topic, two
scenarios, one of which fails on C++ with text that needs escaping."""

import pathlib
from typing import List

import _path  # noqa: F401

from google.protobuf import text_format

from conformance import corpus
from conformance import results as res
from conformance import scenario_pb2 as pb

PASSES = (
    'name: "Topic.Op.Passes" description: "plain" '
    'steps { expect { buffer: "a" } }'
)
FAILS = (
    'name: "Topic.Op.Fails<&>" '
    'description: "needs <b>escaping</b> & \\"quotes\\"" '
    'steps { note: "a <note>" actions { feed_data { data: "<&>" } } '
    'expect { buffer: "<&>" } }'
)


def entry(text: str) -> corpus.Entry:
    scenario = text_format.Parse(text, pb.Scenario())
    return corpus.Entry(
        scenario, pathlib.Path("topic.textproto"), 1, [2] * len(scenario.steps)
    )


def response(buffer: bytes) -> pb.Response:
    reply = pb.Response()
    reply.trace.steps.add(buffer=buffer)
    return reply


def columns() -> List[res.Column]:
    passes, fails = entry(PASSES), entry(FAILS)
    passed = res.Outcome(True)
    failed = res.Outcome(
        False,
        "step 1: buffer",
        [
            "  step 1 of 1",
            "    buffer:",
            "      expected b'<&>'",
            "      observed b'\"'",
        ],
    )
    reference = res.Column(
        "reference",
        {
            passes.name: res.Result(
                passes, res.PASSED, passed, response(b"a")
            ),
            fails.name: res.Result(
                fails, res.PASSED, passed, response(b"<&>")
            ),
        },
        detail="CPython 3.11.7",
    )
    cpp = res.Column(
        "C++",
        {
            passes.name: res.Result(
                passes, res.PASSED, passed, response(b"a")
            ),
            fails.name: res.Result(fails, res.FAILED, failed, response(b'"')),
        },
    )
    skipped = res.Outcome(False, "skipped by the testee: no <feature>")
    extra = res.Column(
        "CPython 3.11.2",
        {
            passes.name: res.Result(
                passes,
                res.SKIPPED,
                skipped,
                pb.Response(skipped="no <feature>"),
            ),
            fails.name: res.Result(
                fails, res.PASSED, passed, response(b"<&>")
            ),
        },
        informational=True,
    )
    return [reference, cpp, extra]


def entries() -> List[corpus.Entry]:
    return sorted(
        (result.entry for result in columns()[0].results.values()),
        key=lambda e: e.name,
    )
