"""Benchmark: our TODO server against the tutorial server it replaces, over stdio.

    python bench/run.py [--quick] [--out FILE]

Three servers, one raw JSON-RPC client (newline-delimited JSON over the child's stdin and
stdout, the 2025-11-25 handshake), so every server pays the same client costs:

- ours:        `<python> -m mcp_server_todo serve --db PATH` (SQLite, synchronous=FULL)
- tutorial_v1: bench/baseline/tutorial_v1.py under mcp==1.30.0 (a venv made on demand)
- tutorial_v2: bench/baseline/tutorial_v2.py, the same code ported to mcp 2.x (our venv)

Measured: cold start, per-call latency of new_item/list_items/complete_item, list_items
latency at 10, 10,000 and 100,000 stored tasks, the size of the tools/list result, the
text a model reads for a 10- and a 50-task list, and the peak RSS of each server.
Writes JSON (default bench/results/latest.json) and prints it plus a table of ratios.
Progress goes to stderr; the servers' own stderr goes to log files next to the results.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import inspect
import json
import os
import platform
import random
import selectors
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BASELINE = BENCH / "baseline"
V1_VENV = BENCH / ".venv-v1"
V1_MCP = "1.30.0"
PROTOCOL = "2025-11-25"
SEED_VERSION = 1

SERVERS = ("ours", "tutorial_v1", "tutorial_v2")
OURS_LIMIT10 = "ours_limit10"  # diagnostic: list_items(limit=10), the same page at every store size
OURS_NORMAL = "ours_sync_normal"  # diagnostic: ours with TODO_SYNC=normal, to show what fsync costs
SIZES = (10, 10_000, 100_000)
SETTLE_S = 0.05  # pause before a block of calls to another server, so one's after-work is not timed in the next


# ---- settings -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    cold_runs: int
    warmup: int
    calls: int
    block: int
    list_reps: int
    list_budget_s: float
    baseline_100k_budget_s: float


FULL = Settings(
    cold_runs=7, warmup=30, calls=300, block=10, list_reps=60, list_budget_s=12.0, baseline_100k_budget_s=60.0
)
QUICK = Settings(
    cold_runs=3, warmup=10, calls=60, block=10, list_reps=15, list_budget_s=3.0, baseline_100k_budget_s=0.0
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- realistic data -----------------------------------------------------------------------------------

_TITLES = (
    "Buy groceries",
    "Call the dentist",
    "Pay the electricity bill",
    "Book flights to Lisbon",
    "Review Sam's pull request",
    "Renew passport",
    "Fix the kitchen tap",
    "Email Alice about the budget",
    "Order printer ink",
    "Prepare slides for the demo",
    "Schedule the team retro",
    "Clean the garage",
    "Water the plants",
    "Write the quarterly report",
    "Buy a birthday gift for Mum",
    "Update the team wiki",
    "Cancel the gym membership",
    "Back up the laptop",
    "Read chapter 3",
    "Submit the expense report",
    "Get a haircut",
    "Pick up dry cleaning",
    "Plan the weekend hike",
    "Reply to the landlord",
)
_TAGS = ("work", "home", "errand", "urgent", "reading", "health", "finance", "family", "phone", "later")
_PROJECTS = ("inbox", "inbox", "work", "home", "side-project", "garden")
_PRIORITIES = ("none", "none", "low", "medium", "high")


def title(i: int) -> str:
    """Varied, realistic titles ("Buy groceries 17"); the same sequence for every server.
    Title 0 is the tutorial's own task, "Buy groceries"."""
    return _TITLES[0] if i == 0 else f"{_TITLES[i % len(_TITLES)]} {i}"


# ---- the JSON-RPC client ------------------------------------------------------------------------------


class ServerError(RuntimeError):
    pass


_LIVE: set[subprocess.Popen[bytes]] = set()


def _kill_all() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        _LIVE.discard(proc)


atexit.register(_kill_all)


