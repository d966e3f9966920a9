"""Where the project is, the two protocol generations, the server command line and the environment
a test's subprocesses run in (a private HOME, no TODO_* variables from the caller's shell)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TESTS = ROOT / "tests"
DATA = TESTS / "data"

MODES = ["legacy", "2026-07-28"]
"""The two protocol generations the SDK speaks: the 2025-11-25 handshake (Claude Desktop,
the Inspector) and 2026-07-28 (the in-memory client's default)."""


def server_command(db: Path | str, *extra: str) -> list[str]:
    """The real server as a subprocess, exactly as a client launches it."""
    return [sys.executable, "-m", "mcp_server_todo", "serve", "--db", str(db), *extra]


def subprocess_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TODO_TZ="UTC",
        PYTHONUNBUFFERED="1",
    )
    return env
