"""The contract every store backend honours, run against SQLite and PostgreSQL, each a real
database (PostgreSQL: the throwaway cluster of tests/support/pg.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcp_server_todo.errors import StorageError
from mcp_server_todo.model import Change, ListQuery, Priority, Status, Task
from mcp_server_todo.store import Store, open_store, sqlite_url
from mcp_server_todo.store.migrations import SQLITE_MIGRATIONS

NOW = "2026-11-25T10:00:00.000Z"


def make(task_id: int, title: str = "t", **fields: object) -> Task:
    fields.setdefault("uid", f"uid-{task_id}")
    return Task(id=task_id, title=title, created_at=NOW, updated_at=NOW, **fields)  # type: ignore[arg-type]


def test_ids_are_per_owner_and_never_reused(backend: Store) -> None:
    with backend.write("alice") as tx:
        assert [tx.allocate_id() for _ in range(3)] == [1, 2, 3]
        tx.put(make(3))
        tx.remove(3)
    with backend.write("bob") as tx:
        assert tx.allocate_id() == 1
    with backend.write("alice") as tx:
        assert tx.allocate_id() == 4


def test_put_get_round_trip_keeps_every_field(backend: Store) -> None:
    task = make(
        1,
        "Ünïcödé 👩‍👩‍👧",
        notes="a\nb",
        status=Status.done,
        priority=Priority.high,
        due="2026-12-24T17:00+01:00",
        project="p",
        tags=["x", "Y"],
        parent_id=7,
        completed_at=NOW,
        reminders=["-PT30M", "PT0S", "2026-12-24T08:00:00Z"],
    )
    with backend.write() as tx:
        tx.put(task)
    with backend.read() as tx:
        got = tx.get(1)
        assert got == task
        assert got is not None and Task.model_validate(got.model_dump()) == got, "a store-built task is a valid Task"
        assert got.model_fields_set == set(Task.model_fields)
        assert tx.get(2) is None
    with backend.read("someone-else") as tx:
        assert tx.get(1) is None


def test_a_failed_transaction_leaves_nothing(backend: Store) -> None:
    with pytest.raises(RuntimeError), backend.write() as tx:
        tx.put(make(tx.allocate_id()))
        tx.log(Change(op="add", task_id=1, before=None, after=make(1)))
        raise RuntimeError("boom")
    with backend.read() as tx:
        assert tx.get(1) is None
        assert tx.history(None, 10) == []
    with backend.write() as tx:
        assert tx.allocate_id() == 1, "the rolled-back id is free again: nothing was acknowledged"


def test_query_filters_and_pages(backend: Store) -> None:
    with backend.write() as tx:
        for i in range(1, 8):
            tx.put(make(i, f"task {i}", project="a" if i % 2 else "b", tags=["odd"] if i % 2 else []))
        tx.put(make(8, "gone", status=Status.deleted))
    with backend.read() as tx:
        page = tx.query(ListQuery(limit=3))
        assert [t.id for t in page.items] == [1, 2, 3] and page.total == 7 and page.next_after == [3]
        page = tx.query(ListQuery(limit=3, after=[6]))
        assert [t.id for t in page.items] == [7] and page.next_after is None
        assert [t.id for t in tx.query(ListQuery(tag="ODD")).items] == [1, 3, 5, 7]
        assert [t.id for t in tx.query(ListQuery(project="b")).items] == [2, 4, 6]
        assert [t.id for t in tx.query(ListQuery(status=Status.deleted)).items] == [8]
        assert tx.query(ListQuery(status=None)).total == 8
        assert [t.id for t in tx.query(ListQuery(text="TASK 5")).items] == [5]
        assert tx.query(ListQuery(text="%")).total == 0


def test_change_log_groups_per_transaction(backend: Store) -> None:
    with backend.write() as tx:
        tx.log(Change(op="add", task_id=1, before=None, after=make(1)))
        tx.log(Change(op="add", task_id=2, before=None, after=make(2)))
    with backend.write() as tx:
        tx.log(Change(op="update", task_id=1, before=make(1), after=make(1, "new")))
    with backend.write() as tx:
        last = tx.last_group()
        assert [(c.op, c.task_id) for c in last] == [("update", 1)]
        assert last[0].after == make(1, "new")
        tx.mark_undone(last[0].group)
    with backend.read() as tx:
        group = tx.last_group()
        assert [(c.op, c.task_id) for c in group] == [("add", 1), ("add", 2)]
        assert len({c.group for c in group}) == 1
        assert [c.op for c in tx.history(1, 10)] == ["update", "add"]


def test_migrations_are_recorded_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    open_store(sqlite_url(path)).close()
    store = open_store(sqlite_url(path))
    assert store.schema_version() == SQLITE_MIGRATIONS[-1][0]
    store.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
        assert rows == [(v, n) for v, n, _ in SQLITE_MIGRATIONS]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot be used"):
        open_store(sqlite_url(path))
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_totals_stay_exact_through_every_kind_of_write(backend: Store) -> None:
    with backend.write() as tx:
        for i in range(1, 11):
            tx.put(make(tx.allocate_id(), f"t{i}", project="a" if i <= 5 else "b"))
    with backend.write() as tx:
        tx.put(make(1, "t1", project="b"))  # move
        tx.put(make(2, "t2", project="a", status=Status.done))  # complete
        tx.put(make(3, "t3!", project="a"))  # edit, no count change
        tx.remove(4)
        tx.remove(99)  # nothing there
    with backend.read() as tx:
        every = tx.query(ListQuery(status=None, limit=500)).items

        def real(status: Status | None, project: str | None) -> int:
            return sum(
                1 for t in every if (status is None or t.status is status) and (project is None or t.project == project)
            )

        for status in (None, Status.pending, Status.done, Status.deleted):
            for project in (None, "a", "b", "c"):
                page = tx.query(ListQuery(status=status, project=project, limit=1))
                assert page.total == real(status, project), (status, project)
        assert tx.query(ListQuery(status=Status.pending, project="a")).total == 2


def test_sorts_page_with_stable_keys(backend: Store) -> None:
    dues = [None, "2026-12-03", "2026-12-01T10:00+00:00", "2026-12-01", None, "2026-11-01"]
    ranks = [Priority.low, Priority.high, Priority.none, Priority.high, Priority.medium, Priority.none]
    with backend.write() as tx:
        for i, (due, rank) in enumerate(zip(dues, ranks, strict=True), start=1):
            tx.put(make(i, f"t{i}", due=due, priority=rank))

    def walk(sort: str, size: int) -> list[int]:
        seen: list[int] = []
        after = None
        with backend.read() as tx:
            while True:
                page = tx.query(ListQuery(sort=sort, limit=size, after=after, now_utc="2026-11-25T00:00:00Z"))
                seen += [t.id for t in page.items]
                if page.next_after is None:
                    return seen
                after = page.next_after

    # due: earliest first (a floating date counts as the end of its day), no due date last, ties by id
    assert walk("due", 2) == [6, 3, 4, 2, 1, 5]
    assert walk("priority", 4) == [4, 2, 5, 1, 6, 3]
    for size in (1, 2, 6):
        assert sorted(walk("urgency", size)) == [1, 2, 3, 4, 5, 6]
        assert walk("urgency", size) == walk("urgency", 6), "paging never skips or repeats"
    with backend.read() as tx:
        scored = tx.query(ListQuery(sort="urgency", now_utc="2026-11-25T00:00:00Z")).items
    assert scored[0].id == 6 and scored[0].urgency is not None, "the overdue task comes first"
    assert [t.urgency for t in scored] == sorted((t.urgency or 0.0 for t in scored), reverse=True)


def test_full_text_search_matches_words_and_prefixes(backend: Store) -> None:
    with backend.write() as tx:
        tx.put(make(1, "Renew passport", notes="photos at the café"))
        tx.put(make(2, "Pay electricity bill"))
        tx.put(make(3, "Résumé update"))
    with backend.write() as tx:
        tx.put(make(2, "Pay water bill"))  # the index follows edits
    with backend.read() as tx:

        def ids(text: str) -> list[int]:
            return [t.id for t in tx.query(ListQuery(text=text)).items]

        assert ids("passport") == [1]
        assert ids("pass") == [1]
        assert ids("cafe") == [1], "diacritics fold"
        assert ids("resume") == [3]
        assert ids("bill") == [2]
        assert ids("electricity") == []
        assert ids("pay bill") == [2]
        assert ids('"; DROP TABLE tasks; --') == []
        assert ids("%") == []


def test_subtask_counts_and_blocking_are_computed(backend: Store) -> None:
    with backend.write() as tx:
        tx.put(make(1, "parent"))
        tx.put(make(2, "child a", parent_id=1))
        tx.put(make(3, "child b", parent_id=1, status=Status.done))
        tx.put(make(4, "waits", depends_on=[5]))
        tx.put(make(5, "first"))
    with backend.read() as tx:
        got = {t.id: (t.subtasks, t.blocked) for t in tx.query(ListQuery(status=None)).items}
        assert got == {1: (1, True), 2: (0, False), 3: (0, False), 4: (0, True), 5: (0, False)}
        assert tx.projects() == [("inbox", 4, 1)]
    with backend.write() as tx:
        tx.put(make(5, "first", status=Status.done))
        tx.put(make(2, "child a", parent_id=1, status=Status.done))
    with backend.read() as tx:
        got = {t.id: (t.subtasks, t.blocked) for t in tx.query(ListQuery(status=None)).items}
        assert got[1] == (0, False) and got[4] == (0, False)


def test_changes_since_feed_watchers(backend: Store) -> None:
    with backend.write() as tx:
        tx.log(Change(op="add", task_id=1, before=None, after=make(1)))
    with backend.read() as tx:
        mark = tx.last_change_id()
    with backend.write() as tx:
        tx.log(Change(op="update", task_id=1, before=make(1), after=make(1, "x")))
        tx.log(Change(op="add", task_id=2, before=None, after=make(2)))
    with backend.read() as tx:
        assert [(c.op, c.task_id) for c in tx.changes_since(mark, 10)] == [("update", 1), ("add", 2)]
        assert tx.changes_since(tx.last_change_id(), 10) == []
    with backend.read("someone-else") as tx:
        assert tx.changes_since(0, 10) == []


def test_uids_identify_tasks_across_imports(backend: Store) -> None:
    with backend.write() as tx:
        tx.put(make(1, "a", uid="0f3c"))
        tx.put(Task(id=2, title="no uid given", created_at=NOW, updated_at=NOW))
        tx.reserve_ids(40)
        assert tx.allocate_id() == 41, "an import that keeps its ids pushes the counter past them"
        tx.reserve_ids(5)
        assert tx.allocate_id() == 42, "never backwards"
    with backend.read() as tx:
        found = tx.get_by_uid("0f3c")
        assert found is not None and found.id == 1
        assert tx.get_by_uid("nope") is None
        second = tx.get(2)
        assert second is not None and second.uid, "the store gives every task a uid"
    with backend.read("someone-else") as tx:
        assert tx.get_by_uid("0f3c") is None


def test_api_tokens_are_stored_as_hashes_and_revocable(backend: Store) -> None:
    first = backend.add_token("alice", "hash-a", "laptop", NOW)
    second = backend.add_token("bob", "hash-b", "", NOW)
    assert backend.user_for_token("hash-a") == "alice" and backend.user_for_token("hash-b") == "bob"
    assert backend.user_for_token("nope") is None
    assert backend.revoke_token(first) is True
    assert backend.revoke_token(first) is False, "already revoked"
    assert backend.revoke_token(999) is False
    assert backend.user_for_token("hash-a") is None
    assert [(t.id, t.user, t.label, t.revoked) for t in backend.tokens()] == [
        (first, "alice", "laptop", True),
        (second, "bob", "", False),
    ]


def test_bulk_inserts_are_searchable_and_leave_the_store_as_before(backend: Store) -> None:
    with backend.write() as tx:
        put_many = getattr(tx, "put_many", None)
        bulk = [make(i, f"imported chore {i}", tags=["bulk"]) for i in range(1, 121)]
        if put_many is not None:
            put_many(bulk)
        else:
            for task in bulk:
                tx.put(task)
    with backend.write() as tx:
        tx.put(make(500, "added later"))  # the per-row index still works after a bulk insert
    with pytest.raises(RuntimeError), backend.write() as tx:
        if (put_many := getattr(tx, "put_many", None)) is not None:
            put_many([make(i, f"doomed {i}") for i in range(600, 700)])
        raise RuntimeError("the import failed half-way")
    with backend.write() as tx:
        tx.put(make(501, "after the failed import"))
    with backend.read() as tx:
        assert tx.query(ListQuery(text="imported chore", limit=500)).total == 120
        assert tx.query(ListQuery(tag="bulk", limit=500)).total == 120
        assert [t.id for t in tx.query(ListQuery(text="later")).items] == [500]
        assert [t.id for t in tx.query(ListQuery(text="failed")).items] == [501]
        assert tx.query(ListQuery(text="doomed")).total == 0
        assert tx.query(ListQuery(limit=1)).total == 122


def test_health_is_a_list_of_checks_all_ok_on_a_sound_store(backend: Store) -> None:
    from mcp_server_todo.store.health import OK, Check

    with backend.write() as tx:
        tx.put(make(tx.allocate_id()))
    checks = backend.health()
    assert checks and all(isinstance(check, Check) for check in checks)
    assert [check.level for check in checks] == [OK] * len(checks), checks
    names = [check.name for check in checks]
    assert names[0] == "store schema" and "backups" in names and names[-1] in ("tasks", "backups")
    (tasks,) = [check for check in checks if check.name == "tasks"]
    assert tasks.detail.startswith("1 pending"), tasks


def test_descendants_are_every_level_in_one_call_past_any_page_size(backend: Store) -> None:
    """A parent with 1,200 children (more than a page of 500) and a grandchild under each of the
    first 300: all 1,500 come back, by id; a `limit` cuts the list; other owners' rows stay out."""
    children = [make(i, parent_id=1) for i in range(2, 1202)]
    grandchildren = [make(2000 + i, parent_id=i) for i in range(2, 302)]
    with backend.write("alice") as tx:
        tx.put(make(1, "parent"))
        tx.put_many([*children, *grandchildren])
    with backend.write("bob") as tx:
        tx.put(make(1, "bob's parent"))
        tx.put(make(2, "bob's child", parent_id=1))
    with backend.read("alice") as tx:
        found = tx.descendants(1, 10_000)
        assert [t.id for t in found] == sorted([t.id for t in children] + [t.id for t in grandchildren])
        assert [t.id for t in tx.descendants(1, 10)] == list(range(2, 12))
        assert [t.id for t in tx.descendants(2, 10)] == [2002]
        assert tx.descendants(1201, 10) == []
    with backend.read("bob") as tx:
        assert [t.id for t in tx.descendants(1, 10)] == [2]


