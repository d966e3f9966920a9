"""Storage faults, reproduced for real (issue 11, point 8): a full disk (a tiny tmpfs, and SQLite's
own page limit), a read-only file and a read-only mount, a damaged page. Each gets one line
that says what happened and what to do: a tool error over MCP (both protocol generations),
one line and a non-zero exit from the CLI (no traceback), /healthz 503 with the reason, a FAIL
from doctor. Reads keep working wherever SQLite can still read."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from support.env import MODES
from support.faultkit import damage_tasks_page, fill, one_line, read_only_file, remount_read_only, run_cli, tmpfs
from support.mcp import text

from mcp_server_todo.config import Config
from mcp_server_todo.errors import StoreDamaged, StoreFull, StoreReadOnly
from mcp_server_todo.server import build_server
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import faults, open_store, sqlite_url

pytestmark = pytest.mark.timeout(120)


def seeded(home: Path, db: Path, *titles: str) -> None:
    for title in titles:
        done = run_cli(home, "--db", str(db), "add", title)
        assert done.returncode == 0, done.stderr


def full_message(db: Path) -> str:
    return f"the disk holding {db} is full; nothing was saved. Free some space, then try again"


# ---- the translation itself (SQLite's real errors) ---------------------------------------------


def test_sqlites_page_limit_is_a_one_line_store_full(tmp_path: Path) -> None:
    db = tmp_path / "todo.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(StoreFull) as caught, faults.translated(db):
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 20_000,))
    conn.close()
    assert str(caught.value) == (
        f"the task database {db} cannot grow (database or disk is full: a quota or size limit); "
        "nothing was saved. Free space or raise the limit, then try again"
    )
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)


def test_other_sqlite_errors_pass_through(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    with pytest.raises(sqlite3.OperationalError, match="no such table"), faults.translated(tmp_path / "x.db"):
        conn.execute("SELECT * FROM nowhere")
    conn.close()


# ---- disk full ---------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_disk_full_over_mcp_is_one_line_and_reads_keep_working(
    tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with tmpfs(tmp_path / "disk") as disk:
        db = disk / "todo.db"
        async with Client(build_server(Config.resolve(str(db), "UTC")), mode=mode) as client:
            assert not (await client.call_tool("new_item", {"title": "first"})).is_error
            fill(disk)
            failed = await client.call_tool("new_item", {"title": "second", "notes": "n" * 9000})
            assert failed.is_error
            assert text(failed) == full_message(db)
            listed = await client.call_tool("list_items", {})
            assert not listed.is_error and "first" in text(listed) and "second" not in text(listed)
    assert not [record for record in caplog.records if record.exc_info], "no traceback at the default level"


@pytest.mark.slow
def test_disk_full_from_the_cli_and_doctor(tmp_path: Path, isolated_env: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        db = disk / "todo.db"
        seeded(isolated_env, db, "first")
        fill(disk)
        assert one_line(run_cli(isolated_env, "--db", str(db), "add", "--notes", "n" * 9000, "second")) == (
            f"mcp-server-todo: {full_message(db)}"
        )
        listed = run_cli(isolated_env, "--db", str(db), "list")
        assert listed.returncode == 0 and "first" in listed.stdout, listed.stderr  # a fresh process reads too
        doctor = run_cli(isolated_env, "doctor", "--db", str(db))
        assert doctor.returncode == 1
        assert f"FAIL  store writable: the disk holding {db} is full (0 KiB free)" in doctor.stdout, doctor.stdout
        assert "Traceback" not in doctor.stdout + doctor.stderr


# ---- read-only ----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_read_only_file_over_mcp(db_path: Path, isolated_env: Path, mode: str) -> None:
    seeded(isolated_env, db_path, "first")
    with read_only_file(db_path):
        async with Client(build_server(Config.resolve(str(db_path), "UTC")), mode=mode) as client:
            failed = await client.call_tool("new_item", {"title": "second"})
            assert failed.is_error
            assert text(failed).startswith(f"the file {db_path} is read-only; nothing was saved (reading still works)")
            listed = await client.call_tool("list_items", {})
            assert not listed.is_error and "first" in text(listed)


@pytest.mark.slow
def test_read_only_file_from_the_cli_and_doctor(db_path: Path, isolated_env: Path) -> None:
    seeded(isolated_env, db_path, "first")
    with read_only_file(db_path):
        line = one_line(run_cli(isolated_env, "--db", str(db_path), "add", "second"))
        assert line == (
            f"mcp-server-todo: the file {db_path} is read-only; nothing was saved (reading still works). "
            "Make it writable, or choose another --db"
        )
        listed = run_cli(isolated_env, "--db", str(db_path), "list")
        assert listed.returncode == 0 and "first" in listed.stdout
        doctor = run_cli(isolated_env, "doctor", "--db", str(db_path))
        assert doctor.returncode == 1 and f"FAIL  store writable: the file {db_path} is read-only" in doctor.stdout


@pytest.mark.slow
def test_read_only_folder_still_reads(tmp_path: Path, isolated_env: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "todo.db"
    seeded(isolated_env, db, "first")  # closed cleanly: no -wal or -shm left, none can be made now
    with read_only_file(folder):
        line = one_line(run_cli(isolated_env, "--db", str(db), "add", "second"))
        assert line.startswith(f"mcp-server-todo: the folder {folder} is read-only; nothing was saved")
        listed = run_cli(isolated_env, "--db", str(db), "list")
        assert listed.returncode == 0 and "first" in listed.stdout, listed.stderr
        doctor = run_cli(isolated_env, "doctor", "--db", str(db))
        assert doctor.returncode == 1 and f"FAIL  store writable: the folder {folder} is read-only" in doctor.stdout


def test_a_server_opened_read_only_says_to_restart_once_the_folder_is_writable(
    tmp_path: Path, isolated_env: Path
) -> None:
    """A process that opened the file while its folder was read-only keeps a read-only
    connection: once the folder takes writes again, the answer says to restart (before: "make
    it writable", which it already was)."""
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "todo.db"
    seeded(isolated_env, db, "first")
    with read_only_file(folder):
        store = open_store(sqlite_url(db))
    try:
        service = TodoService(store)
        assert [t.title for t in service.list_tasks().items] == ["first"]
        with pytest.raises(StoreReadOnly, match="It is writable now: restart this server"):
            service.add("second")
    finally:
        store.close()


@pytest.mark.slow
def test_read_only_mount_still_reads(tmp_path: Path, isolated_env: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        db = disk / "todo.db"
        seeded(isolated_env, db, "first")
        remount_read_only(disk)
        line = one_line(run_cli(isolated_env, "--db", str(db), "add", "second"))
        assert line.startswith(f"mcp-server-todo: the disk holding {db} is mounted read-only; nothing was saved")
        listed = run_cli(isolated_env, "--db", str(db), "list")
        assert listed.returncode == 0 and "first" in listed.stdout, listed.stderr
        assert listed.stderr == ""
        doctor = run_cli(isolated_env, "doctor", "--db", str(db))
        assert doctor.returncode == 1
        assert f"FAIL  store writable: the disk holding {db} is mounted read-only" in doctor.stdout


# ---- a damaged page -----------------------------------------------------------------------------


def many(home: Path, db: Path, count: int = 300) -> None:
    lines = "".join(f"task number {i} with enough words to fill a few pages\n" for i in range(count))
    done = run_cli(home, "--db", str(db), "import", "-f", "todotxt", "-", stdin=lines)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_damaged_page_from_the_cli_doctor_and_restore(db_path: Path, isolated_env: Path) -> None:
    many(isolated_env, db_path)
    saved = run_cli(isolated_env, "--db", str(db_path), "backup")
    assert saved.returncode == 0
    backup = Path(saved.stdout.strip())
    damage_tasks_page(db_path)

    line = one_line(run_cli(isolated_env, "--db", str(db_path), "list"))
    damaged = f"the task database {db_path} is damaged (database disk image is malformed)"
    assert line.startswith(f"mcp-server-todo: {damaged}")
    assert f"`mcp-server-todo restore {backup}`" in line

    doctor = run_cli(isolated_env, "doctor", "--db", str(db_path))
    assert doctor.returncode == 1 and "FAIL  store integrity" in doctor.stdout
    assert f"stop every client, then run: mcp-server-todo restore {backup}" in doctor.stdout

    restored = run_cli(isolated_env, "--db", str(db_path), "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.strip() == f"Restored {db_path} from {backup} (300 tasks)."
    listed = run_cli(isolated_env, "--db", str(db_path), "list", "--limit", "500")
    assert listed.returncode == 0 and listed.stdout.count("task number") == 300
    doctor = run_cli(isolated_env, "doctor", "--db", str(db_path))
    assert "OK    store integrity: quick_check ok" in doctor.stdout
    [before] = (db_path.parent / "backups").glob("*-before-restore.db")  # the damaged one, kept
    assert before.stat().st_size > 0


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_damaged_page_over_mcp(db_path: Path, isolated_env: Path, mode: str) -> None:
    many(isolated_env, db_path)
    damage_tasks_page(db_path)
    async with Client(build_server(Config.resolve(str(db_path), "UTC")), mode=mode) as client:
        listed = await client.call_tool("list_items", {"limit": 500})
        assert listed.is_error
        assert text(listed).startswith(f"the task database {db_path} is damaged (database disk image is malformed)")
        assert "mcp-server-todo restore" in text(listed) or "restore a backup" in text(listed)
        with pytest.raises(MCPError) as caught:
            await client.read_resource("todo://tasks/pending")
        assert str(caught.value.error.message).startswith(f"the task database {db_path} is damaged")


def test_damage_is_a_store_damaged(db_path: Path, isolated_env: Path) -> None:
    from mcp_server_todo.service import TodoService
    from mcp_server_todo.store import open_store, sqlite_url

    many(isolated_env, db_path, 200)
    damage_tasks_page(db_path)
    store = open_store(sqlite_url(db_path))
    try:
        with pytest.raises(StoreDamaged):
            TodoService(store).list_tasks(limit=500)
        assert isinstance(faults.recent_fault(str(db_path)), StoreDamaged)  # /healthz reports it
    finally:
        store.close()
        faults.forget(str(db_path))


# ---- /healthz ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_healthz_is_503_with_the_reason(tmp_path: Path, isolated_env: Path) -> None:
    from support.http import http_server

    with tmpfs(tmp_path / "disk", "2m") as disk:
        db = disk / "todo.db"
        seeded(isolated_env, db, "first")
        with http_server(db, isolated_env) as server:
            assert httpx2.get(server.base + "/healthz").json() == {"status": "ok"}
            with read_only_file(db):
                reply = httpx2.get(server.base + "/healthz")
                assert reply.status_code == 503
                assert reply.json()["reason"].startswith(f"the file {db} is read-only; changes cannot be saved")
            assert httpx2.get(server.base + "/healthz").status_code == 200
            fill(disk)
            reply = httpx2.get(server.base + "/healthz")
            assert reply.status_code == 503
            assert reply.json() == {
                "status": "unavailable",
                "reason": f"the disk holding {db} is full (0 KiB free); free some space",
            }
            (disk / "filler").unlink()
            assert httpx2.get(server.base + "/healthz").status_code == 200
            assert "Traceback" not in server.stderr()


def test_a_remembered_write_fault_makes_health_report_it(db_path: Path) -> None:
    from mcp_server_todo.store import open_store, sqlite_url

    store = open_store(sqlite_url(db_path))
    try:
        assert faults.problem(store) is None
        fault = faults.translate(sqlite3.OperationalError("attempt to write a readonly database"), db_path)
        assert isinstance(fault, StoreReadOnly)
        assert faults.problem(store) == str(fault)
        with store.write() as tx:  # a write that succeeds clears it
            tx.reserve_ids(5)
        assert faults.problem(store) is None
    finally:
        store.close()


# ---- PostgreSQL ---------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_read_only_is_one_line_and_reads_keep_working(postgres_url: str, isolated_env: Path) -> None:
    import uuid

    import psycopg
    from support import pg

    from mcp_server_todo.service import TodoService
    from mcp_server_todo.store import open_store

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        writable = pg.with_options(postgres_url, search_path=schema)
        store = open_store(writable)
        TodoService(store).add("first")
        store.close()
        # what a hot standby, or a database set read-only, answers: SQLSTATE 25006
        read_only = pg.with_options(postgres_url, search_path=schema, default_transaction_read_only="on")
        store = open_store(read_only)
        try:
            with pytest.raises(StoreReadOnly) as caught:
                TodoService(store).add("second")
            assert str(caught.value).startswith("the PostgreSQL database postgresql://")
            assert "is read-only (a standby, or default_transaction_read_only); nothing was saved" in str(caught.value)
            assert [t.title for t in TodoService(store).list_tasks().items] == ["first"]
        finally:
            store.close()
        line = one_line(run_cli(isolated_env, "--db", read_only, "add", "second"))
        assert "is read-only" in line and "Point --db at the primary" in line
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.slow
@pytest.mark.parametrize("transport", [[], ["--http", "--port", "0"]], ids=["stdio", "http"])
def test_a_server_on_a_file_that_is_not_a_database_says_so_in_one_line(
    tmp_path: Path, isolated_env: Path, transport: list[str]
) -> None:
    junk = tmp_path / "todo.db"
    junk.write_bytes(b"not a database" * 300)
    hello = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    hello += '"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
    line = one_line(run_cli(isolated_env, "serve", "--db", str(junk), *transport, stdin=hello))
    assert line.startswith(f"mcp-server-todo: {junk} cannot be used: it is not a task database")
    assert junk.read_bytes() == b"not a database" * 300


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_disk_full_is_one_line(postgres_url: str) -> None:
    """The tables in a tablespace on a tiny tmpfs: PostgreSQL's own "could not extend file" (53100)."""
    import os
    import pwd
    import random
    import string
    import tempfile
    import uuid

    import psycopg
    from support import pg

    from mcp_server_todo.service import TodoService
    from mcp_server_todo.store import open_store

    (cluster,) = pg.RUNNING
    if os.geteuid() != 0:
        pytest.skip("a tablespace on a tiny tmpfs needs root to mount it (CI runs as root)")
    owner = pwd.getpwnam(cluster.run_as).pw_uid if cluster.run_as else os.geteuid()
    name = f"t_{uuid.uuid4().hex[:12]}"
    disk = Path(tempfile.mkdtemp(prefix="todo-tablespace-"))  # pytest's tmp_path is root's only
    disk.chmod(0o755)
    with tmpfs(disk, f"1m,uid={owner},mode=700"):
        with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
            admin.execute(f"CREATE TABLESPACE {name} LOCATION '{disk}'")
            admin.execute(f"GRANT CREATE ON TABLESPACE {name} TO {pg.APP_ROLE}")
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        store = open_store(pg.with_options(postgres_url, search_path=name, default_tablespace=name))
        try:
            service = TodoService(store)
            service.add("first")
            noise = random.Random(7)
            with pytest.raises(StoreFull) as caught:
                for _ in range(2000):  # about 1 MB of incompressible notes fills the tablespace
                    service.add("more", notes="".join(noise.choices(string.ascii_letters, k=9000)))
            assert str(caught.value).startswith("the PostgreSQL server of postgresql://")
            assert str(caught.value).endswith(
                "has run out of disk space; nothing was saved. Free space on the database server, then try again"
            )
            assert service.list_tasks(limit=1).items[0].title == "first"  # reads keep working
        finally:
            store.close()
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {name} CASCADE")
            with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
                admin.execute(f"DROP TABLESPACE {name}")
    disk.rmdir()


@pytest.mark.slow
def test_a_store_opened_on_a_read_only_mount_does_not_keep_serving_a_stale_snapshot(
    tmp_path: Path, isolated_env: Path
) -> None:
    """Where SQLite can only read the file as immutable (no -shm can be made), such a read
    connection sees the file as it was when opened, forever: it must not be kept for the next
    reads, or what another process writes later (here after the mount is made writable again)
    is never seen (before: the pooled reader kept answering "first" only)."""
    from mcp_server_todo.service import TodoService
    from mcp_server_todo.store import open_store, sqlite_url

    with tmpfs(tmp_path / "disk", "4m") as disk:
        db = disk / "todo.db"
        seeded(isolated_env, db, "first")
        remount_read_only(disk)
        store = open_store(sqlite_url(db))
        try:
            service = TodoService(store)
            assert [t.title for t in service.list_tasks().items] == ["first"]
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True, capture_output=True)
            seeded(isolated_env, db, "second")  # another process writes
            assert [t.title for t in service.list_tasks().items] == ["first", "second"]
        finally:
            store.close()
