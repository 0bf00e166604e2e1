#!/usr/bin/env python3
"""Runs every benchmark case for //streams, raw Asio and CPython, interleaved.

Called by benchmarks/run.sh (which builds the binaries first) and by the
smoke test. Writes one JSON file with every repetition's figures and the
machine's context; benchmarks/report.py turns it into REPORT.md.

Schedule: for each repetition, for each in-memory family, the C++ binary
(//streams and the anchors) and the CPython script run back to back; for each
TCP case (and pinned variant), the three implementations run back to back.
The order within a group rotates from one repetition to the next, so no
implementation always runs first (or right after the other's cache misses).

Usage: run_cases.py --bin-dir DIR --out FILE [--quick | --smoke] [--reps N]
"""

import argparse
import datetime
import json
import os
import platform
import selectors
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

READER_FAMILIES = (
    "lines100",
    "lines10",
    "exactly100",
    "read65536",
    "readuntil1k",
    "bigbuffer",
)
TCP_IMPLEMENTATIONS = ("streams", "asio", "cpython")
# (case, pinned): every case unpinned and pinned to one CPU (modes may skip
# some pinned runs: "pinned_cases"); idle measures memory only, so once.
TCP_CASES = (
    ("pingpong", False),
    ("pingpong", True),
    ("pingpong100", False),
    ("pingpong100", True),
    ("bulk", False),
    ("bulk", True),
    ("bulk256k", False),
    ("idle", False),
)
# What each case runs: the binaries' --case and extra flags. Bulk servers
# receive 64 KiB per read (the write size, and the raw Asio server's buffer):
# the same system calls for all three. "bulk256k" shows asyncio's default
# receive size (its transports' max_size; //streams' read_chunk_size) for
# all three: larger receives cost every implementation more kernel time here.
TCP_CASE_FLAGS = {
    "bulk": ("bulk", ["--read_kib=64"]),
    "bulk256k": ("bulk", ["--read_kib=256"]),
}

# Sizes and durations per mode. KiB for the in-memory data.
MODES = {
    "full": {
        "reps": 5,
        # Bulk runs are short (256 MiB in 0.04 to 0.2 s) and flip between
        # two regimes from one run to the next (the server keeping up and
        # sleeping once per chunk, or finding data every time): CPU per MB
        # changes by up to 2x for raw Asio as for //streams. More repetitions
        # of the bulk cases steady their medians; the other cases keep 5.
        "bulk_reps": 15,
        "stream_kib": 64 * 1024,
        "bulk_kib": 256 * 1024,
        "big_kib": [4096, 8192, 16384, 32768],
        # Within the 15-minute budget even at a load average of 8 (where a
        # 2 s ping-pong and 0.3 s per anchor took 14.5 minutes).
        "min_time": 0.1,
        "duration": 1.0,
        "count": 10_000_000,
        "bytes": 256 * 1024 * 1024,
        "idle_connections": 1000,
        "pinned_cases": ("pingpong", "pingpong100", "bulk"),
    },
    "quick": {
        "reps": 3,
        "stream_kib": 8 * 1024,
        "bulk_kib": 32 * 1024,
        "big_kib": [4096, 8192, 16384, 32768],
        "min_time": 0.05,
        "duration": 0.4,
        "count": 10_000_000,
        "bytes": 64 * 1024 * 1024,
        "idle_connections": 1000,
        # Only the pinned case a target needs: process start-ups dominate
        # a quick run on a loaded machine.
        "pinned_cases": ("pingpong",),
    },
    # Checks that everything runs and talks, not speed.
    "smoke": {
        "reps": 1,
        "stream_kib": 256,
        "bulk_kib": 1024,
        "big_kib": [256, 512],
        "min_time": 0,
        "duration": 0.2,
        "count": 300,
        "bytes": 1024 * 1024,
        "idle_connections": 50,
        "pinned_cases": ("pingpong",),
    },
}
TCP_TIMEOUT_S = 120


class CaseError(RuntimeError):
    pass


def load_average() -> list:
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        return [float(x) for x in loadavg.read().split()[:3]]


def command_output(command) -> str:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


def cpu_model() -> str:
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


# ---------------------------------------------------------------------------
# In-memory cases.
# ---------------------------------------------------------------------------