def test_reminders_round_trip_through_every_write_and_read_path(backend: Store) -> None:
    bulk = [make(i, f"r{i}", due="2026-12-24", reminders=["-P1D"] if i % 2 else []) for i in range(1, 61)]
    with backend.write() as tx:
        tx.put_many(bulk)
    with backend.write() as tx:
        tx.put(make(1, "r1", due="2026-12-24", reminders=["-PT2H", "2026-12-23T09:00:00Z"]))
        tx.put(make(3, "r3", due="2026-12-24", reminders=[]))
    with backend.read() as tx:
        page = tx.query(ListQuery(sort="due", limit=500))
        assert tx.get(1) is not None and tx.get(1).reminders == ["-PT2H", "2026-12-23T09:00:00Z"]  # type: ignore[union-attr]
        assert tx.get(3) is not None and tx.get(3).reminders == []  # type: ignore[union-attr]
        by_id = {t.id: t.reminders for t in page.items}
    assert by_id[5] == ["-P1D"] and by_id[2] == [] and len(by_id) == 60


def test_caldav_columns_round_trip_the_store_and_the_change_log(backend: Store) -> None:
    """A client's VTODO and resource name are stored, found by name and kept in the change log
    (so undo restores them), and a change says the way it came in."""
    vtodo = "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:A\r\nX-APPLE-SORT-ORDER:3\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    phone = make(1, "from the phone", ical=vtodo, href="0F1E-ABC.ics")
    bulk = [make(i, f"b{i}", ical=vtodo if i == 60 else None, href=f"n{i}.ics") for i in range(2, 61)]
    with backend.write() as tx:
        tx.put(phone)
        tx.put_many(bulk)
        tx.put(make(70, "same name, other list", project="other", href="0F1E-ABC.ics"))
        tx.log(Change(op="add", task_id=1, before=None, after=phone, at=NOW, via="caldav"))
        tx.log(Change(op="add", task_id=2, before=None, after=bulk[0], at=NOW))
    with backend.read() as tx:
        got = tx.get(1)
        assert got == phone and got is not None and (got.ical, got.href) == (vtodo, "0F1E-ABC.ics")
        assert [t.id for t in tx.get_by_href("0F1E-ABC.ics")] == [1, 70]
        assert tx.get_by_href("nowhere.ics") == []
        assert tx.get(60) is not None and tx.get(60).ical == vtodo  # type: ignore[union-attr]
        assert tx.get(2) is not None and tx.get(2).ical is None  # type: ignore[union-attr]
        first, second = tx.changes_since(0, 10)
        assert first.via == "caldav" and second.via is None
        assert first.after is not None and (first.after.ical, first.after.href) == (vtodo, "0F1E-ABC.ics")
        assert [c.via for c in tx.history(None, 10)] == [None, "caldav"]
    assert "ical" not in got.model_dump() and "href" not in got.model_dump(), "never in what MCP clients see"


