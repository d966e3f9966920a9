"""The occurrences of a recurring task: the next one `complete_item` creates, and the step a
CalDAV client takes itself (tasks.org moves DUE to the next occurrence and keeps the task
open). Both leave exactly one open occurrence and one done one. No MCP, no SQL.

Which task a completion generated is read from the change log: the completion and the
occurrence it added are one group. Reopening the completed task takes that occurrence away
again while it is untouched (still the row the group added), so `done; reopen; done` leaves
one open occurrence, not two."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from ..dates.reminders import kept_on_next
from ..model import Change, Status, Task, stored
from ..store import StoreTx, off_the_loop
from .inputs import recurrence_module
from .occurrence_vtodo import moved_vtodo


def stepped(tx: StoreTx, before: Task, after: Task, now: str, today: date, via: str | None) -> None:
    """What an update of `before` into `after` does to the series: a recurring task completed
    by an update (a CalDAV client's STATUS:COMPLETED) gets its next occurrence, as `complete`
    gives it; one reopened loses the occurrence its completion added (`withdraw_next`); one
    whose client moved DUE to the next occurrence itself (tasks.org) gets the done record of
    the one it stepped past, unless the client uploaded that record itself (`client_done`)."""
    if after.recur and before.status is Status.pending and after.status is Status.done:
        next_occurrence(tx, after, now, today)
    elif before.recur and before.status is Status.done and after.status is Status.pending:
        withdraw_next(tx, before, now)
    elif via == "caldav" and moved_to_next(before, after, today) and not client_done(tx, before):
        done_copy(tx, before, now)


HISTORY_LOOKED_AT = 50
"""How far back the change log is read for a task's completion or a client's done copy."""


def withdraw_next(tx: StoreTx, task: Task, now: str) -> None:
    """`task`, a done recurring task, is being reopened: remove (logged, so undo brings it back)
    the open occurrence its completion added, if nobody touched it since. The completion is
    the task's newest change from open to done; the occurrence, a task that change's group
    brought in open with a rule (an `add`, or an `undo` of a removal)."""
    completion = next(
        (
            change
            for change in tx.history(task.id, HISTORY_LOOKED_AT)
            if change.before is not None
            and change.after is not None
            and change.before.status is Status.pending
            and change.after.status is Status.done
        ),
        None,
    )
    if completion is None:
        return
    for entry in tx.group_entries(completion.group):
        added = entry.after
        if entry.task_id == task.id or entry.before is not None or added is None:
            continue
        if added.status is not Status.pending or not added.recur:
            continue
        current = tx.get(entry.task_id)
        # untouched: the row the group added (a shared project's member copy has a UID of its own)
        if current is not None and stored(current).model_copy(update={"uid": added.uid}) == stored(added):
            tx.remove(current.id)
            tx.log(Change(op="purge", task_id=current.id, before=stored(current), after=None, at=now))


def client_done(tx: StoreTx, task: Task) -> bool:
    """Whether a client already recorded the occurrence `task` is at as done: a task of the same
    title, project and due, completed (added done, or completed) since `task` last changed.
    The caldav library's rrule_mode="safe" and Apple Reminders upload such a copy, then move
    the series' DUE forward: one done record, theirs, not a second one of ours."""
    for change in tx.history(None, HISTORY_LOOKED_AT):
        if change.at < task.updated_at:
            return False
        done = change.after
        if done is None or done.id == task.id or done.status is not Status.done:
            continue
        if change.before is not None and change.before.status is Status.done:
            continue
        if done.title != task.title or done.project != task.project or not (done.due and task.due):
            continue
        if _same_instant(done.due, task.due):
            current = tx.get(done.id)
            return current is not None and current.status is Status.done
    return False


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
            "ical": moved_vtodo(task.ical, step.due),
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
    return datetime.fromisoformat(left) == datetime.fromisoformat(right)


def done_copy(tx: StoreTx, task: Task, now: str) -> Task:
    """Add (and log) the done record of the occurrence a client stepped past (`moved_to_next`):
    `task` as it was, completed, under a new id and UID, with the client's VTODO (its LOCATION,
    X- properties, alarms kept), and no rule: the record of one occurrence, not a series."""
    done = stored(task).model_copy(
        update={
            "id": tx.allocate_id(),
            "uid": uuid.uuid4().hex,
            "status": Status.done,
            "completed_at": now,
            "updated_at": now,
            "href": None,
            "recur": None,
        }
    )
    tx.put(done)
    tx.log(Change(op="complete", task_id=done.id, before=None, after=done, at=now))
    return done
