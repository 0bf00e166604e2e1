#!/usr/bin/env python3
"""Writes benchmarks/REPORT.md and its PNG plots from run_cases.py's results.

Every ratio is computed per repetition (//streams and the other measured in
the same repetition, back to back) and the median of those is reported and
checked against the target. Standard library only; the plots come from
gnuplot (tools/setup.sh --bench installs gnuplot-nox) and are skipped, with a
note, when it is missing or --no-plots is given.

Usage: report.py --results FILE --out REPORT.md [--no-plots]
           [--command "benchmarks/run.sh"]
"""

import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys

KIB = 1024

FAMILY_TITLES = {
    "lines100": "ReadLine, 100-byte lines",
    "lines10": "ReadLine, 10-byte lines",
    "exactly100": "ReadExactly(100)",
    "read65536": "Read(65536)",
    "readuntil1k": 'ReadUntil("\\r\\n\\r\\n"), 1 KiB records',
    "bigbuffer": "ReadLine to EOF over one big buffer",
}
# The anchors each family is compared with, in table order.
FAMILY_ANCHORS = {
    "lines100": (
        "memchr_fresh_string",
        "memchr_reused_string",
        "awaited_memchr_fresh_string",
        "asio_read_until",
    ),
    "lines10": (
        "memchr_fresh_string",
        "memchr_reused_string",
        "awaited_memchr_fresh_string",
        "asio_read_until",
    ),
    "exactly100": ("offset_reader",),
    "read65536": ("memcpy_64KiB",),
    "readuntil1k": ("offset_reader", "asio_read_until"),
}
ANCHOR_TITLES = {
    "memchr_fresh_string": "memchr, fresh string",
    "memchr_reused_string": "memchr, reused string",
    "awaited_memchr_fresh_string": "memchr, fresh string, nested awaitable",
    "asio_read_until": "asio::read_until",
    "offset_reader": "sync offset reader",
    "memcpy_64KiB": "memcpy 64 KiB",
}
WAYS = ("deferred", "use_awaitable", "callback")
WAY_TITLES = {
    "deferred": "co_await (default token)",
    "use_awaitable": "co_await use_awaitable",
    "callback": "callback",
}
TCP_CASE_TITLES = {
    "pingpong": "ping-pong, 1 connection",
    "pingpong100": "ping-pong, 100 connections",
    "bulk": "bulk 64 KiB writes + drain",
    "bulk256k": "bulk, 256 KiB receives",
    "idle": "1,000 idle connections",
}
# The TCP cases with a rate and CPU figures (idle measures memory only).
TCP_MEASURED_CASES = ("pingpong", "pingpong100", "bulk", "bulk256k")
IMPL_TITLES = {
    "streams": "//streams",
    "asio": "raw Asio",
    "cpython": "CPython asyncio",
}


def fmt(value, digits=3) -> str:
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def ratio_text(value) -> str:
    return "n/a" if value is None else f"{value:.3g}x"


class Results:
    """The results indexed by what the report asks for."""

    def __init__(self, data: dict) -> None:
        self.meta = data["meta"]
        self.errors = data.get("errors", [])
        # name -> rep -> ns per op.
        self.reader = collections.defaultdict(dict)
        # (case, pinned, impl) -> rep -> metrics.
        self.tcp = collections.defaultdict(dict)
        for row in data["results"]:
            if row["kind"] == "reader":
                self.reader[row["name"]][row["rep"]] = row["ns_per_op"]
            elif row["kind"] == "tcp":
                key = (row["case"], row["pinned"], row["impl"])
                self.tcp[key][row["rep"]] = tcp_metrics(row)
        self.reps = sorted(
            {rep for reps in self.reader.values() for rep in reps}
            | {rep for reps in self.tcp.values() for rep in reps}
        )

    def case_reps(self) -> str:
        """The repetitions of the reader cases, and of bulk if it had more."""
        reader = {rep for reps in self.reader.values() for rep in reps}
        bulk = {
            rep
            for (case, _, _), reps in self.tcp.items()
            if case.startswith("bulk")
            for rep in reps
        }
        if len(bulk) > len(reader):
            return f"{len(reader)}, bulk {len(bulk)}"
        return str(len(self.reps))

    def big_sizes(self) -> list:
        sizes = set()
        for name in self.reader:
            if name.startswith("bigbuffer/"):
                sizes.add(int(name.rsplit("/", 1)[1][: -len("KiB")]))
        return sorted(sizes)

    def tcp_metric(self, case, pinned, impl, metric) -> dict:
        return {
            rep: m[metric]
            for rep, m in self.tcp[(case, pinned, impl)].items()
            if m.get(metric) is not None
        }


