"""A testee process driven over the length-prefixed pipe.

One process serves a whole run: the harness sends one Request per scenario on
its stdin and reads one Response from its stdout. The testee's stderr is
echoed (prefixed with its label) and its tail kept for error messages.
"""

import collections
import shlex
import subprocess
import sys
import threading
from typing import Any, Deque, List, Optional, Tuple

from conformance import scenario_pb2 as pb
from conformance import wire

_TAIL_LINES = 40


class TesteeError(Exception):
    """The testee process died or broke the wire protocol."""


class Testee:
    """A running testee. Use as a context manager or call close()."""

    def __init__(
        self, command: str, label: str = "testee", echo_stderr: bool = True
    ) -> None:
        self.command = command
        self.label = label
        self._echo = echo_stderr
        self._tail: Deque[str] = collections.deque(maxlen=_TAIL_LINES)
        argv: List[str] = shlex.split(command)
        if not argv:
            raise TesteeError(f"{label}: empty testee command")
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise TesteeError(f"{label}: cannot start {command!r}: {exc}")
        self._stderr_thread = threading.Thread(
            target=self._pump_stderr, daemon=True
        )
        self._stderr_thread.start()

    def _pump_stderr(self) -> None:
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._tail.append(line)
            if self._echo:
                print(f"[{self.label}] {line}", file=sys.stderr, flush=True)

    def _died(self, what: str) -> TesteeError:
        try:
            code: Optional[int] = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr_thread.join(timeout=2)
        tail = "\n".join("    " + line for line in self._tail) or "    (empty)"
        return TesteeError(
            f"{self.label} ({self.command!r}) {what}; exit code {code}. "
            f"Last lines of its stderr:\n{tail}"
        )

    def run(self, scenario: pb.Scenario) -> pb.Response:
        """Sends one scenario and returns the testee's Response."""
        self.send(scenario)
        return self.receive(scenario.name)

    def send(self, scenario: Any) -> None:
        """Sends one scenario; receive() reads its Response. A testee reads
        its whole request before it answers, so the harness may send to
        several testees before receiving from any (run_both)."""
        request = pb.Request()
        request.scenario.CopyFrom(scenario)
        for step in request.scenario.steps:
            step.ClearField("expect")
        assert self._process.stdin is not None
        try:
            wire.write_frame(self._process.stdin, request.SerializeToString())
        except (OSError, wire.WireError) as exc:
            raise self._died(f"failed on {scenario.name} ({exc})") from exc

    def receive(self, name: str) -> Any:
        """The Response to the scenario `name` sent last."""
        assert self._process.stdout is not None
        try:
            frame = wire.read_frame(self._process.stdout)
        except (OSError, wire.WireError) as exc:
            raise self._died(f"failed on {name} ({exc})") from exc
        if frame is None:
            raise self._died(f"exited while running {name}")
        try:
            return pb.Response.FromString(frame)
        except Exception as exc:  # noqa: BLE001 - a protocol error
            raise TesteeError(
                f"{self.label}: unreadable Response for {name}: {exc}"
            ) from exc

    def close(self) -> int:
        """Closes stdin (the testee exits at EOF) and waits for it."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        try:
            code = self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        self._stderr_thread.join(timeout=2)
        return code

    def __enter__(self) -> "Testee":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def run_both(first: Testee, second: Testee, scenario: Any) -> Tuple[Any, Any]:
    """Runs one scenario on two testees at once; their two Responses."""
    first.send(scenario)
    second.send(scenario)
    return first.receive(scenario.name), second.receive(scenario.name)
