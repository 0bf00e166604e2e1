"""Both testees refuse hostile input with a clear error and bounded memory.

Regression tests for three defects of the C++ testee (issue 9), run against
both testees, which must agree (conformance/wire.h, wire.py, payload.py):

- a forged length prefix (ff ff ff ff) made it allocate and zero 4 GiB;
- `Bytes.size` made a 30-byte request cost 1.13 GB of RSS;
- a truncated frame ended it with status 0 and no message.

Each run feeds fixed bytes to a fresh testee process and checks its exit
status, its stderr and its responses. Nothing here measures time: the testee
runs under an address-space limit (RLIMIT_AS, what `ulimit -v` sets) of
1 GiB, so an attempt to allocate gigabytes fails with an out-of-memory error
instead of passing slowly, and its peak RSS (from wait4) must stay small. The
generous deadline only keeps a hung testee from hanging the test. Under a
sanitizer (ASAN_OPTIONS or TSAN_OPTIONS set, as `--config=asan` does) the
address-space limit is left off, since the sanitizer reserves terabytes of
shadow memory; the RSS bound still holds.
"""

import dataclasses
import os
import resource
import shlex
import subprocess
import tempfile
import time
import unittest
from typing import List

import _path  # noqa: F401

from conformance import payload, suite, wire
from conformance import scenario_pb2 as pb

_ADDRESS_SPACE = 1 << 30  # bytes
_SMALL_RSS = 200 << 20  # bytes: what a testee may use for a refused input
_DEADLINE = 120.0  # seconds; never reached unless the testee hangs
_SANITIZED = any(
    name in os.environ for name in ("ASAN_OPTIONS", "TSAN_OPTIONS")
)


@dataclasses.dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: str
    max_rss: int  # bytes

    def responses(self) -> List[pb.Response]:
        import io

        stream = io.BytesIO(self.stdout)
        responses = []
        while (frame := wire.read_frame(stream)) is not None:
            responses.append(pb.Response.FromString(frame))
        return responses


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE, _ADDRESS_SPACE))


def run_testee(command: str, data: bytes) -> Run:
    """Runs `command` with `data` on stdin until it exits."""
    with (
        tempfile.TemporaryFile() as stdin,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        stdin.write(data)
        stdin.seek(0)
        process = subprocess.Popen(
            shlex.split(command),
            stdin=stdin,
            stdout=out,
            stderr=err,
            preexec_fn=None if _SANITIZED else _limit_address_space,
        )
        deadline = time.monotonic() + _DEADLINE
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                raise AssertionError(f"{command} did not exit")
            time.sleep(0.01)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            process.returncode,
            out.read(),
            err.read().decode("utf-8", "replace"),
            usage.ru_maxrss * 1024,
        )


def frame(message: bytes) -> bytes:
    return len(message).to_bytes(4, "little") + message


def request(scenario_text: str) -> bytes:
    from google.protobuf import text_format

    message = pb.Request()
    text_format.Parse(scenario_text, message.scenario)
    return frame(message.SerializeToString())


