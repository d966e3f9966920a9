"""CLI benchmark (issue 14, "Targets"): how fast the command line answers a person, and that the
stdio server's cold start did not pay for it.

    .venv/bin/python bench/cli_bench.py [--quick] [--baseline PYTHON] [--out FILE]

Measured, start to exit of a fresh process, as a shell runs the console script
(`<venv>/bin/mcp-server-todo`), stdout piped:

- `list` on a store of 50 pending tasks. Target: median <= 250 ms.
- `--help`. Target: median <= 150 ms.
- The stdio server's cold start (no command): spawn, initialize, notifications/initialized,
  tools/list answered (bench/run.py's definition). Target: no worse than the baseline.

The baseline runs in the same run, interleaved round by round (the order rotates; one
discarded round first warms the page cache): `--baseline PYTHON` names the interpreter of
another checkout's venv whose package is the baseline, by default /work/main/.venv/bin/python
when it exists (i13, the argparse CLI). Each side seeds its own store with its own code. The
JSON (stdout, and `--out`) has the medians; the ratios ours/baseline and the targets are
printed to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_BASELINE = Path("/work/main/.venv/bin/python")
PROTOCOL = "2025-11-25"
TARGETS_MS = {"list": 250.0, "help": 150.0}
SEED = """
import sys
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import open_store, sqlite_url
store = open_store(sqlite_url(sys.argv[1]))
service = TodoService(store)
for n in range(50):
    service.add(f"Task number {n} with a realistic title", priority=("none", "low", "high")[n % 3],
                due=f"2026-12-{n % 28 + 1:02d}" if n % 2 else None, project=("inbox", "work", "home")[n % 3],
                tags=["bench"] if n % 5 == 0 else [])
store.close()
"""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Side:
    """One version under test: its interpreter, its console script, its store."""

    def __init__(self, name: str, python: Path, folder: Path, env: dict[str, str]) -> None:
        self.name = name
        self.python = python
        self.script = python.parent / "mcp-server-todo"
        self.db = folder / f"{name}.db"
        self.env = env
        subprocess.run([str(python), "-c", SEED, str(self.db)], check=True, env=env)
        self.source = subprocess.run(
            [str(python), "-c", "import mcp_server_todo, os; print(os.path.dirname(mcp_server_todo.__file__))"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout.strip()

    def run(self, *argv: str) -> float:
        """Seconds from spawn to exit of `mcp-server-todo argv...` (stdout piped, exit 0)."""
        started = time.perf_counter()
        done = subprocess.run([str(self.script), *argv], env=self.env, capture_output=True)
        took = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{self.name}: {argv} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        return took

    def cold_start(self) -> float:
        """Seconds from spawn to the tools/list answer of the stdio server."""
        started = time.perf_counter()
        server = subprocess.Popen(
            [str(self.script), "--db", str(self.db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        assert server.stdin is not None and server.stdout is not None
        try:
            client = {"name": "cli-bench", "version": "1"}
            hello = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": client}
            for message in (
                {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
            ):
                server.stdin.write(json.dumps(message).encode() + b"\n")
                server.stdin.flush()
            while True:
                line = server.stdout.readline()
                if not line:
                    raise SystemExit(f"{self.name}: the stdio server closed before answering tools/list")
                if json.loads(line).get("id") == 2:
                    return time.perf_counter() - started
        finally:
            server.stdin.close()
            server.wait(timeout=30)


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE if DEFAULT_BASELINE.exists() else None)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 15
    folder = Path(tempfile.mkdtemp(prefix="cli-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_") and k != "NO_COLOR"}
    env.update(HOME=str(folder), XDG_DATA_HOME=str(folder / "data"), TODO_TZ="UTC")
    sides = [Side("ours", Path(sys.executable), folder, env)]
    if args.baseline is not None:
        sides.append(Side("baseline", args.baseline, folder, env))
    cases = {
        "list": lambda side: side.run("--db", str(side.db), "list"),
        "help": lambda side: side.run("--help"),
        "stdio_cold_start": lambda side: side.cold_start(),
    }
    samples: dict[str, dict[str, list[float]]] = {side.name: {case: [] for case in cases} for side in sides}
    log(f"{rounds} rounds (+1 warm-up), {len(sides)} side(s); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for index in range(rounds + 1):
        order = sides[index % len(sides) :] + sides[: index % len(sides)]
        for case, measure in cases.items():
            for side in order:
                took = measure(side)
                if index:
                    samples[side.name][case].append(took)
    results: dict[str, Any] = {
        "rounds": rounds,
        "sides": {side.name: {"python": str(side.python), "source": side.source} for side in sides},
        "median_ms": {name: {case: median_ms(values) for case, values in by.items()} for name, by in samples.items()},
        "min_ms": {name: {case: round(min(v) * 1000, 1) for case, v in by.items()} for name, by in samples.items()},
    }
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    ours = results["median_ms"]["ours"]
    base = results["median_ms"].get("baseline")
    for case in cases:
        line = f"{case:<18} ours {ours[case]:7.1f} ms"
        if base:
            line += f"   baseline {base[case]:7.1f} ms   ours/baseline {ours[case] / base[case]:.2f}"
        if case in TARGETS_MS:
            line += f"   target <= {TARGETS_MS[case]:.0f} ms: {'met' if ours[case] <= TARGETS_MS[case] else 'MISSED'}"
        elif base:
            line += f"   target: no worse than the baseline: {'met' if ours[case] <= base[case] * 1.05 else 'MISSED'}"
        log(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
