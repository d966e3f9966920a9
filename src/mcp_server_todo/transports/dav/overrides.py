"""A PUT body's overridden occurrences (VTODOs with a RECURRENCE-ID beside the master), as far
as they complete one: the task stands for the series' current occurrence only, so

- an override with STATUS:COMPLETED (or COMPLETED, or PERCENT-COMPLETE:100) whose RECURRENCE-ID
  is before the series' second occurrence completes the current one: the task is done, and
  the service gives it its next occurrence, as `complete_item` does (Thunderbird; the caldav
  library's `complete(handle_rrule=True, rrule_mode="thisandfuture")`, whose RECURRENCE-ID is
  the master's DTSTART, or the completion time when it has none);
- one that completes a later occurrence cannot be honoured: the PUT is refused (400, with the
  reason), never answered with success while the completion is dropped;
- any other override (an open one, the caldav library's RANGE=THISANDFUTURE instance) is left
  out, as before: the task is served from its fields.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from icalendar import Component

from ...dates.recurrence import advance
from ...errors import TodoError
from ...formats import ImportedTask
from ...model import Status


def completed_occurrence(master: Component, overrides: list[Component], record: ImportedTask) -> None:
    """Mark `record` (the master's task) done when an override completes its current occurrence;
    ValueError (a 400) when one completes a later occurrence (module docstring)."""
    completed = [override for override in overrides if _done(override) and "RECURRENCE-ID" in override]
    if not completed or not record.recur or record.status is not Status.pending:
        return
    start = master.decoded("DTSTART") if "DTSTART" in master else master.decoded("DUE") if "DUE" in master else None
    second = _second(record.recur, start) if start is not None else None
    for override in completed:
        at = override.decoded("RECURRENCE-ID")
        if second is not None and _instant(at) >= second:
            raise ValueError(
                f"this PUT completes the occurrence at {_shown(at)}, a later one than the task's current "
                f"occurrence ({_shown(start)}): only the current occurrence can be completed here "
                "(complete it, and then its next occurrence, a new task)"
            )
        record.status = Status.done


def _done(component: Component) -> bool:
    status = str(component.get("STATUS", "")).upper()
    return status == "COMPLETED" or (
        status in ("", "NEEDS-ACTION", "IN-PROCESS")
        and ("COMPLETED" in component or str(component.get("PERCENT-COMPLETE", "")) == "100")
    )


def _second(rule: str, start: date | datetime) -> datetime | None:
    """The series' second occurrence (from its DTSTART), None when there is none or the rule is
    not one we read (then every completing override is taken as the current occurrence's)."""
    first = _instant(start)
    iso = start.isoformat() if not isinstance(start, datetime) else first.isoformat()
    try:
        step = advance(rule, iso, None, first.date())
    except (ValueError, TodoError):
        return None
    return None if step is None else _instant(datetime.fromisoformat(step.due))


def _instant(value: date | datetime) -> datetime:
    """A DTSTART / RECURRENCE-ID as a UTC instant to order by (a date: its midnight; a floating
    time: as if UTC)."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _shown(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()
