"""The domain rules, on a real SQLite file with a fixed clock and zone: recurrence, subtasks,
dependencies, bulk all-or-nothing, undo of every kind of change, due windows across zones,
and paging that neither skips nor repeats while tasks change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.errors import Conflict, InvalidInput, NotFound
from mcp_server_todo.model import Status
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import Store, open_store, sqlite_url

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "service.db"))
    yield opened
    opened.close()


def service_in(store: Store, zone: str = "UTC", now: datetime = NOW) -> TodoService:
    return TodoService(store, tz=ZoneInfo(zone), now=lambda: now)


@pytest.fixture
def svc(store: Store) -> TodoService:
    return service_in(store)


def titles(svc: TodoService, **filters: object) -> list[str]:
    return [t.title for t in svc.list_tasks(limit=500, **filters).items]  # type: ignore[arg-type]


def test_completing_a_recurring_task_schedules_the_next_and_undo_reverts_both(svc: TodoService) -> None:
    task = svc.add("Water plants", due="2026-11-25", recur="every 3 days")
    assert task.recur == "FREQ=DAILY;INTERVAL=3"
    done = svc.complete_many([task.id])
    assert [t.status for t in done.done] == [Status.done]
    (follow,) = done.created
    assert (follow.title, follow.due, follow.recur, follow.status) == (
        "Water plants",
        "2026-11-28",
        "FREQ=DAILY;INTERVAL=3",
        Status.pending,
    )
    assert titles(svc) == ["Water plants"] and svc.list_tasks().items[0].id == follow.id
    undone = svc.undo()
    assert {u.op for u in undone} == {"complete", "add"}
    pending = svc.list_tasks(status="all").items
    assert [(t.id, t.status) for t in pending] == [(task.id, Status.pending)]


def test_editing_a_recurring_task_keeps_its_rule(svc: TodoService) -> None:
    task = svc.add("Standup", due="2026-11-25T09:30", recur="every weekday")
    moved = svc.update(task.id, due="2026-11-26T10:00", title="Daily standup")
    assert moved.recur == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" and moved.due == "2026-11-26T10:00+00:00"
    stopped = svc.update(task.id, recur="")
    assert stopped.recur is None and stopped.due == moved.due


def test_recurring_wall_clock_time_survives_dst(store: Store) -> None:
    svc = service_in(store, "America/Los_Angeles", datetime(2026, 3, 7, 12, 0, tzinfo=UTC))
    task = svc.add("Run", due="2026-03-07T07:00", recur="daily")
    assert task.due == "2026-03-07T07:00-08:00" and task.due_tz == "America/Los_Angeles"
    (follow,) = svc.complete_many([task.id]).created
    assert follow.due == "2026-03-08T07:00-07:00", "same 07:00 after the clocks change"


def test_a_parent_with_open_subtasks_is_completed_only_on_request(svc: TodoService) -> None:
    parent = svc.add("Move house")
    kids = svc.add_many([{"title": "Pack", "parent_id": parent.id}, {"title": "Book van", "parent_id": parent.id}])
    listed = {t.id: t for t in svc.list_tasks().items}
    assert listed[parent.id].subtasks == 2 and listed[parent.id].blocked
    with pytest.raises(Conflict, match=r"2 open subtask.*with_subtasks=true"):
        svc.complete_many([parent.id])
    assert titles(svc) == ["Move house", "Pack", "Book van"], "nothing changed"
    result = svc.complete_many([parent.id], with_subtasks=True)
    assert sorted(t.id for t in result.done) == sorted([parent.id, *(k.id for k in kids)])
    assert titles(svc) == []
    svc.undo()
    assert titles(svc) == ["Move house", "Pack", "Book van"], "one undo reverts the whole call"


def test_dependencies_block_until_done_and_cycles_are_refused(svc: TodoService) -> None:
    first = svc.add("Get quotes")
    second = svc.add("Choose builder", depends_on=[first.id])
    assert svc.get(second.id).blocked and not svc.get(first.id).blocked
    with pytest.raises(InvalidInput, match="cycle"):
        svc.update(first.id, depends_on=[second.id])
    with pytest.raises(NotFound, match="no task 99"):
        svc.update(first.id, depends_on=[99])
    svc.complete(first.id)
    assert not svc.get(second.id).blocked


def test_bulk_add_is_all_or_nothing_and_names_each_failure(svc: TodoService) -> None:
    with pytest.raises(InvalidInput) as failure:
        svc.add_many([{"title": "ok"}, {"title": ""}, {"title": "fine", "due": "someday"}, {"title": "x" * 501}])
    message = str(failure.value)
    assert "item 2: title is empty" in message and "item 3: due 'someday'" in message and "item 4" in message
    assert "item 1" not in message and "nothing was added" in message
    assert titles(svc, status="all") == []
    added = svc.add_many([{"title": "Trip"}, {"title": "Pack", "parent_id": -1}, {"title": "Tickets", "parent_id": -1}])
    assert [t.parent_id for t in added] == [None, added[0].id, added[0].id]


def test_bulk_update_moves_many_tasks_in_one_step(svc: TodoService) -> None:
    ids = [svc.add(f"t{i}").id for i in range(20)]
    moved = svc.update_many(ids, project="garden")
    assert len(moved) == 20 and {t.project for t in moved} == {"garden"}
    with pytest.raises(NotFound, match="no task 999"):
        svc.update_many([*ids[:3], 999], project="attic")
    assert {t.project for t in svc.list_tasks(limit=500).items} == {"garden"}, "all or nothing"
    svc.undo()
    assert {t.project for t in svc.list_tasks(limit=500).items} == {"inbox"}


def test_delete_takes_subtasks_to_the_trash_and_nothing_is_unrecoverable(svc: TodoService) -> None:
    parent = svc.add("Old project")
    svc.add("Old step", parent_id=parent.id)
    assert len(svc.delete_many([parent.id])) == 2
    assert titles(svc, status="deleted") == ["Old project", "Old step"]
    assert svc.empty_trash() == 2
    assert titles(svc, status="all") == []
    svc.undo()  # the purge
    assert titles(svc, status="deleted") == ["Old project", "Old step"]
    svc.undo()  # the delete
    assert titles(svc) == ["Old project", "Old step"]


def test_undo_steps_and_history(svc: TodoService) -> None:
    task = svc.add("a")
    svc.update(task.id, title="b")
    svc.update(task.id, title="c")
    assert [u.op for u in svc.undo(2)] == ["update", "update"]
    assert svc.get(task.id).title == "a"
    ops = [c.op for c in svc.history(task.id)]
    assert ops == ["undo", "undo", "update", "update", "add"]
    with pytest.raises(InvalidInput, match="between 1 and 50"):
        svc.undo(0)
    assert [u.op for u in svc.undo(10)] == ["add"], "stops when nothing is left"


@pytest.mark.parametrize(
    ("zone", "today"),
    [
        ("UTC", "2026-11-25"),
        ("America/Los_Angeles", "2026-11-25"),
        ("Asia/Kolkata", "2026-11-25"),
        ("Pacific/Kiritimati", "2026-11-26"),
    ],
)
def test_due_windows_follow_the_users_zone(store: Store, zone: str, today: str) -> None:
    svc = service_in(store, zone)
    svc.add("floating today", due=today)
    svc.add("floating yesterday", due="2026-11-24" if today == "2026-11-25" else "2026-11-25")
    svc.add("in an hour", due="2026-11-25T19:00:00Z")
    svc.add("an hour ago", due="2026-11-25T17:00:00Z")
    svc.add("next month", due="2026-12-28")
    assert titles(svc, due="overdue") == ["floating yesterday", "an hour ago"]
    today_titles = titles(svc, due="today")
    assert "floating today" in today_titles and "next month" not in today_titles
    local_day = NOW.astimezone(ZoneInfo(zone)).date().isoformat()
    for title, due in (("in an hour", "2026-11-25T19:00:00Z"), ("an hour ago", "2026-11-25T17:00:00Z")):
        instant = datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
        assert (title in today_titles) == (instant.date().isoformat() == local_day), (zone, title)
    assert "next month" not in titles(svc, due="this_week")
    humans = {t.title: t.due_human for t in svc.list_tasks(limit=500).items}
    assert humans["floating today"] == "due today"
    assert humans["an hour ago"] is not None and "overdue" in humans["an hour ago"]


def test_paging_never_skips_or_repeats_while_tasks_change(svc: TodoService) -> None:
    for i in range(10):
        svc.add(f"t{i}", priority="high" if i % 3 == 0 else "low", due=f"2026-12-{10 + i:02d}")
    for sort in ("created", "due", "priority", "urgency"):
        seen: list[str] = []
        page = svc.list_tasks(sort=sort, limit=3)
        seen += [t.title for t in page.items]
        svc.complete(page.items[0].id)  # completed after being seen
        svc.add(f"new-{sort}", due="2027-01-01")  # sorts after everything seen so far
        while page.next_cursor:
            page = svc.list_tasks(sort=sort, limit=3, cursor=page.next_cursor)
            seen += [t.title for t in page.items]
        assert len(seen) == len(set(seen)), (sort, seen)
        assert {f"t{i}" for i in range(10)} <= set(seen), (sort, seen)
        assert f"new-{sort}" in seen, sort
        svc.undo(2)


def test_deleting_and_completing_a_parent_reaches_every_subtask_past_500(store: Store) -> None:
    """The subtasks were read 500 per parent: deleting a parent of 600 trashed 501 of them."""
    service = service_in(store)
    parent = service.add("parent")
    for start in range(0, 600, 100):
        service.add_many([{"title": f"child {i}", "parent_id": parent.id} for i in range(start, start + 100)])
    grandchild = service.add("grandchild", parent_id=parent.id + 600)
    done = service.complete_many([parent.id], with_subtasks=True)
    assert len(done.done) == 602
    service.undo()
    gone = service.delete_many([parent.id])
    assert len(gone) == 602
    assert service.list_tasks(status="pending").total == 0
    assert grandchild.id in {t.id for t in gone}


def test_a_tree_over_the_limit_is_refused_whole(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `DESCENDANTS_MAX` subtasks, deleting or completing the parent changes nothing and says why."""
    from mcp_server_todo.service import rules

    monkeypatch.setattr(rules, "DESCENDANTS_MAX", 5)
    service = service_in(store)
    parent = service.add("parent")
    service.add_many([{"title": f"child {i}", "parent_id": parent.id} for i in range(6)])
    for action in (
        lambda: service.delete_many([parent.id]),
        lambda: service.complete_many([parent.id], with_subtasks=True),
    ):
        with pytest.raises(InvalidInput, match=r"more than 5 subtasks.*subtrees first"):
            action()
    assert service.list_tasks(status="pending").total == 7


def test_a_new_task_is_a_whole_valid_task_each_item_its_own(svc: TodoService) -> None:
    from mcp_server_todo.model import Task

    first, second = svc.add_many([{"title": "a", "tags": ["x"], "due": "2026-12-24"}, {"title": "b"}])
    for task in (first, second):
        assert set(vars(task)) == set(Task.model_fields), "every field set: none left to a default"
        assert Task.model_validate(task.model_dump()) == task
    assert (first.id, second.id) == (1, 2) and first.uid != second.uid
    assert first.tags == ["x"] and second.tags == [] and second.due is None
    assert svc.get(1) == first and svc.get(2) == second
