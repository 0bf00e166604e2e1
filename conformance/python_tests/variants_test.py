"""Tests for conformance/variants.py."""

import pathlib
import tempfile
import unittest

import _path  # noqa: F401

from google.protobuf import text_format

from conformance import corpus, payload, variants
from conformance import scenario_pb2 as pb
from conformance.textproto import scenario_text
from tools import check_scenarios


def _corpus() -> pathlib.Path:
    """testdata/: in the runfiles under Bazel, else in the checkout."""
    here = pathlib.Path("testdata")
    return here if here.is_dir() else _path.ROOT / "testdata"


def _scenario(text: str) -> pb.Scenario:
    return text_format.Parse(text, pb.Scenario())


def _actions(scenario: pb.Scenario) -> list:
    """Each step's actions, in text format, one line each."""
    return [
        [text_format.MessageToString(a, as_one_line=True) for a in s.actions]
        for s in scenario.steps
    ]


SMALL = _scenario(
    """
    name: "StreamReader.ReadLine.Small" description: "d" limit: 3
    steps { actions { read { id: 1 readline {} } } }
    steps {
      actions { feed_data { data: "ab\\n" } }
      actions { read { id: 2 readline {} } }
    }
    steps { actions { feed_eof {} } actions { cancel: 2 } }
    """
)


class FeedSplitTest(unittest.TestCase):
    def test_split_points_are_every_2_and_3_way_split(self) -> None:
        self.assertEqual(
            list(variants.split_points(4)),
            [(1,), (2,), (3,), (1, 2), (1, 3), (2, 3)],
        )
        for size in range(1, 65):
            count = size - 1 + (size - 1) * (size - 2) // 2
            self.assertEqual(len(list(variants.split_points(size))), count)

    def test_grouped_split_stays_in_its_step(self) -> None:
        split = variants.split_feed(SMALL, 1, 0, -1, (1, 2), looped=False)
        self.assertEqual(
            _actions(split)[1],
            [
                'feed_data { data: "a" }',
                'feed_data { data: "b" }',
                'feed_data { data: "\\n" }',
                "read { id: 2 readline { } }",
            ],
        )
        self.assertEqual(len(split.steps), 3)

    def test_looped_split_runs_the_loop_between_chunks(self) -> None:
        split = variants.split_feed(SMALL, 1, 0, -1, (2,), looped=True)
        self.assertEqual(
            _actions(split)[1:3],
            [
                ['feed_data { data: "ab" }'],
                ['feed_data { data: "\\n" }', "read { id: 2 readline { } }"],
            ],
        )
        self.assertEqual(len(split.steps), 4)

    def test_task_feed_split(self) -> None:
        scenario = _scenario(
            """
            name: "A.B.C" description: "d"
            steps { actions { task { id: 1
              awaits { feed_data { data: "xyz" } }
              awaits { feed_eof {} } } } }
            """
        )
        looped = variants.split_feed(scenario, 0, 0, 0, (1,), looped=True)
        kinds = [
            e.WhichOneof("kind")
            for e in looped.steps[0].actions[0].task.awaits
        ]
        self.assertEqual(
            kinds, ["feed_data", "sleep0", "feed_data", "feed_eof"]
        )
        grouped = variants.split_feed(scenario, 0, 0, 0, (1,), looped=False)
        awaits = grouped.steps[0].actions[0].task.awaits
        self.assertEqual([e.feed_data.data for e in awaits[:2]], [b"x", b"yz"])

    def test_only_small_scenarios_are_split(self) -> None:
        self.assertTrue(variants.is_small(SMALL))
        big = pb.Scenario()
        big.CopyFrom(SMALL)
        big.steps[1].actions[0].feed_data.data = b"x" * 65
        self.assertFalse(variants.is_small(big))
        many = pb.Scenario()
        many.CopyFrom(SMALL)
        for _ in range(4):
            many.steps.add().actions.add(data_received=pb.Bytes(data=b"a"))
        self.assertFalse(variants.is_small(many))
        # "ab\n": 2 two-way + 1 three-way splits, grouped and looped.
        self.assertEqual(len(variants.feed_splits(SMALL)), 6)


class LimitTest(unittest.TestCase):
    def test_limits_around_a_size(self) -> None:
        # 5 = L-1, L, L+1 for L = 6, 5, 4; = 2L+1, 2L-1 for L = 2, 3.
        self.assertEqual(variants.limits_around(5), {2, 3, 4, 5, 6})
        self.assertEqual(variants.limits_around(6), {3, 5, 6, 7})
        self.assertEqual(variants.limits_around(1), {1, 2})
        self.assertEqual(variants.limits_around(0), {1})

    def test_sizes(self) -> None:
        # The feed (3), the line before and through "\n" (2, 3), limit 3.
        self.assertEqual(variants.sizes(SMALL), {2, 3})
        self.assertEqual(variants.swept_limits(SMALL), [1, 2, 4])

    def test_default_limit_is_swept_around_65536(self) -> None:
        scenario = _scenario(
            """
            name: "A.B.C" description: "d"
            steps { actions { feed_data { pattern: "x" size: 131073 } } }
            """
        )
        limits = variants.swept_limits(scenario)
        self.assertIn(65535, limits)
        self.assertIn(65537, limits)
        self.assertNotIn(65536, limits)

    def test_writer_only_scenarios_are_not_swept(self) -> None:
        scenario = _scenario(
            """
            name: "A.B.C" description: "d"
            steps { actions { connection_made {} } actions { write {} } }
            """
        )
        self.assertEqual(variants.limit_sweeps(scenario), [])


