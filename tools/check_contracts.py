"""Checks that every public asynchronous operation states its contract.

Asio states on every operation its completion signature, that the handler
never runs inside the initiating call, the cancellation types it supports
and who may call it concurrently; tokio adds cancel safety. Each public
`Async*` declaration of //streams carries the same five lines in its comment
block (the block headed `// AsyncX()` or `// Class::AsyncX()` above it, which
overloads share), each with a specific clause:

  Completion:    a signature, `void(...)`;
  Errors:        a status code (`kCancelled`, `kUnavailable`, ...);
  Cancellation:  a type (terminal, partial, total) or why none;
  Concurrency:   who may call it, and how many may be pending;
  "never inside this call" (the handler's promise, with its exceptions).

Headers whose banner says "Private to" are skipped.

Usage: check_contracts.py HEADER...   (exit status 1 and one line per gap)
"""

import re
import sys
from typing import List

DECLARATION = re.compile(r"\bauto\s+(Async\w+)\s*\(")
HEADING = r"^\s*//\s*(?:\w+::)?{name}\(\)\s*$"
CLAUSES = {
    "Completion": re.compile(r"Completion:\s*void\("),
    "Errors": re.compile(r"Errors:.*?\bk[A-Z][A-Za-z]+", re.S),
    "Cancellation": re.compile(
        r"Cancellation:.*?\b(terminal|partial|total|all types|none)\b",
        re.S,
    ),
    "Concurrency": re.compile(r"Concurrency:\s*\S"),
    "never inside this call": re.compile(
        r"never\s+inside\s+this\s+call", re.I
    ),
}


def comment_block(lines: List[str], heading: int) -> str:
    """The comment lines from `heading` down to the first other line."""
    block = []
    for line in lines[heading:]:
        stripped = line.strip()
        if not stripped.startswith("//"):
            break
        block.append(stripped[2:].strip())
    return "\n".join(block)


def check_header(path: str) -> List[str]:
    with open(path, encoding="utf-8") as header:
        text = header.read()
    if "Private to" in text[:2000]:
        return []
    lines = text.splitlines()
    problems = []
    seen = set()
    for number, line in enumerate(lines):
        match = DECLARATION.search(line)
        if not match or line.strip().startswith("//"):
            continue
        name = match.group(1)
        if name in seen:
            continue  # an overload: the first declaration's block covers it
        seen.add(name)
        heading = None
        pattern = re.compile(HEADING.format(name=name))
        for back in range(number - 1, -1, -1):
            if pattern.match(lines[back]):
                heading = back
                break
        where = f"{path}:{number + 1}: {name}"
        if heading is None:
            problems.append(f"{where}: no `// {name}()` comment block")
            continue
        block = comment_block(lines, heading)
        for clause, required in CLAUSES.items():
            if not required.search(block):
                problems.append(f"{where}: no specific '{clause}' clause")
    return problems


def main(argv: List[str]) -> int:
    problems = []
    for path in argv[1:]:
        problems.extend(check_header(path))
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_contracts: {len(problems)} gaps", file=sys.stderr)
        return 1
    print(f"check_contracts: {len(argv) - 1} headers, every contract whole")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
