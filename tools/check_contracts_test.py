"""Tests of check_contracts.py, and the check itself over //streams' public
headers (they are this test's data)."""

import glob
import os
import unittest

import check_contracts

HERE = os.path.dirname(os.path.abspath(__file__))


class CheckContractsTest(unittest.TestCase):
    def test_a_whole_contract_passes(self):
        path = os.path.join(HERE, "testdata", "contract_complete.h")
        self.assertEqual(check_contracts.check_header(path), [])

    def test_each_missing_clause_is_named(self):
        path = os.path.join(HERE, "testdata", "contract_missing.h")
        problems = check_contracts.check_header(path)
        self.assertEqual(len(problems), 3, problems)
        self.assertIn(
            "AsyncNoCancellation: no specific 'Cancellation'", problems[0]
        )
        self.assertIn("AsyncVagueErrors: no specific 'Errors'", problems[1])
        self.assertIn(
            "AsyncUndocumented: no `// AsyncUndocumented()`", problems[2]
        )
        self.assertEqual(check_contracts.main(["x", path]), 1)

    def test_every_public_operation_states_its_contract(self):
        root = os.path.dirname(HERE)
        headers = sorted(
            glob.glob(os.path.join(root, "streams", "*.h"))
            + glob.glob(os.path.join(root, "streams", "net", "*.h"))
        )
        self.assertGreater(len(headers), 5)
        problems = []
        for header in headers:
            problems.extend(check_contracts.check_header(header))
        self.assertEqual(problems, [])


if __name__ == "__main__":
    unittest.main()