class CancelTest(unittest.TestCase):
    def test_every_started_id_before_and_after_every_step(self) -> None:
        names = [v.name.split(".")[-1] for v in variants.cancellations(SMALL)]
        self.assertEqual(
            names,
            [
                "Id1EndOfStep1",
                "Id1AfterStep1",
                "Id1StartOfStep2",
                "Id1EndOfStep2",
                "Id2EndOfStep2",
                "Id1AfterStep2",
                "Id2AfterStep2",
                "Id1StartOfStep3",
                "Id2StartOfStep3",
                "Id1EndOfStep3",
                "Id2EndOfStep3",
                "Id1AfterStep3",
                "Id2AfterStep3",
            ],
        )

    def test_kinds_name_the_place_and_the_operation(self) -> None:
        found = variants.cancellations(SMALL)
        self.assertEqual(found[0].kind, "last in a step: read.readline")
        self.assertEqual(found[0].cancelled, 1)
        self.assertEqual(found[1].kind, "a step of its own: read.readline")
        self.assertEqual(found[2].kind, "first in a step: read.readline")

    def test_injection_places(self) -> None:
        after = variants.inject_cancel(SMALL, 2, 1, "after")
        self.assertEqual(_actions(after)[2], ["cancel: 2"])
        self.assertEqual(len(after.steps), 4)
        start = variants.inject_cancel(SMALL, 1, 1, "start")
        self.assertEqual(_actions(start)[1][0], "cancel: 1")
        end = variants.inject_cancel(SMALL, 1, 1, "end")
        self.assertEqual(_actions(end)[1][-1], "cancel: 1")


class UngroupTest(unittest.TestCase):
    def test_each_gap_then_all(self) -> None:
        found = variants.ungroupings(SMALL)
        self.assertEqual(
            [v.name.split(".")[-1] for v in found],
            ["Step2At1", "Step3At1", "All"],
        )
        every = found[-1].build()
        self.assertEqual(len(every.steps), 5)
        self.assertTrue(all(len(step.actions) == 1 for step in every.steps))

    def test_nothing_grouped_nothing_derived(self) -> None:
        scenario = _scenario(
            'name: "A.B.C" description: "d" steps { actions { feed_eof {} } }'
        )
        self.assertEqual(variants.ungroupings(scenario), [])


class DeriveTest(unittest.TestCase):
    def test_built_variants_have_empty_expectations(self) -> None:
        origin = pb.Scenario()
        origin.CopyFrom(SMALL)
        origin.hand_written = True
        origin.steps[0].expect.pending.append(1)
        variant = variants.ungroupings(origin)[0]
        scenario = variant.build()
        self.assertEqual(
            scenario.name, "StreamReader.ReadLine.Small.Ungroup.Step2At1"
        )
        self.assertFalse(scenario.hand_written)
        self.assertIn("StreamReader.ReadLine.Small", scenario.description)
        for step in scenario.steps:
            self.assertTrue(step.HasField("expect"))
            self.assertEqual(step.expect, pb.Observation())
        self.assertEqual(list(origin.steps[0].expect.pending), [1])

    def test_sample_is_deterministic_and_ordered(self) -> None:
        found = variants.derive(SMALL)["cancel"]
        first = variants.sample(found, 5, seed=3)
        self.assertEqual(first, variants.sample(found, 5, seed=3))
        self.assertEqual(len(first), 5)
        positions = [found.index(v) for v in first]
        self.assertEqual(positions, sorted(positions))
        self.assertEqual(variants.sample(found, -1, seed=3), found)

    def test_corpus_variants_are_valid_scenarios(self) -> None:
        origins = [entry.scenario for entry in corpus.load([str(_corpus())])]
        derived = variants.derive_all(origins)
        names = set()
        blocks = []
        for name in variants.TRANSFORMATIONS:
            self.assertTrue(derived[name], name)
            for variant in variants.sample(derived[name], 150, seed=1):
                scenario = variant.build()
                payload.check_scenario(scenario)
                names.add(scenario.name)
                blocks.append(scenario_text(scenario))
        self.assertEqual(len(names), len(blocks))
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "variants.textproto"
            path.write_text("# Variants.\n" + "\n".join(blocks))
            count, problems = check_scenarios.check_file(path, {})
        self.assertEqual(problems, [])
        self.assertEqual(count, len(blocks))


if __name__ == "__main__":
    unittest.main()
