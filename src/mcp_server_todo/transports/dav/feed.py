"""The read-only calendar feed (issue 13, point 7), for calendar apps that only subscribe to a URL
(webcal): a user's open tasks with a due date.

    /dav/feed/TOKEN/feed.ics    one VEVENT per task at its due time (what calendar apps show)
    /dav/feed/TOKEN/tasks.ics   the same tasks as VTODOs (for apps that show subscribed tasks)

The URL is the secret: `TOKEN` is a feed token (`mcp-server-todo token create USER --feed`),
kept hashed in the same table as the other tokens, with its own prefix (`feed_`). So a feed
token opens only feeds (the /mcp and CalDAV verifiers want `todo_`), and a `todo_` token opens
no feed. It is looked up on every request: `token revoke` stops the feed at once. A wrong,
revoked or malformed token gets 404, as a missing file would: there is no login to ask for.

Events: a task due on a day is an all-day event on that day; a task due at a time is an event
starting and ending then (RFC 5545 §3.6.1: no DTEND, zero length). The summary, description
and categories are the task's, mapped by formats/ical.py as for the VTODO; the event's UID is the
task's UID with `-due` appended, so it never clashes with the task in apps that see both.
Reminders (VALARM) are not in the events feed yet; the VTODO feed carries them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from icalendar import Calendar, Event

from ... import formats
from ...formats.ical import PRODID, todo_component
from ...model import Status, Task
from ...service import TodoService

FEED_PREFIX = "feed_"
_PATH = re.compile(r"/feed/(feed_[A-Za-z0-9_-]{1,200})/(feed|tasks)\.ics")
_UNDER = re.compile(r"/feed/(feed_[A-Za-z0-9_-]{43})(/|$)")  # a token as `token create --feed` makes it
_COPIED = ("summary", "description", "categories", "dtstamp", "last-modified", "priority")


def feed_path(path: str) -> tuple[str, str] | None:
    """(token, "feed" or "tasks") when `path` (inside /dav) names a feed; (token, "") for any
    other path under a feed token's folder (404, never a login: no user has such a list); else None."""
    found = _PATH.fullmatch(path)
    if found is not None:
        return found[1], found[2]
    under = _UNDER.match(path)
    return None if under is None else (under[1], "")


def feed_text(
    token: str, kind: str, user_of: Callable[[str], str | None], service_for: Callable[[str], TodoService]
) -> str | None:
    """The feed's iCalendar text, or None when the token opens no feed (404). Blocking: run it on
    a worker thread."""
    user = user_of(token)
    if user is None:
        return None
    transfer = service_for(user).transfer()
    due = [task for task in transfer.tasks() if task.status is Status.pending and task.due]
    if kind == "tasks":
        out = io.StringIO()
        formats.get("ical").write(due, out, transfer.options())
        return out.getvalue()
    return events_text(due)


def events_text(tasks: Iterable[Task]) -> str:
    """A VCALENDAR with one VEVENT per task (each must have a due date), at its due time."""
    listed = list(tasks)
    uids = {task.id: task.uid or f"mcp-server-todo-{task.id}" for task in listed}
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Tasks due")
    for task in listed:
        todo = todo_component(task, uids)
        event = Event()
        event.add("uid", f"{uids[task.id]}-due")
        for name in _COPIED:
            if name in todo:
                event[name] = todo[name]
        start = todo.decoded("due")
        event.add("dtstart", start)
        if not hasattr(start, "hour"):  # a day: all day
            assert isinstance(start, date)
            event.add("dtend", start + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a due task does not make the user busy
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode("utf-8"))