class Client:
    """A minimal MCP client: one child process, newline-delimited JSON-RPC, reads with a deadline."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self._next_id = 0
        self._buffer = b""
        self._pending: dict[int, dict[str, Any]] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.t_spawn = 0.0

    # -- process --

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as err:
            self.t_spawn = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=self.env,
                cwd=str(BENCH),
                bufsize=0,
            )
        _LIVE.add(self.proc)
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)

    def peak_rss_kb(self) -> int | None:
        """VmHWM of the server process (peak resident set), from /proc."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)
        with contextlib.suppress(Exception):
            self._selector.close()
        if proc.stdout is not None:
            proc.stdout.close()
        _LIVE.discard(proc)
        self.proc = None

    def __enter__(self) -> Client:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- wire --

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError as exc:
            raise ServerError(f"{self.name}: server closed its stdin\n{self._log_tail()}") from exc

    def _read_line(self, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
                return line
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise ServerError(f"{self.name}: no reply in time\n{self._log_tail()}")
            if not self._selector.select(remaining):
                continue
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise ServerError(f"{self.name}: server exited (stdout closed)\n{self._log_tail()}")
            self._buffer += chunk

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        if message.get("method") == "ping":
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
        else:
            error = {"code": -32601, "message": "not supported by the benchmark client"}
            self.send({"jsonrpc": "2.0", "id": message["id"], "error": error})

    def receive(self, request_id: int, timeout: float) -> dict[str, Any]:
        """The response to `request_id`; other responses are kept, notifications dropped."""
        if request_id in self._pending:
            return self._pending.pop(request_id)
        deadline = time.perf_counter() + timeout
        while True:
            line = self._read_line(deadline)
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError as exc:
                raise ServerError(f"{self.name}: not JSON on stdout: {line[:200]!r}") from exc
            if "method" in message:
                if "id" in message:
                    self._answer_server_request(message)
                continue
            if message.get("id") == request_id:
                return dict(message)
            self._pending[message.get("id")] = message

    def start_request(self, method: str, params: dict[str, Any] | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self._next_id

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60.0) -> Any:
        response = self.receive(self.start_request(method, params), timeout)
        if "error" in response:
            raise ServerError(f"{self.name}: {method} failed: {response['error']}")
        return response["result"]

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    # -- MCP --

    def initialize(self, timeout: float = 60.0) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "todo-bench", "version": "1.0"},
            },
            timeout,
        )
        self.notify("notifications/initialized")
        return dict(result)

    def call(self, tool: str, arguments: dict[str, Any] | None = None, timeout: float = 120.0) -> Any:
        result = self.request("tools/call", {"name": tool, "arguments": arguments or {}}, timeout)
        if result.get("isError"):
            raise ServerError(f"{self.name}: {tool}({arguments}) returned an error: {result.get('content')}")
        return result

    def call_many(self, calls: list[tuple[str, dict[str, Any]]], window: int = 32) -> list[Any]:
        """Pipelined calls (up to `window` in flight); results in call order."""
        results: list[Any] = [None] * len(calls)
        in_flight: list[tuple[int, int]] = []
        position = 0
        while position < len(calls) or in_flight:
            while position < len(calls) and len(in_flight) < window:
                tool, args = calls[position]
                request_id = self.start_request("tools/call", {"name": tool, "arguments": args})
                in_flight.append((position, request_id))
                position += 1
            index, request_id = in_flight.pop(0)
            response = self.receive(request_id, 120.0)
            if "error" in response or response["result"].get("isError"):
                raise ServerError(f"{self.name}: pipelined call failed: {response}")
            results[index] = response["result"]
        return results


def task_id(result: dict[str, Any]) -> int:
    """The id of the task a new_item result describes (ours: structured Task; tutorial: {"id", "task"})."""
    structured = result.get("structuredContent")
    if isinstance(structured, dict):
        if isinstance(structured.get("id"), int):
            return int(structured["id"])
        inner = structured.get("result")
        if isinstance(inner, dict) and isinstance(inner.get("id"), int):
            return int(inner["id"])
    for block in result.get("content", []):
        if block.get("type") == "text":
            with contextlib.suppress(ValueError):
                data = json.loads(block["text"])
                if isinstance(data, dict) and isinstance(data.get("id"), int):
                    return int(data["id"])
            text = block["text"]
            if "#" in text:
                return int(text.split("#", 1)[1].split()[0])
    raise ServerError(f"cannot find the task id in {result}")


def text_bytes(result: dict[str, Any]) -> int:
    """UTF-8 bytes of all text content blocks: what the model reads."""
    return sum(len(b["text"].encode()) for b in result.get("content", []) if b.get("type") == "text")


def compact_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# ---- servers ------------------------------------------------------------------------------------------