def tcp_metrics(row: dict) -> dict:
    """Rates and CPU per operation of one TCP run, as each process reported
    them (per round trip; bulk: per MB)."""
    client, server = row["client"], row["server"]
    # VmHWM: ru_maxrss carries the launcher's peak over exec (tcp_common.h).
    metrics = {"server_peak_rss_kib": server.get("peak_rss_kib")}
    if row["case"] == "idle":
        accepted = max(server.get("accepted", 0), 1)
        metrics["rss_before_kib"] = server["rss_before_kib"]
        metrics["rss_after_kib"] = server["rss_after_kib"]
        metrics["rss_per_connection_kib"] = (
            server["rss_after_kib"] - server["rss_before_kib"]
        ) / accepted
        return metrics
    unit = "mb" if row["case"].startswith("bulk") else "rt"
    metrics["rate"] = client.get(f"{unit}_per_s")
    metrics["client_cpu_us"] = client.get(f"cpu_us_per_{unit}")
    metrics["server_cpu_us"] = server.get(f"cpu_us_per_{unit}")
    if metrics["client_cpu_us"] and metrics["server_cpu_us"]:
        metrics["total_cpu_us"] = (
            metrics["client_cpu_us"] + metrics["server_cpu_us"]
        )
    return metrics


def median_of(values: dict):
    return statistics.median(values.values()) if values else None


def ratios(numerator: dict, denominator: dict) -> list:
    """numerator[rep] / denominator[rep] for every repetition in both."""
    return [
        numerator[rep] / denominator[rep]
        for rep in sorted(set(numerator) & set(denominator))
        if denominator[rep]
    ]


def median_ratio(numerator: dict, denominator: dict):
    values = ratios(numerator, denominator)
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------
# Targets.
# ---------------------------------------------------------------------------


class Target:
    def __init__(
        self, title, values, at_least=None, at_most=None, unit="x"
    ) -> None:
        self.title = title
        self.values = values
        self.at_least = at_least
        self.at_most = at_most
        self.unit = unit
        self.median = statistics.median(values) if values else None

    def passed(self) -> bool:
        if self.median is None:
            return False
        if self.at_least is not None and self.median < self.at_least:
            return False
        if self.at_most is not None and self.median > self.at_most:
            return False
        return True

    def required(self) -> str:
        if self.at_least is not None:
            return f">= {self.at_least:g}{self.unit}"
        return f"<= {self.at_most:g}{self.unit}"

    def measured(self) -> str:
        if self.median is None:
            return "no data"
        spread = ""
        if len(self.values) > 1:
            spread = (
                f" ({fmt(min(self.values))}{self.unit}–"
                f"{fmt(max(self.values))}{self.unit})"
            )
        return f"{fmt(self.median)}{self.unit}{spread}"


