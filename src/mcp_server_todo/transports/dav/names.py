"""The names CalDAV clients see: a project's path segment, a task's UID and resource name."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.utils import format_datetime

from ...model import Task

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,200}")
HASHED = re.compile(r"h-[0-9a-f]{40}")
"""The resource name of a task whose UID cannot be a path segment as it is."""


def collection_id(project: str) -> str:
    """The ASCII path segment of a project's collection: the name when it is safe, else x-<hash>."""
    if SAFE_ID.fullmatch(project) and not project.startswith("x-"):
        return project
    return "x-" + hashlib.sha256(project.encode()).hexdigest()[:16]


def uid_of(task: Task) -> str:
    """The task's UID (every stored task has one: migrations gave old rows theirs)."""
    return task.uid or f"mcp-server-todo-{task.id}"


def href_of(uid: str) -> str:
    """The resource name of the task with this UID: `UID.ics`, or `h-<hash>.ics` for a UID that is
    not path-safe (an imported `{...}/...` UID) or looks like such a hash itself."""
    if SAFE_UID.fullmatch(uid) and not HASHED.fullmatch(uid):
        return f"{uid}.ics"
    return "h-" + hashlib.sha1(uid.encode(), usedforsecurity=False).hexdigest() + ".ics"


def http_date(stamp: str) -> str:
    """An ISO stamp as an HTTP date (getlastmodified)."""
    return format_datetime(datetime.fromisoformat(stamp.replace("Z", "+00:00")), usegmt=True)
