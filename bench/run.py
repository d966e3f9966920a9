"""Benchmark: our TODO server against the tutorial server it replaces, every target of issue 16.

    python bench/run.py [--quick] [--out FILE] [--keep]

Three stdio servers, one raw JSON-RPC client (bench/stdio_client.py: newline-delimited JSON over the
child's stdin and stdout, the 2025-11-25 handshake), so every server pays the same client costs:

- ours:        `<python> -m mcp_server_todo serve --db PATH` (SQLite, synchronous=FULL)
- tutorial_v1: bench/baseline/tutorial_v1.py under mcp==1.30.0 (a venv made on demand)
- tutorial_v2: bench/baseline/tutorial_v2.py, the same code ported to mcp 2.x (our venv)

Measured (bench/measure_*.py): cold start, per-call latency of new_item/list_items/complete_item,
list_items latency at 10, 10,000 and 100,000 stored tasks, the size of the tools/list result, the
text a model reads for a 10- and a 50-task list, the peak RSS of each server, and calls/s at 8
concurrent clients over Streamable HTTP (ours on SQLite against the tutorial on 2.x under uvicorn).
Writes JSON (default bench/results/latest.json) and prints it, then one table of every target's
ratio with pass or miss (bench/report.py). Progress goes to stderr; the servers' own stderr goes
to log files next to the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _reexec_in_project_venv() -> None:
    """`python bench/run.py` with a python that lacks our package: rerun under the project's venv."""
    try:
        import mcp_server_todo  # noqa: F401
    except ImportError:
        venv = ROOT / ".venv"
        venv_python = venv / "bin" / "python"
        # by prefix, not by executable: a venv's python is often a link to the very same binary
        if venv_python.exists() and Path(sys.prefix).resolve() != venv.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        raise SystemExit("mcp_server_todo is not importable; run with the project's venv python") from None


def main(argv: list[str] | None = None) -> int:
    """Run every measure, write and print the JSON, then the table; 1 if a measure failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs (about 1.5 minutes)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json", help="JSON output")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)
    _reexec_in_project_venv()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from measure_http import measure_http
    from measure_scaling import measure_list_scaling
    from measure_stdio import measure_calls, measure_cold_start, measure_text_bytes
    from report import ratios, table, versions
    from servers import Env, ensure_v1_venv, server_env
    from settings import FULL, QUICK, log
    from stdio_client import kill_all

    settings = QUICK if args.quick else FULL
    started = time.perf_counter()
    args.out.resolve().parent.mkdir(parents=True, exist_ok=True)
    scratch = BENCH / "results"
    scratch.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=scratch))  # on the disk the repo is on (fsync is real)
    logs = scratch / "logs"
    if logs.exists():
        shutil.rmtree(logs)
    env = Env(main_python=sys.executable, v1_python=ensure_v1_venv(), work=work, logs=logs, env=server_env())
    measures: tuple[tuple[str, str, Callable[[], Any]], ...] = (
        ("cold_start", "cold start", lambda: measure_cold_start(env, settings)),
        ("text_bytes", "text bytes of 10- and 50-task lists", lambda: measure_text_bytes(env)),
        ("calls", "per-call latency", lambda: measure_calls(env, settings)),
        ("list_scaling", "list_items scaling", lambda: measure_list_scaling(env, settings)),
        ("http", "HTTP calls/s at 8 clients", lambda: measure_http(work, settings)),
    )
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": versions(env),
        "settings": settings.__dict__,
        "failed": {},
    }
    try:
        for key, what, measure in measures:
            log(what)
            try:
                results[key] = measure()
            except Exception as exc:  # the other measures still run and are reported
                log(f"{what} failed: {exc!r}")
                results["failed"][key] = repr(exc)
            finally:
                kill_all()
        results["ratios"] = ratios(results)
        results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        results["elapsed_s"] = round(time.perf_counter() - started, 1)
    finally:
        kill_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print()
    print(table(results))
    print(f"\nwritten to {args.out} in {results['elapsed_s']} s; server logs in {logs}")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