def targets(results: Results) -> list:
    reader = results.reader

    def vs(other: str, ours: str) -> list:  # other's ns / ours: > 1 is faster
        return ratios(reader.get(other, {}), reader.get(ours, {}))

    out = [
        Target(
            "ReadLine, 100-byte lines, co_await default token: speed vs "
            "CPython",
            vs("lines100/cpython", "lines100/streams/deferred"),
            at_least=10,
        ),
        Target(
            "ReadLine, 100-byte lines, co_await default token: speed vs "
            "memchr + fresh std::string",
            vs(
                "lines100/anchor/memchr_fresh_string",
                "lines100/streams/deferred",
            ),
            at_least=0.5,
        ),
        Target(
            "ReadLineView (zero-copy), 100-byte lines: speed vs CPython",
            vs("lines100/cpython", "lines100/streams/view"),
            at_least=30,
        ),
        Target(
            "ReadLineView (zero-copy), 100-byte lines: speed vs memchr + "
            "reused std::string",
            vs(
                "lines100/anchor/memchr_reused_string",
                "lines100/streams/view",
            ),
            at_least=0.5,
        ),
        Target(
            "ReadLine, 10-byte lines, co_await default token: speed vs "
            "CPython",
            vs("lines10/cpython", "lines10/streams/deferred"),
            at_least=10,
        ),
        Target(
            "ReadExactly(100), co_await default token: speed vs CPython",
            vs("exactly100/cpython", "exactly100/streams/deferred"),
            at_least=10,
        ),
        Target(
            "Read(65536): speed vs memcpy in 64 KiB pieces",
            vs("read65536/anchor/memcpy_64KiB", "read65536/streams/deferred"),
            at_least=0.8,
        ),
        Target(
            "ReadUntil, 1 KiB records: speed vs the synchronous offset "
            "reader",
            vs(
                "readuntil1k/anchor/offset_reader",
                "readuntil1k/streams/deferred",
            ),
            at_least=0.9,
        ),
    ]
    sizes = results.big_sizes()
    if sizes:
        small, large = sizes[0], sizes[-1]
        out.append(
            Target(
                f"Big buffer: ns/line at {fmt(large / KIB)} MiB ÷ at "
                f"{fmt(small / KIB)} MiB",
                ratios(
                    reader.get(f"bigbuffer/streams/{large}KiB", {}),
                    reader.get(f"bigbuffer/streams/{small}KiB", {}),
                ),
                at_most=1.2,
            )
        )
    else:
        out.append(
            Target("Big buffer: ns/line, largest ÷ smallest", [], at_most=1.2)
        )

    def tcp(case, pinned, metric):
        return (
            results.tcp_metric(case, pinned, "streams", metric),
            results.tcp_metric(case, pinned, "asio", metric),
        )

    for case, pinned, name, unit in (
        ("pingpong", True, "TCP ping-pong, both on 1 CPU", "round trip"),
        ("pingpong100", False, "TCP 100-connection ping-pong", "round trip"),
        ("bulk", False, "TCP bulk", "MB"),
    ):
        rate_word = "rt/s" if unit == "round trip" else "MB/s"
        ours, asio = tcp(case, pinned, "rate")
        out.append(
            Target(
                f"{name}: {rate_word} vs raw Asio",
                ratios(ours, asio),
                at_least=0.9,
            )
        )
        for side in ("client", "server"):
            ours, asio = tcp(case, pinned, f"{side}_cpu_us")
            out.append(
                Target(
                    f"{name}: {side} CPU per {unit} vs raw Asio",
                    ratios(ours, asio),
                    at_most=1.1,
                )
            )
    ours, asio = tcp("pingpong100", False, "server_peak_rss_kib")
    out.append(
        Target(
            "100-connection ping-pong: server peak RSS vs raw Asio",
            ratios(ours, asio),
            at_most=1.2,
        )
    )
    per_connection = results.tcp_metric(
        "idle", False, "streams", "rss_per_connection_kib"
    )
    out.append(
        Target(
            "Idle connections: RSS added per connection",
            list(per_connection.values()),
            at_most=8,
            unit=" KiB",
        )
    )
    return out


# ---------------------------------------------------------------------------
# Tables.
# ---------------------------------------------------------------------------


def table(header: list, rows: list) -> list:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += [
        "| " + " | ".join(str(cell) for cell in row) + " |" for row in rows
    ]
    return lines + [""]


def spread(values: dict) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt(next(iter(values.values())))
    return f"{fmt(min(values.values()))}–{fmt(max(values.values()))}"


