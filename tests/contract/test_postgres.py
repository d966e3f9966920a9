"""The PostgreSQL store on a real server (the session's throwaway cluster, tests/support/pg.py):
isolation enforced by the database, replicas that never lose an update, migrations,
the same answers as SQLite, the server over PostgreSQL, and a polite missing driver."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from support import pg
from support.env import subprocess_env

from mcp_server_todo.errors import InvalidInput, StorageError
from mcp_server_todo.model import Change, Due, DueWindow, ListQuery, Priority, Status, Task, stored
from mcp_server_todo.store import Store, TaskList, WouldBlock, nowait, open_store, sqlite_url
from mcp_server_todo.store.pg_migrations import PG_MIGRATIONS, migrate
from mcp_server_todo.store.pg_search import search_words, ts_query
from mcp_server_todo.store.pg_tx import PostgresTx
from mcp_server_todo.store.postgres import PostgresStore, redact

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

NOW = "2026-11-25T10:00:00.000Z"
OWNER_TABLES = ["changes", "links", "list_undo", "lists", "owners", "shares", "task_counts", "task_tags", "tasks"]


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty schema of the session's cluster, as a URL for an ordinary role."""
    with pg.schema_url(postgres_url) as url:
        yield url


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = open_store(pg_url)
    assert isinstance(store, PostgresStore)
    yield store
    store.close()


def make(task_id: int, title: str = "t", **fields: Any) -> Task:
    fields.setdefault("uid", f"uid-{task_id}")
    return Task(id=task_id, title=title, created_at=fields.pop("created_at", NOW), updated_at=NOW, **fields)


def raw(url: str) -> psycopg.Connection:
    """A plain connection as the app role, outside the store (no owner set)."""
    return psycopg.connect(url, autocommit=True)


# ---- isolation in the database -------------------------------------------------------------


def seed_two_owners(store: Store) -> None:
    for owner in ("alice", "bob"):
        with store.write(owner) as tx:
            task = make(tx.allocate_id(), f"{owner}'s secret", tags=[owner], project=owner)
            tx.put(task)
            tx.log(Change(op="add", task_id=task.id, before=None, after=task))
            tx.put_list(TaskList(f"{owner}-list", f"{owner}'s list", {}, "2026-12-06T10:00:00Z"))
            tx.log_list(1, f"{owner}-list", None)


def test_every_owner_keyed_table_has_forced_row_level_security(pg_store: PostgresStore, pg_url: str) -> None:
    with raw(pg_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
            "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner' "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' ORDER BY 1"
        ).fetchall()
        assert rows == [(table, True, True, 1) for table in OWNER_TABLES]
        role = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
        assert role == (False, False), "the tests connect as an ordinary role, as a deployment should"
        owner = conn.execute("SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'tasks'").fetchone()
        assert owner == (True,), "the app role owns the tables: FORCE is what binds it"


def test_a_connection_that_names_no_owner_sees_and_writes_nothing(pg_store: PostgresStore, pg_url: str) -> None:
    seed_two_owners(pg_store)
    with raw(pg_url) as conn:
        for table in OWNER_TABLES:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO owners (owner, next_id) VALUES ('alice', 1)")
        assert conn.execute("UPDATE owners SET next_id = 1").rowcount == 0
        assert conn.execute("DELETE FROM tasks").rowcount == 0
        # an empty setting (what a transaction-local setting leaves behind) is no owner either
        conn.execute("SELECT set_config('todo.owner', '', false)")
        assert conn.execute("SELECT count(*) FROM tasks").fetchone() == (0,)
    with pg_store.read("alice") as tx:
        assert [t.title for t in tx.query(ListQuery()).items] == ["alice's secret"]


