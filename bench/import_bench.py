"""Import benchmark: 100,000 todo.txt lines into a fresh SQLite store, then the same file
again (every line matched, nothing added), then an export of the lot.

    .venv/bin/python bench/import_bench.py [--lines N] [--keep DIR]

Prints one line per phase with seconds and lines per second, and the peak Python memory of
the first import (tracemalloc costs time, so it is measured in a separate, smaller run).
The acceptance bar is the first import of 100,000 lines in under 10 s on the project's
machine (2 cores); this is a benchmark, not a timed test. The generated file mixes what
real lists hold: priorities, creation and completion dates, +projects, @contexts, due:
and rec: extensions.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mcp_server_todo.service import ImportReport, Transfer
from mcp_server_todo.store import open_store, sqlite_url

T = TypeVar("T")
WORDS = ["call", "email", "buy", "fix", "write", "review", "plan", "book", "pay", "clean", "read", "send"]
THINGS = ["mom", "report", "groceries", "bike", "invoice", "garden", "taxes", "slides", "car", "plants", "budget"]
PROJECTS = ["+Home", "+Work", "+GarageSale", "+Taxes", ""]
CONTEXTS = ["@phone", "@computer", "@errands", "@home", ""]


def line(rng: random.Random, n: int) -> str:
    parts: list[str] = []
    day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if rng.random() < 0.2:
        parts += ["x", day]
    elif rng.random() < 0.4:
        parts.append(f"({rng.choice('ABCD')})")
    parts.append(day)
    parts.append(f"{rng.choice(WORDS)} {rng.choice(THINGS)} {n}")
    parts += [p for p in (rng.choice(PROJECTS), rng.choice(CONTEXTS)) if p]
    if rng.random() < 0.3:
        parts.append(f"due:2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
    if rng.random() < 0.05:
        parts.append(f"rec:{rng.choice(['1w', '+1m', '2d', '1y'])}")
    return " ".join(parts)


def make_file(count: int) -> str:
    rng = random.Random(42)
    return "\n".join(line(rng, n) for n in range(count)) + "\n"


def timed(label: str, count: int, fn: Callable[[], T]) -> T:
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s  {count / seconds:10,.0f} lines/s", flush=True)
    return value


def import_file(folder: Path, source: Path, name: str) -> tuple[Transfer, Callable[[], ImportReport]]:
    store = open_store(sqlite_url(folder / name))
    transfer = Transfer(store)

    def run() -> ImportReport:
        with source.open(encoding="utf-8") as file:
            return transfer.import_lines(file, "todotxt")

    return transfer, run


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--keep", metavar="DIR", help="keep the databases and the file here")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="import-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "todo.txt"
    source.write_text(make_file(args.lines), encoding="utf-8")
    size = source.stat().st_size
    print(f"{args.lines:,} todo.txt lines, {size / 1e6:.1f} MB; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    transfer, run = import_file(folder, source, "bench.db")
    try:
        report = timed("import (fresh store)", args.lines, run)
        print(f"  {report.summary()}")
        again = timed("import again (all matched)", args.lines, run)
        print(f"  {again.summary()}")
        out = io.StringIO()
        timed("export todo.txt", args.lines, lambda: transfer.export("todotxt", out))
    finally:
        transfer.store.close()
    small = folder / "small.txt"
    small.write_text(make_file(args.lines // 5), encoding="utf-8")
    measured, run_small = import_file(folder, small, "memory.db")
    tracemalloc.start()
    try:
        run_small()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        measured.store.close()
    print(f"peak Python memory importing {args.lines // 5:,} lines: {peak / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