def reader_tables(results: Results) -> list:
    reader = results.reader
    lines = [
        "### Absolute figures: CPU time per operation",
        "",
        "Median over repetitions (min–max). One operation is one line, "
        "one 100-byte read, one 64 KiB read or one 1 KiB record.",
        "",
    ]
    rows = []
    for family, title in FAMILY_TITLES.items():
        if family == "bigbuffer":
            continue
        names = [f"{family}/streams/{way}" for way in WAYS]
        names += [f"{family}/cpython"]
        names += [f"{family}/anchor/{a}" for a in FAMILY_ANCHORS[family]]
        for name in names:
            if name not in reader:
                continue
            impl = name.split("/")[1]
            what = (
                IMPL_TITLES["streams"] + ", " + WAY_TITLES[name.split("/")[2]]
                if impl == "streams"
                else IMPL_TITLES["cpython"] + " 3.11.7"
                if impl == "cpython"
                else "anchor: " + ANCHOR_TITLES[name.split("/")[2]]
            )
            rows.append(
                [
                    title,
                    what,
                    fmt(median_of(reader[name])),
                    spread(reader[name]),
                ]
            )
    lines += table(["Case", "Implementation", "CPU ns/op", "range"], rows)

    lines += [
        "### Ratios",
        "",
        "Speed of //streams relative to each other implementation: "
        "the other's CPU time per operation ÷ ours, per repetition, "
        "median. Above 1: //streams is faster.",
        "",
    ]
    rows = []
    for family, anchors in FAMILY_ANCHORS.items():
        for way in WAYS:
            ours = reader.get(f"{family}/streams/{way}")
            if not ours:
                continue
            cells = [
                FAMILY_TITLES[family],
                WAY_TITLES[way],
                ratio_text(
                    median_ratio(reader.get(f"{family}/cpython", {}), ours)
                ),
            ]
            anchor_cells = []
            for anchor in anchors:
                value = median_ratio(
                    reader.get(f"{family}/anchor/{anchor}", {}), ours
                )
                anchor_cells.append(
                    f"{ANCHOR_TITLES[anchor]}: " f"{ratio_text(value)}"
                )
            rows.append(cells + ["; ".join(anchor_cells)])
    lines += table(["Case", "Way", "vs CPython", "vs anchors"], rows)

    sizes = results.big_sizes()
    if sizes:
        lines += [
            "### Big buffer: ReadLine to EOF after one FeedData",
            "",
            "CPU ns per 100-byte line; the cost per line must not grow "
            "with what is buffered behind it.",
            "",
        ]
        rows = []
        base = reader.get(f"bigbuffer/streams/{sizes[0]}KiB", {})
        for size in sizes:
            ours = reader.get(f"bigbuffer/streams/{size}KiB", {})
            theirs = reader.get(f"bigbuffer/cpython/{size}KiB", {})
            rows.append(
                [
                    f"{fmt(size / KIB)} MiB",
                    fmt(median_of(ours)),
                    ratio_text(median_ratio(ours, base)),
                    fmt(median_of(theirs)),
                    ratio_text(median_ratio(theirs, ours)),
                ]
            )
        lines += table(
            [
                "Buffer",
                "//streams ns/line",
                f"÷ at {fmt(sizes[0] / KIB)} MiB",
                "CPython ns/line",
                "vs CPython",
            ],
            rows,
        )
    return lines