def test_a_due_window_holds_exactly_the_tasks_due_within_it(backend: Store) -> None:
    from mcp_server_todo.model import DueWindow

    # the 25th in a zone at UTC-8: floating dates by day, date-times by instant (half-open)
    window = DueWindow("2026-11-25", "2026-11-25", "2026-11-25T08:00:00Z", "2026-11-26T08:00:00Z")
    dues = {
        1: "2026-11-24",
        2: "2026-11-25",
        3: "2026-11-26",
        4: "2026-11-25T07:59:59+00:00",
        5: "2026-11-25T08:00:00+00:00",
        6: "2026-11-26T07:59:59+00:00",
        7: "2026-11-26T08:00:00+00:00",
        8: "2026-11-25T23:00:00-08:00",  # 07:00Z on the 26th
        9: None,
    }
    with backend.write() as tx:
        for task_id, due in dues.items():
            tx.put(make(task_id, f"t{task_id}", due=due))
    with backend.read() as tx:
        page = tx.query(ListQuery(window=window, limit=2, now_utc=NOW))
        rest = tx.query(ListQuery(window=window, limit=2, after=page.next_after, now_utc=NOW))
        whole = tx.query(ListQuery(window=window, sort="due", now_utc=NOW))
    assert page.total == 4 and [t.id for t in page.items + rest.items] == [2, 5, 6, 8]
    assert [t.id for t in whole.items] == [5, 2, 8, 6], "earliest first: a floating date counts as its day's end"
