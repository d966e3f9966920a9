"""Todoist's CSV template (Project → Export as a template → CSV), read only.

    TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,...
    section,Errands,,,,,,,,
    task,Buy milk @shop,Oat milk,1,1,Evan (14781400),,every monday at 9am,en,Europe/London
    task,Check the date,,4,2,Evan (14781400),,,en,Europe/London
    note,The shop closes at six,,,,Evan (14781400),,,,

Rows by TYPE: "task" is a task; "section" starts a section, whose name becomes the project
of the tasks under it (tasks before any section take the project from the file's name,
"Home [2203306141].csv" → Home, else inbox); "note" is a comment on the task above and is
added to its notes; "meta" and blank rows are passed over. Columns are found by their
header names, so older (10 columns) and newer exports (DURATION, DEADLINE...) both read.

    CONTENT      title; @label words are tags        DESCRIPTION  notes
    PRIORITY     1 is p1, the highest (help center: "Type 1 to add p1 to the task (highest
                 priority)"): 1 high, 2 medium, 3 low, 4 (and empty) none
    INDENT       1 top level, 2 a subtask of the task above it at 1, and so on
    DATE         a date or a recurrence as typed in Todoist ("Oct 5 2026", "tomorrow",
                 "every monday at 9am"): dates and times are read in TIMEZONE (else the
                 user's zone), "every ..." becomes the rule and its first day the due

The template holds open tasks only, so an import never changes a task's status.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import tzinfo
from pathlib import PurePath

from ..dates import find_zone, parse_due
from ..errors import InvalidInput
from ..model import DEFAULT_PROJECT, Priority, clean_tag
from . import Format, ImportedTask, Options, Problem, Record

_PRIORITY = {"1": Priority.high, "2": Priority.medium, "3": Priority.low, "4": Priority.none, "": Priority.none}
_RECURRING = re.compile(r"(?:every!?|each)\s+(?P<rule>.+?)(?:\s+(?:at|@)\s+(?P<time>[^,]+))?", re.IGNORECASE)
_LABEL = re.compile(r"(?:^|\s)@(\S+)")


def project_of(source: str | None) -> str:
    """The project a template's file names: "Home [2203306141].csv" → "Home"."""
    if not source:
        return DEFAULT_PROJECT
    stem = re.sub(r"\s*\[\d+\]$", "", PurePath(source).stem).strip()
    return stem or DEFAULT_PROJECT


def _zone(name: str, fallback: tzinfo) -> tzinfo:
    found = find_zone(name) if name else None
    return fallback if found is None else found


def _date(text: str, zone: tzinfo, options: Options, task: ImportedTask) -> None:
    """DATE → due (and recur for "every ..."); what does not parse is said and left out."""
    from ..dates.recurrence import first_due, parse_recur

    task.due, task.recur = "", ""
    if not text:
        return
    try:
        recurring = _RECURRING.fullmatch(text)
        if recurring:
            task.recur = parse_recur("every " + recurring.group("rule"))
            day = first_due(task.recur, options.now.astimezone(zone).date())
            when = recurring.group("time")
            text = day if not when else f"{_month_day(day)} {when}"
        due = parse_due(text, zone, now=options.now)
    except InvalidInput as exc:
        task.due, task.recur = "", ""
        task.warnings.append(f"DATE {text!r} left out: {exc}")
        return
    task.due, task.due_tz = due.iso, due.tz


def _month_day(iso: str) -> str:
    """2026-03-02 → "mar 2 2026" (a form the phrase parser takes a time after)."""
    year, month, day = (int(part) for part in iso.split("-"))
    months = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    return f"{months[month - 1]} {day} {year}"


class _Reader:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.project = project_of(options.source)
        self.columns: dict[str, int] = {}
        self.held: ImportedTask | None = None
        self.notes: list[str] = []
        self.parents: list[ImportedTask] = []

    def cell(self, row: list[str], name: str) -> str:
        index = self.columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    def header(self, row: list[str], line: int) -> Problem | None:
        self.columns = {name.strip().upper(): i for i, name in enumerate(row)}
        if "TYPE" not in self.columns or "CONTENT" not in self.columns:
            return Problem(line, "the first row is not a Todoist header (TYPE,CONTENT,...)", "fatal")
        return None

    def row(self, row: list[str], line: int) -> Iterator[Record]:
        kind = self.cell(row, "TYPE").lower()
        if kind == "note":
            if self.held is None:
                yield Problem(line, "a note with no task above it; skipped")
            else:
                self.notes.append(self.cell(row, "CONTENT"))
            return
        yield from self.flush()
        if kind == "section":
            self.project = self.cell(row, "CONTENT") or self.project
            self.parents = []
        elif kind == "task":
            yield from self._task(row, line)
        elif kind not in ("", "meta"):
            yield Problem(line, f"TYPE {kind!r} is not task, section or note; skipped")

    def _task(self, row: list[str], line: int) -> Iterator[Record]:
        content = self.cell(row, "CONTENT")
        tags = [match.group(1) for match in _LABEL.finditer(content)]
        title = _LABEL.sub("", content).strip()
        if not title:
            yield Problem(line, "a task with no text; skipped")
            return
        depth = int(self.cell(row, "INDENT")) if self.cell(row, "INDENT").isdigit() else 1
        del self.parents[max(depth - 1, 0) :]
        task = ImportedTask(
            line=line,
            title=title,
            key_source=f"{self.project}\x1f{title}",
            notes=self.cell(row, "DESCRIPTION"),
            priority=_PRIORITY.get(self.cell(row, "PRIORITY"), Priority.none),
            project=self.project,
            tags=[],
            parent=self.parents[-1] if self.parents else "",
        )
        for tag in tags:
            try:
                assert task.tags is not None
                task.tags.append(clean_tag(tag))
            except InvalidInput as exc:
                task.warnings.append(f"label {tag!r} left out: {exc}")
        zone = _zone(self.cell(row, "TIMEZONE"), self.options.tz)
        _date(self.cell(row, "DATE"), zone, self.options, task)
        self.parents.append(task)
        self.held = task

    def flush(self) -> Iterator[Record]:
        if self.held is not None:
            notes = [part for part in [self.held.notes or "", *self.notes] if part]
            self.held.notes = "\n\n".join(notes)
            yield self.held
        self.held, self.notes = None, []


class TodoistCsv(Format):
    name = "todoist"
    title = "Todoist CSV template"
    extensions = (".csv",)
    media_type = "text/csv"
    writable = False

    def read(self, lines: Iterable[str], options: Options) -> Iterator[Record]:
        reader = _Reader(options)
        rows = csv.reader(lines)
        header_seen = False
        try:
            for row in rows:
                line = rows.line_num
                if not header_seen:
                    header_seen = True
                    problem = reader.header(row, line)
                    if problem is not None:
                        yield problem
                        return
                    continue
                yield from reader.row(row, line)
        except csv.Error as exc:
            yield Problem(rows.line_num, f"not valid CSV ({exc})", "fatal")
            return
        yield from reader.flush()


FORMAT = TodoistCsv()
