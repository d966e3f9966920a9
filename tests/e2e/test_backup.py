"""Backups (issue 11, point 9): automatic online backups before every migration and every real
import, kept in the data folder with rotation; `backup [PATH]` and `restore PATH`; PostgreSQL
points to pg_dump."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import TextContent
from support.env import MODES
from support.faultkit import one_line, run_cli

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server
from mcp_server_todo.store import backup, open_store, sqlite_url
from mcp_server_todo.store import sqlite as sqlite_module
from mcp_server_todo.store.migrations import SQLITE_MIGRATIONS

TODO_TXT = "(A) Call Mom\nPay rent\n"


def titles(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT title FROM tasks ORDER BY id")]
    finally:
        conn.close()


def folder(db: Path) -> list[str]:
    return sorted(p.name for p in (db.parent / "backups").glob("*.db")) if (db.parent / "backups").exists() else []


def add(home: Path, db: Path, *names: str) -> None:
    for name in names:
        assert run_cli(home, "--db", str(db), "add", name).returncode == 0


# ---- automatic -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_import_backs_up_first_a_preview_does_not(db_path: Path, isolated_env: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text(TODO_TXT, encoding="utf-8")
    fresh = run_cli(isolated_env, "--db", str(db_path), "import", str(source))
    assert fresh.returncode == 0 and folder(db_path) == []  # nothing to back up yet

    preview = run_cli(isolated_env, "--db", str(db_path), "import", "--dry-run", "-f", "todotxt", "-", stdin="new\n")
    assert preview.returncode == 0 and folder(db_path) == []

    done = run_cli(isolated_env, "--db", str(db_path), "import", "-f", "todotxt", "-", stdin="third\n")
    assert done.returncode == 0
    [name] = folder(db_path)
    assert name.startswith("todo-") and name.endswith("-before-import.db")
    assert titles(db_path.parent / "backups" / name) == ["Call Mom", "Pay rent"]  # the state before
    assert titles(db_path) == ["Call Mom", "Pay rent", "third"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_import_items_backs_up_before_a_real_import(db_path: Path, mode: str) -> None:
    async with Client(build_server(Config.resolve(str(db_path), "UTC"), "import"), mode=mode) as client:
        await client.call_tool("new_item", {"title": "before"})
        preview = await client.call_tool("import_items", {"content": TODO_TXT})
        assert not preview.is_error and folder(db_path) == []
        done = await client.call_tool("import_items", {"content": TODO_TXT, "dry_run": False})
        assert not done.is_error
    [name] = folder(db_path)
    assert name.endswith("-before-import.db")
    assert titles(db_path.parent / "backups" / name) == ["before"]


def test_rotation_keeps_the_newest_automatic_backups_and_every_manual_one(
    store: object, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_server_todo.service import TodoService

    TodoService(store).add("one")  # type: ignore[arg-type]
    manual = backup.manual(db_path, None)
    monkeypatch.setenv("TODO_BACKUPS", "3")
    made = [backup.take(db_path, "before-import") for _ in range(5)]
    kept = backup.backups(db_path)
    assert kept[:3] == made[:-4:-1]  # the newest three, newest first
    assert set(kept) == {*made[-3:], manual}
    monkeypatch.setenv("TODO_BACKUPS", "0")
    assert backup.take(db_path, "before-import") is None


def test_a_pending_migration_backs_up_first(db_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    older = SQLITE_MIGRATIONS[:-1]
    monkeypatch.setattr(sqlite_module, "SQLITE_MIGRATIONS", older)
    store = open_store(sqlite_url(db_path))
    store.add_token("someone", "hash", "laptop", "2026-01-01T00:00:00Z")  # data worth keeping
    store.close()
    assert folder(db_path) == []
    monkeypatch.setattr(sqlite_module, "SQLITE_MIGRATIONS", SQLITE_MIGRATIONS)
    open_store(sqlite_url(db_path)).close()  # the last migration runs now
    [name] = folder(db_path)
    assert name.endswith("-before-migration.db")
    conn = sqlite3.connect(db_path.parent / "backups" / name)
    assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == older[-1][0]
    conn.close()
    open_store(sqlite_url(db_path)).close()
    assert len(folder(db_path)) == 1  # nothing pending: no backup


# ---- backup and restore ----------------------------------------------------------------------------


@pytest.mark.slow
def test_backup_command(db_path: Path, isolated_env: Path, tmp_path: Path) -> None:
    add(isolated_env, db_path, "one", "two")
    done = run_cli(isolated_env, "--db", str(db_path), "backup")
    assert done.returncode == 0
    made = Path(done.stdout.strip())
    assert made.parent == db_path.parent / "backups" and made.name.endswith("-manual.db")
    assert titles(made) == ["one", "two"]

    target = tmp_path / "elsewhere"
    target.mkdir()
    into = run_cli(isolated_env, "--db", str(db_path), "backup", str(target))
    assert Path(into.stdout.strip()).parent == target

    again = one_line(run_cli(isolated_env, "--db", str(db_path), "backup", str(made)))
    assert again == f"mcp-server-todo: {made} already exists; choose another name (a backup never overwrites a file)"

    pg = run_cli(isolated_env, "--db", "postgresql://todo@127.0.0.1:1/todo", "backup")
    assert one_line(pg).startswith("mcp-server-todo: PostgreSQL stores are backed up with pg_dump")
    pg = run_cli(isolated_env, "--db", "postgresql://todo@127.0.0.1:1/todo", "restore", "x.dump")
    assert "pg_restore" in one_line(pg)


@pytest.mark.slow
def test_restore_refuses_what_is_not_a_good_backup(db_path: Path, isolated_env: Path, tmp_path: Path) -> None:
    add(isolated_env, db_path, "one")
    before = db_path.read_bytes()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert "junk.db" in one_line(run_cli(isolated_env, "--db", str(db_path), "restore", str(junk)))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    line = one_line(run_cli(isolated_env, "--db", str(db_path), "restore", str(other)))
    assert line == f"mcp-server-todo: {other} is a SQLite file but not an mcp-server-todo database"
    assert one_line(run_cli(isolated_env, "--db", str(db_path), "restore", str(tmp_path / "none.db")))
    assert db_path.read_bytes() == before and folder(db_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_restore_while_a_server_runs(db_path: Path, isolated_env: Path, mode: str) -> None:
    add(isolated_env, db_path, "kept")
    saved = backup.manual(db_path, None)
    async with Client(build_server(Config.resolve(str(db_path), "UTC")), mode=mode) as client:
        await client.call_tool("new_item", {"title": "after the backup"})
        done = run_cli(isolated_env, "--db", str(db_path), "restore", str(saved))
        assert done.returncode == 0, done.stderr
        assert "saved as" in done.stderr
        listed = await client.call_tool("list_items", {})
        block = listed.content[0]
        assert isinstance(block, TextContent)
        assert "kept" in block.text and "after the backup" not in block.text
        assert not (await client.call_tool("new_item", {"title": "next"})).is_error
    assert titles(db_path) == ["kept", "next"]
    [before_restore] = [p for p in backup.backups(db_path) if p.name.endswith("-before-restore.db")]
    assert titles(before_restore) == ["kept", "after the backup"]


@pytest.mark.slow
def test_restore_over_a_file_damaged_beyond_reading(db_path: Path, isolated_env: Path) -> None:
    add(isolated_env, db_path, "kept")
    saved = backup.manual(db_path, None)
    with open(db_path, "r+b") as out:  # the header and first page: SQLite no longer knows the file
        out.write(b"\xff" * 4096)
    assert "cannot be used" in one_line(run_cli(isolated_env, "--db", str(db_path), "list"))
    done = run_cli(isolated_env, "--db", str(db_path), "restore", str(saved))
    assert done.returncode == 0, done.stderr
    assert titles(db_path) == ["kept"]
    listed = run_cli(isolated_env, "--db", str(db_path), "list")
    assert listed.returncode == 0 and "kept" in listed.stdout
    [before] = [p for p in backup.backups(db_path) if p.name.endswith("-before-restore.db")]
    assert before.read_bytes()[:4096] == b"\xff" * 4096  # the damaged file, kept as it was
