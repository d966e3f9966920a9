"""The task model: what a task is (and a share of a project) and the rules its fields obey. No I/O here."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from .errors import InvalidInput

TITLE_MAX = 500
NOTES_MAX = 10_000
TAGS_MAX = 20
TAG_MAX = 50
PROJECT_MAX = 100
DEFAULT_PROJECT = "inbox"
LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 500


class Status(StrEnum):
    pending = "pending"
    done = "done"
    deleted = "deleted"


class Priority(StrEnum):
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> Priority:
        return _PRIORITY_BY_RANK[rank]


_PRIORITY_RANK = {Priority.none: 0, Priority.low: 1, Priority.medium: 2, Priority.high: 3}
_PRIORITY_BY_RANK = {v: k for k, v in _PRIORITY_RANK.items()}


class Task(BaseModel):
    """One task. Times are ISO 8601 in UTC; `due` is a date or a date-time with its offset."""

    id: int
    title: str
    notes: str = ""
    status: Status = Status.pending
    priority: Priority = Priority.none
    due: str | None = None
    due_tz: str | None = None
    recur: str | None = None
    project: str = DEFAULT_PROJECT
    tags: list[str] = []
    parent_id: int | None = None
    depends_on: list[int] = []
    created_at: str
    updated_at: str
    completed_at: str | None = None
    uid: str | None = None
    """A stable identity across exports and imports (iCalendar UID, Taskwarrior uuid)."""
    reminders: list[str] = []
    """Normalized reminders (dates.reminders): an RFC 5545 duration relative to `due`
    ("-PT30M", "PT0S" at due) or a UTC instant ("2026-12-07T08:00:00Z")."""
    ical: str | None = Field(None, exclude=True)
    """The VCALENDAR a CalDAV client last PUT (transports/dav/vtodo.py serves it back with our
    fields merged in). Kept in the store and the change log, never shown to MCP clients."""
    href: str | None = Field(None, exclude=True)
    """The resource name a CalDAV client PUT the task at (None: `UID.ics`). Never shown to MCP."""
    # computed when read, never stored:
    due_human: str | None = None
    subtasks: int = 0
    blocked: bool = False
    urgency: float | None = None


COMPUTED_FIELDS = frozenset({"due_human", "subtasks", "blocked", "urgency"})
HIDDEN_FIELDS = ("ical", "href")
"""Stored, logged, never serialized by `model_dump` (MCP results): `stored_json` writes them."""
_TASK_FIELDS = tuple(Task.model_fields)
_setattr = object.__setattr__


def task_from_store(values: dict[str, Any]) -> Task:
    """A Task from trusted store values, every field given: what `Task.model_construct` does,
    without its per-field default lookup (a page of 50 tasks is built on every list call).
    tests/contract/test_store_contract.py checks the result equals a validated Task."""
    task = Task.__new__(Task)
    _setattr(task, "__dict__", values)
    _setattr(task, "__pydantic_fields_set__", set(_TASK_FIELDS))
    _setattr(task, "__pydantic_extra__", None)
    _setattr(task, "__pydantic_private__", None)
    return task


def stored(task: Task) -> Task:
    """The task without its computed fields (what the store and the change log keep)."""
    return task.model_copy(update={"due_human": None, "subtasks": 0, "blocked": False, "urgency": None})


@dataclass(frozen=True)
class Due:
    """A parsed due value: `iso` as shown, `date` the calendar day (in the task's zone),
    `utc` the instant for a date-time (None for a floating date), `tz` the zone name a
    date-time was given in (kept so a recurring 09:00 stays 09:00 across DST)."""

    iso: str
    date: str
    utc: str | None
    tz: str | None = None


@dataclass(frozen=True)
class DueWindow:
    """Due filter bounds: floating dates in [date_from, date_to] (inclusive), date-times
    with date_from <= due_utc < utc_to; None is unbounded."""

    date_from: str | None = None
    date_to: str | None = None
    utc_from: str | None = None
    utc_to: str | None = None


SORTS = ("created", "due", "priority", "urgency")


@dataclass
class ListQuery:
    """What `list_items` asks for; every field is optional and combinable."""

    status: Status | None = Status.pending
    project: str | None = None
    tag: str | None = None
    due_before: Due | None = None
    window: DueWindow | None = None
    text: str | None = None
    parent_id: int | None = None
    ids: list[int] | None = None
    sort: str = "created"
    now_utc: str = ""
    limit: int = LIST_LIMIT_DEFAULT
    after: list[Any] | None = None


@dataclass
class TaskPage:
    items: list[Task]
    total: int
    next_after: list[Any] | None
    """The sort key of the last item when more remain (feed it back as `ListQuery.after`)."""


@dataclass
class Change:
    """One entry of the change log: the task before and after one operation."""

    op: str
    task_id: int
    before: Task | None
    after: Task | None
    id: int = 0
    group: int = 0
    at: str = ""
    actor: str | None = None
    """Who made the change when it was not the log's owner: a member of a shared project, or
    the owner of a project shared with this log's owner. Such entries are not undone here."""
    via: str | None = None
    """The way the change came in when it was not MCP or the CLI: "caldav". Undone like any other."""


# ---- field rules -------------------------------------------------------------------

_ALLOWED_CONTROLS_NOTES = {"\n", "\t", "\r"}


@dataclass(frozen=True)
class Share:
    """`owner` shares `project` with `member`, who sees it as the project `mount`."""

    owner: str
    project: str
    member: str
    mount: str
    created_at: str


def _check_text(value: str, what: str, *, allow_newlines: bool) -> None:
    if value.isprintable():
        return  # the common case, checked in C: no control characters, no lone surrogates
    for ch in value:
        if "\ud800" <= ch <= "\udfff":
            raise InvalidInput(f"{what} contains an unpaired UTF-16 surrogate; send valid Unicode text")
        if unicodedata.category(ch) == "Cc" and not (allow_newlines and ch in _ALLOWED_CONTROLS_NOTES):
            if ch == "\x00":
                raise InvalidInput(f"{what} contains a NUL character (\\u0000); remove it")
            if ch in "\n\r":
                raise InvalidInput(f"{what} must be one line; put details in notes")
            raise InvalidInput(f"{what} contains the control character U+{ord(ch):04X}; remove it")


def clean_title(value: str) -> str:
    """Tabs and line breaks inside a title are kept as given (a phone's CalDAV client or a
    model sends them); one-line views show a break as render.LINE_BREAK. Other control
    characters, NUL included, are refused."""
    title = value.strip()
    if not title:
        raise InvalidInput("title is empty; give the task a short title (1-500 characters)")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            f"title is {len(title)} characters; the limit is {TITLE_MAX}. Shorten it and put details in notes"
        )
    _check_text(title, "title", allow_newlines=True)
    return title


