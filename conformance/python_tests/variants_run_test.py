"""Tests for conformance/variants_run.py: counts, histograms, shrinking."""

import contextlib
import io
import pathlib
import sys
import tempfile
import unittest

import _path

from conformance import corpus, variants_run
from tools import check_scenarios

TESTEE = (
    f"{sys.executable} {_path.ROOT / 'conformance' / 'reference_testee.py'}"
)

# The reference with a bug: a reader made with limit 2 gets limit 3.
MUTANT = f"""
import asyncio, sys
sys.path.insert(0, {str(_path.ROOT)!r})
from conformance import reference_testee
original = asyncio.StreamReader.__init__
def init(self, limit=2**16, loop=None):
    original(self, 3 if limit == 2 else limit, loop)
asyncio.StreamReader.__init__ = init
sys.exit(reference_testee.main())
"""

FILE = """# Header.
scenario {
  name: "StreamReader.ReadLine.Line"
  description: "d"
  limit: 4
  steps { actions { read { id: 1 readline {} } } expect {} }
  steps {
    actions { feed_data { data: "abc" } }
    actions { feed_data { data: "\\n" } }
    expect {}
  }
}
"""


class VariantsRunTest(unittest.TestCase):
    def run_variants(self, cpp: str, *args: str):
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "topic.textproto"
            path.write_text(FILE)
            mutant = pathlib.Path(directory) / "mutant.py"
            mutant.write_text(MUTANT)
            cpp = cpp.replace("MUTANT", str(mutant))
            output = io.StringIO()
            with contextlib.redirect_stdout(
                output
            ), contextlib.redirect_stderr(io.StringIO()):
                code = variants_run.main(
                    ["--reference", TESTEE, "--cpp", cpp, *args, str(path)]
                )
        return code, output.getvalue()

    def test_counts_and_histograms(self) -> None:
        code, output = self.run_variants(TESTEE, "--sample_feed_split=3")
        self.assertEqual(code, 0, output)
        # "abc" and "\n": 2 + 1 cuts of "abc", grouped and looped.
        self.assertIn("feed_split  ran 3 of 6 derived scenarios", output)
        self.assertIn("a sample of 3", output)
        self.assertIn("cancel      ran 5 of 5 derived scenarios", output)
        self.assertIn("ungroup     ran 1 of 1 derived scenarios", output)
        self.assertIn("action kinds:", output)
        self.assertIn("error types (on the reference):", output)
        self.assertIn("CancelledError", output)
        self.assertIn("feed_split: 2-way looped", output)
        self.assertRegex(
            output, r"cancel: a step of its own: read.readline +2"
        )
        self.assertIn("ungroup: one gap", output)
        # Cancelled while waiting (steps 1 and 2) or after the line (3).
        self.assertRegex(output, r"ended in CancelledError +4\n")
        self.assertRegex(output, r"finished before the cancel +1\n")
        self.assertTrue(output.endswith(" passed, 0 failed\n"), output)

    def test_a_difference_is_shrunk_ready_to_paste(self) -> None:
        code, output = self.run_variants(
            f"{sys.executable} MUTANT", "--filter=Limit"
        )
        self.assertEqual(code, 1, output)
        self.assertIn(
            "DIFFERENT StreamReader.ReadLine.Line.Limit.To2 (shrunk", output
        )
        block = output[output.index("scenario {") :]
        block = block[: block.index("\n}\n") + 3]
        self.assertIn('name: "StreamReader.ReadLine.LineLimitTo2"', block)
        self.assertIn("limit: 2", block)
        self.assertIn("Separator is not found", block)
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "shrunk.textproto"
            path.write_text("# Shrunk.\n" + block)
            count, problems = check_scenarios.check_file(path, {})
            self.assertEqual((count, problems), (1, []))
            (entry,) = corpus.load([str(path)])
        self.assertEqual(entry.scenario.limit, 2)
        self.assertTrue(output.endswith(" passed, 1 failed\n"), output)


if __name__ == "__main__":
    unittest.main()