class _TesteeInputTest(unittest.TestCase):
    """The cases; subclasses name the testee (this base is deleted below, so
    that unittest runs only the subclasses)."""

    command = ""
    name = ""

    def run_input(self, data: bytes, max_rss: int = _SMALL_RSS) -> Run:
        run = run_testee(self.command, data)
        self.assertLess(
            run.max_rss,
            max_rss,
            f"peak RSS {run.max_rss} bytes; stderr:\n{run.stderr}",
        )
        return run

    def assert_wire_error(
        self, data: bytes, message: str, responses: int = 0
    ) -> None:
        run = self.run_input(data)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertIn(f"{self.name}: wire error: {message}\n", run.stderr)
        self.assertEqual(len(run.responses()), responses)

    def assert_refused(
        self, scenario_text: str, message: str, max_rss: int = _SMALL_RSS
    ) -> None:
        run = self.run_input(request(scenario_text), max_rss)
        self.assertEqual(run.returncode, 0, run.stderr)
        responses = run.responses()
        self.assertEqual(len(responses), 1, run.stderr)
        self.assertEqual(
            responses[0].WhichOneof("result"), "runtime_error", responses[0]
        )
        self.assertEqual(responses[0].runtime_error, message)

    # -- Frames ---------------------------------------------------------------

    def test_oversized_length_prefix(self) -> None:
        # The defect: 4 GiB allocated and zeroed before reading a byte.
        self.assert_wire_error(
            b"\xff\xff\xff\xff",
            "frame of 4294967295 bytes exceeds the limit of 67108864 bytes",
        )

    def test_length_prefix_one_over_the_limit(self) -> None:
        self.assert_wire_error(
            (wire.MAX_FRAME_BYTES + 1).to_bytes(4, "little") + b"abc",
            "frame of 67108865 bytes exceeds the limit of 67108864 bytes",
        )

    def test_prefix_claims_more_than_the_input_holds(self) -> None:
        # Within the limit, but memory follows the bytes actually read.
        self.assert_wire_error(
            wire.MAX_FRAME_BYTES.to_bytes(4, "little") + b"abc",
            "truncated frame (3 of 67108864 bytes)",
        )

    def test_truncated_length_prefix(self) -> None:
        # The defect: printf '\x05\x00' | cpp_testee exited 0 silently.
        self.assert_wire_error(
            b"\x05\x00", "truncated length prefix (2 of 4 bytes)"
        )

    def test_truncated_payload(self) -> None:
        self.assert_wire_error(
            b"\x05\x00\x00\x00ab", "truncated frame (2 of 5 bytes)"
        )

    def test_truncated_after_a_request(self) -> None:
        # The first request is answered; then the broken frame is an error.
        self.assert_wire_error(
            request("steps {}") + b"\x09\x00\x00",
            "truncated length prefix (3 of 4 bytes)",
            responses=1,
        )

    def test_clean_eof(self) -> None:
        for data, responses in ((b"", 0), (request("steps {}") * 2, 2)):
            run = self.run_input(data)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertNotIn("wire error", run.stderr)
            answers = run.responses()
            self.assertEqual(len(answers), responses)
            for answer in answers:
                self.assertEqual(answer.WhichOneof("result"), "trace")

    def test_unparseable_request_is_answered(self) -> None:
        run = self.run_input(frame(b"\xff\xff\xff"))
        self.assertEqual(run.returncode, 0, run.stderr)
        responses = run.responses()
        self.assertEqual(len(responses), 1)
        self.assertEqual(responses[0].WhichOneof("result"), "runtime_error")

    # -- Payloads -------------------------------------------------------------

    def test_huge_bytes_size(self) -> None:
        # The defect: this 30-byte request reached 1.13 GB of RSS.
        text = (
            'steps { actions { feed_data { pattern: "x" '
            "size: 1130000000 } } }"
        )
        self.assertLess(len(request(text)), 32)
        self.assert_refused(
            text,
            "invalid request: step 1, action 1: Bytes expands to "
            "1130000000 bytes, more than the limit of 67108864 for one Bytes",
        )

    def test_largest_int64_size(self) -> None:
        self.assert_refused(
            'steps {} steps { actions { write { pattern: "ab" '
            'size: 9223372036854775807 data: "z" } } }',
            "invalid request: step 2, action 1: Bytes expands to "
            "9223372036854775808 bytes, more than the limit of 67108864 for "
            "one Bytes",
        )

    def test_negative_size(self) -> None:
        self.assert_refused(
            "steps { actions { feed_eof {} } actions { task { id: 1 awaits "
            '{ feed_data { pattern: "x" size: -1 } } } } }',
            "invalid request: step 1, action 2: Bytes.size is negative: -1",
        )

    def test_size_without_pattern(self) -> None:
        self.assert_refused(
            'steps { actions { data_received { size: 3 data: "a" } } }',
            "invalid request: step 1, action 1: Bytes.size is set but "
            "Bytes.pattern is empty",
        )

    def test_request_total(self) -> None:
        # Each of five 60 MiB feeds is allowed alone; 300 MiB in all is not.
        feed = f'actions {{ feed_data {{ pattern: "y" size: {60 << 20} }} }}'
        self.assert_refused(
            f"steps {{ {feed} {feed} }} steps {{ {feed} {feed} {feed} }}",
            "invalid request: step 2, action 3: the request's payloads "
            "expand to more than 268435456 bytes in all",
        )

    def test_response_too_large(self) -> None:
        # Payloads within the limits, but each observation copies the 33 MiB
        # buffer: the second one passes the 64 MiB frame limit.
        self.assert_refused(
            f'steps {{ actions {{ feed_data {{ pattern: "z" size: {33 << 20} '
            f"}} }} }} steps {{}} steps {{}}",
            "response too large: the trace passes 67108864 bytes at step 2",
            max_rss=(1 << 30) if _SANITIZED else (600 << 20),
        )


class CppTesteeInputTest(_TesteeInputTest):
    command = suite.cpp_command()
    name = "cpp_testee"


class ReferenceTesteeInputTest(_TesteeInputTest):
    command = suite.reference_command()
    name = "reference_testee"


del _TesteeInputTest


class LimitsAgreeTest(unittest.TestCase):
    def test_python_limits_are_the_cpp_ones(self) -> None:
        header = (suite.ROOT / "conformance" / "wire.h").read_text()
        self.assertIn("kMaxFrameBytes = uint32_t{64} << 20", header)
        self.assertIn("kMaxPayloadBytes = int64_t{64} << 20", header)
        self.assertIn("kMaxRequestPayloadBytes = int64_t{256} << 20", header)
        self.assertEqual(wire.MAX_FRAME_BYTES, 64 << 20)
        self.assertEqual(payload.MAX_PAYLOAD_BYTES, 64 << 20)
        self.assertEqual(payload.MAX_REQUEST_PAYLOAD_BYTES, 256 << 20)


if __name__ == "__main__":
    unittest.main()
