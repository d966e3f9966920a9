"""Shared fixtures: every test gets its own home, data dirs and database file; nothing
touches the real home directory."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pg  # tests/pg.py: the throwaway PostgreSQL cluster
import pytest
from mcp import Client

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server
from mcp_server_todo.store import Store, open_store, sqlite_url
from mcp_server_todo.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and XDG/AppData dirs; TODO_* variables from the caller's shell removed."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("TODO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("TODO_TZ", "UTC")
    return home


MODES = ["legacy", "2026-07-28"]
"""The two protocol generations the SDK speaks: the 2025-11-25 handshake (Claude Desktop,
the Inspector) and 2026-07-28 (the in-memory client's default)."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=MODES)
async def client(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Client]:
    """The real server in memory, through the SDK's client, once per protocol generation."""
    server = build_server(Config.resolve(str(db_path), "UTC"))
    async with Client(server, mode=request.param) as connected:
        yield connected


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A real store of each kind: a SQLite file, and a fresh schema of the session's PostgreSQL."""
    if request.param == "postgresql":
        with pg.schema_url(request.getfixturevalue("postgres_url")) as url:
            opened = open_store(url)
            yield opened
            opened.close()
        return
    opened = open_store(sqlite_url(tmp_path / "backend.db"))
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throwaway PostgreSQL cluster per test session (tests/pg.py), as an ordinary role's URL;
    skipped loudly when none can be started, failed instead when TODO_REQUIRE_POSTGRES=1."""
    for cluster in pg.session_cluster():
        yield cluster.app_url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for reason in pg.SKIPPED:
        terminalreporter.write_sep("!", f"PostgreSQL tests SKIPPED: {reason}", red=True, bold=True)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "todo.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteStore]:
    opened = open_store("sqlite:///" + db_path.as_posix().lstrip("/"))
    assert isinstance(opened, SQLiteStore)
    yield opened
    opened.close()


def server_command(db: Path, *extra: str) -> list[str]:
    """The real server as a subprocess, exactly as a client launches it."""
    return [sys.executable, "-m", "mcp_server_todo", "serve", "--db", str(db), *extra]


def subprocess_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"), TODO_TZ="UTC", PYTHONUNBUFFERED="1")
    return env
