"""Benchmark over Streamable HTTP: calls/s and p50/p99 latency at concurrency 1, 8 and 32.

    .venv/bin/python bench/http_bench.py [--quick] [--out FILE] [--pg-url URL | --no-pg]

Servers (each alone on the machine while it is measured, all run by the same SDK under uvicorn,
all `stateless` with JSON responses, the mode for running replicas behind a load balancer):

- ours_sqlite:   `mcp-server-todo serve --http --stateless --json-response --db FILE` (SQLite,
                 synchronous=FULL, auth none on loopback)
- ours_sqlite_sync_normal: the same with TODO_SYNC=normal (WAL without an fsync per commit:
                 survives a crash of the process, not of the machine), a diagnostic showing what
                 the fsync of each write costs
- ours_sqlite_sdk_path: ours_sqlite with TODO_HTTP_FAST=0: every request through the SDK's
                 stateless transport instead of our short path for tools/call (transports/http/fast.py), a
                 diagnostic showing what that path saves
- ours_sqlite_2: two replicas of ours_sqlite on the same SQLite file (WAL: several processes
                 share one file on one host), the client's connections spread over both; the
                 tutorial cannot do this (its list lives in one process's memory)
- tutorial:      bench/baseline/tutorial_v2.py (the tutorial's in-memory server ported to mcp 2.x),
                 its `mcp.streamable_http_app(stateless_http=True, json_response=True)` under
                 uvicorn, the file itself unchanged
- ours_pg_1:     ours on PostgreSQL, one replica
- ours_pg_2:     ours on PostgreSQL, two replicas (two processes, same database); the client
                 spreads its connections over them (what an L4 load balancer does)
- ours_pg_1_team, ours_pg_2_team: the same with `--auth tokens` and a team of 8 users (worker i
                 is user i % 8, each with its own bearer token). One owner's writes take turns by
                 design (its owner row is locked per write transaction, the guard against lost
                 updates), so the single-user rows above measure how fast one user's writes can
                 be serialised; a team's writes run in parallel, which is what replicas add.

PostgreSQL: --pg-url, else TODO_BENCH_PG_URL, else a throwaway cluster started with tests/support/pg.py
(initdb/pg_ctl and psycopg needed). When none is available the PG rows are skipped with the
reason in the output.

The client (bench/http_load.py) is deliberately thin (raw HTTP/1.1 keep-alive over asyncio
streams, one connection per worker, no SDK) so that as little CPU as possible goes to the load
generator, which shares the machine; the servers are started by bench/http_servers.py. Each
worker repeats new_item, list_items, complete_item (the task it added): every call is one
tools/call request, timed from write to full response; errors are counted.
Results go to JSON (default bench/results/http.json) and a table with the ratios on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from http_load import CONCURRENCY, bench_server
from http_servers import BENCH, log, pg_usable, postgres, start, team_tokens

RATIOS = (
    ("ours_sqlite", "tutorial"),
    ("ours_sqlite_2", "tutorial"),
    ("ours_pg_2", "ours_pg_1"),
    ("ours_pg_2_team", "ours_pg_1_team"),
)
"""The calls/s ratios reported (when both rows ran)."""


def ratio(a: float, b: float) -> float | None:
    """a / b to two places, or None when either is missing."""
    return round(a / b, 2) if a and b else None


def main() -> int:
    """Run every row, write the JSON, print it and the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1.5 s per measurement instead of 4 s")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "http.json")
    parser.add_argument("--pg-url", help="PostgreSQL URL for the PG rows (default: a throwaway cluster)")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL rows")
    args = parser.parse_args()
    seconds, warmup = (1.5, 0.5) if args.quick else (4.0, 1.0)

    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "servers, PostgreSQL and the load generator share these cores",
        },
        "mode": "stateless, JSON responses, HTTP/1.1 keep-alive, one connection per client worker",
        "seconds_per_measurement": seconds,
        "servers": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="todo-http-bench-"))
    try:
        for name, db, env, replicas in (
            ("tutorial", None, {}, 1),
            ("ours_sqlite", str(tmp / "todo.db"), {"TODO_SYNC": "full"}, 1),
            ("ours_sqlite_sync_normal", str(tmp / "normal.db"), {"TODO_SYNC": "normal"}, 1),
            ("ours_sqlite_sdk_path", str(tmp / "sdk.db"), {"TODO_SYNC": "full", "TODO_HTTP_FAST": "0"}, 1),
            ("ours_sqlite_2", str(tmp / "two.db"), {"TODO_SYNC": "full"}, 2),
        ):
            log(f"{name}:")
            server = start(name, db, replicas, **env)
            try:
                results["servers"][name] = bench_server(server, seconds, warmup)
            finally:
                server.stop()
        with postgres(args.pg_url, args.no_pg) as (url, note):
            results["postgres"] = note
            problem = pg_usable(url) if url else None
            if url and problem:
                results["postgres"] = f"skipped: the PostgreSQL store cannot be opened ({problem})"
                url = None
            if url is None:
                log(f"PostgreSQL rows {results['postgres']}")
            else:
                tokens = team_tokens(url)
                for name, replicas, team in (
                    ("ours_pg_1", 1, False),
                    ("ours_pg_2", 2, False),
                    ("ours_pg_1_team", 1, True),
                    ("ours_pg_2_team", 2, True),
                ):
                    log(f"{name}:")
                    server = start(name, url, replicas, *(("--auth", "tokens") if team else ()))
                    try:
                        results["servers"][name] = bench_server(server, seconds, warmup, tokens if team else None)
                    finally:
                        server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    servers = results["servers"]
    ratios: dict[str, dict[int, float | None]] = {}
    for ours, base in RATIOS:
        if ours in servers and base in servers:
            ratios[f"{ours} / {base}"] = {
                r["concurrency"]: ratio(r["calls_per_s"], t["calls_per_s"])
                for r, t in zip(servers[ours], servers[base], strict=True)
            }
    results["ratios_calls_per_s"] = ratios
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    print(json.dumps(results, indent=2))
    print()
    print(f"{'server':<24}" + "".join(f"{'c=' + str(c):>28}" for c in CONCURRENCY))
    for name, rows in servers.items():
        cells = "".join(f"{r['calls_per_s']:>10}/s p50 {r['p50_ms']:>5} p99 {r['p99_ms']:>6}" for r in rows)
        print(f"{name:<24}{cells}")
    for name, by_c in ratios.items():
        print(f"{name:<34}" + "  ".join(f"c={c}: {v}x" for c, v in by_c.items()))
    print(f"(cores: {os.cpu_count()}; PostgreSQL: {results.get('postgres')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
