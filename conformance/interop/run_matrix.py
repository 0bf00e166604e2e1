#!/usr/bin/env python3
"""Runs the interop matrix (conformance/INTEROP.md).

{C++, CPython} server x {C++, CPython} client x {tcp, unix, tls} x every case,
on loopback only, each cell bounded in time. Prints the matrix and the
failing cells' logs, writes an HTML report (gRPC's interop report is the
model) with each failing cell's client and server logs, and ends with a line
"N passed, M failed". Exits 0 when the cells that fail are exactly those in
the failure list.

Usage (Bazel sets these up: bazel test //conformance:interop_test):
  run_matrix.py --cpp_server=PATH --cpp_client=PATH [--cases=a,b]
      [--transports=tcp,unix] [--jobs=2] [--html=PATH]
"""

import argparse
import concurrent.futures
import dataclasses
import html
import json
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional, Sequence, Set, Tuple

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import interop_common as common  # noqa: E402

LANGUAGES = ("cpp", "python")
PAIRS = tuple((server, client) for server in LANGUAGES for client in LANGUAGES)
# The runner kills a cell's programs this long after the case's bound.
KILL_AFTER_S = 15.0
STARTUP_S = 15.0
LOG_LIMIT = 64 * 1024

# Cells that must not run beside another of their group: a thousand
# connects at once, and 128 MiB of hashing, compete for the same two cores
# and the same kernel queues.
EXCLUSIVE_GROUPS = {"burst_connect": "burst", "large_payload": "bulk"}


@dataclasses.dataclass(frozen=True)
class Cell:
    case: str
    transport: str
    server: str
    client: str

    @property
    def name(self) -> str:
        return f"{self.case}.{self.transport}.{self.server}-{self.client}"


@dataclasses.dataclass
class Log:
    command: List[str]
    returncode: Optional[int] = None
    stdout: str = ""
    stderr: str = ""


@dataclasses.dataclass
class Result:
    cell: Cell
    status: str  # "pass", "fail", "n/a"
    reason: str = ""
    seconds: float = 0.0
    server: Optional[Log] = None
    client: Optional[Log] = None
    expected_failure: bool = False


class Programs:
    """Where the four programs are and how to start them."""

    def __init__(self, flags: argparse.Namespace) -> None:
        here = pathlib.Path(__file__).absolute().parent
        self.python = flags.python
        self.commands = {
            ("cpp", "server"): [os.path.abspath(flags.cpp_server or "-")],
            ("cpp", "client"): [os.path.abspath(flags.cpp_client or "-")],
            ("python", "server"): [
                self.python,
                str(here / "interop_server.py"),
            ],
            ("python", "client"): [
                self.python,
                str(here / "interop_client.py"),
            ],
        }
        self.tls_dir = os.path.abspath(flags.tls_dir)

    def command(
        self, language: str, role: str, cell: Cell, address: List[str]
    ) -> List[str]:
        return (
            self.commands[(language, role)]
            + [
                f"--test_case={cell.case}",
                f"--transport={cell.transport}",
                f"--tls_dir={self.tls_dir}",
            ]
            + address
        )


def tail(text: str) -> str:
    if len(text) <= LOG_LIMIT:
        return text
    return f"[... {len(text) - LOG_LIMIT} bytes cut ...]\n" + text[-LOG_LIMIT:]


def read_first_line(process: subprocess.Popen, timeout: float) -> str:
    """The server's first stdout line, or "" if none came in time."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        return ""
    return process.stdout.readline().strip()


def parse_result(stdout: str) -> Optional[Dict[str, object]]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            try:
                return json.loads(line[len("RESULT ") :])
            except json.JSONDecodeError:
                return None
    return None


def stop(process: subprocess.Popen, timeout: float) -> Tuple[str, str]:
    """SIGTERM, then SIGKILL after `timeout`; returns (stdout, stderr)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        err += f"\n[run_matrix: killed {timeout:.0f} s after SIGTERM]\n"
    return out or "", err or ""