def test_hand_written_sql_in_one_owners_transaction_cannot_reach_another(pg_store: PostgresStore) -> None:
    seed_two_owners(pg_store)
    with pg_store.write("alice") as shared:
        tx = shared
        assert isinstance(tx, PostgresTx)
        conn = tx.conn
        # no owner filter at all: still only alice's rows
        assert conn.execute("SELECT title FROM tasks").fetchall() == [("alice's secret",)]
        assert conn.execute("SELECT owner FROM owners").fetchall() == [("alice",)]
        assert conn.execute("SELECT DISTINCT owner FROM changes").fetchall() == [("alice",)]
        assert conn.execute("SELECT DISTINCT owner FROM task_tags").fetchall() == [("alice",)]
        assert conn.execute("SELECT DISTINCT owner FROM task_counts").fetchall() == [("alice",)]
        assert conn.execute("SELECT owner, name FROM lists").fetchall() == [("alice", "alice's list")]
        assert conn.execute("SELECT DISTINCT owner FROM list_undo").fetchall() == [("alice",)]
        # bob's rows asked for by name: not there, not changeable, not deletable
        assert conn.execute("SELECT * FROM tasks WHERE owner = 'bob'").fetchall() == []
        assert conn.execute("UPDATE tasks SET title = 'pwned' WHERE owner = 'bob'").rowcount == 0
        assert conn.execute("UPDATE owners SET next_id = 1 WHERE owner = 'bob'").rowcount == 0
        assert conn.execute("DELETE FROM changes WHERE owner = 'bob'").rowcount == 0
        assert conn.execute("DELETE FROM task_tags").rowcount == 1, "only alice's own tag row"
        # writing rows for bob, or handing alice's rows to bob, is refused by the policy's check
        for statement in (
            "INSERT INTO tasks (owner, id, uid, title, status, project, created_at, updated_at) "
            "VALUES ('bob', 99, 'x', 'planted', 'pending', 'inbox', 'now', 'now')",
            "UPDATE tasks SET owner = 'bob'",
            "INSERT INTO changes (owner, grp, at, op, task_id) VALUES ('bob', 1, 'now', 'add', 1)",
            "INSERT INTO owners (owner, next_id) VALUES ('mallory', 1)",
        ):
            conn.execute("SAVEPOINT probe")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(statement)
            conn.execute("ROLLBACK TO SAVEPOINT probe")
    with pg_store.read("bob") as tx:
        bobs = tx.query(ListQuery()).items
        assert [(t.title, t.tags) for t in bobs] == [("bob's secret", ["bob"])]
        assert tx.query(ListQuery(tag="bob")).total == 1
        assert len(tx.history(None, 10)) == 1
    with pg_store.write("bob") as tx:
        assert tx.allocate_id() == 2, "bob's counter was not touched"


def test_roles_that_bypass_row_level_security_are_refused(postgres_url: str) -> None:
    (cluster,) = pg.RUNNING
    with pytest.raises(StorageError, match="bypasses row-level security"):
        open_store(cluster.admin_url)


def test_inside_nowait_every_transaction_defers_to_a_worker_thread(pg_store: PostgresStore) -> None:
    with nowait():
        with pytest.raises(WouldBlock), pg_store.write() as tx:
            tx.allocate_id()
        with pytest.raises(WouldBlock), pg_store.read() as tx:
            tx.get(1)
        with pytest.raises(WouldBlock):
            pg_store.user_for_token("x")
    with pg_store.write() as tx:
        assert tx.allocate_id() == 1, "nothing happened inside nowait()"


# ---- replicas ------------------------------------------------------------------------------


def test_two_replicas_never_lose_an_update_nor_reuse_an_id(pg_url: str) -> None:
    replicas = [open_store(pg_url), open_store(pg_url)]  # two pools, as two server processes have
    try:
        with replicas[0].write() as tx:
            tx.put(make(tx.allocate_id(), "counter", notes="0"))
        rounds, workers = 25, 6
        new_ids: list[int] = []
        ids_lock = threading.Lock()
        start = threading.Barrier(workers)

        def work(store: Store) -> None:
            start.wait()
            for _ in range(rounds):
                with store.write() as tx:
                    counter = tx.get(1)
                    assert counter is not None
                    before = stored(counter)
                    after = before.model_copy(update={"notes": str(int(before.notes) + 1)})
                    tx.put(after)
                    tx.log(Change(op="update", task_id=1, before=before, after=after))
                    task_id = tx.allocate_id()
                    tx.put(make(task_id, f"new {task_id}"))
                    tx.log(Change(op="add", task_id=task_id, before=None, after=make(task_id)))
                with ids_lock:
                    new_ids.append(task_id)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, [replicas[i % 2] for i in range(workers)]))

        total = rounds * workers
        with replicas[1].read() as tx:
            counter = tx.get(1)
            assert counter is not None and counter.notes == str(total), "no read-modify-write was lost"
            assert tx.query(ListQuery(limit=1)).total == total + 1
            changes = tx.changes_since(0, 10_000)
        assert sorted(new_ids) == list(range(2, total + 2)), "every id once, none skipped or reused"
        # the log commits in id order per owner: a watcher following changes_since misses nothing
        updates = [c for c in changes if c.op == "update"]
        assert [c.after.notes for c in updates if c.after] == [str(n) for n in range(1, total + 1)]
        groups = [c.group for c in changes]
        assert groups == sorted(groups) and len(set(groups)) == total
    finally:
        for store in replicas:
            store.close()


