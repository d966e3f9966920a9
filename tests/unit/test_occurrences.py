"""Exactly one open next occurrence of a recurring task, on both backends (review problems 7
and 6): completing, reopening and completing again (over MCP, the CLI's calls and CalDAV's
updates) adds one occurrence, not two; a client that uploads its own done copy of the
occurrence and then moves the series' due forward gets one done record, its own."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.model import Status
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import Store

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def service(store: Store) -> TodoService:
    return TodoService(store, tz=ZoneInfo("UTC"), now=lambda: NOW)


def series(svc: TodoService, title: str) -> list[tuple[str, str | None]]:
    everything = svc.list_tasks(status="all", limit=500).items  # type: ignore[arg-type]
    return sorted((t.status.value, t.due) for t in everything if t.title == title)


@pytest.mark.parametrize("way", ["complete", "update", "caldav"])
def test_done_reopen_done_leaves_one_open_next_occurrence(backend: Store, way: str) -> None:
    svc = service(backend)
    writer = svc.via_caldav() if way == "caldav" else svc
    task = svc.add("Water plants", due="2026-11-25", recur="daily")
    for _ in range(3):  # done, reopen, done, reopen, done, reopen
        if way == "complete":
            writer.complete(task.id)
        else:
            writer.update(task.id, status="done")
        writer.update(task.id, status="pending")
    assert series(svc, "Water plants") == [("pending", "2026-11-25")], "each reopen takes its occurrence back"
    writer.complete(task.id) if way == "complete" else writer.update(task.id, status="done")
    assert series(svc, "Water plants") == [("done", "2026-11-25"), ("pending", "2026-11-26")]
    svc.update(task.id, status="pending")
    svc.undo()  # the reopen, and the occurrence it removed, come back
    assert series(svc, "Water plants") == [("done", "2026-11-25"), ("pending", "2026-11-26")]


def test_reopening_keeps_a_next_occurrence_someone_changed(backend: Store) -> None:
    svc = service(backend)
    task = svc.add("Standup", due="2026-11-25T09:30", recur="daily")
    nxt = svc.complete_many([task.id]).created[0]
    svc.update(nxt.id, notes="agenda: the release")
    svc.update(task.id, status="pending")
    assert [t.status for t in (svc.get(task.id), svc.get(nxt.id))] == [Status.pending, Status.pending]


@pytest.mark.parametrize("copy_recurs", [False, True])
def test_a_client_done_copy_is_the_one_done_record(backend: Store, copy_recurs: bool) -> None:
    phone = service(backend).via_caldav()
    master = phone.add_many([{"title": "Bins out", "due": "2026-11-25", "recur": "daily"}], uids=["APPLE-R1"])[0]
    copy = {"title": "Bins out", "due": "2026-11-25", "status": "done", "recur": "daily" if copy_recurs else None}
    phone.add_many([copy], uids=["APPLE-C1"])
    phone.update(master.id, due="2026-11-26")
    assert series(phone, "Bins out") == [("done", "2026-11-25"), ("pending", "2026-11-26")]
    phone.update(master.id, due="2026-11-27")  # the next step, with no copy of its own: ours
    assert series(phone, "Bins out") == [("done", "2026-11-25"), ("done", "2026-11-26"), ("pending", "2026-11-27")]


@pytest.mark.parametrize("who", ["owner", "member"])
def test_done_reopen_done_in_a_shared_project(backend: Store, who: str) -> None:
    alice = TodoService(backend, owner="alice", tz=ZoneInfo("UTC"), now=lambda: NOW)
    bob = TodoService(backend, owner="bob", tz=ZoneInfo("UTC"), now=lambda: NOW)
    alice.add("Water plants", due="2026-11-25", recur="daily", project="garden")
    alice.share_project("garden", "bob")
    actor = alice if who == "owner" else bob
    (task,) = actor.list_tasks(limit=50).items
    for status in ("done", "pending", "done"):
        actor.update(task.id, status=status)
    for service in (alice, bob):
        assert series(service, "Water plants") == [("done", "2026-11-25"), ("pending", "2026-11-26")]


def test_the_next_occurrence_vtodo_keeps_its_start_before_due_in_its_zone() -> None:
    from icalendar import Calendar

    from mcp_server_todo.service.occurrence_vtodo import moved_vtodo

    ical = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:s\r\nLOCATION:Office\r\n"
        "DTSTART;TZID=America/New_York:20261026T090000\r\nDUE;TZID=America/New_York:20261026T100000\r\n"
        "RRULE:FREQ=WEEKLY\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    moved = moved_vtodo(ical, "2026-11-02T10:00-05:00")  # across the end of DST
    assert moved is not None
    (todo,) = Calendar.from_ical(moved).walk("VTODO")
    assert todo["DTSTART"].to_ical() == b"20261102T090000" and todo["DTSTART"].params["TZID"] == "America/New_York"
    assert todo["DUE"].to_ical() == b"20261102T100000" and str(todo["LOCATION"]) == "Office"
    assert moved_vtodo(ical.replace("DTSTART;TZID=America/New_York:20261026T090000\r\n", ""), "2026-11-02") == (
        ical.replace("DTSTART;TZID=America/New_York:20261026T090000\r\n", "")
    ), "no DTSTART: nothing to keep"