@dataclass
class Env:
    main_python: str
    v1_python: str
    work: Path
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    _counter: int = 0

    def fresh_db(self, tag: str) -> Path:
        self._counter += 1
        return self.work / f"{tag}-{self._counter}.db"

    def import_floor(self, server: str) -> tuple[str, str]:
        """(python, module): a process that only imports what the server's code imports first."""
        if server == "ours":
            return self.main_python, "mcp_server_todo.server"
        if server == "tutorial_v1":
            return self.v1_python, "mcp.server.fastmcp"
        return self.main_python, "mcp.server.mcpserver"

    def client(self, server: str, db: Path | None = None) -> Client:
        env = self.env
        if server in ("ours", OURS_NORMAL):
            if db is None:
                db = self.fresh_db("ours")
            argv = [self.main_python, "-m", "mcp_server_todo", "serve", "--db", str(db)]
            if server == OURS_NORMAL:
                env = {**env, "TODO_SYNC": "normal"}
        elif server == "tutorial_v1":
            argv = [self.v1_python, str(BASELINE / "tutorial_v1.py")]
        elif server == "tutorial_v2":
            argv = [self.main_python, str(BASELINE / "tutorial_v2.py")]
        else:
            raise ValueError(server)
        return Client(server, argv, env, self.logs / f"{server}.log")


def server_env() -> dict[str, str]:
    # our TODO_* settings removed; PYTHONPATH kept (to bench a source snapshot); other PYTHON* removed
    # (PYTHONDONTWRITEBYTECODE would make a fresh checkout recompile on every start)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TODO_") and (k == "PYTHONPATH" or not k.startswith("PYTHON"))
    }
    env["TODO_TZ"] = "UTC"
    return env


