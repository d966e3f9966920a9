"""todo.txt (github.com/todotxt/todo.txt): one task per line.

    x 2026-03-02 2026-03-01 Review the pull request +Work @github due:2026-03-03 uid:5f0c...
    (A) 2026-03-01 Call Mom @phone rec:+1w due:2026-03-08

Read by the format's rules: `x ` marks a done task and is followed by its completion date
and then, optionally, its creation date; `(A) ` (an uppercase letter) is the priority of an
open task, then the optional creation date; `+project` and `@context` may appear anywhere
after those. The first +project is the task's project, further ones are kept as tags
spelled "+name", contexts are tags. Of the `key:value` extensions these are understood:

    due:   the due date (YYYY-MM-DD, or an ISO date-time: ours write one with its offset)
    tz:    the IANA zone of a date-time due
    rec:   recurrence as the todo.txt community writes it: [+]N(d|w|m|y|b), e.g. rec:1w,
           rec:+2m, rec:1b (every weekday); both forms repeat from the due date here
    rrule: any other rule, as an RRULE body (ours, for rules rec: cannot say)
    pri:   the priority of a done task (the spec's way to keep it on completion)
    uid:   the task's stable identity (ours); parent: the uid of its parent task

A line break in a title is written as `\n` (formats/_lines.py) and read back from lines that
carry a uid. Any other key:value stays in the title, as do words the format would misread, so nothing is
lost from a line. Priorities: A is high, B medium, C low, D-Z low too. Written back: high A,
medium B, low C.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TextIO

from ..dates import is_iso_date
from ..errors import InvalidInput
from ..model import DEFAULT_PROJECT, Priority, Status, Task, clean_tag
from . import Format, ImportedTask, Options, Problem, Record, _lines

_PRIORITY = re.compile(r"\(([A-Z])\) ")
_REC = re.compile(r"(\+?)(\d{0,4})([dwmyb])")
_LETTER = {"A": Priority.high, "B": Priority.medium, "C": Priority.low}
_WRITE_LETTER = {Priority.high: "A", Priority.medium: "B", Priority.low: "C"}
_UNIT_FREQ = {"d": "DAILY", "w": "WEEKLY", "m": "MONTHLY", "y": "YEARLY"}
_FREQ_UNIT = {v: k for k, v in _UNIT_FREQ.items()}
_WEEKDAYS_RULE = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
_KEYS = ("due", "tz", "rec", "rrule", "pri", "uid", "parent")


def priority_of(letter: str) -> Priority:
    return _LETTER.get(letter, Priority.low)


def rec_to_rule(value: str) -> str | None:
    """`rec:` value → RRULE body ("1w" → FREQ=WEEKLY); None if it is not one."""
    match = _REC.fullmatch(value)
    if not match:
        return None
    count = int(match.group(2) or 1)
    unit = match.group(3)
    if count < 1:
        return None
    if unit == "b":
        return _WEEKDAYS_RULE if count == 1 else None
    return f"FREQ={_UNIT_FREQ[unit]}" + (f";INTERVAL={count}" if count > 1 else "")


def rule_to_rec(rule: str) -> str | None:
    """A stored RRULE body → the `rec:` value that says the same, if one does."""
    if rule == _WEEKDAYS_RULE:
        return "+1b"
    match = re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(?:;INTERVAL=(\d+))?", rule)
    if not match:
        return None
    return f"+{match.group(2) or 1}{_FREQ_UNIT[match.group(1)]}"


# ---- reading -----------------------------------------------------------------------


def _take_date(rest: str) -> tuple[str | None, str]:
    """A leading YYYY-MM-DD and the text after it (None if the line does not start with one)."""
    word, _, after = rest.partition(" ")
    if not is_iso_date(word):
        return None, rest
    date.fromisoformat(word)  # ValueError for 2026-02-30: the caller reports the line
    return word, after


class _Line:
    """The parts of one line, filled as it is read."""

    def __init__(self, number: int) -> None:
        self.task = ImportedTask(line=number, title="", status=Status.pending, tags=[], due="", recur="", parent="")
        self.words: list[str] = []
        self.project: str | None = None

    def token(self, word: str) -> None:
        if len(word) > 1 and word[0] == "+":
            self._project(word[1:], word)
        elif len(word) > 1 and word[0] == "@":
            self._tag(word[1:], word)
        elif ":" in word and word.split(":", 1)[0] in _KEYS and word.split(":", 1)[1]:
            key, value = word.split(":", 1)
            self._extension(key, value, word)
        else:
            self.words.append(word)

    def _project(self, name: str, word: str) -> None:
        if self.project is None:
            self.project = name
        else:
            self._tag(word, word)

    def _tag(self, name: str, word: str) -> None:
        try:
            assert self.task.tags is not None
            self.task.tags.append(clean_tag(name))
        except InvalidInput as exc:
            self.task.warnings.append(f"{word!r} kept in the title: {exc}")
            self.words.append(word)

    def _extension(self, key: str, value: str, word: str) -> None:
        task = self.task
        if key == "rec":
            rule = rec_to_rule(value)
            if rule is None:
                task.warnings.append(f"{word!r} kept in the title: not a recurrence this server can repeat")
                self.words.append(word)
            else:
                task.recur = rule
        elif key == "rrule":
            task.recur = value
        elif key == "due":
            task.due = value
        elif key == "tz":
            task.due_tz = value
        elif key == "pri" and re.fullmatch(r"[A-Z]", value):
            task.priority = priority_of(value)
        elif key == "uid":
            task.key = value
        elif key == "parent":
            task.parent = value
        else:
            self.words.append(word)


def parse_line(text: str, number: int) -> Record | None:
    """One line → a task, a problem, or None for a blank line."""
    if not text.strip():
        return None
    line = _Line(number)
    task = line.task
    rest = text
    created: str | None = None
    try:
        if rest.startswith("x "):
            task.status = Status.done
            completed, rest = _take_date(rest[2:])
            task.completed_at = completed
            if completed is not None:
                created, rest = _take_date(rest)
        else:
            match = _PRIORITY.match(rest)
            if match:
                task.priority = priority_of(match.group(1))
                rest = rest[match.end() :]
            created, rest = _take_date(rest)
    except ValueError as exc:
        return Problem(number, f"not a real date ({exc}); use YYYY-MM-DD")
    task.created_at = created
    for word in rest.split(" "):
        line.token(word)
    if task.priority is None:
        task.priority = Priority.none
    task.project = line.project or DEFAULT_PROJECT
    task.title = " ".join(line.words).strip()
    if task.key:
        task.title = _lines.unescape(task.title)  # a line we wrote: its line breaks are escaped
    if not task.title:
        return Problem(number, "the line has no task text, only +project, @context or key:value parts")
    task.key_source = f"{task.title}\x1f{created or ''}"
    return task


class TodoTxt(Format):
    name = "todotxt"
    title = "todo.txt"
    extensions = (".txt",)
    media_type = "text/plain"

    def read(self, lines: Iterable[str], options: Options) -> Iterator[Record]:
        for number, text in enumerate(lines, start=1):
            found = parse_line(text.rstrip("\r\n"), number)
            if found is not None:
                yield found

    def write(self, tasks: Iterable[Task], out: TextIO, options: Options) -> None:
        listed = [task for task in tasks if task.status is not Status.deleted]
        uids = {task.id: task.uid for task in listed}
        for task in listed:
            out.write(format_line(task, uids) + "\n")


# ---- writing -----------------------------------------------------------------------


def _is_plus(tag: str) -> bool:
    """A tag read from a second +project ("+Garage"), written back the same way."""
    return len(tag) > 1 and tag[0] == "+"


def _word(text: str) -> str:
    """A project name as one todo.txt word (spaces become underscores)."""
    return re.sub(r"\s", "_", text)


def format_line(task: Task, uids: dict[int, str | None]) -> str:
    parts: list[str] = []
    letter = _WRITE_LETTER.get(task.priority)
    if task.status is Status.done:
        parts += ["x", (task.completed_at or task.updated_at)[:10]]
    elif letter:
        parts.append(f"({letter})")
    parts += [task.created_at[:10], _lines.escape(task.title)]
    plus_tags = any(_is_plus(tag) for tag in task.tags)
    if task.project != DEFAULT_PROJECT or plus_tags:
        parts.append("+" + _word(task.project))
    parts += [tag if _is_plus(tag) else "@" + tag for tag in task.tags]
    if task.due:
        parts.append(f"due:{task.due}")
        if task.due_tz:
            parts.append(f"tz:{task.due_tz}")
    if task.recur:
        rec = rule_to_rec(task.recur)
        parts.append(f"rec:{rec}" if rec else f"rrule:{task.recur}")
    if task.status is Status.done and letter:
        parts.append(f"pri:{letter}")
    if task.parent_id is not None and uids.get(task.parent_id):
        parts.append(f"parent:{uids[task.parent_id]}")
    if task.uid:
        parts.append(f"uid:{task.uid}")
    return " ".join(parts)


FORMAT = TodoTxt()
