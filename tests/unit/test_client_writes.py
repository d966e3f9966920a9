"""The service's side of CalDAV writes, on a real SQLite file with a fixed clock: the fields a
client sets that MCP does not (its VTODO, resource name, DUE's zone, a task that arrives done),
the way a change came in (`via`), and recurring tasks a client completes either way."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.errors import InvalidInput
from mcp_server_todo.model import Status
from mcp_server_todo.render import change_line
from mcp_server_todo.service import TodoService, Transfer
from mcp_server_todo.store import Store, open_store, sqlite_url

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday
VTODO = "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:u1\r\nX-PHONE:1\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
PHONE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VTODO\r\nUID:p1\r\n"
    "DTSTAMP:20261201T090000Z\r\nSUMMARY:Buy milk\r\nLOCATION:Corner shop\r\nX-PHONE-COLOR:red\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nX-WR-ALARMUID:A1\r\nTRIGGER;VALUE=DATE-TIME:20261207T080000Z\r\n"
    "END:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "service.db"))
    yield opened
    opened.close()


def services(store: Store) -> tuple[TodoService, TodoService]:
    """(MCP's service, the same owner's CalDAV service)."""
    mcp = TodoService(store, tz=ZoneInfo("UTC"), now=lambda: NOW)
    return mcp, mcp.via_caldav()


def test_a_client_task_arrives_done_in_one_step_with_its_vtodo_name_and_zone(store: Store) -> None:
    mcp, dav = services(store)
    fields = {"title": "Paid rent", "due": "2026-11-20T09:00-05:00", "due_tz": "America/New_York"}
    (task,) = dav.add_many([{**fields, "status": "done", "ical": VTODO, "href": "ABC-1.ics"}], uids=["u1"])
    assert (task.status, task.due_tz, task.ical, task.href) == (Status.done, "America/New_York", VTODO, "ABC-1.ics")
    assert task.completed_at is not None
    assert [t.id for t in mcp.get_by_href("ABC-1.ics")] == [task.id]
    (entry,) = mcp.history(None, 10)
    assert (entry.op, entry.via) == ("add", "caldav") and change_line(entry).endswith("Paid rent (via caldav)")
    assert "ical" not in task.model_dump() and "ical" not in mcp.get(task.id).model_dump()

    edited = mcp.update(task.id, title="Paid the rent")
    assert edited.ical == VTODO, "an MCP edit keeps the client's VTODO (served merged)"
    assert mcp.history(None, 1)[0].via is None
    dav.update(task.id, ical="", href="")
    assert mcp.get(task.id).ical is None and mcp.get(task.id).href is None
    mcp.undo()
    assert (mcp.get(task.id).ical, mcp.get(task.id).href) == (VTODO, "ABC-1.ics"), "undo restores them"
    mcp.undo(2)
    assert mcp.get_by_uid("u1") is None, "one undo per CalDAV PUT"
    with pytest.raises(InvalidInput, match="cannot be set on a new task"):
        dav.add_many([{"title": "x", "status": "deleted"}])


def test_a_zone_a_client_names_is_kept_only_when_it_is_one(store: Store) -> None:
    _, dav = services(store)
    (task,) = dav.add_many([{"title": "t", "due": "2026-12-07T09:00+01:00", "due_tz": "Not/AZone"}])
    assert task.due_tz is None and task.due == "2026-12-07T09:00+01:00"
    assert dav.update(task.id, due="2026-12-07", due_tz="Europe/Berlin").due_tz is None, "a date has no zone"


def test_a_recurring_task_a_client_completes_gives_one_next_occurrence(store: Store) -> None:
    mcp, dav = services(store)
    task = mcp.add("Water plants", due="2026-11-25", recur="weekly")
    done = dav.update(task.id, status="done")
    assert done.status is Status.done
    pending = mcp.list_tasks(limit=50).items
    assert [(t.title, t.due) for t in pending] == [("Water plants", "2026-12-02")]
    mcp.undo()
    assert [(t.id, t.status) for t in mcp.list_tasks(status="all", limit=50).items] == [(task.id, Status.pending)]


def test_a_client_that_moves_due_to_the_next_occurrence_completes_it(store: Store) -> None:
    mcp, dav = services(store)
    task = mcp.add("Water plants", due="2026-11-25", recur="weekly", remind=["1h before"])
    moved = dav.update(task.id, due="2026-12-02")
    assert (moved.id, moved.status, moved.due) == (task.id, Status.pending, "2026-12-02"), "the client's task"
    (done,) = mcp.list_tasks(status="done", limit=50).items
    assert (done.title, done.due, done.uid != task.uid) == ("Water plants", "2026-11-25", True)
    assert [c.op for c in mcp.history(None, 2)] == ["complete", "update"]
    assert len(mcp.list_tasks(limit=50).items) == 1, "exactly one open occurrence"

    mcp.update(task.id, due="2026-12-09")  # over MCP, moving the due is only a move
    assert len(mcp.list_tasks(status="done", limit=50).items) == 1
    dav.update(task.id, due="2026-12-12")  # a client's move that is not the next occurrence: a move too
    assert len(mcp.list_tasks(status="done", limit=50).items) == 1


def transfer_text(store: Store, fmt: str) -> str:
    out = io.StringIO()
    Transfer(store).export(fmt, out)
    return out.getvalue()


def test_exports_carry_the_client_vtodo_and_a_json_dump_restores_it(store: Store, tmp_path: Path) -> None:
    mcp, dav = services(store)
    fields = {"title": "Buy milk", "remind": ["2026-12-07T08:00:00Z"], "ical": PHONE, "href": "P-1.ics"}
    (task,) = dav.add_many([fields], uids=["p1"])
    mcp.update(task.id, title="Buy oat milk")

    ical = transfer_text(store, "ical")
    assert "SUMMARY:Buy oat milk" in ical and "LOCATION:Corner shop" in ical and "X-WR-ALARMUID:A1" in ical
    dump = transfer_text(store, "json")
    assert '"href":"P-1.ics"' in dump and "X-PHONE-COLOR:red" in dump

    other = open_store(sqlite_url(tmp_path / "other.db"))
    try:
        Transfer(other).import_lines(io.StringIO(dump), "json")
        (restored,) = Transfer(other).tasks()
        assert (restored.title, restored.ical, restored.href) == ("Buy oat milk", PHONE, "P-1.ics")
        bad = dump.replace('"href":"P-1.ics"', '"href":"../escape.ics"')
        report = Transfer(other).import_lines(io.StringIO(bad), "json")
        assert report.problems == 1 and "not a resource name" in str(report.items), report.items
    finally:
        other.close()
