"""Tests for conformance/generator.py."""

import pathlib
import tempfile
import unittest

import _path  # noqa: F401

from conformance import generator
from conformance.textproto import scenario_text
from tools import check_scenarios


class GeneratorTest(unittest.TestCase):
    def test_deterministic(self) -> None:
        first = generator.generate(5, 50)
        second = generator.generate(5, 50)
        self.assertEqual(first, second)
        self.assertNotEqual(first, generator.generate(6, 50))

    def test_families(self) -> None:
        reader_only = {
            "feed_data",
            "feed_eof",
            "set_exception",
            "set_transport",
            "read",
            "cancel",
        }
        for scenario in generator.generate(1, 100, {"reader"}):
            for step in scenario.steps:
                for action in step.actions:
                    self.assertIn(action.WhichOneof("action"), reader_only)
        with self.assertRaises(ValueError):
            generator.generate(1, 1, {"nope"})

    def test_output_passes_the_checker(self) -> None:
        text = "# Generated.\n" + "\n".join(
            scenario_text(s) for s in generator.generate(3, 200)
        )
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "g.textproto"
            path.write_text(text)
            count, problems = check_scenarios.check_file(path, {})
        self.assertEqual(problems, [])
        self.assertEqual(count, 200)

    def test_covers_the_corners(self) -> None:
        kinds = set()
        grouped = 0
        separators = set()
        for scenario in generator.generate(2, 300):
            for step in scenario.steps:
                grouped += len(step.actions) > 1
                for action in step.actions:
                    kind = action.WhichOneof("action")
                    if kind == "read":
                        kind = action.read.WhichOneof("kind")
                        if (
                            kind == "readuntil"
                            and action.read.readuntil.HasField("separator")
                        ):
                            separators.add(
                                len(action.read.readuntil.separator)
                            )
                    kinds.add(kind)
        self.assertGreater(grouped, 100)
        self.assertTrue({0, 1, 2, 4}.issubset(separators))
        self.assertTrue(max(separators) >= 10)
        self.assertEqual(len(kinds), 25, kinds)


if __name__ == "__main__":
    unittest.main()