def test_undo_through_two_replicas_undoes_each_group_once(pg_url: str) -> None:
    from mcp_server_todo.service import TodoService

    stores = [open_store(pg_url), open_store(pg_url)]
    try:
        services = [TodoService(store) for store in stores]
        for n in range(8):
            services[n % 2].add(f"task {n}")
        with ThreadPoolExecutor(4) as pool:
            undone = list(pool.map(lambda i: services[i % 2].undo(), range(8)))
        assert sorted(u[0].task_id for u in undone) == list(range(1, 9)), "each add undone exactly once"
        assert services[0].list_tasks(status="all").total == 0
        assert services[1].add("after").id == 9, "ids stay spent"
    finally:
        for store in stores:
            store.close()


def test_a_dropped_connection_is_replaced_transparently(pg_store: PostgresStore, pg_url: str) -> None:
    with pg_store.write() as tx:
        tx.put(make(tx.allocate_id(), "survives"))
    (cluster,) = pg.RUNNING
    with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = 'todo_app' AND application_name = 'mcp-server-todo'"
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    with pg_store.read() as tx:
        assert [t.title for t in tx.query(ListQuery()).items] == ["survives"]


# ---- migrations ------------------------------------------------------------------------------


def test_migrations_are_recorded_and_idempotent(pg_url: str) -> None:
    for _ in range(2):
        store = open_store(pg_url)
        assert store.schema_version() == PG_MIGRATIONS[-1][0]
        store.close()
    with raw(pg_url) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert rows == [(v, n) for v, n, _ in PG_MIGRATIONS]
        assert migrate(conn) == [], "nothing left to apply"


def test_replicas_starting_at_once_migrate_once(pg_url: str) -> None:
    start = threading.Barrier(4)

    def opening(_: int) -> int:
        start.wait()
        store = open_store(pg_url)
        try:
            return store.schema_version()
        finally:
            store.close()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(opening, range(4))) == [PG_MIGRATIONS[-1][0]] * 4
    with raw(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(PG_MIGRATIONS),)