def tcp_tables(results: Results) -> list:
    lines = [
        "### Absolute figures",
        "",
        "Median over repetitions. Rates are the client's (round trips/s; "
        "bulk: MB/s, 10^6 bytes); CPU is user + system time of each "
        "process (getrusage) per round trip, or per MB for bulk. "
        '"1 CPU": both processes pinned with `taskset -c 0`.',
        "",
    ]
    rows = []
    for case in TCP_MEASURED_CASES:
        for pinned in (False, True):
            for impl in ("streams", "asio", "cpython"):
                if not results.tcp.get((case, pinned, impl)):
                    continue

                def med(metric, case=case, pinned=pinned, impl=impl):
                    return median_of(
                        results.tcp_metric(case, pinned, impl, metric)
                    )

                unit = "MB/s" if case.startswith("bulk") else "rt/s"
                rows.append(
                    [
                        TCP_CASE_TITLES[case],
                        "1" if pinned else "2",
                        IMPL_TITLES[impl],
                        f"{fmt(med('rate'))} {unit}",
                        fmt(med("client_cpu_us")),
                        fmt(med("server_cpu_us")),
                        fmt(med("server_peak_rss_kib")),
                    ]
                )
    lines += table(
        [
            "Case",
            "CPUs",
            "Implementation",
            "Rate",
            "client CPU µs/op",
            "server CPU µs/op",
            "server peak RSS KiB",
        ],
        rows,
    )

    lines += [
        "### Ratios vs raw Asio and CPython",
        "",
        "Per repetition, median. Rate: ours ÷ theirs (above 1: faster). "
        "CPU and RSS: ours ÷ theirs (below 1: cheaper).",
        "",
    ]
    rows = []
    for case in TCP_MEASURED_CASES:
        for pinned in (False, True):
            if not results.tcp.get((case, pinned, "streams")):
                continue
            cells = [TCP_CASE_TITLES[case], "1" if pinned else "2"]
            for other in ("asio", "cpython"):
                for metric in (
                    "rate",
                    "client_cpu_us",
                    "server_cpu_us",
                    "server_peak_rss_kib",
                ):
                    cells.append(
                        ratio_text(
                            median_ratio(
                                results.tcp_metric(
                                    case, pinned, "streams", metric
                                ),
                                results.tcp_metric(
                                    case, pinned, other, metric
                                ),
                            )
                        )
                    )
            rows.append(cells)
    lines += table(
        [
            "Case",
            "CPUs",
            "rate vs Asio",
            "client CPU vs Asio",
            "server CPU vs Asio",
            "RSS vs Asio",
            "rate vs CPython",
            "client CPU vs CPython",
            "server CPU vs CPython",
            "RSS vs CPython",
        ],
        rows,
    )

    rows = []
    for impl in ("streams", "asio", "cpython"):
        runs = results.tcp.get(("idle", False, impl))
        if not runs:
            continue

        def med(metric, impl=impl):
            return median_of(results.tcp_metric("idle", False, impl, metric))

        rows.append(
            [
                IMPL_TITLES[impl],
                fmt(med("rss_before_kib")),
                fmt(med("rss_after_kib")),
                fmt(med("rss_per_connection_kib")),
            ]
        )
    if rows:
        connections = results.meta["settings"].get("idle_connections", 1000)
        lines += [
            f"### {connections:,} idle connections: server RSS " "(VmRSS)",
            "",
        ]
        lines += table(
            [
                "Implementation",
                "before KiB",
                "after KiB",
                "KiB per connection",
            ],
            rows,
        )
    return lines


# ---------------------------------------------------------------------------
# Plots.
# ---------------------------------------------------------------------------


def gnuplot_terminal() -> str:
    terminals = subprocess.run(
        ["gnuplot", "-e", "set terminal"],
        capture_output=True,
        text=True,
        check=False,
    )
    text = terminals.stdout + terminals.stderr
    return "pngcairo" if "pngcairo" in text else "png"


def datablock(name: str, rows: list) -> str:
    body = "\n".join(" ".join(str(cell) for cell in row) for row in rows)
    return f"${name} << EOD\n{body}\nEOD\n"


def number(value) -> str:
    return "-" if value is None else f"{value:.6g}"


