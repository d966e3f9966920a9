"""Shared fixtures: every test gets its own home, data dirs and database file; nothing
touches the real home directory. Helpers that are not fixtures live in support/."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mcp import Client
from support import pg  # the throwaway PostgreSQL cluster
from support.env import MODES

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server
from mcp_server_todo.store import Store, open_store, sqlite_url
from mcp_server_todo.store.sqlite import SQLiteStore


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
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("TODO_TZ", "UTC")
    return home


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
    """One throwaway PostgreSQL cluster per test session (tests/support/pg.py), as an ordinary role's URL;
    skipped loudly when none can be started, failed instead when TODO_REQUIRE_POSTGRES=1."""
    for cluster in pg.session_cluster():
        yield cluster.app_url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The skip, repeated loudly; under pytest-xdist the workers' skips carry the reason here."""
    reasons = dict.fromkeys(pg.SKIPPED)
    for report in terminalreporter.stats.get("skipped", []):
        message = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        if "PostgreSQL tests SKIPPED: " in message:
            reasons[message.split("PostgreSQL tests SKIPPED: ", 1)[1]] = None
    for reason in reasons:
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