def clean_notes(value: str) -> str:
    if len(value) > NOTES_MAX:
        raise InvalidInput(f"notes are {len(value)} characters; the limit is {NOTES_MAX}")
    _check_text(value, "notes", allow_newlines=True)
    return value


def clean_project(value: str) -> str:
    project = value.strip()
    if not project:
        raise InvalidInput(f"project is empty; omit it to use {DEFAULT_PROJECT!r}")
    if len(project) > PROJECT_MAX:
        raise InvalidInput(f"project name is {len(project)} characters; the limit is {PROJECT_MAX}")
    _check_text(project, "project", allow_newlines=False)
    return project


def clean_tag(value: str) -> str:
    tag = value.strip().removeprefix("#").strip()
    if not tag:
        raise InvalidInput("a tag is empty; tags are words like 'errand' or 'work'")
    if len(tag) > TAG_MAX:
        raise InvalidInput(f"tag {tag[:20]!r}... is {len(tag)} characters; the limit is {TAG_MAX}")
    if any(ch.isspace() or ch == "," for ch in tag):
        raise InvalidInput(f"tag {tag!r} contains a space or comma; use one word per tag")
    _check_text(tag, "tag", allow_newlines=False)
    return tag


def clean_tags(values: list[str]) -> list[str]:
    tags: list[str] = []
    seen: set[str] = set()
    for value in values:
        tag = clean_tag(value)
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(f"{len(tags)} tags given; a task has at most {TAGS_MAX}")
    return tags


_USER = re.compile(r"\S{1,500}")


HREF_MAX = 255


def clean_href(value: str) -> str | None:
    """A CalDAV resource name a client chose ("" clears it): one path segment, no control
    characters, at most HREF_MAX characters."""
    if not value:
        return None
    if len(value) > HREF_MAX or "/" in value or value in (".", "..") or _has_controls(value):
        raise InvalidInput(f"{value[:40]!r} is not a resource name: one path segment of at most {HREF_MAX} characters")
    return value


def _has_controls(value: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in value)


def clean_user(value: str) -> str:
    """A user as the server knows them: a token's user (`alice`) or an OAuth `ISSUER#SUBJECT`."""
    if not isinstance(value, str) or not _USER.fullmatch(value) or not value.isprintable():
        raise InvalidInput(f"user {value!r} is not a user name: 1-500 characters without spaces")
    return value


def clean_limit(value: int) -> int:
    if not 1 <= value <= LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {LIST_LIMIT_MAX}; got {value}")
    return value


ID_MAX = 2**63 - 1


def clean_id(value: int, what: str = "id") -> int:
    if value < 1:
        raise InvalidInput(f"{what} must be a positive task id; got {value}. Call list_items to see ids")
    if value > ID_MAX:
        raise InvalidInput(f"{what} {value} is not a task id (far too large); call list_items to see ids")
    return value


QUERY_MAX = 500
"""Longest search text: a paragraph; a search box needs a few words."""
QUERY_TERMS_MAX = 32
"""Most words in a search: each is one prefix lookup, all ANDed (SQLite FTS5, PostgreSQL tsquery)."""


def _query_words(text: str) -> int:
    """Words as both search backends split them: runs of letters and digits, with the marks
    that continue a word (नमस्ते is one word), split at anything else, "_" included."""
    count, inside = 0, False
    for ch in text:
        part = ch != "_" and (ch.isalnum() or (inside and unicodedata.category(ch).startswith("M")))
        count += part and not inside
        inside = part
    return count


def clean_query(value: str) -> str | None:
    """Search text, bounded: the cost of a search grows with its words (100,000 words took
    12 s in SQLite and overflowed PostgreSQL's stack), so both length and words are capped."""
    if len(value) > QUERY_MAX:
        raise InvalidInput(
            f"query is {len(value):,} characters; the limit is {QUERY_MAX}. Search with a few distinctive words"
        )
    _check_text(value, "query", allow_newlines=False)
    words = _query_words(value)
    if words > QUERY_TERMS_MAX:
        raise InvalidInput(
            f"query has {words} words; the limit is {QUERY_TERMS_MAX}. Search with a few distinctive words"
        )
    return value.strip() or None