def plot_scripts(results: Results, out_dir: str, terminal: str) -> dict:
    """PNG file name -> gnuplot script."""
    common = (
        f"set terminal {terminal} size 960,540 noenhanced\n"
        "set datafile missing '-'\n"
        "set grid ytics\nset key top left\n"
    )
    bars = (
        "set style data histograms\n"
        "set style histogram clustered gap 1\n"
        "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
        "set key outside bottom center horizontal\n"
        "set xtics scale 0\n"
    )
    scripts = {}
    reader = results.reader

    sizes = results.big_sizes()
    if sizes:
        rows = [
            [
                number(size / KIB),
                number(
                    median_of(reader.get(f"bigbuffer/streams/{size}KiB", {}))
                ),
                number(
                    median_of(reader.get(f"bigbuffer/cpython/{size}KiB", {}))
                ),
            ]
            for size in sizes
        ]
        scripts["report_bigbuffer.png"] = (
            common
            + datablock("d", rows)
            + "set title 'ReadLine to EOF over one big buffer: CPU per line'\n"
            "set xlabel 'bytes buffered at once (MiB)'\n"
            "set ylabel 'CPU ns per 100-byte line'\n"
            "set logscale x 2\nset yrange [0:*]\n"
            "plot $d using 1:2 with linespoints lw 2 title '//streams', "
            "$d using 1:3 with linespoints lw 2 title 'CPython 3.11.7'\n"
        )

    best_anchor = {
        "lines100": "memchr_fresh_string",
        "lines10": "memchr_fresh_string",
        "exactly100": "offset_reader",
        "read65536": "memcpy_64KiB",
        "readuntil1k": "offset_reader",
    }
    labels = {
        "lines100": "ReadLine 100 B",
        "lines10": "ReadLine 10 B",
        "exactly100": "ReadExactly(100)",
        "read65536": "Read(65536)",
        "readuntil1k": "ReadUntil 1 KiB",
    }
    rows = []
    for family, anchor in best_anchor.items():
        rows.append(
            [f'"{labels[family]}"']
            + [
                number(median_of(reader.get(name, {})))
                for name in (
                    f"{family}/streams/deferred",
                    f"{family}/cpython",
                    f"{family}/anchor/{anchor}",
                )
            ]
        )
    scripts["report_reader_cpu.png"] = (
        common
        + bars
        + datablock("d", rows)
        + "set title 'In-memory reads: CPU time per operation (log scale)'\n"
        "set ylabel 'CPU ns per operation'\nset logscale y\n"
        "plot $d using 2:xtic(1) title '//streams (co_await, default token)',"
        " $d using 3 title 'CPython 3.11.7', "
        "$d using 4 title 'anchor (memchr + fresh string; offset reader; "
        "memcpy)'\n"
    )

    rows = []
    for case in TCP_MEASURED_CASES:
        for pinned in (False, True):
            label = (
                '"'
                + {
                    "pingpong": "1 conn",
                    "pingpong100": "100 conns",
                    "bulk": "bulk, per MB",
                    "bulk256k": "bulk 256K, per MB",
                }[case]
                + (", 1 CPU" if pinned else "")
                + '"'
            )
            rows.append(
                [label]
                + [
                    number(
                        median_of(
                            results.tcp_metric(
                                case, pinned, impl, "total_cpu_us"
                            )
                        )
                    )
                    for impl in ("streams", "asio", "cpython")
                ]
            )
    scripts["report_tcp_cpu.png"] = (
        common
        + bars
        + datablock("d", rows)
        + "set title 'Loopback TCP: CPU per round trip (bulk: per MB), "
        "client + server (log scale)'\n"
        "set ylabel 'CPU µs per operation'\nset logscale y\n"
        "set xtics rotate by -15\nset bmargin 6\n"
        "plot $d using 2:xtic(1) title '//streams', "
        "$d using 3 title 'raw Asio', $d using 4 title 'CPython asyncio'\n"
    )
    return {
        os.path.join(out_dir, name): script for name, script in scripts.items()
    }