def run_cell(cell: Cell, programs: Programs) -> Result:
    case = common.CASES[cell.case]
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="iop", dir="/tmp")  # AF_UNIX: short
    try:
        if cell.transport == "unix":
            server_address = [f"--path={workdir}/s.sock"]
        else:
            server_address = ["--host=127.0.0.1", "--port=0"]
        server_log = Log(
            programs.command(cell.server, "server", cell, server_address)
        )
        server = subprocess.Popen(
            server_log.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=workdir,
        )
        first = read_first_line(server, STARTUP_S)
        if not first:
            server_log.stdout, server_log.stderr = stop(server, 5)
            server_log.returncode = server.returncode
            return Result(
                cell,
                "fail",
                "the server printed no port or path "
                f"within {STARTUP_S:.0f} s",
                server=server_log,
                seconds=time.monotonic() - started,
            )
        if cell.transport == "unix":
            client_address = [f"--path={first}"]
        else:
            client_address = ["--host=127.0.0.1", f"--port={first}"]
        client_log = Log(
            programs.command(cell.client, "client", cell, client_address)
        )
        try:
            client = subprocess.run(
                client_log.command,
                capture_output=True,
                text=True,
                cwd=workdir,
                timeout=case.bound_s + KILL_AFTER_S,
            )
            client_log.returncode = client.returncode
            client_log.stdout, client_log.stderr = client.stdout, client.stderr
        except subprocess.TimeoutExpired as expired:
            client_log.stdout = _text(expired.stdout)
            client_log.stderr = _text(expired.stderr) + (
                f"\n[run_matrix: killed after "
                f"{case.bound_s + KILL_AFTER_S:.0f} s]\n"
            )
        out, err = stop(server, common.SHUTDOWN_GRACE_S + KILL_AFTER_S)
        server_log.stdout = first + "\n" + out
        server_log.stderr = err
        server_log.returncode = server.returncode
        status, reason = judge(cell, server_log, client_log)
        return Result(
            cell,
            status,
            reason,
            time.monotonic() - started,
            server_log,
            client_log,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _text(data: object) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""  # type: ignore[return-value]


def judge(cell: Cell, server: Log, client: Log) -> Tuple[str, str]:
    """INTEROP.md's rule: ("pass" | "fail", why)."""
    problems = []
    if server.returncode != 0:
        problems.append(f"server exited {server.returncode}")
    if client.returncode is None:
        problems.append("client timed out")
        return "fail", "; ".join(problems)
    result = parse_result(client.stdout)
    if client.returncode == 0 and result is not None:
        return ("fail", "; ".join(problems)) if problems else ("pass", "")
    if result is None:
        problems.append(f"client exited {client.returncode} without RESULT")
        return "fail", "; ".join(problems)
    failed = dict(result.get("failed", {}))  # type: ignore[arg-type]
    allowed = common.CASES[cell.case].cpython_fails_too.get(
        cell.transport, frozenset()
    )
    unexplained = {key: n for key, n in failed.items() if key not in allowed}
    if unexplained:
        problems.append(
            f"client: {result.get('ok')} ok, failed " f"{unexplained}"
        )
    if problems:
        return "fail", "; ".join(problems)
    also = ", ".join(f"{key} x{n}" for key, n in sorted(failed.items()))
    return "pass", f"{result.get('ok')} ok; as in CPython: {also}"


def load_failure_list(path: Optional[str]) -> Dict[str, str]:
    """Cell name -> why it is expected to fail."""
    expected: Dict[str, str] = {}
    if not path:
        return expected
    for line in pathlib.Path(path).read_text().splitlines():
        name, _, why = line.partition("#")
        if name.strip():
            expected[name.strip()] = why.strip()
    return expected


def run_all(
    cells: Sequence[Cell], programs: Programs, jobs: int
) -> List[Result]:
    locks = {
        group: threading.Lock() for group in set(EXCLUSIVE_GROUPS.values())
    }

    def run(cell: Cell) -> Result:
        group = EXCLUSIVE_GROUPS.get(cell.case)
        if group is None:
            return run_cell(cell, programs)
        with locks[group]:
            return run_cell(cell, programs)

    runnable = []
    results: Dict[Cell, Result] = {}
    for cell in cells:
        reason = common.CASES[cell.case].not_applicable.get(cell.transport)
        if reason:
            results[cell] = Result(cell, "n/a", reason)
        else:
            runnable.append(cell)
    # The slow, exclusive cells first, so the others fill in beside them.
    runnable.sort(key=lambda cell: cell.case not in EXCLUSIVE_GROUPS)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(run, runnable):
            results[result.cell] = result
            mark = {"pass": ".", "fail": "F"}[result.status]
            print(mark, end="", flush=True)
    print()
    return [results[cell] for cell in cells]


def label(result: Result) -> str:
    if result.status == "n/a":
        return "N/A"
    if result.status == "pass":
        return "pass"
    return "xfail" if result.expected_failure else "FAIL"


def print_table(results: Sequence[Result]) -> None:
    by_cell = {result.cell: result for result in results}
    rows = sorted(
        {(r.cell.case, r.cell.transport) for r in results},
        key=lambda row: (
            list(common.CASES).index(row[0]),
            common.TRANSPORTS.index(row[1]),
        ),
    )
    pairs = [
        pair
        for pair in PAIRS
        if any((r.cell.server, r.cell.client) == pair for r in results)
    ]
    headers = [f"{server}->{client}" for server, client in pairs]
    width = max(len(f"{case} {transport}") for case, transport in rows)
    print("server->client".rjust(width), *(h.rjust(13) for h in headers))
    for case, transport in rows:
        labels = []
        for server, client in pairs:
            result = by_cell.get(Cell(case, transport, server, client))
            labels.append(label(result) if result else "-")
        print(
            f"{case} {transport}".ljust(width),
            *(text.rjust(13) for text in labels),
        )


def write_html(path: str, results: Sequence[Result], elapsed: float) -> None:
    by_cell = {result.cell: result for result in results}
    pairs = [
        pair
        for pair in PAIRS
        if any((r.cell.server, r.cell.client) == pair for r in results)
    ]
    transports = [
        t
        for t in common.TRANSPORTS
        if any(r.cell.transport == t for r in results)
    ]
    cases = [c for c in common.CASES if any(r.cell.case == c for r in results)]
    colors = {
        "pass": "#c8e6c9",
        "FAIL": "#ffcdd2",
        "xfail": "#ffe0b2",
        "N/A": "#eeeeee",
    }
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>//streams interop matrix</title><style>",
        "body{font-family:sans-serif}table{border-collapse:collapse}",
        "td,th{border:1px solid #999;padding:3px 6px;text-align:center}",
        "pre{background:#f6f6f6;padding:6px;overflow:auto;max-height:30em}",
        "</style></head><body>",
        "<h1>//streams vs CPython 3.11.7 asyncio: interop matrix</h1>",
        f"<p>{_summary(results)}; {elapsed:.0f} s. Cases: "
        "conformance/INTEROP.md. Columns: server &rarr; client.</p>",
        "<table><tr><th rowspan=2>case</th>",
    ]
    for transport in transports:
        out.append(f"<th colspan={len(pairs)}>{transport}</th>")
    out.append("</tr><tr>")
    for _ in transports:
        for server, client in pairs:
            out.append(f"<th>{server}&rarr;{client}</th>")
    out.append("</tr>")
    for case in cases:
        out.append(f"<tr><th style='text-align:left'>{case}</th>")
        for transport in transports:
            for server, client in pairs:
                result = by_cell.get(Cell(case, transport, server, client))
                if result is None:
                    out.append("<td>-</td>")
                    continue
                text = label(result)
                title = html.escape(result.reason, quote=True)
                inner = text
                if result.status == "fail":
                    inner = f"<a href='#{result.cell.name}'>{text}</a>"
                elif result.status == "pass":
                    inner = f"{text}<br><small>{result.seconds:.1f} s</small>"
                out.append(
                    f"<td style='background:{colors[text]}' "
                    f"title='{title}'>{inner}</td>"
                )
        out.append("</tr>")
    out.append("</table>")
    failing = [r for r in results if r.status == "fail"]
    if failing:
        out.append("<h2>Failing cells</h2>")
    for result in failing:
        out.append(
            f"<h3 id='{result.cell.name}'>{result.cell.name}"
            f" ({label(result)})</h3>"
        )
        out.append(
            f"<p>{html.escape(result.reason)}"
            f" &mdash; {result.seconds:.1f} s</p>"
        )
        for role, log in (
            ("server", result.server),
            ("client", result.client),
        ):
            if log is None:
                continue
            out.append(f"<h4>{role}: exit {log.returncode}</h4>")
            out.append(f"<pre>$ {html.escape(' '.join(log.command))}</pre>")
            out.append(
                "<p>stdout</p><pre>" f"{html.escape(tail(log.stdout))}</pre>"
            )
            out.append(
                "<p>stderr</p><pre>" f"{html.escape(tail(log.stderr))}</pre>"
            )
    out.append("</body></html>")
    pathlib.Path(path).write_text("\n".join(out))


