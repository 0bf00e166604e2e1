#!/usr/bin/env python3
"""Differential fuzzing: reader_fuzz programs through both testees.

Turns reader_fuzz inputs (files, directories of them, e.g. the seed corpus or
a corpus libFuzzer grew, or pseudo-random programs from seeds) into
conformance scenarios (fuzz/reader_program.py), writes them as a scenario
file, and runs it through the harness's differential mode
(`conformance/harness.py --differential FILE`): CPython 3.11.7's asyncio and
//streams must produce the same trace, step by step. A difference is shrunk
and printed as a scenario ready for testdata/.

  bazel build //conformance:cpp_testee
  python3 fuzz/differential.py fuzz/corpus/reader_fuzz
  python3 fuzz/differential.py --seeds 1-200
  python3 fuzz/differential.py --keep /tmp/fuzz.textproto ~/.cache/.../corpus

It runs outside `bazel test` (it needs conformance/scenario_pb2.py:
`protoc --python_out=. conformance/scenario.proto`). Exit status: the
harness's (0 when every scenario agrees).
"""

import argparse
import pathlib
import random
import subprocess
import sys
import tempfile
from typing import List, Tuple

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from conformance import bootstrap  # noqa: E402,F401  (Debian's protobuf)

import reader_program  # noqa: E402


def inputs(paths: List[str]) -> List[Tuple[str, bytes]]:
    """(name, bytes) of every file named or found under `paths`."""
    found = []
    for name in paths:
        path = pathlib.Path(name)
        files = (
            sorted(p for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else [path]
        )
        found.extend((file.name, file.read_bytes()) for file in files)
    return found


def random_inputs(spec: str) -> List[Tuple[str, bytes]]:
    """Pseudo-random reader_fuzz inputs, one per seed of "A-B" or "A,B,C"."""
    seeds: List[int] = []
    for part in spec.split(","):
        if "-" in part:
            first, last = part.split("-")
            seeds.extend(range(int(first), int(last) + 1))
        else:
            seeds.append(int(part))
    found = []
    for seed in seeds:
        rng = random.Random(seed)
        size = rng.randint(8, 200)
        found.append(
            (f"seed{seed}", bytes(rng.randrange(256) for _ in range(size)))
        )
    return found


def scenario_file(programs: List[Tuple[str, bytes]]) -> str:
    from google.protobuf import text_format
    from conformance import scenario_pb2 as pb

    scenarios = pb.ScenarioFile()
    for name, data in programs:
        label = "".join(c if c.isalnum() else "_" for c in name)
        scenario = reader_program.to_scenario(
            reader_program.decode(data), f"Fuzz.Reader.{label}"
        )
        scenarios.scenario.add().CopyFrom(scenario)
    return (
        "# proto-file: conformance/scenario.proto\n"
        "# proto-message: streams.conformance.ScenarioFile\n"
        "# Written by fuzz/differential.py from reader_fuzz inputs.\n"
        + text_format.MessageToString(scenarios)
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", metavar="FILE_OR_DIR", help="reader_fuzz inputs"
    )
    parser.add_argument(
        "--seeds",
        metavar="A-B",
        help="also pseudo-random programs from these seeds",
    )
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="write the scenario file here (else a temp)",
    )
    parser.add_argument(
        "--cpp",
        metavar="CMD",
        default=str(ROOT / "bazel-bin/conformance/cpp_testee"),
        help="C++ testee (default: %(default)s)",
    )
    parser.add_argument(
        "--reference",
        metavar="CMD",
        default=f"{sys.executable} "
        f"{ROOT / 'conformance/reference_testee.py'}",
        help="reference testee (default: this python3)",
    )
    args = parser.parse_args()
    programs = inputs(args.paths)
    if args.seeds:
        programs.extend(random_inputs(args.seeds))
    # Extended inputs choose ReaderOptions, which neither the schema nor
    # the reference (3.11.7) has.
    skipped = [
        name for name, data in programs if reader_program.is_extended(data)
    ]
    if skipped:
        print(f"differential.py: skipping {len(skipped)} extended inputs")
    programs = [
        (name, data)
        for name, data in programs
        if not reader_program.is_extended(data)
    ]
    if not programs:
        parser.error("give reader_fuzz inputs or --seeds")
    text = scenario_file(programs)
    with tempfile.TemporaryDirectory() as directory:
        path = (
            pathlib.Path(args.keep)
            if args.keep
            else pathlib.Path(directory) / "fuzz.textproto"
        )
        path.write_text(text, encoding="utf-8")
        print(
            f"differential.py: {len(programs)} programs as scenarios in "
            f"{path}",
            flush=True,
        )
        return subprocess.call(
            [
                sys.executable,
                str(ROOT / "conformance/harness.py"),
                "--differential",
                "--reference",
                args.reference,
                "--cpp",
                args.cpp,
                str(path),
            ]
        )


if __name__ == "__main__":
    sys.exit(main())
