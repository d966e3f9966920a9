"""A CalDAV client's VTODO with a task's current values merged in (`Task.ical`, kept by
transports/dav and served back, and written by the iCalendar export).

Each field we model is compared by meaning with what the client sent, and only the properties
of a field that differs are replaced, so

- while nothing changed since the client's PUT, nothing differs (the server serves the
  client's own bytes, and the ETag its PUT answered stays true, RFC 4791 §5.3.4);
- after an MCP edit, only the edited properties (and LAST-MODIFIED, DTSTAMP) differ; X-
  properties, LOCATION, GEO, ATTACH, SEQUENCE, CREATED and the rest stay as sent;
- the client's VALARMs stay as sent (their UID, X-WR-ALARMUID, DESCRIPTION, ACTION kept,
  duplicates of one trigger, equivalent triggers such as -P1D and -PT24H, RELATED=START
  ones, and more than the task's REMINDERS_MAX) while the task's reminders are the set the
  import made of them (`_client_reminders`). Only a reminder changed over MCP changes them:
  every VALARM whose trigger is a removed reminder is dropped, an added one is added
  (ACTION:DISPLAY). VALARMs that are no reminder (no TRIGGER) stay;
- a RELATED-TO naming a UID no task has is the client's, kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from icalendar import Calendar, Component

from ..dates.reminders import is_relative
from ..errors import TodoError
from ..model import Task
from . import ImportedTask, Problem
from .ical import alarm_reminder, todo_component, todo_record

_RELATIONS = ("PARENT", "DEPENDS-ON")


@dataclass
class Merged:
    """The client's VCALENDAR with the task merged into its VTODO (`todo`, inside `calendar`);
    `changed`: whether any property differs from what the client sent."""

    calendar: Calendar
    todo: Component
    changed: bool


def merged(task: Task, uids: dict[int, str], known: Callable[[str], bool]) -> Merged | None:
    """The task's client VCALENDAR with the task's current values (see the module docstring);
    None when there is none or it cannot be used (unreadable, or not exactly one VTODO)."""
    try:
        calendar = Calendar.from_ical(task.ical or "")
        todos = calendar.walk("VTODO")
        if len(todos) != 1:
            return None
        theirs_todo, ours_todo = todos[0], todo_component(task, uids)
        theirs, ours = todo_record(theirs_todo, 1), todo_record(ours_todo, 1)
    except (ValueError, TypeError, KeyError):
        return None
    if isinstance(theirs, Problem) or isinstance(ours, Problem):
        return None
    changed = [name for name, same in _FIELDS.items() if not same(theirs, ours, task, known)]
    if str(theirs_todo.get("UID", "")) != uids[task.id]:
        changed.append("uid")
    before = _client_reminders(theirs)
    alarms_same = before == set(task.reminders)
    if not changed and alarms_same:
        return Merged(calendar, theirs_todo, changed=False)
    alarms = {id(sub): alarm_reminder(sub, theirs_todo) for sub in theirs_todo.walk("VALARM")}
    for name in changed:
        _PROPERTIES[name](theirs_todo, ours_todo, known)
    if not alarms_same:
        _merge_alarms(theirs_todo, ours_todo, alarms, before - set(task.reminders), set(task.reminders) - before)
    for stamp in ("DTSTAMP", "LAST-MODIFIED"):
        _replace(theirs_todo, ours_todo, stamp)
    return Merged(calendar, theirs_todo, changed=True)


def _same_due(theirs: ImportedTask, ours: ImportedTask) -> bool:
    """The same day, or the same instant (a TZID the task does not keep is the client's own)."""
    a, b = theirs.due or "", ours.due or ""
    if a == b:
        return theirs.due_tz == ours.due_tz or ours.due_tz is None
    if len(a) == 10 or len(b) == 10 or not a or not b:
        return False
    left, right = datetime.fromisoformat(a), datetime.fromisoformat(b)
    if left.tzinfo is None:  # floating: the same wall-clock time
        return left == right.replace(tzinfo=None)
    return left == right and (ours.due_tz is None or ours.due_tz == theirs.due_tz)


def _same_rule(theirs: ImportedTask, ours: ImportedTask) -> bool:
    if (theirs.recur or "") == (ours.recur or ""):
        return True
    if not theirs.recur or not ours.recur:
        return False
    from ..dates.recurrence import parse_recur

    try:
        return parse_recur(theirs.recur) == parse_recur(ours.recur)
    except TodoError:
        return False


def _same_status(theirs: ImportedTask, ours: ImportedTask) -> bool:
    """The same status (a COMPLETED stamp that differs by when the server saw it is the same)."""
    return theirs.status is ours.status


def _same_relations(theirs: ImportedTask, ours: ImportedTask, known: Callable[[str], bool]) -> bool:
    """Ours, and the client's relations to UIDs no task has (kept as sent)."""
    parent = str(theirs.parent or "")
    parent = parent if parent and known(parent) else ""
    depends = {str(uid) for uid in theirs.depends or [] if known(str(uid))}
    return parent == str(ours.parent or "") and depends == {str(uid) for uid in ours.depends or []}


Same = Callable[[ImportedTask, ImportedTask, Task, Callable[[str], bool]], bool]
_FIELDS: dict[str, Same] = {
    "title": lambda a, b, t, k: a.title == b.title,
    "notes": lambda a, b, t, k: (a.notes or "") == (b.notes or ""),
    "priority": lambda a, b, t, k: a.priority == b.priority,
    "tags": lambda a, b, t, k: (a.tags or []) == (b.tags or []),
    "status": lambda a, b, t, k: _same_status(a, b),
    "due": lambda a, b, t, k: _same_due(a, b),
    "recur": lambda a, b, t, k: _same_rule(a, b),
    "relations": lambda a, b, t, k: _same_relations(a, b, k),
}


def _replace(theirs: Component, ours: Component, *names: str) -> None:
    """Each property `names` as ours has it (or none), in place of the client's."""
    for name in names:
        theirs.pop(name, None)
        if name in ours:
            theirs[name] = ours[name]


def _status(theirs: Component, ours: Component, known: Callable[[str], bool]) -> None:
    _replace(theirs, ours, "STATUS", "COMPLETED")
    if "PERCENT-COMPLETE" in theirs:
        done = str(ours.get("STATUS")) == "COMPLETED"
        if done or str(theirs["PERCENT-COMPLETE"]) == "100":
            del theirs["PERCENT-COMPLETE"]
        if done:
            theirs.add("percent-complete", 100)


def _due(theirs: Component, ours: Component, known: Callable[[str], bool]) -> None:
    _replace(theirs, ours, "DUE")
    theirs.pop("DURATION", None)
    if "DTSTART" in theirs and "DTSTART" in ours:
        _replace(theirs, ours, "DTSTART")
    elif "DTSTART" in theirs and "DUE" in theirs:
        start, due = theirs.decoded("DTSTART"), theirs.decoded("DUE")
        if _as_utc(start) > _as_utc(due):  # RFC 5545: DUE is after DTSTART
            del theirs["DTSTART"]


def _as_utc(value: date | datetime) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _relations(theirs: Component, ours: Component, known: Callable[[str], bool]) -> None:
    kept = [
        prop
        for prop in _listed(theirs.get("RELATED-TO"))
        if str(prop.params.get("RELTYPE", "PARENT")).upper() not in _RELATIONS or not known(str(prop))
    ]
    theirs.pop("RELATED-TO", None)
    for prop in kept + _listed(ours.get("RELATED-TO")):
        theirs.add("related-to", prop)


def _listed(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


_PROPERTIES: dict[str, Callable[[Component, Component, Callable[[str], bool]], None]] = {
    "title": lambda a, b, k: _replace(a, b, "SUMMARY"),
    "notes": lambda a, b, k: _replace(a, b, "DESCRIPTION"),
    "priority": lambda a, b, k: _replace(a, b, "PRIORITY"),
    "tags": lambda a, b, k: _replace(a, b, "CATEGORIES"),
    "status": _status,
    "due": _due,
    "recur": lambda a, b, k: _replace(a, b, "RRULE"),
    "relations": _relations,
    "uid": lambda a, b, k: _replace(a, b, "UID"),
}


def _client_reminders(theirs: ImportedTask) -> set[str]:
    """The reminders the import makes of the client's VALARMs (ical.py: one per distinct
    normalized trigger, at most REMINDERS_MAX; relative ones only with a due date)."""
    return {r for r in theirs.reminders or [] if theirs.due or not is_relative(r)}


def _merge_alarms(
    theirs: Component, ours: Component, alarms: dict[int, str | None], removed: set[str], added: set[str]
) -> None:
    """The client's VALARMs but those whose trigger (`alarms`, read before the merge) is a
    reminder removed over MCP, then ours for the reminders added over MCP."""
    kept = [sub for sub in theirs.subcomponents if sub.name != "VALARM" or alarms.get(id(sub)) not in removed]
    kept += [alarm for alarm in ours.walk("VALARM") if alarm_reminder(alarm, ours) in added]
    theirs.subcomponents = kept
