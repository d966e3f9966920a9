"""A task as the VTODO resource served, and a PUT body as the fields of a task (via formats/ical).

A task a CalDAV client PUT keeps that client's VCALENDAR (`Task.ical`) and is served as it,
with the task's current values merged in (formats/ical_merge.py): while nothing changed since
the PUT, the bytes served are the client's own (Radicale's serialization of the body), so the
ETag the PUT answered stays true (RFC 4791 §5.3.4); after an MCP edit only the edited
properties differ, and the client's X- properties, LOCATION, VALARMs and the rest stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from icalendar import Calendar

from ...formats import ImportedTask, Problem
from ...formats.ical import PRODID, calendar_todos, todo_component, todo_record
from ...formats.ical_merge import merged
from ...model import Status, Task
from .overrides import completed_occurrence


def served_text(task: Task, uids: dict[int, str], known: Callable[[str], bool] = lambda uid: True) -> str:
    """The whole resource: the client's VCALENDAR with the task merged in (see the module
    docstring), or ours: a VCALENDAR holding the task's VTODO and the zones it names. `known`
    says whether a UID names a task; a relation to one that does not is the client's, kept."""
    kept = merged(task, uids, known) if task.ical else None
    if kept is not None and not kept.changed:
        return task.ical or ""
    if kept is not None:
        kept.calendar.add_missing_timezones()
        return str(kept.calendar.to_ical().decode("utf-8"))
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(todo_component(task, uids))
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode("utf-8"))


def read_body(text: str) -> ImportedTask:
    """The task a PUT body describes (its master VTODO, done when an override completes its
    current occurrence: overrides.py). ValueError, which Radicale answers with 400, when it is
    not one."""
    master, overrides = calendar_todos(text)
    record = todo_record(master, 1)
    if isinstance(record, Problem):
        raise ValueError(record.message)
    if overrides:  # overridden occurrences: one may complete the current one
        completed_occurrence(master, overrides, record)
    return record


def task_fields(record: ImportedTask, project: str) -> tuple[dict[str, Any], Status]:
    """The fields `TodoService` takes, and the status the client set."""
    fields: dict[str, Any] = {
        "title": record.title,
        "notes": record.notes or "",
        "priority": record.priority.value if record.priority else "none",
        "tags": record.tags or [],
        "due": record.due or "",
        "due_tz": record.due_tz,
        "recur": record.recur or "",
        "remind": record.reminders or [],
        "project": project,
    }
    return fields, record.status or Status.pending
