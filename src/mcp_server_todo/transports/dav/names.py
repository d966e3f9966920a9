"""The names CalDAV clients see: a project's path segment, a task's UID and resource name."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.utils import format_datetime

from ...model import Task

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,200}")
OWN_UID = re.compile(r"mcp-server-todo-([0-9]{1,19})")
"""The UID served for a task that has none (as the iCalendar export writes it)."""


def collection_id(project: str) -> str:
    """The ASCII path segment of a project's collection: the name when it is safe, else x-<hash>."""
    if SAFE_ID.fullmatch(project) and not project.startswith("x-"):
        return project
    return "x-" + hashlib.sha256(project.encode()).hexdigest()[:16]


def uid_of(task: Task) -> str:
    return task.uid or f"mcp-server-todo-{task.id}"


def href_of(uid: str) -> str | None:
    """The resource name a task with this UID is served at; None when the UID is not path-safe."""
    return f"{uid}.ics" if SAFE_UID.fullmatch(uid) else None


def http_date(stamp: str) -> str:
    """An ISO stamp as an HTTP date (getlastmodified)."""
    return format_datetime(datetime.fromisoformat(stamp.replace("Z", "+00:00")), usegmt=True)
