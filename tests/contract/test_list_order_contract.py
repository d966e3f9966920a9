"""Listings read through their indexes give exactly what a plain sort and count would, on
both backends: sort=priority (the tasks with a priority, then those without, in due order),
a due window's total (its date-only and timed tasks counted apart), through writes that move
tasks in and out of them."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from mcp_server_todo.model import DueWindow, ListQuery, Priority, Status, Task
from mcp_server_todo.store import Store

NOW = "2026-11-25T10:00:00Z"
RANKS = (Priority.none, Priority.low, Priority.medium, Priority.high)
DUES = (
    None,
    "2026-11-20",
    "2026-11-25",
    "2026-11-26",
    "2026-11-25T09:00+00:00",
    "2026-11-25T23:30-08:00",
    "2026-12-01",
)


def make(task_id: int, rng: random.Random, **fields: Any) -> Task:
    fields.setdefault("priority", rng.choice(RANKS))
    fields.setdefault("due", rng.choice(DUES))
    fields.setdefault("project", rng.choice(("a", "b")))
    fields.setdefault("tags", rng.sample(["x", "y"], rng.randint(0, 2)))
    return Task(id=task_id, title=f"t{task_id}", created_at=NOW, updated_at=NOW, uid=f"u{task_id}", **fields)


def due_key(task: Task) -> str:
    """The due order's key, as the stores sort it: a date-only due at its day's end, UTC."""
    if task.due is None:
        return "~"
    if len(task.due) == 10:
        return f"{task.due}T23:59:59Z"
    return datetime.fromisoformat(task.due).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def walk(backend: Store, size: int, **filters: Any) -> tuple[list[int], set[int]]:
    """Every page of a priority-sorted listing, in order; the totals the pages reported."""
    seen: list[int] = []
    totals: set[int] = set()
    after = None
    with backend.read() as tx:
        while True:
            page = tx.query(ListQuery(sort="priority", limit=size, after=after, now_utc=NOW, **filters))
            seen += [t.id for t in page.items]
            totals.add(page.total)
            if page.next_after is None:
                return seen, totals
            after = page.next_after


def expected(tasks: dict[int, Task], status: Status = Status.pending, project: str | None = None) -> list[int]:
    kept = [t for t in tasks.values() if t.status is status and (project is None or t.project == project)]
    return [t.id for t in sorted(kept, key=lambda t: (-t.priority.rank, due_key(t), t.id))]


def fill(backend: Store, count: int, seed: int, **fields: Any) -> dict[int, Task]:
    rng = random.Random(seed)
    tasks = {i: make(i, rng, **fields) for i in range(1, count + 1)}
    with backend.write() as tx:
        for task in tasks.values():
            tx.put(task)
    return tasks


def test_priority_pages_follow_the_sort_across_both_parts(backend: Store) -> None:
    tasks = fill(backend, 40, 7)
    for size in (1, 3, 7, 40, 100):
        seen, totals = walk(backend, size)
        assert seen == expected(tasks), size
        assert totals == {40}
    seen, _ = walk(backend, 4, project="b")
    assert seen == expected(tasks, project="b")
    # a completion and a new priority move tasks between the two parts
    moved = {1: Priority.none, 2: Priority.high, 3: Priority.low}
    with backend.write() as tx:
        for task_id, rank in moved.items():
            tasks[task_id] = tasks[task_id].model_copy(update={"priority": rank})
            tx.put(tasks[task_id])
        tasks[4] = tasks[4].model_copy(update={"status": Status.done, "completed_at": NOW})
        tx.put(tasks[4])
    assert walk(backend, 5)[0] == expected(tasks)
    assert walk(backend, 5, status=Status.done)[0] == [4]


def test_priority_pages_when_every_task_or_none_has_a_priority(backend: Store) -> None:
    tasks = fill(backend, 9, 1, priority=Priority.none)
    assert walk(backend, 2)[0] == expected(tasks)
    with backend.write() as tx:
        for task_id, task in tasks.items():
            tasks[task_id] = task.model_copy(update={"priority": Priority.medium})
            tx.put(tasks[task_id])
    assert walk(backend, 2)[0] == expected(tasks)


WINDOWS = {
    "overdue": DueWindow(None, "2026-11-24", None, "2026-11-25T10:00:00Z"),
    "today at UTC-8": DueWindow("2026-11-25", "2026-11-25", "2026-11-25T08:00:00Z", "2026-11-26T08:00:00Z"),
    "this week": DueWindow("2026-11-23", "2026-11-29", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"),
}


def in_window(task: Task, window: DueWindow) -> bool:
    if task.due is None:
        return False
    if len(task.due) == 10:
        return (window.date_from is None or task.due >= window.date_from) and task.due <= str(window.date_to)
    instant = due_key(task)
    return (window.utc_from is None or instant >= window.utc_from) and instant < str(window.utc_to)


def test_a_windows_total_counts_exactly_its_tasks_through_writes(backend: Store) -> None:
    tasks = fill(backend, 60, 3)

    def check() -> None:
        with backend.read() as tx:
            for name, window in WINDOWS.items():
                for extra in ({}, {"project": "a"}, {"tag": "x"}):
                    page = tx.query(ListQuery(window=window, limit=5, now_utc=NOW, **extra))
                    real = [
                        t.id
                        for t in tasks.values()
                        if t.status is Status.pending
                        and in_window(t, window)
                        and all(
                            t.project == v if k == "project" else v in [g.casefold() for g in t.tags]
                            for k, v in extra.items()
                        )
                    ]
                    assert page.total == len(real), (name, extra)
                    assert [t.id for t in page.items] == sorted(real)[:5], (name, extra)

    check()
    with backend.write() as tx:
        for task_id, update in {
            1: {"status": Status.done, "completed_at": NOW},
            2: {"status": Status.deleted},
            3: {"due": "2026-11-25"},
            4: {"due": "2026-11-25T09:30+00:00"},
            5: {"due": None},
        }.items():
            tasks[task_id] = tasks[task_id].model_copy(update=update)
            tx.put(tasks[task_id])
        tx.remove(6)
        del tasks[6]
    check()


def test_due_and_created_pages_through_ties_never_skip_or_repeat(backend: Store) -> None:
    tasks = fill(backend, 30, 5)  # seven due values: many tasks share a due key
    order = {
        "due": [t.id for t in sorted(tasks.values(), key=lambda t: (due_key(t), t.id))],
        "created": sorted(tasks),
    }
    for sort, expected_ids in order.items():
        for size in (1, 4, 29):
            seen: list[int] = []
            after = None
            with backend.read() as tx:
                while True:
                    page = tx.query(ListQuery(sort=sort, limit=size, after=after, now_utc=NOW))
                    seen += [t.id for t in page.items]
                    if page.next_after is None:
                        break
                    after = page.next_after
            assert seen == expected_ids, (sort, size)
