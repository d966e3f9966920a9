"""The client's VTODO (`Task.ical`) an occurrence of a recurring task carries on: the next
occurrence keeps the client's DTSTART as far before its DUE as it was (a 09:00 start of a
10:00 due stays 09:00 a week later), because its DUE and DTSTART are moved here, in the kept
VCALENDAR, to the next occurrence; served (formats/ical_merge.py), the due then equals the
task's and neither is replaced. No MCP, no SQL."""

from __future__ import annotations

from datetime import date, datetime


def moved_vtodo(ical: str | None, due: str) -> str | None:
    """`ical` with its VTODO's DUE at `due` (the next occurrence's, ISO) and DTSTART as far
    before it as it was before DUE; `ical` unchanged when it is not one VTODO with both a DUE
    and a DTSTART of the same kind (date or date-time)."""
    if not ical:
        return ical
    from icalendar import Calendar  # only for a task a client's VTODO came with: servers load it rarely

    try:
        calendar = Calendar.from_ical(ical)
        todos = calendar.walk("VTODO")
        if len(todos) != 1 or "DUE" not in todos[0] or "DTSTART" not in todos[0]:
            return ical
        todo = todos[0]
        old_due, old_start = todo.decoded("DUE"), todo.decoded("DTSTART")
        new_due = _like(old_due, due)
        if new_due is None or isinstance(old_start, datetime) is not isinstance(old_due, datetime):
            return ical
        if isinstance(old_due, datetime) and (old_due.tzinfo is None) is not (old_start.tzinfo is None):
            return ical
        new_start = new_due - (old_due - old_start)
        for name, value in (("DUE", new_due), ("DTSTART", new_start)):
            todo.pop(name)
            todo.add(name.lower(), value)
        return str(calendar.to_ical().decode("utf-8"))
    except (ValueError, TypeError, KeyError):
        return ical


def _like(old: date | datetime, due: str) -> date | datetime | None:
    """`due` in the form of the client's DUE `old`: a date, a floating time, or in its zone."""
    if not isinstance(old, datetime):
        return date.fromisoformat(due[:10]) if len(due) == 10 else None
    if len(due) == 10:
        return None
    moment = datetime.fromisoformat(due)
    if old.tzinfo is None:
        return moment.replace(tzinfo=None)
    return moment.astimezone(old.tzinfo)
