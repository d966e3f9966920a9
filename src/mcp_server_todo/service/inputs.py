"""What the task operations accept: bounds on a call, the fields a task is given by, and
checks that name the failing item of a bulk call."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from ..dates import find_zone
from ..errors import InvalidInput, TodoError
from ..model import Due, Priority, Task, clean_id

BULK_MAX = 100
FIELDS = ("title", "notes", "priority", "due", "recur", "project", "tags", "parent_id", "depends_on", "remind")
CLIENT_FIELDS = ("ical", "href", "due_tz", "status")
"""Fields a CalDAV PUT sets too (transports/dav): the client's VTODO and resource name, DUE's
zone, and "done" for a task that arrives completed. Not offered over MCP."""


def parse_priority(value: str | None) -> Priority | None:
    if value is None:
        return None
    try:
        return Priority(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"priority {value!r} is not one of none, low, medium, high") from None


def clean_ids(ids: Iterable[int], what: str = "id") -> list[int]:
    unique = list(dict.fromkeys(clean_id(i, what) for i in ids))
    if not unique:
        raise InvalidInput(f"no {what}s given; pass at least one task id")
    if len(unique) > BULK_MAX:
        raise InvalidInput(f"{len(unique)} ids given; one call handles at most {BULK_MAX}")
    return unique


def recurrence_module() -> ModuleType:
    """The recurrence module, imported on first use (dateutil costs start-up time)."""
    from ..dates import recurrence

    return recurrence


def opt_id(value: Any, what: str) -> int | None:
    return None if value is None else clean_id(value, what)


def each_item(items: list[dict[str, Any]], fn: Callable[[dict[str, Any]], Task]) -> list[Task]:
    """Apply `fn` to every item; if any fail, one error naming each failed item."""
    results: list[Task] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            results.append(fn(item))
        except TodoError as exc:
            problems.append(f"item {index + 1}: {exc}" if len(items) > 1 else str(exc))
    if problems:
        raise InvalidInput("; ".join(problems) + ("; nothing was added" if len(items) > 1 else ""))
    return results


def check_item(index: int, count: int, check: Callable[[], None]) -> None:
    """Run a check, naming the item in its error when the call has several."""
    try:
        check()
    except TodoError as exc:
        if count == 1:
            raise
        raise type(exc)(f"item {index + 1}: {exc}; nothing was changed") from exc


def zone_kept(due: Due | None, zone_name: str | None) -> str | None:
    """The zone a date-time due keeps: the one a client named (a CalDAV DUE's TZID) when it is
    a zone we know, else the one the value was read in."""
    if due is None:
        return None
    if zone_name and due.utc is not None and find_zone(zone_name) is not None:
        return zone_name
    return due.tz
