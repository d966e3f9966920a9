"""iCalendar VTODO (RFC 5545), read and written with the `icalendar` library.

    UID            the task's identity (key)          SUMMARY      title
    DESCRIPTION    notes                              CATEGORIES   tags
    DUE            due (a date, a date-time in a TZID zone, UTC, or floating)
    DTSTART        the due of a recurring to-do without DUE; DTSTART + DURATION is a due too
    STATUS         NEEDS-ACTION / IN-PROCESS → pending, COMPLETED → done, CANCELLED → trash
    COMPLETED      completed_at (and done, whatever STATUS says, unless CANCELLED)
    CREATED        created_at                         LAST-MODIFIED  updated_at
    PRIORITY       1-4 high, 5 medium, 6-9 low, 0 none (RFC 5545 3.8.1.9); written 1, 5, 9
    RRULE          recurrence (rules more frequent than daily are refused by the import)
    RELATED-TO     the parent's UID (RELTYPE=PARENT, the default); RELTYPE=DEPENDS-ON
                   (RFC 9253) for dependencies
    X-TODO-PROJECT the project (ours; absent: the stored project is kept)
    VALARM         reminders, one each: ACTION:DISPLAY, DESCRIPTION the title, TRIGGER a
                   duration RELATED=END (relative to DUE) or VALUE=DATE-TIME an instant in
                   UTC. Read back (any ACTION): RELATED=START counts from DTSTART (from DUE
                   without one); VALARMs at one time (-PT15M DISPLAY and AUDIO, -P1D and
                   -PT24H) are one reminder. CalDAV serves a client's own VALARMs back as sent

A line break in a title or notes is written as TEXT's `\n`; TEXT has only that one kind of
line break, so a CRLF or CR in a title comes back as LF.

The file is read as a stream of components: each VTODO is cut out of the text (after line
unfolding) and parsed on its own, so a large calendar never sits in memory and a broken
component is reported with its line and skipped. VTIMEZONE components are parsed as they
come (the library remembers custom zones for the VTODOs after them); VEVENT, VJOURNAL and
the rest are not tasks and are passed over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from icalendar import Alarm, Calendar, Component, Todo, vRecur

from ..dates import is_iso_date, named_zone
from ..dates.reminders import OFFSET_MAX, REMINDERS_MAX, duration, is_relative, offset_seconds
from ..model import Priority, Status, Task
from . import Format, ImportedTask, Options, Problem, Record, utc_stamp

PRODID = "-//mcp-server-todo//mcp-server-todo//EN"
PROJECT = "X-TODO-PROJECT"
UNTITLED = "(no title)"
"""The title of a VTODO without SUMMARY (RFC 5545 makes it optional; a task needs a title)."""
_STATUS = {
    "NEEDS-ACTION": Status.pending,
    "IN-PROCESS": Status.pending,
    "COMPLETED": Status.done,
    "CANCELLED": Status.deleted,
}
_WRITE_STATUS = {Status.pending: "NEEDS-ACTION", Status.done: "COMPLETED", Status.deleted: "CANCELLED"}
_WRITE_PRIORITY = {Priority.high: 1, Priority.medium: 5, Priority.low: 9}
_TASK_COMPONENTS = ("VTODO",)
_SKIPPED_COMPONENTS = ("VEVENT", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY")


def priority_of(value: int) -> Priority:
    if value <= 0 or value > 9:
        return Priority.none
    if value <= 4:
        return Priority.high
    return Priority.medium if value == 5 else Priority.low


# ---- reading: from lines to components ----------------------------------------------


def _unfolded(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Content lines with folding undone (RFC 5545 3.1), each with its first line number."""
    pending: str | None = None
    start = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if text[:1] in (" ", "\t") and pending is not None:
            pending += text[1:]
            continue
        if pending is not None:
            yield start, pending
        pending, start = text, number
    if pending is not None:
        yield start, pending


def _components(lines: Iterable[str]) -> Iterator[tuple[int, str, list[str]] | Problem]:
    """(line, name, content lines) of each component below VCALENDAR (or at the top)."""
    depth = 0
    chunk: list[str] = []
    name = ""
    start = 0
    for number, text in _unfolded(lines):
        if not text.strip():
            continue
        head, _, value = text.partition(":")
        head = head.split(";", 1)[0].strip().upper()
        value = value.strip().upper()
        if head == "BEGIN" and value == "VCALENDAR" and depth == 0:
            continue
        if head == "END" and value == "VCALENDAR" and depth == 0:
            continue
        if depth == 0:
            if head != "BEGIN":
                continue  # a calendar property (VERSION, PRODID, METHOD...)
            name, start, chunk = value, number, []
        chunk.append(text)
        if head == "BEGIN":
            depth += 1
        elif head == "END":
            depth -= 1
            if depth == 0:
                yield start, name, chunk
    if depth > 0:
        yield Problem(start, f"the {name} that starts here has no END:{name}: is the file cut short?", "fatal")


# ---- reading: one VTODO ---------------------------------------------------------------


