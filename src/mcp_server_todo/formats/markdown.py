"""Markdown checklists (GitHub task lists), nested items as subtasks:

    ## Home
    - [ ] Paint the fence #weekend @due(2026-05-02) @priority(high) <!-- uid:5f0c... -->
      > Two coats; the brush is in the shed.
      - [x] Buy paint @done(2026-04-28)

Read: a heading names the project of the items under it (items before any heading go to
inbox); `- [ ]`, `* [ ]` or `+ [ ]` is an open item, `[x]` or `[X]` a done one; an item
indented under another is its subtask; `#word` is a tag; `@due(...)`, `@priority(...)`,
`@recur(...)` and `@done(date)` are the TaskPaper-style fields; lines quoted (`> `) or
indented under an item without a list marker are its notes; an HTML comment `<!-- uid:... -->`
is the task's identity (written by our export so a re-import matches); a line break in the
title of such an item is written as `\n` (formats/_lines.py). Other lines are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from ..errors import InvalidInput
from ..model import DEFAULT_PROJECT, Priority, Status, Task, clean_tag
from . import Format, ImportedTask, Options, Problem, Record, _lines

_ITEM = re.compile(r"(?P<indent>[ \t]*)[-*+] \[(?P<mark>[ xX])\](?: (?P<text>.*))?")
_HEADING = re.compile(r"#{1,6}[ \t]+(?P<name>.*?)[ \t#]*")
_UID = re.compile(r"\s*<!--\s*uid:(?P<uid>\S+)\s*-->\s*$")
_FIELD = re.compile(r"@(?P<key>due|tz|priority|recur|done|project)\((?P<value>[^()]*)\)")
_PRIORITIES = {p.value: p for p in Priority}


@dataclass
class _Open:
    """An item being read: its indent (for nesting and notes) and its note lines. It is
    yielded when its notes end (at the next item or a line outside it), so a parent always
    comes before its subtasks."""

    task: ImportedTask
    indent: int
    notes: list[str] = field(default_factory=list)
    blank: int = 0
    finished: bool = False


def _width(indent: str) -> int:
    return len(indent.replace("\t", "    "))


def _parse_text(text: str, task: ImportedTask) -> None:
    """Title, tags and @fields of one item's text."""
    uid = _UID.search(text)
    if uid:
        task.key = uid.group("uid")
        text = text[: uid.start()]
    for match in _FIELD.finditer(text):
        _field(match.group("key"), match.group("value").strip(), task)
    text = _FIELD.sub("", text)
    words: list[str] = []
    for word in text.split(" "):
        if len(word) > 1 and word[0] == "#":
            try:
                assert task.tags is not None
                task.tags.append(clean_tag(word[1:]))
                continue
            except InvalidInput as exc:
                task.warnings.append(f"{word!r} kept in the title: {exc}")
        words.append(word)
    task.title = " ".join(words).strip()
    if uid:
        task.title = _lines.unescape(task.title)  # an item we wrote: its line breaks are escaped


def _field(key: str, value: str, task: ImportedTask) -> None:
    if key == "due":
        task.due = value
    elif key == "tz":
        task.due_tz = value or None
    elif key == "recur":
        task.recur = value
    elif key == "done":
        task.completed_at = value or None
    elif key == "project":
        task.project = value or task.project
    elif value.lower() in _PRIORITIES:
        task.priority = _PRIORITIES[value.lower()]
    else:
        task.warnings.append(f"@priority({value}) ignored: use none, low, medium or high")


