"""Relations that wait for a UID: a CalDAV client may PUT a subtask (RELATED-TO its parent's
UID) before the parent. The relation is kept in the client's VCALENDAR (`Task.ical`) unlinked;
when a task with that UID arrives, `link_waiting` links the tasks that name it."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ..errors import TodoError
from ..formats import Problem
from ..model import Task

if TYPE_CHECKING:
    from .tasks import TodoService


def link_waiting(service: TodoService, task: Task) -> None:
    """Link the live tasks whose client named `task`'s UID as parent or dependency before it
    was a task. Each link is an update of the waiting task (logged, so its ETag moves and an
    incremental sync lists it); its RELATED-TO stays as the client sent it. A link the rules
    refuse (a cycle) stays the client's text."""
    from ..formats.ical import calendar_todos, todo_record  # icalendar: only when a client's VTODO is read

    uid = task.uid or ""
    for waiting in service.naming(uid) if uid else []:
        try:
            record = todo_record(calendar_todos(waiting.ical or "")[0], 1)
        except ValueError:
            continue
        if isinstance(record, Problem):
            continue
        links: dict[str, Any] = {}
        if str(record.parent or "") == uid and waiting.parent_id is None and waiting.id != task.id:
            links["parent_id"] = task.id
        if uid in {str(u) for u in record.depends or []} and task.id not in waiting.depends_on:
            links["depends_on"] = [*waiting.depends_on, task.id]
        if links:
            with suppress(TodoError):
                service.update(waiting.id, **links)
