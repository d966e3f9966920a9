"""`edit ID` without flags: the task as a text form in `$EDITOR` (`VISUAL`, then `EDITOR`, then
vi), read back into the fields that changed. Values are shown as stored (a due date in ISO
8601, a repeat rule in RFC 5545, reminders as durations such as -PT30M) and may be written as
phrases ("tomorrow 5pm", "every monday", "30 minutes before"); an empty value clears.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput

if TYPE_CHECKING:
    from ..model import Task

LIST_FIELDS = ("tags", "depends_on", "remind")
EMPTY_MEANS = {"priority": "none", "project": "inbox"}
FORM_FIELDS = ("title", "priority", "due", "recur", "project", "tags", "parent", "depends_on", "remind")


def form_of(task: Task) -> str:
    """The text the editor opens: one `field: value` line each, then the notes."""
    values: dict[str, str] = {
        "title": task.title,
        "priority": task.priority.value,
        "due": task.due or "",
        "recur": task.recur or "",
        "project": task.project,
        "tags": ", ".join(task.tags),
        "parent": str(task.parent_id or ""),
        "depends_on": ", ".join(str(i) for i in task.depends_on),
        "remind": ", ".join(task.reminders),
    }
    head = [
        f"# Task #{task.id}. Change values and save; an empty value clears it; lines starting with # are ignored.",
        "# due: 2026-12-24T17:00 or a phrase (tomorrow 5pm); recur: every monday; remind: 30 minutes before",
    ]
    lines = head + [f"{name}: {values[name]}" for name in FORM_FIELDS]
    return "\n".join([*lines, "notes:", task.notes, ""])


def parse_form(text: str) -> dict[str, str]:
    """The form's `field: value` lines and its notes (everything after `notes:`)."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("#") or not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if name == "notes" and colon:
            rest = [value.strip()] if value.strip() else []
            values["notes"] = "\n".join(rest + lines[index + 1 :]).strip("\n")
            break
        if not colon or name not in FORM_FIELDS:
            raise InvalidInput(f"edit form line {index + 1}: {line[:60]!r} is not 'field: value' with a known field")
        values[name] = value.strip()
    return values


def changes_from(task: Task, text: str) -> dict[str, Any]:
    """The `update` arguments for what the form changed (nothing: an empty dict)."""
    before = parse_form(form_of(task))
    after = parse_form(text)
    changes: dict[str, Any] = {}
    for name, value in after.items():
        if before.get(name, "") == value:
            continue
        if name == "tags":
            changes["tags"] = _items(value)
        elif name == "remind":
            changes["remind"] = _items(value)
        elif name == "depends_on":
            changes["depends_on"] = [_int(v, name) for v in _items(value)]
        elif name == "parent":
            changes["parent_id"] = _int(value, name) if value else 0
        elif name == "title" and not value:
            raise InvalidInput("the title cannot be empty")
        elif name in EMPTY_MEANS and not value:
            changes[name] = EMPTY_MEANS[name]
        else:
            changes[name] = value
    return changes


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _int(value: str, name: str) -> int:
    try:
        return int(value.lstrip("#"))
    except ValueError:
        raise InvalidInput(f"{name} {value!r} is not a task id") from None
