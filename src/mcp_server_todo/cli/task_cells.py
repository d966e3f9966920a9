"""The pieces of a task that cli/display.py lays out: its due date in words, the overdue
marker, priority colours, table rows with subtasks indented, and every field for `show`.

Each piece is a cell of cli/layout.py: segments `(text, style)`, never markup (a title holding
"[bold]" is shown as typed). No Rich here; this module is imported only by display.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from ..model import DEFAULT_PROJECT, Priority, Status
from ..render import one_line

if TYPE_CHECKING:
    from ..model import Task
    from .layout import Cell

__all__ = [
    "HEADER",
    "OVERDUE_MARK",
    "due_phrase",
    "fields",
    "is_overdue",
    "nested",
    "one_line",
    "row",
    "row_style",
    "summary",
    "zone_of",
]

OVERDUE_MARK = "!"
"""Put before the due date of an overdue task: the marker that shows without colour too."""

PRIORITY_STYLES = {Priority.high: "bold red", Priority.medium: "yellow", Priority.low: "blue"}
MAX_DEPTH = 8
"""Subtasks deeper than this are indented no further (a narrow terminal keeps its titles)."""


def zone_of(name: str | None) -> tzinfo:
    """The zone due dates are read in: `name`, else TODO_TZ, TZ, the system's (dates.zone)."""
    from ..dates import zone

    return zone(name)


def due_phrase(task: Task, tz: tzinfo | None = None, now: datetime | None = None) -> str:
    """The due date as people read it: "today 15:00", "tomorrow", "in 3 days", "Fri 27 Dec",
    "3 days overdue", "overdue since 09:00"; "" without one. A task no longer pending shows its
    date ("2026-12-07 15:00"): "overdue" means nothing once it is done."""
    if not task.due:
        return ""
    if task.status is not Status.pending:
        return task.due[:16].replace("T", " ")
    human = task.due_human
    if human is None:
        from ..dates import humanize

        human = humanize(task.due, tz or UTC, now or datetime.now(UTC))
    return human.removeprefix("due ")


def is_overdue(task: Task, phrase: str) -> bool:
    return task.status is Status.pending and "overdue" in phrase


def nested(tasks: list[Task]) -> list[tuple[Task, int]]:
    """The tasks in their order, each subtask moved right under its parent when the parent
    is listed too, with its depth (0 for a task shown at the top level)."""
    listed = {task.id for task in tasks}
    children: dict[int, list[Task]] = {}
    roots: list[Task] = []
    for task in tasks:
        if task.parent_id is not None and task.parent_id in listed and task.parent_id != task.id:
            children.setdefault(task.parent_id, []).append(task)
        else:
            roots.append(task)
    out: list[tuple[Task, int]] = []
    seen: set[int] = set()

    def walk(task: Task, depth: int) -> None:
        if task.id in seen:  # a damaged store's cycle: each task once
            return
        seen.add(task.id)
        out.append((task, depth))
        for child in children.get(task.id, []):
            walk(child, depth + 1)

    for task in roots:
        walk(task, 0)
    for task in tasks:  # a cycle with no root: shown at the top level all the same
        walk(task, 0)
    return out


def due_text(task: Task, tz: tzinfo) -> Cell:
    phrase = due_phrase(task, tz)
    if is_overdue(task, phrase):
        return [(OVERDUE_MARK + " ", "bold red"), (phrase, "red")]
    return [(phrase, "yellow" if phrase.startswith("today") else "")]


def _priority(task: Task) -> Cell:
    if task.priority is Priority.none:
        return []
    return [(task.priority.value, PRIORITY_STYLES.get(task.priority, ""))]


def title_text(task: Task, depth: int = 0) -> Cell:
    """The title with its tags, and what is not plain: blocked, recurring, not pending."""
    text: Cell = []
    if depth:
        text.append(("  " * min(depth, MAX_DEPTH) + "└ ", "dim"))
    text.append((one_line(task.title), ""))
    if task.tags:
        text.append(("  " + " ".join(f"#{tag}" for tag in task.tags), "cyan"))
    if task.recur:
        text.append(("  ↻", "dim"))
    if task.blocked:
        text.append(("  (blocked)", "dim"))
    if task.status is not Status.pending:
        text.append((f"  [{task.status.value}]", "dim"))
    return text


HEADER = ["ID", "PRI", "DUE", "PROJECT", "TITLE"]


def row(task: Task, depth: int, tz: tzinfo) -> list[Cell]:
    """The cells under `HEADER` of one table row."""
    return [
        [(str(task.id), "dim")],
        _priority(task),
        due_text(task, tz),
        [(one_line(task.project), "magenta" if task.project != DEFAULT_PROJECT else "")],
        title_text(task, depth),
    ]


def row_style(task: Task) -> str:
    return "" if task.status is Status.pending else "dim"


def summary(task: Task, tz: tzinfo) -> Cell:
    """One line for a task under another (`show`'s subtasks): `#4 Title  tomorrow`."""
    due = due_text(task, tz)
    gap: Cell = [("  ", "")] if any(text for text, _ in due) else []
    return [(f"#{task.id} ", "dim"), *title_text(task), *gap, *due]


def fields(task: Task, tz: tzinfo) -> list[tuple[str, Cell | str]]:
    """Every field of a task worth a line in `show`, in reading order (empty ones left out,
    but status, priority and project always there)."""
    from ..dates.recurrence import describe
    from ..dates.reminders import describe_reminder

    lines: list[tuple[str, Cell | str]] = [("Status", task.status.value), ("Priority", _priority(task) or "none")]
    if task.due:
        due = due_text(task, tz)
        if task.status is Status.pending:
            due.append((f"  ({task.due}{f' {task.due_tz}' if task.due_tz else ''})", "dim"))
        lines.append(("Due", due))
    if task.recur:
        lines.append(("Repeats", f"{describe(task.recur)} ({task.recur})"))
    if task.reminders:
        lines.append(("Reminders", ", ".join(describe_reminder(r) for r in task.reminders)))
    lines.append(("Project", one_line(task.project)))
    if task.tags:
        lines.append(("Tags", " ".join(f"#{tag}" for tag in task.tags)))
    if task.parent_id is not None:
        lines.append(("Parent", f"#{task.parent_id}"))
    if task.subtasks:
        lines.append(("Subtasks", str(task.subtasks)))
    if task.depends_on:
        lines.append(("Depends on", " ".join(f"#{dep}" for dep in task.depends_on)))
    if task.blocked:
        lines.append(("Blocked", "yes: waits for an open dependency"))
    if task.urgency is not None:
        lines.append(("Urgency", f"{task.urgency:g}"))
    lines.append(("Created", task.created_at))
    lines.append(("Updated", task.updated_at))
    if task.completed_at:
        lines.append(("Completed", task.completed_at))
    if task.uid:
        lines.append(("UID", task.uid))
    return lines
