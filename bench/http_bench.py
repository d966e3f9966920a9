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

The client is deliberately thin (raw HTTP/1.1 keep-alive over asyncio streams, one connection
per worker, no SDK) so that as little CPU as possible goes to the load generator, which shares
the machine. Each worker repeats new_item, list_items, complete_item (the task it added): every
call is one tools/call request, timed from write to full response; errors are counted.
Results go to JSON (default bench/results/http.json) and a table with the ratios on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TUTORIAL = BENCH / "baseline" / "tutorial_v2.py"
LOGS = BENCH / "results" / "logs"
CONCURRENCY = (1, 8, 32)
TEAM = 8  # users of the *_team rows: worker i is user i % TEAM
RATIOS = (
    ("ours_sqlite", "tutorial"),
    ("ours_sqlite_2", "tutorial"),
    ("ours_pg_2", "ours_pg_1"),
    ("ours_pg_2_team", "ours_pg_1_team"),
)
"""The calls/s ratios reported (when both rows ran)."""
PROTOCOL = "2025-11-25"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- servers -------------------------------------------------------------------------------------

TUTORIAL_RUNNER = """
import runpy, sys, uvicorn
ns = runpy.run_path(sys.argv[1], run_name="tutorial")  # not __main__: its stdio run() stays off
app = ns["mcp"].streamable_http_app(stateless_http=True, json_response=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


@dataclass
class Server:
    name: str
    ports: list[int]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for proc, port in zip(self.procs, self.ports, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {proc.returncode}; see {LOGS}/{self.name}.log")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start within {timeout} s")
                time.sleep(0.05)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start(name: str, db: str | None, replicas: int = 1, *args: str, **extra_env: str) -> Server:
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
    env.update(extra_env)
    env.update(TODO_TZ="UTC", PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")])))
    server = Server(name, [free_port() for _ in range(replicas)])
    logfile = (LOGS / f"{name}.log").open("wb")
    for port in server.ports:
        if db is None:
            command = [sys.executable, "-c", TUTORIAL_RUNNER, str(TUTORIAL), str(port)]
        else:
            command = [sys.executable, "-m", "mcp_server_todo", "serve", "--http", "--stateless", "--json-response"]
            command += ["--port", str(port), "--db", db, *args]
        server.procs.append(
            subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=logfile, stderr=logfile)
        )
    logfile.close()
    server.wait_ready()
    return server


# ---- the client ----------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection posting JSON-RPC to /mcp."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.next_id = 0
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        self.writer.close()

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": self.next_id,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments},
            }
        ).encode()
        head = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {PROTOCOL}\r\n{self.auth}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if headers.get("transfer-encoding") == "chunked":
            data = bytearray()
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = bytearray(await self.reader.readexactly(int(headers.get("content-length", "0"))))
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {bytes(data)[:200]!r}")
        text = bytes(data).decode()
        if headers.get("content-type", "").startswith("text/event-stream"):
            text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
        reply: dict[str, Any] = json.loads(text)
        if "error" in reply or reply["result"].get("isError"):
            raise RuntimeError(f"{tool} failed: {str(reply)[:200]}")
        return reply


def new_id(reply: dict[str, Any]) -> int:
    data = reply["result"].get("structuredContent") or {}
    if "items" in data:
        return int(data["items"][0]["id"])  # ours
    if "id" in data:
        return int(data["id"])  # the tutorial's dict
    return int(json.loads(reply["result"]["content"][0]["text"])["id"])


async def worker(
    conn: Connection, number: int, stop_at: float, warm_until: float, samples: list[float], errors: list[str]
) -> None:
    await conn.open()
    n = 0
    try:
        while time.perf_counter() < stop_at:
            n += 1
            added = 0
            for tool in ("new_item", "list_items", "complete_item"):
                if tool == "new_item":
                    arguments: dict[str, Any] = {"title": f"bench task {number}.{n}"}
                else:
                    arguments = {} if tool == "list_items" else {"id": added}
                began = time.perf_counter()
                try:
                    reply = await conn.call(tool, arguments)
                except (RuntimeError, OSError, asyncio.IncompleteReadError) as exc:
                    errors.append(str(exc))
                    await asyncio.sleep(0.01)
                    break
                ended = time.perf_counter()
                if tool == "new_item":
                    added = new_id(reply)
                if began >= warm_until and ended <= stop_at:
                    samples.append(ended - began)
    finally:
        conn.close()


async def measure(
    ports: list[int], concurrency: int, seconds: float, warmup: float, tokens: list[str] | None = None
) -> dict[str, Any]:
    """`concurrency` workers, spread over the replicas' ports (and over the users' tokens, if any)."""
    samples: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    warm_until = start + warmup
    stop_at = warm_until + seconds
    conns = [Connection(ports[i % len(ports)], tokens[i % len(tokens)] if tokens else None) for i in range(concurrency)]
    await asyncio.gather(*(worker(conn, i, stop_at, warm_until, samples, errors) for i, conn in enumerate(conns)))
    samples.sort()

    def pct(p: float) -> float:
        return round(samples[min(len(samples) - 1, int(p * len(samples)))] * 1000, 2) if samples else float("nan")

    return {
        "concurrency": concurrency,
        "calls": len(samples),
        "calls_per_s": round(len(samples) / seconds, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2) if samples else None,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def bench_server(
    server: Server, seconds: float, warmup: float, tokens: list[str] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for concurrency in CONCURRENCY:
        row = asyncio.run(measure(server.ports, concurrency, seconds, warmup, tokens))
        log(
            f"  {server.name:<12} c={concurrency:<3} {row['calls_per_s']:>8} calls/s  "
            f"p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms  errors {row['errors']}"
        )
        rows.append(row)
    return rows


# ---- PostgreSQL ----------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres(url: str | None, disabled: bool) -> Iterator[tuple[str | None, str]]:
    """(url, note): a database for the PG rows, or None and why not."""
    if disabled:
        yield None, "skipped: --no-pg"
        return
    url = url or os.environ.get("TODO_BENCH_PG_URL")
    if url:
        yield url, "given URL"
        return
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from support import pg  # type: ignore[import-not-found]
    except Exception as exc:  # pytest missing, for one
        yield None, f"skipped: cannot load tests/support/pg.py to start PostgreSQL ({exc})"
        return
    try:
        cluster = pg.start()
    except Exception as exc:
        yield None, f"skipped: no PostgreSQL server could be started ({exc})"
        return
    try:
        yield cluster.app_url, f"throwaway cluster, PostgreSQL {cluster.version} (fsync off), Unix socket"
    finally:
        cluster.stop()


def pg_usable(url: str) -> str | None:
    """None if the store opens at `url`, else why not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from mcp_server_todo.store import open_store; open_store(sys.argv[1]).close()",
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return None if check.returncode == 0 else (check.stderr.strip().splitlines() or ["failed"])[-1]


# ---- main ----------------------------------------------------------------------------------------


def team_tokens(url: str) -> list[str]:
    """A token for each of TEAM users (`token create`, through the package's own API)."""
    sys.path.insert(0, str(ROOT / "src"))
    from mcp_server_todo.store import open_store
    from mcp_server_todo.transports.http.auth import create_token

    store = open_store(url)
    try:
        return [create_token(store, f"user{n}")[1] for n in range(TEAM)]
    finally:
        store.close()


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if a and b else None


def main() -> int:
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