def ensure_v1_venv() -> str:
    """bench/.venv-v1 with mcp==1.30.0, made on first use; returns its python."""
    python = V1_VENV / "bin" / "python"
    probe = "import importlib.metadata as m; print(m.version('mcp'))"
    if python.exists():
        done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip() == V1_MCP:
            return str(python)
        log(f"{V1_VENV} has mcp {done.stdout.strip() or '?'}; recreating it")
        shutil.rmtree(V1_VENV)
    log(f"creating {V1_VENV} with mcp=={V1_MCP} (once)")
    subprocess.run([sys.executable, "-m", "venv", str(V1_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"mcp=={V1_MCP}"],
        check=True,
        stdout=sys.stderr,
    )
    return str(python)


# ---- seeding our store directly -----------------------------------------------------------------------


_RULES = ("FREQ=WEEKLY;BYDAY=MO", "FREQ=DAILY", "FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")


def seed_ours(path: Path, count: int) -> float:
    """Fill a fresh store with `count` realistic pending tasks (tags, due dates, priorities, projects,
    recurrence rules on one in ten, some notes), many per transaction; returns seconds taken.
    Each task gets its own change-log entry, as a new_item call would make."""
    from mcp_server_todo.model import Change, Priority, Status, Task
    from mcp_server_todo.store.sqlite import SQLiteStore

    started = time.perf_counter()
    rng = random.Random(count)
    store = SQLiteStore(path, synchronous="normal")
    try:
        position = 0
        while position < count:
            batch = min(5_000, count - position)
            with store.write() as tx:
                for i in range(position, position + batch):
                    stamp = _stamp(i, count)
                    fields: dict[str, Any] = {
                        "priority": Priority(rng.choice(_PRIORITIES)),
                        "due": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                        if rng.random() < 0.6
                        else None,
                        "project": rng.choice(_PROJECTS),
                        "tags": rng.sample(_TAGS, rng.randint(0, 3)),
                        "notes": "Remember the receipt." if rng.random() < 0.2 else "",
                        "recur": rng.choice(_RULES) if rng.random() < 0.1 else None,
                    }
                    if fields["recur"] and fields["due"] is None:
                        fields["due"] = "2026-12-07"
                    task = Task.model_construct(
                        id=tx.allocate_id(),
                        title=title(i),
                        notes=fields.get("notes", ""),
                        status=Status.pending,
                        priority=fields.get("priority", Priority.none),
                        due=fields.get("due"),
                        project=fields.get("project", "inbox"),
                        tags=fields.get("tags", []),
                        recur=fields["recur"],
                        parent_id=None,
                        created_at=stamp,
                        updated_at=stamp,
                        completed_at=None,
                    )
                    tx.put(task)
                    tx.log(Change(op="add", task_id=task.id, before=None, after=task, at=stamp))
                    tx._group = 0  # one change-log group per task, as one new_item call makes
            position += batch
    finally:
        store.close()
    return time.perf_counter() - started


def _stamp(i: int, count: int) -> str:
    seconds = int(i * (365 * 86400 / max(count, 1)))
    base = time.gmtime(1735689600 + seconds)  # 2025-01-01 onwards
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", base)


def seeded_db(env: Env, count: int) -> Path:
    """A realistic store of `count` tasks, cached in bench/.cache (keyed by the schema) across runs."""
    from mcp_server_todo.store.migrations import SQLITE_MIGRATIONS

    recipe = repr((SEED_VERSION, count, SQLITE_MIGRATIONS, _TITLES, _TAGS, _PROJECTS, _PRIORITIES))
    recipe += inspect.getsource(seed_ours) + inspect.getsource(_stamp)
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    cache = BENCH / ".cache" / f"seed-{count}-{key}.db"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        for stale in cache.parent.glob(f"seed-{count}-*.db*"):
            stale.unlink()
        partial = cache.with_suffix(".partial")
        for suffix in ("", "-wal", "-shm"):
            Path(str(partial) + suffix).unlink(missing_ok=True)
        seconds = seed_ours(partial, count)
        _checkpoint(partial)
        partial.rename(cache)
        log(f"seeded {count:,} tasks into our store in {seconds:.1f} s (cached as {cache.name})")
    target = env.fresh_db(f"ours-{count}")
    shutil.copyfile(cache, target)
    with open(target, "rb+") as copy:  # no writeback of the copy while we measure
        os.fsync(copy.fileno())
    return target


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


# ---- statistics ---------------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(samples: list[float]) -> dict[str, Any]:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 0.5) * 1000, 3),
        "p99_ms": round(percentile(samples, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "min_ms": round(min(samples) * 1000, 3),
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def rotations(items: tuple[str, ...], rounds: int) -> Iterator[tuple[str, ...]]:
    """Round-robin orders that rotate, so no server always goes first."""
    for r in range(rounds):
        k = r % len(items)
        yield items[k:] + items[:k]


# ---- measurements -------------------------------------------------------------------------------------


def measure_cold_start(env: Env, settings: Settings) -> dict[str, Any]:
    """spawn -> initialize -> notifications/initialized -> tools/list response; also tools/list size."""
    db = env.fresh_db("ours-cold")
    seed_ours(db, 10)
    samples: dict[str, list[float]] = {s: [] for s in SERVERS}
    init: dict[str, list[float]] = {s: [] for s in SERVERS}
    rss: dict[str, list[int]] = {s: [] for s in SERVERS}
    tools_bytes: dict[str, int] = {}
    tools_count: dict[str, int] = {}
    imports: dict[str, list[float]] = {s: [] for s in SERVERS}
    # one discarded round first: byte-compiles and warms the page cache for every server
    for index, order in enumerate(rotations(SERVERS, settings.cold_runs + 1)):
        for server in order:
            python, module = env.import_floor(server)
            probe = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
            done = subprocess.run([python, "-c", probe], check=True, capture_output=True, text=True, env=env.env)
            if index > 0:
                imports[server].append(float(done.stdout.strip().splitlines()[-1]))
            with env.client(server, db) as client:
                client.initialize()
                initialized = time.perf_counter()
                result = client.request("tools/list", {})
                done = time.perf_counter()
                if index > 0:
                    samples[server].append(done - client.t_spawn)
                    init[server].append(initialized - client.t_spawn)
                    kb = client.peak_rss_kb()
                    if kb:
                        rss[server].append(kb)
                tools_bytes[server] = compact_bytes(result)
                tools_count[server] = len(result.get("tools", []))
    return {
        server: {
            "runs": len(samples[server]),
            "median_ms": round(statistics.median(samples[server]) * 1000, 1),
            "min_ms": round(min(samples[server]) * 1000, 1),
            "max_ms": round(max(samples[server]) * 1000, 1),
            "initialize_median_ms": round(statistics.median(init[server]) * 1000, 1),
            "import_only": env.import_floor(server)[1],
            "import_only_median_ms": round(statistics.median(imports[server]) * 1000, 1),
            "peak_rss_kb": int(statistics.median(rss[server])) if rss[server] else None,
            "tools_list_bytes": tools_bytes[server],
            "tools": tools_count[server],
        }
        for server in SERVERS
    }


def fill(client: Client, server: str, count: int) -> list[int]:
    """Add tasks until `count` are pending, with titles title(0..count-1): the tutorial starts with
    title(0), "Buy groceries", already there; ours starts empty."""
    first = 0 if server.startswith("ours") else 1
    calls = [("new_item", {"title": title(i)}) for i in range(first, count)]
    return [task_id(r) for r in client.call_many(calls)] if calls else []


def measure_text_bytes(env: Env) -> dict[str, Any]:
    """Text the model reads for a 10- and a 50-task list; identical title-only tasks on every server."""
    out: dict[str, Any] = {}
    for server in SERVERS:
        with env.client(server) as client:
            client.initialize()
            fill(client, server, 10)
            list10 = client.call("list_items")
            client.call_many([("new_item", {"title": title(i)}) for i in range(10, 50)], window=8)
            list50 = client.call("list_items")
        titles10 = sum(len(title(i).encode()) for i in range(10))
        titles50 = sum(len(title(i).encode()) for i in range(50))
        out[server] = {
            "text_bytes_10": text_bytes(list10),
            "text_bytes_50": text_bytes(list50),
            "mean_title_chars_50": round(sum(len(title(i)) for i in range(50)) / 50, 1),
            "title_bytes_10": titles10,
            "title_bytes_50": titles50,
            "overhead_bytes_10": text_bytes(list10) - titles10,
            "overhead_bytes_50": text_bytes(list50) - titles50,
            "content_blocks_10": len(list10.get("content", [])),
            "content_blocks_50": len(list50.get("content", [])),
            "result_bytes_10": compact_bytes(list10),
            "result_bytes_50": compact_bytes(list50),
            "structured_bytes_50": compact_bytes(list50.get("structuredContent"))
            if list50.get("structuredContent") is not None
            else None,
            "sample_text_10": "".join(b.get("text", "") for b in list10.get("content", []))[:400],
        }
    return out


def measure_calls(env: Env, settings: Settings) -> dict[str, Any]:
    """new_item -> list_items -> complete_item loops on a list of 10 pending tasks, interleaved in
    blocks across the servers (all stay up; an idle server costs nothing). Also runs ours with
    TODO_SYNC=normal, as a diagnostic of what the durable (fsync per write) default costs."""
    servers = (*SERVERS, OURS_NORMAL)
    times: dict[str, dict[str, list[float]]] = {
        s: {"new_item": [], "list_items": [], "complete_item": []} for s in servers
    }
    clients = {s: env.client(s) for s in servers}
    counters = dict.fromkeys(servers, 1000)
    try:
        for server, client in clients.items():
            client.start()
            client.initialize()
            fill(client, server, 9)

        def iteration(server: str, record: bool) -> None:
            client = clients[server]
            counters[server] += 1
            t_new, created = timed(lambda: client.call("new_item", {"title": title(counters[server])}))
            t_list, listed = timed(lambda: client.call("list_items"))
            if _items_returned(listed) != 10:
                raise ServerError(f"{server}: expected 10 pending tasks, got {_items_returned(listed)}")
            new_id = task_id(created)
            t_done, _ = timed(lambda: client.call("complete_item", {"id": new_id}))
            if record:
                times[server]["new_item"].append(t_new)
                times[server]["list_items"].append(t_list)
                times[server]["complete_item"].append(t_done)

        for server in servers:
            for _ in range(settings.warmup):
                iteration(server, record=False)
        rounds = settings.calls // settings.block
        for order in rotations(servers, rounds):
            for server in order:
                time.sleep(SETTLE_S)
                for position in range(settings.block + 1):
                    iteration(server, record=position > 0)  # the first call after a pause is not kept
        rss = {s: c.peak_rss_kb() for s, c in clients.items()}
    finally:
        for client in clients.values():
            client.close()
    return {
        server: {**{op: summary_ms(t) for op, t in times[server].items()}, "peak_rss_kb": rss[server]}
        for server in servers
    }


def measure_list_scaling(env: Env, settings: Settings) -> dict[str, Any]:
    """list_items latency (default arguments) at 10, 10,000 and 100,000 stored tasks.

    Ours: realistic tasks seeded straight into SQLite, first page of 50 (and, as a diagnostic,
    limit=10: the same page at every size). Tutorials: seeded with pipelined new_item calls; they
    return the whole list. 100,000 for the tutorials only when their 10,000 seeding projects it
    under the budget (else null). Every server at every size is up at once and the calls rotate
    over all of them, so a ratio between sizes is not skewed by the box's load changing over time."""
    results: dict[str, dict[str, Any]] = {s: {} for s in SERVERS}
    clients: dict[tuple[str, int], Client] = {}
    probes: dict[str, tuple[Client, dict[str, Any]]] = {}
    try:
        for size in SIZES:
            client = env.client("ours", seeded_db(env, size))
            client.start()
            client.initialize()
            clients["ours", size] = client
            results["ours"][str(size)] = {"seed_s": None}
            probes[f"ours@{size}"] = (client, {})
            probes[f"{OURS_LIMIT10}@{size}"] = (client, {"limit": 10})
        for server in SERVERS[1:]:
            per_task = None
            for size in SIZES:
                if size == 100_000:
                    projected = float("inf") if per_task is None else per_task * size
                    if projected > settings.baseline_100k_budget_s:
                        results[server][str(size)] = None
                        results[server][f"{size}_skipped"] = (
                            f"seeding projected at {projected:.0f} s > budget {settings.baseline_100k_budget_s:.0f} s"
                        )
                        log(f"{server}: skipping 100,000 tasks (seeding projected at {projected:.0f} s)")
                        continue
                client = env.client(server)
                client.start()
                client.initialize()
                clients[server, size] = client
                seed_s, _ = timed(lambda c=client, s=server, n=size: fill(c, s, n))
                log(f"{server}: seeded {size:,} tasks via new_item in {seed_s:.1f} s")
                if size == 10_000:
                    per_task = seed_s / size
                results[server][str(size)] = {"seed_s": round(seed_s, 2)}
                probes[f"{server}@{size}"] = (client, {})

        samples: dict[str, list[float]] = {p: [] for p in probes}
        last: dict[str, Any] = {}
        for probe, (client, arguments) in probes.items():  # warm-up
            for _ in range(2):
                last[probe] = client.call("list_items", arguments, timeout=300)
        # blocks of back-to-back calls per probe, rotating; a pause before each block lets the
        # previous server finish its after-work, and the block's first call (waking up) is not kept
        spent = dict.fromkeys(probes, 0.0)
        block = 5
        rounds = -(-settings.list_reps // (block - 1))
        for order in rotations(tuple(probes), rounds):
            for probe in order:
                if len(samples[probe]) >= settings.list_reps:
                    continue
                if spent[probe] > settings.list_budget_s and len(samples[probe]) >= 5:
                    continue
                client, arguments = probes[probe]
                time.sleep(SETTLE_S)
                for position in range(block):
                    seconds, last[probe] = timed(lambda c=client, a=arguments: c.call("list_items", a, timeout=300))
                    spent[probe] += seconds
                    if position > 0:
                        samples[probe].append(seconds)
        for (server, size), client in clients.items():
            entry = results[server][str(size)]
            probe = f"{server}@{size}"
            entry.update(summary_ms(samples[probe]))
            entry["items_returned"] = _items_returned(last[probe])
            entry["result_bytes"] = compact_bytes(last[probe])
            entry["text_bytes"] = text_bytes(last[probe])
            entry["peak_rss_kb"] = client.peak_rss_kb()
            if server == "ours":
                limited = f"{OURS_LIMIT10}@{size}"
                entry["limit_10"] = {
                    **summary_ms(samples[limited]),
                    "items_returned": _items_returned(last[limited]),
                }
        for size in SIZES:
            log(
                f"list_items at {size:,}: "
                + ", ".join(
                    f"{s} p50 {results[s][str(size)]['p50_ms']:.2f} ms" for s in SERVERS if results[s][str(size)]
                )
            )
    finally:
        for client in clients.values():
            client.close()
    return results


def _items_returned(result: dict[str, Any]) -> int:
    structured = result.get("structuredContent")
    if isinstance(structured, dict):
        items = structured.get("items", structured.get("result"))
        if isinstance(items, list):
            return len(items)
    return len(result.get("content", []))


# ---- report -------------------------------------------------------------------------------------------


def ratio(name: str, num: float | None, den: float | None, target: float, what: str) -> dict[str, Any]:
    value = None if num is None or den in (None, 0) else num / den  # type: ignore[operator]
    return {
        "name": name,
        "what": what,
        "value": round(value, 3) if value is not None else None,
        "target": f"<= {target}",
        "pass": value is not None and value <= target,
    }


def ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    calls = results["calls"]
    cold = results["cold_start"]
    scale = results["list_scaling"]["ours"]
    text = results["text_bytes"]
    out = [
        ratio(
            f"{op} p50 ours/tutorial_v1",
            calls["ours"][op]["p50_ms"],
            calls["tutorial_v1"][op]["p50_ms"],
            1.0,
            f"{op} p50 latency, 10 pending tasks (ours writes durably)",
        )
        for op in ("new_item", "list_items", "complete_item")
    ]
    out.append(
        ratio(
            "list_items@10 p50 ours/tutorial_v1 (scaling run)",
            results["list_scaling"]["ours"]["10"]["p50_ms"],
            results["list_scaling"]["tutorial_v1"]["10"]["p50_ms"],
            1.0,
            "list_items p50 with 10 stored tasks, from the scaling runs",
        )
    )
    out.append(
        ratio(
            "cold start ours/tutorial_v2",
            cold["ours"]["median_ms"],
            cold["tutorial_v2"]["median_ms"],
            1.0,
            "spawn to tools/list answered, median",
        )
    )
    info = ratio(
        "cold start ours/tutorial_v1",
        cold["ours"]["median_ms"],
        cold["tutorial_v1"]["median_ms"],
        1.0,
        "spawn to tools/list answered, median (reported, not a target)",
    )
    info["target"] = "report"
    info["pass"] = None
    out.append(info)
    out.append(
        ratio(
            "list p50 ours@100k/ours@10",
            scale["100000"]["p50_ms"],
            scale["10"]["p50_ms"],
            1.5,
            "list_items p50 with 100,000 stored tasks over 10",
        )
    )
    for n in (10, 50):
        out.append(
            ratio(
                f"text bytes {n}-task list ours/tutorial_v1",
                text["ours"][f"text_bytes_{n}"],
                text["tutorial_v1"][f"text_bytes_{n}"],
                0.5,
                f"bytes of text content the model reads for a {n}-task list",
            )
        )
    info = ratio(
        "list p50 ours@100k/ours@10, limit=10",
        scale["100000"]["limit_10"]["p50_ms"],
        scale["10"]["limit_10"]["p50_ms"],
        1.5,
        "the same with the same page size (10) at both sizes: the store's own scaling (reported)",
    )
    info["target"] = "report"
    info["pass"] = None
    out.append(info)
    for op in ("new_item", "complete_item"):
        info = ratio(
            f"{op} p50 ours(TODO_SYNC=normal)/tutorial_v1",
            calls[OURS_NORMAL][op]["p50_ms"],
            calls["tutorial_v1"][op]["p50_ms"],
            1.0,
            f"{op} p50 without an fsync per write (diagnostic, reported)",
        )
        info["target"] = "report"
        info["pass"] = None
        out.append(info)
    for n in (10, 50):
        info = ratio(
            f"text overhead {n}-task list ours/tutorial_v1",
            text["ours"][f"overhead_bytes_{n}"],
            text["tutorial_v1"][f"overhead_bytes_{n}"],
            0.5,
            f"text bytes of a {n}-task list minus the titles themselves (reported, not a target)",
        )
        info["target"] = "report"
        info["pass"] = None
        out.append(info)
    info = ratio(
        "whole list result bytes, 50 tasks ours/tutorial_v1",
        text["ours"]["result_bytes_50"],
        text["tutorial_v1"]["result_bytes_50"],
        0.5,
        "the whole tools/call result incl. structuredContent, for clients that show that to the model",
    )
    info["target"] = "report"
    info["pass"] = None
    out.append(info)
    return out


def table(results: dict[str, Any]) -> str:
    lines = [f"{'ratio':<50} {'value':>8} {'target':>8}  result"]
    for r in results["ratios"]:
        value = "n/a" if r["value"] is None else f"{r['value']:.3f}"
        verdict = "info" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL")
        lines.append(f"{r['name']:<50} {value:>8} {r['target']:>8}  {verdict}")
    lines.append("")
    columns = (*SERVERS, OURS_NORMAL)
    header = f"{'metric':<34}" + "".join(f"{s:>18}" for s in columns)
    lines.append(header)

    def row(label: str, get: Callable[[str], Any], fmt: str = "{:.2f}") -> None:
        cells = []
        for server in columns:
            try:
                value = get(server)
            except (KeyError, TypeError):
                value = None
            cells.append(f"{'-' if value is None else fmt.format(value):>18}")
        lines.append(f"{label:<34}" + "".join(cells))

    cold, calls, scale = results["cold_start"], results["calls"], results["list_scaling"]
    text = results["text_bytes"]
    row("cold start median (ms)", lambda s: cold[s]["median_ms"], "{:.1f}")
    row("  import of the SDK/server (ms)", lambda s: cold[s]["import_only_median_ms"], "{:.1f}")
    for op in ("new_item", "list_items", "complete_item"):
        row(f"{op} p50 (ms)", lambda s, op=op: calls[s][op]["p50_ms"], "{:.3f}")
        row(f"{op} p99 (ms)", lambda s, op=op: calls[s][op]["p99_ms"], "{:.3f}")
    for size in SIZES:
        row(f"list p50 @ {size:,} (ms)", lambda s, n=size: scale[s][str(n)]["p50_ms"], "{:.2f}")
    row("list p50 @ 10, limit=10 (ms)", lambda s: scale[s]["10"]["limit_10"]["p50_ms"], "{:.2f}")
    row("list p50 @ 100,000, limit=10 (ms)", lambda s: scale[s]["100000"]["limit_10"]["p50_ms"], "{:.2f}")
    row("tools/list bytes", lambda s: cold[s]["tools_list_bytes"], "{:d}")
    row("list text bytes, 10 tasks", lambda s: text[s]["text_bytes_10"], "{:d}")
    row("list text bytes, 50 tasks", lambda s: text[s]["text_bytes_50"], "{:d}")
    row("  of which not titles, 50 tasks", lambda s: text[s]["overhead_bytes_50"], "{:d}")
    row("peak RSS, call loop (MiB)", lambda s: calls[s]["peak_rss_kb"] / 1024, "{:.1f}")
    row("peak RSS @ 10,000 (MiB)", lambda s: scale[s]["10000"]["peak_rss_kb"] / 1024, "{:.1f}")
    row("peak RSS @ 100,000 (MiB)", lambda s: scale[s]["100000"]["peak_rss_kb"] / 1024, "{:.1f}")
    return "\n".join(lines)


def versions(env: Env) -> dict[str, Any]:
    v1 = subprocess.run(
        [env.v1_python, "-c", "import importlib.metadata as m, sys; print(m.version('mcp'), sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    import mcp_server_todo

    source = Path(mcp_server_todo.__file__).resolve().parent
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "mcp_server_todo_source": str(source),
        "git_head": head or None,
        "src_uncommitted_changes": bool(dirty) if source.is_relative_to(ROOT) else None,
        "python": platform.python_version(),
        "python_executable": env.main_python,
        "mcp_main": metadata.version("mcp"),
        "mcp_server_todo": metadata.version("mcp-server-todo"),
        "mcp_tutorial_v1": v1[0],
        "python_tutorial_v1": v1[1],
    }


# ---- main ---------------------------------------------------------------------------------------------


def _reexec_in_project_venv() -> None:
    """`python bench/run.py` with a python that lacks our package: rerun under the project's venv."""
    try:
        import mcp_server_todo  # noqa: F401
    except ImportError:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        raise SystemExit("mcp_server_todo is not importable; run with the project's venv python") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs (about a minute)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json", help="JSON output")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)
    _reexec_in_project_venv()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

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
    try:
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
        }
        log("cold start")
        results["cold_start"] = measure_cold_start(env, settings)
        log("text bytes of 10- and 50-task lists")
        results["text_bytes"] = measure_text_bytes(env)
        log("per-call latency")
        results["calls"] = measure_calls(env, settings)
        log("list_items scaling")
        results["list_scaling"] = measure_list_scaling(env, settings)
        results["ratios"] = ratios(results)
        results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        results["elapsed_s"] = round(time.perf_counter() - started, 1)
    finally:
        _kill_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print()
    print(table(results))
    print(f"\nwritten to {args.out} in {results['elapsed_s']} s; server logs in {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
