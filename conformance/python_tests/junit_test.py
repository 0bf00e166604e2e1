"""Tests for conformance/junit.py: the XML CI systems read."""

import os
import pathlib
import tempfile
import unittest
import xml.etree.ElementTree as ET
from unittest import mock

import report_fixture

from conformance import junit
from conformance import results as res


class JunitTest(unittest.TestCase):
    def test_suites_cases_and_failures(self) -> None:
        columns = report_fixture.columns()
        columns[0].results["Topic.Op.Passes"].status = res.EXPECTED_FAILURE
        with tempfile.TemporaryDirectory() as directory:
            path = pathlib.Path(directory) / "test.xml"
            with mock.patch.dict(os.environ, {"XML_OUTPUT_FILE": str(path)}):
                self.assertEqual(junit.write_for_bazel(columns), str(path))
            root = ET.parse(path).getroot()
        self.assertEqual(root.tag, "testsuites")
        self.assertEqual(
            (root.get("tests"), root.get("failures"), root.get("skipped")),
            ("6", "1", "2"),
        )
        suites = {suite.get("name"): suite for suite in root}
        self.assertEqual(list(suites), ["reference", "C++", "CPython 3.11.2"])
        cpp = suites["C++"]
        self.assertEqual((cpp.get("tests"), cpp.get("failures")), ("2", "1"))
        cases = {case.get("name"): case for case in cpp}
        failing = cases["Topic.Op.Fails<&>"]
        self.assertEqual(failing.get("classname"), "topic")
        failure = failing.find("failure")
        self.assertEqual(failure.get("message"), "step 1: buffer")
        self.assertIn("expected b'<&>'\n      observed b'\"'", failure.text)
        self.assertIsNone(cases["Topic.Op.Passes"].find("failure"))
        listed = suites["reference"].find("testcase[@name='Topic.Op.Passes']")
        self.assertTrue(
            listed.find("skipped").get("message").startswith("expected")
        )

    def test_run_problems_are_a_failing_case(self) -> None:
        root = junit.build(report_fixture.columns()[:1], ["list: X.Y.Z?"])
        suite = root.find("testsuite")
        self.assertEqual(
            (suite.get("tests"), suite.get("failures")), ("3", "1")
        )
        failure = suite.find("testcase[@name='FailureList']/failure")
        self.assertEqual(failure.get("message"), "list: X.Y.Z?")

    def test_nothing_without_bazel(self) -> None:
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertIsNone(junit.write_for_bazel([]))


if __name__ == "__main__":
    unittest.main()
