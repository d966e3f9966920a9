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
    ],
    ids=["pending", "project", "done", "next-page", "due-window", "tag", "text"],
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