class _Reader:
    def __init__(self) -> None:
        self.project = DEFAULT_PROJECT
        self.stack: list[_Open] = []

    def line(self, text: str, number: int) -> Iterator[Record]:
        item = _ITEM.fullmatch(text)
        if item:
            yield from self._item(item, number)
            return
        if not text.strip():
            if self.stack:
                self.stack[-1].blank += 1
            return
        if self._note(text):
            return
        yield from self.close(0)
        heading = _HEADING.fullmatch(text)
        if heading and heading.group("name").strip():
            self.project = heading.group("name").strip()

    def _item(self, item: re.Match[str], number: int) -> Iterator[Record]:
        indent = _width(item.group("indent"))
        yield from self.close(indent)
        yield from self._finish_open()
        task = ImportedTask(
            line=number,
            title="",
            status=Status.done if item.group("mark") in "xX" else Status.pending,
            notes="",
            priority=Priority.none,
            due="",
            recur="",
            project=self.project,
            tags=[],
            parent=self.stack[-1].task if self.stack else "",
        )
        _parse_text(item.group("text") or "", task)
        if not task.title:
            yield Problem(number, "the item has no text")
            return
        task.key_source = task.title
        self.stack.append(_Open(task, indent))

    def _note(self, text: str) -> bool:
        """A quoted or indented line under the innermost open item belongs to its notes."""
        if not self.stack or self.stack[-1].finished:
            return False
        current = self.stack[-1]
        stripped = text.lstrip(" \t")
        if _width(text[: len(text) - len(stripped)]) <= current.indent:
            return False
        if stripped.startswith(">"):
            stripped = stripped[2:] if stripped.startswith("> ") else stripped[1:]
        current.notes.extend([""] * current.blank)
        current.blank = 0
        current.notes.append(stripped)
        return True

    def _finish_open(self) -> Iterator[Record]:
        for entry in self.stack:
            if not entry.finished:
                entry.finished = True
                entry.task.notes = "\n".join(entry.notes)
                yield entry.task

    def close(self, indent: int) -> Iterator[Record]:
        """Finish the open items at `indent` or deeper, and take them off the stack."""
        yield from self._finish_open()
        while self.stack and self.stack[-1].indent >= indent:
            self.stack.pop()


class Markdown(Format):
    name = "markdown"
    title = "Markdown checklist"
    extensions = (".md", ".markdown")
    media_type = "text/markdown"

    def read(self, lines: Iterable[str], options: Options) -> Iterator[Record]:
        reader = _Reader()
        for number, text in enumerate(lines, start=1):
            yield from reader.line(text.rstrip("\r\n"), number)
        yield from reader.close(0)

    def write(self, tasks: Iterable[Task], out: TextIO, options: Options) -> None:
        listed = [task for task in tasks if task.status is not Status.deleted]
        ids = {task.id for task in listed}
        children: dict[int | None, list[Task]] = {}
        for task in listed:
            parent = task.parent_id if task.parent_id in ids else None
            children.setdefault(parent, []).append(task)
        projects: dict[str, list[Task]] = {}
        for task in children.get(None, []):
            projects.setdefault(task.project, []).append(task)
        first = True
        for project, roots in projects.items():
            out.write(("" if first else "\n") + f"## {project}\n\n")
            first = False
            for root in roots:
                _write_item(root, 0, project, children, out)


def _write_item(task: Task, depth: int, heading: str, children: dict[int | None, list[Task]], out: TextIO) -> None:
    pad = "  " * depth
    mark = "x" if task.status is Status.done else " "
    parts = [f"{pad}- [{mark}] {_lines.escape(task.title)}"]
    parts += [f"#{tag}" for tag in task.tags]
    if task.due:
        parts.append(f"@due({task.due})")
        if task.due_tz:
            parts.append(f"@tz({task.due_tz})")
    if task.priority is not Priority.none:
        parts.append(f"@priority({task.priority.value})")
    if task.recur:
        parts.append(f"@recur({task.recur})")
    if task.status is Status.done and task.completed_at:
        parts.append(f"@done({task.completed_at})")
    if task.project != heading:
        parts.append(f"@project({task.project})")
    if task.uid:
        parts.append(f"<!-- uid:{task.uid} -->")
    out.write(" ".join(parts) + "\n")
    for note in task.notes.split("\n") if task.notes else []:
        out.write(f"{pad}  > {note}\n" if note else f"{pad}  >\n")
    for child in children.get(task.id, []):
        _write_item(child, depth + 1, heading, children, out)


FORMAT = Markdown()
