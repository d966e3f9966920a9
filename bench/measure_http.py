"""bench/run.py's HTTP measure (target 4 of issue 16): calls/s at concurrency 8 over Streamable
HTTP (stateless, JSON responses), ours on SQLite with the default synchronous=FULL against the
tutorial ported to mcp 2.x under uvicorn.

Both servers stay up and take turns: each round measures one, then the other (the order rotates),
so a change in the machine's load touches both; the result is each one's median over the rounds.
An idle server costs nothing. bench/http_bench.py is the full HTTP benchmark (1, 8 and 32
clients, replicas, PostgreSQL)."""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path
from typing import Any

from http_load import measure
from http_servers import Server, start
from settings import Settings, log
from stats import rotations

CONCURRENCY = 8
SERVERS = ("ours_sqlite", "tutorial")


def measure_http(work: Path, settings: Settings) -> dict[str, Any]:
    """Per server: median calls/s and p50/p99 over the rounds at CONCURRENCY clients, and every round."""
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in SERVERS}
    servers: dict[str, Server] = {}
    try:
        servers["tutorial"] = start("http_tutorial", None)
        servers["ours_sqlite"] = start("http_ours_sqlite", str(work / "http.db"), 1, TODO_SYNC="full")
        for order in rotations(SERVERS, settings.http_rounds):
            for name in order:
                row = asyncio.run(
                    measure(servers[name].ports, CONCURRENCY, settings.http_seconds, settings.http_warmup)
                )
                rounds[name].append(row)
        for name in SERVERS:
            calls = [row["calls_per_s"] for row in rounds[name]]
            log(f"HTTP c={CONCURRENCY} {name}: " + ", ".join(f"{c:.0f}" for c in calls) + " calls/s")
    finally:
        for server in servers.values():
            server.stop()
    return {
        "concurrency": CONCURRENCY,
        "mode": "stateless, JSON responses, HTTP/1.1 keep-alive, one connection per client",
        **{
            name: {
                "calls_per_s": statistics.median(row["calls_per_s"] for row in rounds[name]),
                "p50_ms": statistics.median(row["p50_ms"] for row in rounds[name]),
                "p99_ms": statistics.median(row["p99_ms"] for row in rounds[name]),
                "errors": sum(row["errors"] for row in rounds[name]),
                "first_error": next((row["first_error"] for row in rounds[name] if row["first_error"]), None),
                "rounds": [row["calls_per_s"] for row in rounds[name]],
            }
            for name in SERVERS
        },
    }