def _when(value: date | datetime) -> tuple[str, str | None]:
    """A DUE/DTSTART value as our ISO text and zone name."""
    if not isinstance(value, datetime):
        return value.isoformat(), None
    spec = "minutes" if value.second == 0 and value.microsecond == 0 else "seconds"
    if value.tzinfo is None:
        return value.isoformat(timespec=spec), None
    key = getattr(value.tzinfo, "key", None)
    if key == "UTC" or (value.utcoffset() == timedelta(0) and key is None):
        return value.astimezone(UTC).isoformat(timespec=spec), None
    return value.isoformat(timespec=spec), key


def _stamp(component: Component, name: str) -> str | None:
    if name not in component:
        return None
    value = component.decoded(name)
    if isinstance(value, datetime):
        return utc_stamp(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return value.isoformat()
    return None


def _texts(component: Component, name: str) -> list[Any]:
    found = component.get(name)
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def _categories(component: Component) -> list[str]:
    tags: list[str] = []
    for prop in _texts(component, "CATEGORIES"):
        tags += [str(cat) for cat in getattr(prop, "cats", [prop])]
    return tags


def _due(component: Component, task: ImportedTask) -> None:
    if "DUE" in component:
        task.due, task.due_tz = _when(component.decoded("DUE"))
        return
    if "DTSTART" in component:
        start = component.decoded("DTSTART")
        if "DURATION" in component:
            task.due, task.due_tz = _when(start + component.decoded("DURATION"))
            return
        if "RRULE" in component:
            task.due, task.due_tz = _when(start)
            return
        task.warnings.append("DTSTART (a start date) has no field here; it was left out")
    task.due = ""


def _recurrence(component: Component, task: ImportedTask) -> None:
    rules = _texts(component, "RRULE")
    task.recur = rules[0].to_ical().decode() if rules else ""
    if len(rules) > 1:
        task.warnings.append("only the first of several RRULEs was kept")
    if "RDATE" in component or "EXDATE" in component:
        task.warnings.append("RDATE and EXDATE (extra and skipped dates) were left out")


def _relations(component: Component, task: ImportedTask) -> None:
    task.parent = ""
    task.depends = []
    for prop in _texts(component, "RELATED-TO"):
        kind = str(prop.params.get("RELTYPE", "PARENT")).upper()
        if kind == "PARENT":
            task.parent = str(prop)
        elif kind == "DEPENDS-ON":
            task.depends.append(str(prop))
        else:
            task.warnings.append(f"RELATED-TO;RELTYPE={kind} has no field here; it was left out")


def alarm_reminder(alarm: Component, component: Component) -> str | None:
    """The reminder a VALARM of `component` stands for (whatever its ACTION), or None: no
    TRIGGER, or one more than a year from the due date."""
    if "TRIGGER" not in alarm:
        return None
    trigger = alarm.decoded("TRIGGER")
    if isinstance(trigger, datetime):
        return utc_stamp(trigger if trigger.tzinfo else trigger.replace(tzinfo=UTC))
    related = str(alarm["TRIGGER"].params.get("RELATED", "START")).upper()
    if related == "START" and "DTSTART" in component and "DUE" in component:
        start, due = component.decoded("DTSTART"), component.decoded("DUE")
        with suppress(TypeError):  # a date and a date-time, or a naive and an aware one: from DUE
            trigger += start - due
    seconds = int(trigger.total_seconds())
    return None if abs(seconds) > OFFSET_MAX else duration(seconds)


def _alarms(component: Component, task: ImportedTask) -> None:
    """The VALARMs' triggers as reminders (what the alarm does, DISPLAY or other, is not kept)."""
    task.reminders, seen = [], set()
    for alarm in component.walk("VALARM"):
        reminder = alarm_reminder(alarm, component)
        if reminder in seen:
            continue  # another VALARM at the same time (-PT15M DISPLAY and AUDIO; -P1D, -PT24H)
        if reminder is not None:
            seen.add(reminder)
            task.reminders.append(reminder)
        elif "TRIGGER" not in alarm:
            task.warnings.append("a VALARM without a TRIGGER was left out")
        else:
            task.warnings.append("a VALARM more than a year from the due date was left out")
    if len(task.reminders) > REMINDERS_MAX:
        task.warnings.append(f"only the first {REMINDERS_MAX} VALARM times were kept")
        task.reminders = task.reminders[:REMINDERS_MAX]


def _status(component: Component) -> Status:
    """STATUS, except that a COMPLETED date (or 100 percent) means done: RFC 5545's own
    example 3.6.2 says "was completed on July 7th" of a to-do still marked NEEDS-ACTION."""
    status = _STATUS.get(str(component.get("STATUS", "")).upper(), Status.pending)
    done = "COMPLETED" in component or str(component.get("PERCENT-COMPLETE", "")) == "100"
    return Status.done if done and status is Status.pending else status


def todo_record(component: Component, number: int) -> Record:
    summary = str(component.get("SUMMARY", "")).strip()
    uid = str(component["UID"]).strip() if "UID" in component else ""
    task = ImportedTask(
        line=number,
        title=summary or UNTITLED,  # SUMMARY is optional (RFC 5545 §3.6.2); a task needs a title
        key=uid or None,
        status=_status(component),
        notes=str(component.get("DESCRIPTION", "")),
        priority=priority_of(int(component.get("PRIORITY", 0) or 0)),
        tags=_categories(component),
        project=str(component[PROJECT]) if PROJECT in component else None,
        created_at=_stamp(component, "CREATED"),
        updated_at=_stamp(component, "LAST-MODIFIED"),
        completed_at=_stamp(component, "COMPLETED"),
    )
    _due(component, task)
    _recurrence(component, task)
    _relations(component, task)
    _alarms(component, task)
    task.key_source = f"{summary}\x1f{task.created_at or _stamp(component, 'DTSTAMP') or ''}"
    return task


def calendar_todos(text: str) -> tuple[Component, list[Component]]:
    """The master VTODO of a VCALENDAR text and the occurrences it overrides (RECURRENCE-ID).
    ValueError, saying why, when the text cannot be read or holds no VTODO."""
    try:
        components = Calendar.from_ical(text).walk("VTODO")
    except ValueError as exc:
        raise ValueError(f"the iCalendar body cannot be read: {exc}") from None
    if not components:
        raise ValueError("the body holds no VTODO")
    masters = [c for c in components if "RECURRENCE-ID" not in c] or components
    overrides = [c for c in components if "RECURRENCE-ID" in c] if len(masters) < len(components) else []
    return masters[0], overrides


def _parse(number: int, name: str, chunk: list[str]) -> Record | None:
    text = "\r\n".join(chunk) + "\r\n"
    try:
        component = Component.from_ical(text)
        if name in _TASK_COMPONENTS:
            return todo_record(component, number)
    except Exception as exc:  # the library raises many kinds on bad input; all mean "this component is bad"
        return Problem(number, f"the {name} that starts here cannot be read ({exc}); skipped")
    return None


class ICalendar(Format):
    name = "ical"
    title = "iCalendar (VTODO)"
    extensions = (".ics",)
    media_type = "text/calendar"
    keeps_trash = True

    def read(self, lines: Iterable[str], options: Options) -> Iterator[Record]:
        for found in _components(lines):
            if isinstance(found, Problem):
                yield found
                continue
            number, name, chunk = found
            if name in _SKIPPED_COMPONENTS:
                continue
            record = _parse(number, name, chunk)
            if record is not None:
                yield record

    def write(self, tasks: Iterable[Task], out: TextIO, options: Options) -> None:
        from .ical_merge import merged

        listed = list(tasks)
        uids = {task.id: task.uid or f"mcp-server-todo-{task.id}" for task in listed}
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        known = set(uids.values()).__contains__
        for task in listed:
            kept = merged(task, uids, known) if task.ical else None  # a CalDAV client's VTODO
            calendar.add_component(kept.todo if kept is not None else todo_component(task, uids))
        calendar.add_missing_timezones()
        out.write(calendar.to_ical().decode("utf-8").replace("\r\n", "\n"))


# ---- writing ------------------------------------------------------------------------------


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _due_value(task: Task) -> date | datetime:
    assert task.due is not None
    if is_iso_date(task.due):
        return date.fromisoformat(task.due)
    moment = datetime.fromisoformat(task.due)
    if task.due_tz:
        return moment.astimezone(named_zone(task.due_tz))
    return moment.astimezone(UTC)


def todo_component(task: Task, uids: dict[int, str]) -> Todo:
    todo = Todo()
    todo.add("uid", uids[task.id])
    todo.add("dtstamp", _moment(task.updated_at))
    todo.add("created", _moment(task.created_at))
    todo.add("last-modified", _moment(task.updated_at))
    todo.add("summary", task.title)
    if task.notes:
        todo.add("description", task.notes)
    if task.tags:
        todo.add("categories", task.tags)
    todo.add(PROJECT.lower(), task.project)
    if task.priority in _WRITE_PRIORITY:
        todo.add("priority", _WRITE_PRIORITY[task.priority])
    todo.add("status", _WRITE_STATUS[task.status])
    if task.completed_at:
        todo.add("completed", _moment(task.completed_at))
    if task.due:
        due = _due_value(task)
        todo.add("due", due)
        if task.recur:
            todo.add("dtstart", due)
    if task.recur:
        todo.add("rrule", vRecur.from_ical(task.recur))
    if task.parent_id is not None and task.parent_id in uids:
        todo.add("related-to", uids[task.parent_id])
    for dep in task.depends_on:
        if dep in uids:
            todo.add("related-to", uids[dep], parameters={"RELTYPE": "DEPENDS-ON"})
    for reminder in task.reminders:
        todo.add_component(_alarm(task, reminder))
    return todo


def _alarm(task: Task, reminder: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", task.title)
    if is_relative(reminder):
        alarm.add("trigger", timedelta(seconds=offset_seconds(reminder)), parameters={"RELATED": "END"})
    else:
        alarm.add("trigger", _moment(reminder), parameters={"VALUE": "DATE-TIME"})
    return alarm


FORMAT = ICalendar()