def test_a_migration_sees_every_owners_rows_and_leaves_them_isolated(pg_url: str) -> None:
    with raw(pg_url) as conn:
        assert migrate(conn, upto=1) == [1]
        for owner, count in (("alice", 3), ("bob", 2)):
            with conn.transaction():
                conn.execute("SELECT set_config('todo.owner', %s, true)", (owner,))
                for i in range(1, count + 1):
                    conn.execute(
                        "INSERT INTO tasks (owner, id, uid, title, status, project, created_at, updated_at) "
                        "VALUES (%s, %s, %s, 'old', %s, 'inbox', %s, %s)",
                        (owner, i, f"u{i}", "done" if i == 1 else "pending", NOW, NOW),
                    )
    store = open_store(pg_url)  # applies 2 (counts, backfilled across owners) and 3
    try:
        with store.read("alice") as tx:
            assert tx.projects() == [("inbox", 2, 1)]
            assert tx.query(ListQuery()).total == 2
        with store.read("bob") as tx:
            assert tx.projects() == [("inbox", 1, 1)]
    finally:
        store.close()
    with raw(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM task_counts").fetchone() == (0,), "forced again after migrating"


def test_a_migration_that_leaves_an_owner_table_open_is_refused(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_server_todo.store import pg_migrations

    leaky = (99, "a table that forgot its policy", ("CREATE TABLE notes (owner text NOT NULL, body text)",))
    monkeypatch.setattr(pg_migrations, "PG_MIGRATIONS", (*PG_MIGRATIONS, leaky))
    with raw(pg_url) as conn:
        with pytest.raises(RuntimeError, match="without forced row-level security: notes"):
            migrate(conn)
        assert conn.execute("SELECT to_regclass('notes')").fetchone() == (None,), "rolled back whole"
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (PG_MIGRATIONS[-1][0],)


# ---- the same answers as SQLite -------------------------------------------------------------------


def _corpus() -> list[Task]:
    dues = [None, "2026-11-20", "2026-11-25", "2026-11-25T08:00+00:00", "2026-11-26T23:30-05:00", "2026-12-01",
            "2026-12-09T09:00+01:00", "2027-03-01", None, "2026-11-24T12:00+09:00"]  # fmt: skip
    titles = ["Renew passport", "Café au lait", "Pay électricité bill", "Résumé update", "call Zoë",
              "e-mail the landlord", "ÆRØ trip", "v2.0 release notes", "naïve test", "über plan"]  # fmt: skip
    statuses = [Status.pending, Status.pending, Status.done, Status.deleted]
    tasks = []
    for i in range(1, 31):
        tasks.append(
            make(
                i,
                f"{titles[i % 10]} {i}",
                notes="photos at the café" if i % 7 == 0 else "",
                status=statuses[i % 4] if i % 5 else Status.pending,
                priority=list(Priority)[i % 4],
                due=dues[i % 10],
                project=["inbox", "work", "Home", "ähm"][i % 4],
                tags=[["x"], [], ["Y", "z"], ["urgent"]][i % 4],
                parent_id=(i - 1) if i % 6 == 0 else None,
                depends_on=[i + 1] if i % 8 == 0 else [],
                created_at=f"2026-{(i % 11) + 1:02d}-0{(i % 9) + 1}T0{i % 10}:00:00.000Z",
            )
        )
    return tasks


def _queries() -> Iterator[ListQuery]:
    now = "2026-11-25T09:30:00Z"
    filters: list[dict[str, Any]] = [
        {},
        {"status": None},
        {"status": Status.done},
        {"project": "work"},
        {"tag": "Y"},
        {"parent_id": 11},
        {"ids": [1, 4, 9, 30, 77]},
        {"ids": []},
        {"due_before": Due("2026-11-25", "2026-11-25", None)},
        {"due_before": Due("2026-11-25T12:00:00Z", "2026-11-25", "2026-11-25T12:00:00Z")},
        {"window": DueWindow("2026-11-25", "2026-11-30", "2026-11-25T00:00:00Z", "2026-12-01T00:00:00Z")},
        {"window": DueWindow(None, "2026-11-24", None, "2026-11-25T00:00:00Z")},
        {"text": "cafe"},
        {"text": "pay bill"},
        {"text": "e-mail"},
        {"text": "aero"},
        {"text": "UBER"},
        {"text": "'; --"},
        {"status": None, "project": "Home", "text": "naive"},
        {"text": "zoe"},
    ]
    for sort in ("created", "due", "priority", "urgency"):
        for extra in filters:
            yield ListQuery(sort=sort, now_utc=now, limit=4, **extra)


def test_every_query_answers_as_sqlite_does(pg_store: PostgresStore, tmp_path: Path) -> None:
    lite = open_store(sqlite_url(tmp_path / "same.db"))
    try:
        for store in (lite, pg_store):
            with store.write() as tx:
                for task in _corpus():
                    tx.put(task)
                tx.put(make(3, "edited title", notes="now about the café"))

        def walk(store: Store, query: ListQuery) -> list[tuple[Any, ...]]:
            pages = []
            with store.read() as tx:
                while True:
                    page = tx.query(query)
                    pages.append(
                        (
                            [(t.id, t.subtasks, t.blocked, round(t.urgency or 0, 3)) for t in page.items],
                            page.total,
                            page.next_after,
                        )
                    )
                    if page.next_after is None:
                        return pages
                    query.after = page.next_after

        checked = 0
        for query in _queries():
            expected = walk(lite, ListQuery(**vars(query)))
            assert walk(pg_store, query) == expected, query
            checked += 1
        assert checked > 70
        for owner_view in ("projects", "tags"):
            with lite.read() as a, pg_store.read() as b:
                assert getattr(b, owner_view)() == getattr(a, owner_view)(), owner_view
    finally:
        lite.close()


def test_a_forged_cursor_is_a_clear_error_not_a_database_one(pg_store: PostgresStore) -> None:
    forged = [("created", ["1"]), ("created", [1, 2]), ("due", [1, 2]), ("priority", [0, "~"]), ("urgency", ["x", 1])]
    with pg_store.read() as tx:
        for sort, after in forged:
            with pytest.raises(InvalidInput, match="cursor is not one this server returned"):
                tx.query(ListQuery(sort=sort, after=after, now_utc="2026-11-25T00:00:00Z"))
        assert tx.query(ListQuery(sort="urgency", after=[-3, 0], now_utc="2026-11-25T00:00:00Z")).items == []


def test_search_words_fold_like_sqlite_and_cannot_inject() -> None:
    assert search_words("Café, RÉSUMÉ; e-mail_x ÆRØ straße") == ["cafe", "resume", "e", "mail", "x", "ærø", "strasse"]
    assert search_words("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"], "marks that spell other scripts stay"
    assert ts_query("it's pay:* | !bill") == "'it':* & 's':* & 'pay':* & 'bill':*"
    assert ts_query("%") is None and ts_query("") is None
    assert max(len(w) for w in search_words("a" * 5000)) == 255


# ---- URLs and the missing driver ------------------------------------------------------------------


def test_urls_in_messages_never_show_the_password() -> None:
    assert redact("postgresql://todo:s3cret@db.example:5432/todo?sslmode=require") == (
        "postgresql://todo:***@db.example:5432/todo?sslmode=require"
    )
    assert redact("postgresql:///todo?host=/tmp/x&password=s3cret") == "postgresql:///todo?host=/tmp/x&password=***"
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL") as caught:
        open_store("postgresql://todo:s3cret@/todo?host=/nonexistent-dir&connect_timeout=2")
    assert "s3cret" not in str(caught.value)


def test_without_psycopg_the_message_says_what_to_install(tmp_path: Path) -> None:
    blocked = "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None; "
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            blocked
            + "from mcp_server_todo.cli.main import main; sys.exit(main(['list', '--db', 'postgresql://u@/x']))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(tmp_path),
        check=False,
    )
    assert probe.returncode != 0
    assert "install mcp-server-todo[postgres]" in probe.stderr, probe.stderr
    assert "Traceback" not in probe.stderr, probe.stderr


# ---- the server over PostgreSQL ----------------------------------------------------------------------


def _server(url: str, home: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server_todo", "serve", "--db", url], env=subprocess_env(home)
    )


@pytest.mark.slow
def test_tutorial_dialog_and_two_servers_over_one_database(pg_url: str, isolated_env: Path) -> None:
    async def dialog() -> None:
        with anyio.fail_after(60):
            async with AsyncExitStack() as stack:
                first = await stack.enter_async_context(Client(_server(pg_url, isolated_env), mode="legacy"))
                second = await stack.enter_async_context(Client(_server(pg_url, isolated_env), mode="legacy"))

                seeded = await first.call_tool("new_item", {"title": "Buy groceries"})
                assert not seeded.is_error, seeded
                groceries_id = seeded.structured_content["items"][0]["id"]
                listed = await second.call_tool("list_items", {})
                assert [t["title"] for t in listed.structured_content["items"]] == ["Buy groceries"]
                added = await second.call_tool("new_item", {"title": "Book a dentist appointment"})
                dentist_id = added.structured_content["items"][0]["id"]
                assert getattr(added.content[0], "text", None) == f"Added #{dentist_id} Book a dentist appointment"
                done = await first.call_tool("complete_item", {"id": groceries_id})
                assert done.structured_content["items"][0]["status"] == "done"
                listed = await first.call_tool("list_items", {})
                items = listed.structured_content["items"]
                assert [(t["id"], t["title"]) for t in items] == [(dentist_id, "Book a dentist appointment")]

                # both servers add at once: every id once
                ids: list[int] = []

                async def add(client: Client, n: int) -> None:
                    for i in range(n):
                        result = await client.call_tool("new_item", {"title": f"parallel {i}"})
                        assert not result.is_error, result
                        ids.append(result.structured_content["items"][0]["id"])

                async with anyio.create_task_group() as group:
                    group.start_soon(add, first, 10)
                    group.start_soon(add, second, 10)
                assert sorted(ids) == list(range(3, 23))

    anyio.run(dialog)
    store = open_store(pg_url)
    try:
        with store.read() as tx:
            every = tx.query(ListQuery(status=None, limit=100)).items
            assert [(t.id, t.title, t.status.value) for t in every[:2]] == [
                (1, "Buy groceries", "done"),
                (2, "Book a dentist appointment", "pending"),
            ]
            assert len(every) == 22
    finally:
        store.close()
