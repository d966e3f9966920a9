"""The HTTP benchmark's servers (bench/http_bench.py, bench/measure_http.py): ours under
`serve --http --stateless --json-response`, or the tutorial ported to mcp 2.x under uvicorn, one
or more replicas on free loopback ports; and the PostgreSQL the PG rows need."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TUTORIAL = BENCH / "baseline" / "tutorial_v2.py"
LOGS = BENCH / "results" / "logs"
TEAM = 8  # users of the *_team rows: worker i is user i % TEAM


def log(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A loopback port free right now."""
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
    """The processes of one server under test and the ports they listen on."""

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
    """Start `replicas` processes of a server (the tutorial when `db` is None) and wait until each listens."""
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
    env.update(extra_env)
    # a PYTHONPATH given first (bench a source snapshot, as run.py does), then this checkout's src
    env.update(TODO_TZ="UTC", PYTHONPATH=os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(ROOT / "src")])))
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
