"""Task file formats behind one small interface: a reader yields records, a writer writes tasks.

Each format lives in its own module and is imported only when used (iCalendar pulls in the
`icalendar` library). A module defines one `Format` subclass and exposes it as `FORMAT`:

    todotxt      todo.txt                       read, write
    ical         iCalendar VTODO (RFC 5545)     read, write
    taskwarrior  Taskwarrior `task export`      read, write (same JSON shape)
    todoist      Todoist CSV template           read
    markdown     Markdown checklist             read, write
    json         our own lossless dump          read, write

Readers stream: they take an iterable of text lines and yield one `ImportedTask` per task,
or a `Problem` (line number and message) for a line or component they cannot use, and
never hold the whole file (a record may name an earlier one as its parent). What a record
leaves as None the file does not say, and an import keeps the stored value (or the
default, for a new task); "" and [] say "none".
Tasks are matched by `key` (a uid the file carries) or, for formats without ids, by a key
derived from `key_source` (see service/transfer.py). Writers take tasks and a text stream.

docs/formats.md has the table of what each format carries and what it cannot.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar, Literal, TextIO

from ..errors import InvalidInput

if TYPE_CHECKING:  # annotations only: the CLI's help reads the registry without loading pydantic
    from ..model import Priority, Status, Task

__all__ = [
    "FORMATS",
    "REGISTRY",
    "Entry",
    "Format",
    "ImportedTask",
    "Options",
    "Problem",
    "Record",
    "Ref",
    "day_stamp",
    "get",
    "listed",
    "name_of",
    "sniff",
    "utc_stamp",
]

Ref = str | int
"""A reference to another task: its key (uid), or its id in a JSON dump."""


@dataclass(slots=True)
class ImportedTask:
    """One task as a file describes it. None: the file does not say (keep what is stored)."""

    line: int
    """Line the task starts on (1-based), for messages."""
    title: str
    key: str | None = None
    """The task's identity in the file (iCalendar UID, Taskwarrior uuid, our uid)."""
    key_source: str = ""
    """When `key` is None: the content a stable key is derived from (same line, same key)."""
    alias: str | None = None
    """Another name other records of the file use for this one (a Taskwarrior uuid, when the
    key is our uid kept beside it)."""
    id: int | None = None
    """The id to keep (JSON dump only)."""
    status: Status | None = None
    notes: str | None = None
    priority: Priority | None = None
    due: str | None = None
    """ISO date or date-time; "" for no due date."""
    due_tz: str | None = None
    recur: str | None = None
    """A rule `recurrence.parse_recur` accepts; "" for none."""
    project: str | None = None
    tags: list[str] | None = None
    parent: Ref | ImportedTask | None = None
    """The parent's key (or id in a JSON dump, or the record itself when it has no key and was
    yielded earlier: nested Markdown items, indented Todoist rows); "" for a top-level task."""
    depends: list[Ref] | None = None
    reminders: list[str] | None = None
    """Reminders as `dates.reminders` stores them ("-PT30M", "2026-12-07T08:00:00Z")."""
    ical: str | None = None
    """A CalDAV client's VCALENDAR for the task and the resource name it used (JSON dump only:
    `Task.ical`, `Task.href`); None keeps what is stored, "" clears it."""
    href: str | None = None
    created_at: str | None = None
    """A UTC timestamp: "YYYY-MM-DD" (day precision), "...THH:MM:SSZ" or "...THH:MM:SS.mmmZ"."""
    updated_at: str | None = None
    completed_at: str | None = None
    warnings: list[str] = field(default_factory=list)
    """What the reader had to leave out, said per task."""
    resolved: int | None = None
    """Set by the import: the id this record was given (so later records can name it as parent)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """A line or component that is not imported. `severity`: "skip" (not a task, said why:
    counted as skipped), "error" (malformed: skipped, or the whole import refused with
    --strict), "fatal" (the file's structure is broken or cut short: never imported)."""

    line: int
    message: str
    severity: Literal["skip", "error", "fatal"] = "error"


Record = ImportedTask | Problem


@dataclass(frozen=True)
class Options:
    """What readers and writers may need besides the text: the user's zone (floating
    times, Taskwarrior's midnight dates) and now (Todoist's relative dates)."""

    tz: tzinfo = UTC
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: str | None = None
    """The file's name, when there is one (a Todoist template names its project after it)."""


class Format:
    """A file format. Subclasses set the class attributes and implement what they support."""

    name: ClassVar[str]
    title: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "text/plain"
    readable: ClassVar[bool] = True
    writable: ClassVar[bool] = True
    keeps_trash: ClassVar[bool] = False
    """The format can say "deleted" (iCalendar CANCELLED, Taskwarrior deleted, the dump), so an
    export includes the trash; the others leave it out."""

    def read(self, lines: Iterable[str], options: Options) -> Iterator[Record]:
        raise InvalidInput(f"{self.title} files cannot be imported")

    def write(self, tasks: Iterable[Task], out: TextIO, options: Options) -> None:
        raise InvalidInput(f"{self.title} is an import-only format; export to {', '.join(writable_names())}")


# ---- the registry ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One format in the registry: adding a format is its module plus one line here."""

    module: str
    """The module of formats/ that defines `FORMAT` (imported on first use)."""
    writes: bool
    """False for an import-only format."""
    aliases: tuple[str, ...] = ()
    """Other names `--format` and the tools accept (case-insensitive)."""
    extensions: tuple[str, ...] = ()
    """File suffixes that name it when the content does not (see `sniff`)."""


REGISTRY: dict[str, Entry] = {
    "todotxt": Entry("todotxt", True, ("todo.txt", "txt"), (".txt", ".todo")),
    "ical": Entry("ical", True, ("ics", "icalendar", "vtodo"), (".ics", ".ical", ".ifb")),
    "taskwarrior": Entry("taskwarrior", True, ("tw", "task")),
    "todoist": Entry("todoist", False, ("csv",), (".csv",)),
    "markdown": Entry("markdown", True, ("md",), (".md", ".markdown")),
    "json": Entry("jsondump", True),
}
"""Every format, in the order they are documented: the MCP tools' format lists, the CLI's
help and `sniff` all read this table."""

FORMATS = tuple(REGISTRY)
"""Every format name, in the order they are documented."""
_ALIASES = {alias: name for name, entry in REGISTRY.items() for alias in entry.aliases}
_BY_EXTENSION = {suffix: name for name, entry in REGISTRY.items() for suffix in entry.extensions}


def writable_names() -> tuple[str, ...]:
    return tuple(name for name, entry in REGISTRY.items() if entry.writes)


def listed(names: Iterable[str]) -> str:
    """Names for a help text: "todotxt, ical or json"."""
    *rest, last = names
    return f"{', '.join(rest)} or {last}" if rest else last


def name_of(value: str) -> str:
    """The canonical name of a format given by name or alias (case-insensitive)."""
    key = value.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in REGISTRY:
        raise InvalidInput(f"unknown format {value!r}; use one of {', '.join(FORMATS)}")
    return key


def get(name: str) -> Format:
    """The format named (or aliased); its module is imported now."""
    module = importlib.import_module(f"{__name__}.{REGISTRY[name_of(name)].module}")
    found = module.FORMAT
    assert isinstance(found, Format)
    return found


def sniff(head: str, filename: str | None = None) -> str:
    """Guess the format from the first few kilobytes of text and the file name."""
    text = head.lstrip("\ufeff \t\r\n")
    upper = text[:200].upper()
    if upper.startswith("BEGIN:VCALENDAR") or upper.startswith("BEGIN:VTODO"):
        return "ical"
    if text.startswith("{") and '"mcp-server-todo"' in text[:500]:
        return "json"
    if text.startswith(("[", "{")):
        return "taskwarrior"
    if upper.startswith("TYPE,CONTENT"):
        return "todoist"
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    if suffix == ".json":
        return "taskwarrior"
    for line in text.splitlines()[:50]:
        if line.lstrip().startswith(("- [", "* [", "+ [")):
            return "markdown"
    return "todotxt"


# ---- timestamps --------------------------------------------------------------------


def utc_stamp(moment: datetime, *, millis: bool = False) -> str:
    """An aware date-time as our UTC timestamp: seconds ("...Z") or milliseconds (".mmmZ")."""
    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")


def day_stamp(day: date) -> str:
    """A date as a day-precision timestamp (todo.txt creation and completion dates)."""
    return day.isoformat()