def draw(results: Results, out_dir: str) -> tuple:
    """Draws the plots; (file names drawn, a note when none could be)."""
    if shutil.which("gnuplot") is None:
        return [], (
            "gnuplot is not installed (tools/setup.sh --bench "
            "installs gnuplot-nox): no plots."
        )
    terminal = gnuplot_terminal()
    drawn = []
    for path, script in plot_scripts(results, out_dir, terminal).items():
        script = f"set output '{path}'\n" + script
        done = subprocess.run(
            ["gnuplot"],
            input=script,
            text=True,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            print(
                f"report: gnuplot failed for {path}: {done.stderr}",
                file=sys.stderr,
            )
            continue
        drawn.append(os.path.basename(path))
    return drawn, ""


# ---------------------------------------------------------------------------
# The report.
# ---------------------------------------------------------------------------


def render(results: Results, command: str, plots: list, plot_note: str) -> str:
    meta = results.meta
    found = targets(results)
    passed = sum(target.passed() for target in found)
    lines = [
        "# Benchmarks: //streams vs CPython 3.11.7 asyncio and raw Boost.Asio",
        "",
        f"Generated by `{command}` ({meta['mode']} mode) on "
        f"{meta['started']}, commit `{meta.get('git') or 'unknown'}`. "
        "Regenerate with the same command; `benchmarks/report.py` computes "
        "every figure from the raw results.",
        "",
        "| | |",
        "|---|---|",
        f"| Compilation mode | {meta['compilation_mode']} |",
        f"| Compiler | {meta['compiler']} |",
        f"| Reference | {meta['python']} (`python3`) |",
        f"| nproc | {meta['nproc']} ({meta['cpu']}) |",
        f"| Load average before | {' '.join(map(str, meta['load_before']))} |",
        f"| Load average after | {' '.join(map(str, meta['load_after']))} |",
        f"| Repetitions | {results.case_reps()} (interleaved: each case runs "
        "//streams, raw Asio and CPython back to back, order rotating) |",
        f"| Run time | {meta['seconds']:.0f} s |",
        "",
        "Ratios are per repetition (both sides measured back to back in the "
        "same repetition), then the median; ranges are min–max over "
        "repetitions. CPU time is what each process (or benchmark thread) "
        "used, so other load on the machine moves wall-clock rates more "
        "than CPU figures.",
        "",
        f"## Targets: {passed} of {len(found)} pass",
        "",
    ]
    rows = [
        [
            target.title,
            target.measured(),
            target.required(),
            "**PASS**" if target.passed() else "**FAIL**",
        ]
        for target in found
    ]
    lines += table(
        ["Target", "Measured (median, range)", "Required", "Result"], rows
    )
    lines += ["```text"]
    lines += [
        f"{'PASS' if target.passed() else 'FAIL'}: {target.title}: "
        f"{target.measured()}, required {target.required()}"
        for target in found
    ]
    lines += ["```", ""]
    if results.errors:
        lines += [
            "## Errors",
            "",
            "These runs failed and are missing above:",
            "",
        ]
        lines += [f"- `{error[:300]}`" for error in results.errors] + [""]

    settings = meta["settings"]
    lines += [
        "## In-memory reads",
        "",
        f"A fresh StreamReader per run; {fmt(settings['stream_kib'] / KIB)} "
        f"MiB of data ({fmt(settings['bulk_kib'] / KIB)} MiB for Read(65536)) "
        "fed in 64 KiB chunks by a producer coroutine that yields "
        "(`co_await asio::post(ex, asio::use_awaitable)`; CPython: `await "
        "asyncio.sleep(0)`) until the consumer has read every whole record "
        "fed so far. The consumer reads with "
        "`co_await reader.AsyncReadLine()` (default token), with "
        "`asio::use_awaitable`, or with callbacks that start the next read. "
        "Anchors run over the same data in the same binary "
        "(`benchmarks/reader_benchmark.cc`); CPython runs "
        "`benchmarks/reader_benchmark.py`.",
        "",
    ]
    lines += reader_tables(results)
    lines += [
        "## Loopback TCP",
        "",
        "Client and server in separate processes on 127.0.0.1, TCP_NODELAY, "
        "one io_context thread (one asyncio loop) each: "
        "`benchmarks/tcp_streams.cc`, `benchmarks/tcp_asio.cc` "
        "(`async_read_until` over a 64 KiB-bounded `dynamic_buffer`, "
        "`async_write`), `benchmarks/tcp_asyncio.py`. Ping-pong: write a "
        "100-byte line, drain, read the echo, for "
        f"{settings['duration']:g} s; "
        f"bulk: {fmt(settings['bytes'] / 2**20)} MiB in 64 KiB writes each "
        "followed by a drain, the server receiving up to 64 KiB per read "
        "(raw Asio's buffer; //streams' `TransportOptions::read_chunk_size` "
        "and asyncio's transport `max_size` set to it); the bulk 256 KiB "
        "rows receive up to 256 KiB per read in all three (asyncio's and "
        "//streams' default; not a target).",
        "",
    ]
    lines += tcp_tables(results)
    lines += ["## Plots", ""]
    if plots:
        lines += [f"![{name}]({name})" for name in plots] + [""]
    else:
        lines += [plot_note or "No plots.", ""]
    context = meta.get("benchmark_context", {})
    if context.get("library_build_type") == "debug":
        lines += [
            "Note: Debian's libbenchmark reports itself as a debug "
            "build; that concerns its own timing loop, not the code "
            "measured (built with the compilation mode above).",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True, help="REPORT.md to write")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--command", default="benchmarks/run.sh")
    args = parser.parse_args()
    with open(args.results, encoding="utf-8") as results_file:
        results = Results(json.load(results_file))
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if args.no_plots:
        plots, note = [], "Plots skipped (--no-plots)."
    else:
        plots, note = draw(results, out_dir)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(render(results, args.command, plots, note))
    found = targets(results)
    for target in found:
        print(
            f"{'PASS' if target.passed() else 'FAIL'}: {target.title}: "
            f"{target.measured()}, required {target.required()}"
        )
    print(
        f"report: {sum(t.passed() for t in found)} of {len(found)} targets "
        f"pass -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
