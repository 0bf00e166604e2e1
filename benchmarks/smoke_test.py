#!/usr/bin/env python3
"""benchmarks_smoke_test: every benchmark program runs, for a tiny size.

Runs run_cases.py --smoke (reader_benchmark and reader_benchmark.py on a few
hundred KiB; the three TCP programs against themselves and against each other
for a few hundred round trips) and report.py on its results, then checks that
every case produced figures and the report has a PASS/FAIL line per target.
Speed is not checked here: that is run.sh's job, on an optimized build.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TCP_CASES = ("pingpong", "pingpong100", "bulk", "bulk256k", "idle")


class BenchmarksSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
        results = os.path.join(cls.tmp, "results.json")
        subprocess.run(
            [
                sys.executable,
                os.path.join(HERE, "run_cases.py"),
                "--smoke",
                "--bin-dir",
                HERE,
                "--out",
                results,
                "--python",
                sys.executable,
                "--compilation-mode",
                "smoke test",
            ],
            check=True,
            timeout=240,
        )
        with open(results, encoding="utf-8") as results_file:
            cls.data = json.load(results_file)
        cls.report_path = os.path.join(cls.tmp, "REPORT.md")
        cls.report_output = subprocess.run(
            [
                sys.executable,
                os.path.join(HERE, "report.py"),
                "--results",
                results,
                "--out",
                cls.report_path,
                "--no-plots",
            ],
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        ).stdout

    def test_no_case_failed(self) -> None:
        self.assertEqual(self.data["errors"], [])

    def test_every_in_memory_case_ran_in_both_languages(self) -> None:
        names = {
            row["name"]
            for row in self.data["results"]
            if row["kind"] == "reader"
        }
        for family in ("lines100", "lines10", "exactly100"):
            for way in ("deferred", "use_awaitable", "callback"):
                self.assertIn(f"{family}/streams/{way}", names)
        for name in (
            "lines100/anchor/memchr_fresh_string",
            "lines100/anchor/memchr_reused_string",
            "lines100/anchor/awaited_memchr_fresh_string",
            "lines100/anchor/asio_read_until",
            "exactly100/anchor/offset_reader",
            "read65536/streams/deferred",
            "read65536/anchor/memcpy_64KiB",
            "readuntil1k/streams/deferred",
            "readuntil1k/anchor/offset_reader",
            "readuntil1k/anchor/asio_read_until",
            "bigbuffer/streams/256KiB",
            "bigbuffer/streams/512KiB",
        ):
            self.assertIn(name, names)
        for family in (
            "lines100",
            "lines10",
            "exactly100",
            "read65536",
            "readuntil1k",
        ):
            self.assertIn(f"{family}/cpython", names)
        self.assertIn("bigbuffer/cpython/512KiB", names)
        for row in self.data["results"]:
            if row["kind"] == "reader":
                self.assertGreater(row["ns_per_op"], 0, row["name"])

    def test_every_tcp_pair_talked(self) -> None:
        pairs = {
            (row["case"], row["impl"])
            for row in self.data["results"]
            if row["kind"] == "tcp"
        }
        for case in TCP_CASES:
            for impl in (
                "streams",
                "asio",
                "cpython",
                "streams+asio",
                "asio+cpython",
                "cpython+streams",
            ):
                self.assertIn((case, impl), pairs)
        for row in self.data["results"]:
            if row["kind"] != "tcp":
                continue
            with self.subTest(case=row["case"], impl=row["impl"]):
                if row["case"] == "idle":
                    self.assertEqual(row["server"]["accepted"], 50)
                    self.assertGreater(row["server"]["rss_after_kib"], 0)
                elif row["case"].startswith("bulk"):
                    self.assertEqual(row["client"]["bytes"], 1024 * 1024)
                    self.assertEqual(row["server"]["bytes"], 1024 * 1024)
                else:
                    self.assertGreater(row["client"]["ops"], 0)
                    self.assertEqual(
                        row["server"]["ops"], row["client"]["ops"]
                    )
                    self.assertGreater(row["server"]["peak_rss_kib"], 0)

    def test_pinned_runs_ran(self) -> None:
        self.assertTrue(
            any(
                row["kind"] == "tcp" and row["pinned"]
                for row in self.data["results"]
            )
        )

    def test_report_has_a_verdict_per_target(self) -> None:
        with open(self.report_path, encoding="utf-8") as report:
            text = report.read()
        verdicts = [
            line
            for line in text.splitlines()
            if line.startswith(("PASS: ", "FAIL: "))
        ]
        # One per Target in report.targets(), the ReadLineView two included.
        self.assertEqual(len(verdicts), 20, text)
        self.assertNotIn("no data", "\n".join(verdicts))
        self.assertIn("targets pass", self.report_output)


if __name__ == "__main__":
    unittest.main()
