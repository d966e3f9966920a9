"""A task as the VTODO resource served, and a PUT body as the fields of a task (via formats/ical)."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar

from ...formats import ImportedTask, Problem
from ...formats.ical import PRODID, todo_component, todo_record
from ...model import Status, Task


def served_text(task: Task, uids: dict[int, str]) -> str:
    """The whole resource: a VCALENDAR holding the task's VTODO (and the zones it names)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(todo_component(task, uids))
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode("utf-8"))


def read_body(text: str) -> ImportedTask:
    """The task a PUT body describes (its master VTODO). ValueError, which Radicale answers with
    400, when it is not one."""
    try:
        components = Calendar.from_ical(text).walk("VTODO")
    except ValueError as exc:
        raise ValueError(f"the iCalendar body cannot be read: {exc}") from None
    if not components:
        raise ValueError("the body holds no VTODO")
    masters = [c for c in components if "RECURRENCE-ID" not in c] or components
    record = todo_record(masters[0], 1)
    if isinstance(record, Problem):
        raise ValueError(record.message)
    return record


def task_fields(record: ImportedTask, project: str) -> tuple[dict[str, Any], Status]:
    """The fields `TodoService` takes, and the status the client set."""
    fields: dict[str, Any] = {
        "title": record.title,
        "notes": record.notes or "",
        "priority": record.priority.value if record.priority else "none",
        "tags": record.tags or [],
        "due": record.due or "",
        "recur": record.recur or "",
        "project": project,
    }
    return fields, record.status or Status.pending