def _summary(results: Sequence[Result]) -> str:
    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    expected = sum(r.status == "fail" and r.expected_failure for r in results)
    na = sum(r.status == "n/a" for r in results)
    return (
        f"{passed} passed, {failed} failed ({expected} expected by the "
        f"failure list), {na} N/A"
    )


def parse_flags(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp_server", default="")
    parser.add_argument("--cpp_client", default="")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--tls_dir", default="testdata/tls")
    parser.add_argument("--cases", default=",".join(common.CASES))
    parser.add_argument("--transports", default=",".join(common.TRANSPORTS))
    parser.add_argument("--servers", default=",".join(LANGUAGES))
    parser.add_argument("--clients", default=",".join(LANGUAGES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--failure_list", default="")
    parser.add_argument("--html", default="")
    flags = parser.parse_args(argv)
    for name, known in (
        ("cases", common.CASES),
        ("transports", common.TRANSPORTS),
        ("servers", LANGUAGES),
        ("clients", LANGUAGES),
    ):
        unknown = set(getattr(flags, name).split(",")) - set(known)
        if unknown:
            parser.error(f"--{name}: unknown {sorted(unknown)}")
    for role in ("server", "client"):
        if "cpp" in getattr(flags, role + "s").split(",") and not getattr(
            flags, "cpp_" + role
        ):
            parser.error(f"--{role}s has cpp: give --cpp_{role}")
    return flags


def main(argv: Sequence[str]) -> int:
    flags = parse_flags(argv)
    if sys.version_info[:3] != (3, 11, 7):
        print(
            f"run_matrix: the CPython side must run on 3.11.7; "
            f"{flags.python} is {sys.version.split()[0]}",
            file=sys.stderr,
        )
        return 2
    programs = Programs(flags)
    cells = [
        Cell(case, transport, server, client)
        for case in flags.cases.split(",")
        for transport in flags.transports.split(",")
        for server in flags.servers.split(",")
        for client in flags.clients.split(",")
    ]
    started = time.monotonic()
    results = run_all(cells, programs, flags.jobs)
    elapsed = time.monotonic() - started
    expected = load_failure_list(flags.failure_list)
    ran: Set[str] = set()
    unexpected = []
    for result in results:
        ran.add(result.cell.name)
        if result.status == "fail" and result.cell.name in expected:
            result.expected_failure = True
            result.reason += f" [failure list: {expected[result.cell.name]}]"
        elif result.status == "fail":
            unexpected.append(f"{result.cell.name}: FAILED: {result.reason}")
        elif result.status == "pass" and result.cell.name in expected:
            unexpected.append(
                f"{result.cell.name}: passes but is in the "
                "failure list: remove it"
            )
    print_table(results)
    print()
    for result in results:
        if result.status == "fail":
            print(
                f"--- {result.cell.name} ({label(result)}): "
                f"{result.reason}"
            )
            for role, log in (
                ("server", result.server),
                ("client", result.client),
            ):
                if log is not None and log.stderr.strip():
                    lines = log.stderr.strip().splitlines()[-5:]
                    print(f"    {role} stderr: " + "\n    ".join(lines))
    if flags.html or os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR"):
        path = flags.html or os.path.join(
            os.environ["TEST_UNDECLARED_OUTPUTS_DIR"], "interop_matrix.html"
        )
        write_html(path, results, elapsed)
        print(f"HTML report: {path}")
    for line in unexpected:
        print(line)
    print(
        f"matrix: {len(cells)} cells in {elapsed:.0f} s; "
        f"{_summary(results)}"
    )
    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    print(f"{passed} passed, {failed} failed")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
