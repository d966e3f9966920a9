"""The occurrences of a recurring task: the next one `complete_item` creates, and the step a
CalDAV client takes itself (tasks.org moves DUE to the next occurrence and keeps the task
open). Both leave exactly one open occurrence and one done one. No MCP, no SQL."""

from __future__ import annotations

import uuid
from datetime import date

from ..dates.reminders import kept_on_next
from ..model import Change, Status, Task, stored
from ..store import StoreTx, off_the_loop
from .inputs import recurrence_module


def next_occurrence(tx: StoreTx, task: Task, now: str, today: date) -> Task | None:
    """Add (and log) the occurrence after `task`, a recurring task just completed; None when
    its series has ended. It keeps the task's fields (relative reminders, the client's VTODO)
    under a new id and UID, at `UID.ics`."""
    assert task.recur
    off_the_loop()  # a catch-up over missed occurrences is not bounded small
    step = recurrence_module().advance(task.recur, task.due or today.isoformat(), task.due_tz, today)
    if step is None:
        return None
    nxt = stored(task).model_copy(
        update={
            "id": tx.allocate_id(),
            "uid": uuid.uuid4().hex,
            "due": step.due,
            "recur": step.rule,
            "created_at": now,
            "updated_at": now,
            "completed_at": None,
            "status": Status.pending,
            "reminders": kept_on_next(task.reminders),
            "href": None,
        }
    )
    tx.put(nxt)
    tx.log(Change(op="add", task_id=nxt.id, before=None, after=nxt, at=now))
    return nxt


def moved_to_next(before: Task, after: Task, today: date) -> bool:
    """Whether `after` is `before`, an open recurring task, with its due moved to the next
    occurrence by the client itself (the same rule, still open): a completion, tasks.org's way."""
    if not (before.recur and after.recur and before.due and after.due and after.due != before.due):
        return False
    if before.status is not Status.pending or after.status is not Status.pending:
        return False
    recurrence = recurrence_module()
    steps = [
        recurrence.advance(before.recur, before.due, before.due_tz, day)
        for day in {today, date.fromisoformat(before.due[:10])}  # with and without catching up
    ]
    return any(step is not None and _same_instant(step.due, after.due) for step in steps)


def _same_instant(left: str, right: str) -> bool:
    if len(left) == 10 or len(right) == 10:
        return left == right
    from datetime import datetime

    return datetime.fromisoformat(left) == datetime.fromisoformat(right)


def done_copy(tx: StoreTx, task: Task, now: str) -> Task:
    """Add (and log) the done record of the occurrence a client stepped past (`moved_to_next`):
    `task` as it was, completed, under a new id and UID."""
    done = stored(task).model_copy(
        update={
            "id": tx.allocate_id(),
            "uid": uuid.uuid4().hex,
            "status": Status.done,
            "completed_at": now,
            "updated_at": now,
            "href": None,
            "ical": None,
        }
    )
    tx.put(done)
    tx.log(Change(op="complete", task_id=done.id, before=None, after=done, at=now))
    return done