def run_reader_cpp(binary: str, family: str, mode: dict) -> tuple:
    command = [
        binary,
        f"--benchmark_filter=^{family}/",
        "--benchmark_format=json",
        f"--benchmark_min_time={mode['min_time']}",
        f"--stream_kib={mode['stream_kib']}",
        f"--bulk_kib={mode['bulk_kib']}",
        "--big_kib=" + ",".join(str(k) for k in mode["big_kib"]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CaseError(
            f"{' '.join(command)} exited {done.returncode}: "
            f"{done.stderr[-2000:]}"
        )
    output = json.loads(done.stdout)
    rows = []
    for benchmark in output["benchmarks"]:
        if benchmark.get("error_occurred"):
            raise CaseError(
                f"{benchmark['name']}: " f"{benchmark.get('error_message')}"
            )
        per_op = [
            value for key, value in benchmark.items() if key.startswith("cpu/")
        ]
        if len(per_op) != 1:
            raise CaseError(f"{benchmark['name']}: no cpu/<op> counter")
        name = benchmark["name"]
        rows.append(
            {
                "kind": "reader",
                "name": name,
                "impl": name.split("/")[1],
                "family": family,
                "ns_per_op": per_op[0] * 1e9,
                "items_per_second": benchmark.get("items_per_second"),
                "bytes_per_second": benchmark.get("bytes_per_second"),
                "iterations": benchmark["iterations"],
            }
        )
    if not rows:
        raise CaseError(f"{family}: no C++ benchmark ran")
    return rows, output.get("context", {})


def run_reader_python(python: str, family: str, mode: dict) -> list:
    command = [
        python,
        os.path.join(HERE, "reader_benchmark.py"),
        "--case",
        family,
        f"--stream-kib={mode['stream_kib']}",
        f"--bulk-kib={mode['bulk_kib']}",
        "--big-kib=" + ",".join(str(k) for k in mode["big_kib"]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CaseError(
            f"{' '.join(command)} exited {done.returncode}: "
            f"{done.stderr[-2000:]}"
        )
    rows = []
    for line in done.stdout.splitlines():
        result = json.loads(line)
        rows.append(
            {
                "kind": "reader",
                "name": result["name"],
                "impl": "cpython",
                "family": family,
                "ns_per_op": result["ns_per_op"],
                "ops": result["ops"],
                "bytes": result["bytes"],
                "cpu_ns": result["cpu_ns"],
            }
        )
    return rows


# ---------------------------------------------------------------------------
# TCP cases.
# ---------------------------------------------------------------------------


def tcp_command(implementation: str, bin_dir: str, python: str) -> list:
    if implementation == "cpython":
        return [python, os.path.join(HERE, "tcp_asyncio.py")]
    return [os.path.join(bin_dir, f"tcp_{implementation}")]


def last_json(text: str) -> dict:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise CaseError(f"no JSON result in {text[-500:]!r}")


def wait_listening(server: subprocess.Popen, timeout_s: float) -> int:
    selector = selectors.DefaultSelector()
    selector.register(server.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = server.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        if event.get("event") == "listening":
            return int(event["port"])
    raise CaseError("the server did not start listening")


def run_tcp(
    server_impl: str,
    client_impl: str,
    case: str,
    pinned: bool,
    mode: dict,
    bin_dir: str,
    python: str,
) -> dict:
    """One server process and one client process; both results."""
    prefix = ["taskset", "-c", "0"] if pinned else []
    connections = (
        [f"--connections={mode['idle_connections']}"] if case == "idle" else []
    )
    binary_case, case_flags = TCP_CASE_FLAGS.get(case, (case, []))
    common = (
        [f"--case={binary_case}", f"--timeout={TCP_TIMEOUT_S}"]
        + case_flags
        + connections
    )
    with tempfile.TemporaryFile("w+") as server_errors:
        server = subprocess.Popen(
            prefix
            + tcp_command(server_impl, bin_dir, python)
            + ["--role=server", "--port=0"]
            + common,
            stdout=subprocess.PIPE,
            stderr=server_errors,
            text=True,
        )
        try:
            port = wait_listening(server, 30)
            # Idle: the client holds its connections until the server has
            # measured; `duration` only bounds that hold.
            duration = 30 if case == "idle" else mode["duration"]
            client = subprocess.run(
                prefix
                + tcp_command(client_impl, bin_dir, python)
                + [
                    "--role=client",
                    f"--port={port}",
                    f"--duration={duration}",
                    f"--count={mode['count']}",
                    f"--bytes={mode['bytes']}",
                ]
                + common,
                capture_output=True,
                text=True,
                timeout=TCP_TIMEOUT_S + 30,
                check=False,
            )
            server_output, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired as error:
            raise CaseError(f"{case}: timed out: {error}") from error
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        server_errors.seek(0)
        errors = server_errors.read()
    where = f"{case} (server {server_impl}, client {client_impl})"
    if client.returncode != 0:
        raise CaseError(
            f"{where}: client exited {client.returncode}: "
            f"{client.stdout[-1000:]} {client.stderr[-1000:]}"
        )
    if server.returncode != 0:
        raise CaseError(
            f"{where}: server exited {server.returncode}: " f"{errors[-1000:]}"
        )
    client_result = last_json(client.stdout)
    server_result = last_json(server_output)
    if not client_result.get("ok") or not server_result.get("ok"):
        raise CaseError(f"{where}: not ok: {client_result} {server_result}")
    return {
        "kind": "tcp",
        "case": case,
        "pinned": pinned,
        "impl": server_impl
        if server_impl == client_impl
        else f"{server_impl}+{client_impl}",
        "server": server_result,
        "client": client_result,
    }


# ---------------------------------------------------------------------------
# The schedule.
# ---------------------------------------------------------------------------


def rotated(items, by: int) -> list:
    items = list(items)
    by %= len(items)
    return items[by:] + items[:by]


def run_all(args, mode_name: str) -> dict:
    mode = dict(MODES[mode_name])
    if args.reps:
        mode["reps"] = args.reps
    reader_binary = os.path.join(args.bin_dir, "reader_benchmark")
    results, errors = [], []
    context = {}
    started = time.monotonic()
    load_before = load_average()

    def attempt(what: str, run):
        try:
            return run()
        except CaseError as error:
            print(f"run_cases: {what}: {error}", file=sys.stderr, flush=True)
            errors.append(f"{what}: {error}")
            return None

    bulk_reps = max(mode["reps"], mode.get("bulk_reps", 0))
    for rep in range(bulk_reps):
        for family in READER_FAMILIES:
            if args.only and family not in args.only:
                continue
            if rep >= mode["reps"]:
                continue
            for language in rotated(("cpp", "python"), rep):
                print(
                    f"run_cases: rep {rep + 1}/{bulk_reps} {family} "
                    f"{language}",
                    file=sys.stderr,
                    flush=True,
                )
                if language == "cpp":
                    got = attempt(
                        f"{family} C++",
                        lambda: run_reader_cpp(reader_binary, family, mode),
                    )
                    if got:
                        rows, context = got
                    else:
                        rows = []
                else:
                    rows = (
                        attempt(
                            f"{family} CPython",
                            lambda: run_reader_python(
                                args.python, family, mode
                            ),
                        )
                        or []
                    )
                for row in rows:
                    row["rep"] = rep
                results.extend(rows)
        for case, pinned in TCP_CASES:
            if args.only and case not in args.only:
                continue
            if pinned and case not in mode["pinned_cases"]:
                continue
            if rep >= (bulk_reps if case.startswith("bulk") else mode["reps"]):
                continue
            pairs = [
                (impl, impl) for impl in rotated(TCP_IMPLEMENTATIONS, rep)
            ]
            if mode_name == "smoke":
                # Each implementation against another too: they speak the
                # same protocol, and the smoke test checks that.
                pairs += [
                    ("streams", "asio"),
                    ("asio", "cpython"),
                    ("cpython", "streams"),
                ]
            for server_impl, client_impl in pairs:
                label = (
                    f"{case}{' pinned' if pinned else ''} "
                    f"{server_impl}/{client_impl}"
                )
                print(
                    f"run_cases: rep {rep + 1}/{bulk_reps} {label}",
                    file=sys.stderr,
                    flush=True,
                )
                row = attempt(
                    label,
                    lambda: run_tcp(
                        server_impl,
                        client_impl,
                        case,
                        pinned,
                        mode,
                        args.bin_dir,
                        args.python,
                    ),
                )
                if row:
                    row["rep"] = rep
                    results.append(row)

    python_version = command_output(
        [
            args.python,
            "-c",
            "import platform; print(platform.python_version())",
        ]
    )
    return {
        "meta": {
            "mode": mode_name,
            "settings": mode,
            "compilation_mode": args.compilation_mode,
            "compiler": command_output(["g++", "--version"]).split("\n")[0],
            "python": f"CPython {python_version}",
            "nproc": len(os.sched_getaffinity(0)),
            "cpu": cpu_model(),
            "load_before": load_before,
            "load_after": load_average(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
            "seconds": round(time.monotonic() - started, 1),
            "git": command_output(
                ["git", "-C", HERE, "rev-parse", "--short", "HEAD"]
            ),
            "benchmark_context": context,
        },
        "results": results,
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--bin-dir",
        required=True,
        help="the directory of reader_benchmark, " "tcp_streams and tcp_asio",
    )
    parser.add_argument("--out", required=True, help="the results JSON file")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true")
    group.add_argument("--smoke", action="store_true")
    parser.add_argument("--reps", type=int, help="override the repetitions")
    parser.add_argument(
        "--only",
        action="append",
        help="run only this family or TCP case (repeatable)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the CPython 3.11.7 to compare with",
    )
    parser.add_argument(
        "--compilation-mode",
        default="unknown",
        help="how the binaries were built, for the report",
    )
    args = parser.parse_args()
    mode_name = "smoke" if args.smoke else "quick" if args.quick else "full"
    report = run_all(args, mode_name)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1)
    print(
        f"run_cases: {len(report['results'])} results, "
        f"{len(report['errors'])} errors, {report['meta']['seconds']} s "
        f"-> {args.out}",
        file=sys.stderr,
    )
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
