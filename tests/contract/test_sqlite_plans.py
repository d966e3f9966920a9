"""Query plans of the SQLite store: the common listings must use indexes, never scan every
task (a scan is invisible with 10 tasks and costs a second with 100,000)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mcp_server_todo.model import DueWindow, ListQuery, Status
from mcp_server_todo.store import sqlite_url
from mcp_server_todo.store.sqlite import SQLiteStore


class _Recorder:
    """Stands in for the connection inside one transaction and records every statement."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, Any]] = []

    def execute(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        self.statements.append((sql, args))
        return self.conn.execute(sql, args)


def plans(tmp_path: Path, query: ListQuery) -> list[str]:
    store = SQLiteStore(Path(sqlite_url(tmp_path / "plans.db").removeprefix("sqlite://")))
    try:
        conn = store._conn
        with store.read() as tx:
            recorder = _Recorder(conn)
            tx._conn = recorder  # type: ignore[assignment]
            tx.query(query)
        found = []
        for sql, args in recorder.statements:
            found += [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
        return found
    finally:
        store.close()


@pytest.mark.parametrize(
    "query",
    [
        ListQuery(),
        ListQuery(project="work"),
        ListQuery(status=Status.done),
        ListQuery(after=[40]),
        ListQuery(window=DueWindow("2026-11-25", "2026-11-25", "2026-11-25T08:00:00Z", "2026-11-26T08:00:00Z")),
        ListQuery(tag="errand"),
        ListQuery(text="groceries"),
        ListQuery(parent_id=5),
    ],
    ids=["pending", "project", "done", "next-page", "due-window", "tag", "text", "subtasks"],
)
def test_listings_never_scan_all_tasks(tmp_path: Path, query: ListQuery) -> None:
    query.now_utc = "2026-11-25T10:00:00Z"
    steps = plans(tmp_path, query)
    scans = [step for step in steps if step.split()[:2] in (["SCAN", "t"], ["SCAN", "x"], ["SCAN", "c"])]
    assert not scans, steps
    # a dependency is looked up by its id, once per id in depends_on; never by walking the
    # pending tasks once per listed task
    dependency_lookups = [step for step in steps if step.startswith("SEARCH x")]
    assert dependency_lookups and all("id=?" in step for step in dependency_lookups), steps


def test_a_caldav_resource_name_is_found_through_its_index(tmp_path: Path) -> None:
    from mcp_server_todo.store import queries
    from mcp_server_todo.store.sqlite_sql import SELECT

    store = SQLiteStore(Path(sqlite_url(tmp_path / "plans.db").removeprefix("sqlite://")))
    try:
        sql = "EXPLAIN QUERY PLAN " + queries.BY_HREF.format(select=SELECT)
        steps = [str(row[3]) for row in store._conn.execute(sql, ("local", "A.ics"))]
    finally:
        store.close()
    assert any("tasks_by_href" in step for step in steps), steps
    assert not [step for step in steps if step.split()[:2] == ["SCAN", "t"]], steps


@pytest.mark.parametrize("after", [None, ["2026-12-01T00:00:00Z", 40]], ids=["first-page", "next-page"])
def test_a_page_in_due_order_is_read_from_its_index_not_sorted(tmp_path: Path, after: list[Any] | None) -> None:
    # sorting every pending task for each page of 50 took 60 ms at 100,000 tasks
    steps = plans(tmp_path, ListQuery(sort="due", after=after, now_utc="2026-11-25T10:00:00Z"))
    listing = [step for step in steps if step.startswith(("SEARCH t", "SCAN t", "USE TEMP"))]
    assert any("tasks_by_due" in step for step in listing), steps
    assert not [step for step in listing if "TEMP B-TREE" in step], steps
    if after is not None:
        assert any("<expr>>" in step for step in listing), f"the next page seeks where the last ended: {steps}"
        # within the last page's due key too (a day's date-only tasks share one): by id
        assert any("<expr>=? AND id>?" in step for step in listing), steps


def test_only_a_new_title_or_notes_rewrites_the_search_index(tmp_path: Path) -> None:
    from mcp_server_todo.model import Task

    store = SQLiteStore(tmp_path / "fts.db")
    task = Task(id=1, title="Renew passport", created_at="2026-11-25T10:00:00Z", updated_at="2026-11-25T10:00:00Z")
    try:
        with store.write() as tx:
            tx.put(task)
        traced: list[str] = []
        store._conn.set_trace_callback(traced.append)
        with store.write() as tx:
            tx.put(task.model_copy(update={"status": Status.done, "completed_at": "2026-11-26T10:00:00Z"}))
        assert not [sql for sql in traced if "tasks_fts" in sql], traced
        with store.write() as tx:
            tx.put(task.model_copy(update={"title": "Book flights", "status": Status.done}))
        assert [sql for sql in traced if "tasks_fts" in sql], "a new title is indexed"
        store._conn.set_trace_callback(None)
        with store.read() as tx:
            found = [t.id for t in tx.query(ListQuery(status=None, text="flights")).items]
            gone = [t.id for t in tx.query(ListQuery(status=None, text="passport")).items]
        assert found == [1] and gone == []
    finally:
        store.close()


def test_the_subtasks_of_a_task_are_read_from_its_index_in_order(tmp_path: Path) -> None:
    # walking every pending task for the children of one took 30 ms at 100,000 tasks
    steps = plans(tmp_path, ListQuery(parent_id=5, now_utc="2026-11-25T10:00:00Z"))
    listing = [step for step in steps if step.startswith(("SEARCH t", "SCAN t", "USE TEMP"))]
    assert listing and all("tasks_by_parent" in step for step in listing), steps


def statement_plans(tmp_path: Path, query: ListQuery) -> list[list[str]]:
    """The plan of each statement a listing runs, in order (the counts, then the page)."""
    store = SQLiteStore(tmp_path / "plans.db")
    try:
        conn = store._conn
        with store.read() as tx:
            recorder = _Recorder(conn)
            tx._conn = recorder  # type: ignore[assignment]
            tx.query(query)
        return [
            [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
            for sql, args in recorder.statements
        ]
    finally:
        store.close()


def test_todays_tasks_are_read_from_the_due_index(tmp_path: Path) -> None:
    # the window's own clause (an OR per kind of due) made SQLite walk every pending task:
    # 6 ms at 100,000 tasks for a page of today's
    window = DueWindow("2026-11-25", "2026-11-25", "2026-11-25T08:00:00Z", "2026-11-26T08:00:00Z")
    *counts, page = statement_plans(tmp_path, ListQuery(window=window, now_utc="2026-11-25T10:00:00Z"))
    reads = [step for step in page if step.startswith(("SEARCH t", "SCAN t"))]
    assert reads and all("tasks_by_due (owner=? AND status=? AND <expr>>? AND <expr><?)" in s for s in reads), page
    assert counts == [
        ["SEARCH t USING COVERING INDEX tasks_by_due_date (owner=? AND status=? AND due_date>? AND due_date<?)"],
        ["SEARCH t USING COVERING INDEX tasks_by_due_utc (owner=? AND status=? AND due_utc>? AND due_utc<?)"],
    ], "the date-only and the timed tasks are counted apart, each from its index alone"
    overdue = DueWindow(None, "2026-11-24", None, "2026-11-25T10:00:00Z")  # open into the past
    *counts, page = statement_plans(tmp_path, ListQuery(window=overdue, now_utc="2026-11-25T10:00:00Z"))
    assert not [step for step in page if "TEMP B-TREE" in step], f"overdue pages walk in id order: {page}"
    # one OR over both kinds read every overdue task to count them: 135 ms at 100,000 tasks
    assert len(counts) == 2 and all(len(c) == 1 and "COVERING INDEX tasks_by_due_" in c[0] for c in counts), counts


@pytest.mark.parametrize(
    "after",
    [None, [-2, "2026-12-01T00:00:00Z", 40], [0, "2026-12-01T00:00:00Z", 40]],
    ids=["first-page", "among-a-priority", "among-none"],
)
def test_a_page_in_priority_order_is_read_from_indexes_not_sorted(tmp_path: Path, after: list[Any] | None) -> None:
    # sorting every pending task for each page took 137 ms at 100,000 tasks
    statements = statement_plans(tmp_path, ListQuery(sort="priority", after=after, now_utc="2026-11-25T10:00:00Z"))
    listings = [[s for s in steps if s.startswith(("SEARCH t", "SCAN t", "USE TEMP"))] for steps in statements[1:]]
    index = "SEARCH t USING INDEX tasks_by_{} (owner=? AND status=?{})"
    expected = {
        None: [index.format("priority", ""), index.format("due", "")],
        # the rest of the last page's due key, of its priority, the lower priorities (each
        # seeking where it begins), then the tasks without a priority from the start
        -2: [
            index.format("priority", " AND <expr>=? AND <expr>=? AND id>?"),
            index.format("priority", " AND <expr>=? AND <expr>>?"),
            index.format("priority", " AND <expr>>?"),
            index.format("due", ""),
        ],
        0: [index.format("due", " AND <expr>=? AND id>?"), index.format("due", " AND <expr>>?")],
    }[None if after is None else after[0]]
    assert listings == [[step] for step in expected], statements


def test_a_task_without_a_priority_is_not_in_the_priority_index(tmp_path: Path) -> None:
    # the index holds only tasks with a priority: a new task's default writes no entry there
    store = SQLiteStore(tmp_path / "plans.db")
    try:
        sql = store._conn.execute("SELECT sql FROM sqlite_master WHERE name = 'tasks_by_priority'").fetchone()[0]
    finally:
        store.close()
    assert sql.endswith("WHERE priority > 0"), sql
