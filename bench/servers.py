"""The three stdio servers bench/run.py compares and how each is started: `Env` (the pythons, the
scratch directory, the environment) makes a `Client` for a server by name; the tutorial on mcp 1.x
runs in bench/.venv-v1, made on first use."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from settings import OURS_NORMAL, OURS_SDK, log
from stdio_client import Client

BENCH = Path(__file__).resolve().parent
BASELINE = BENCH / "baseline"
V1_VENV = BENCH / ".venv-v1"
V1_MCP = "1.30.0"


@dataclass
class Env:
    """Where and how this run starts its servers."""

    main_python: str
    v1_python: str
    work: Path
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    _counter: int = 0

    def fresh_db(self, tag: str) -> Path:
        """A new database path in the scratch directory (not created)."""
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
        """A client for `server` (not started); ours on `db`, else on a fresh database."""
        env = self.env
        if server in ("ours", OURS_NORMAL, OURS_SDK):
            if db is None:
                db = self.fresh_db("ours")
            argv = [self.main_python, "-m", "mcp_server_todo", "serve", "--db", str(db)]
            if server == OURS_NORMAL:
                env = {**env, "TODO_SYNC": "normal"}
            elif server == OURS_SDK:
                env = {**env, "TODO_STDIO_FAST": "0"}
        elif server == "tutorial_v1":
            argv = [self.v1_python, str(BASELINE / "tutorial_v1.py")]
        elif server == "tutorial_v2":
            argv = [self.main_python, str(BASELINE / "tutorial_v2.py")]
        else:
            raise ValueError(server)
        return Client(server, argv, env, self.logs / f"{server}.log")


def server_env() -> dict[str, str]:
    """The servers' environment: UTC, and none of the caller's TODO_* settings."""
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
