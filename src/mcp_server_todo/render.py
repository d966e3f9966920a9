"""Compact text for the model and tables for people. One line per task, no JSON.

A title may hold line breaks (model.clean_title): every one-line view shows each as
`LINE_BREAK` (⏎) through `one_line`; a tab stays a tab.
"""

from __future__ import annotations

import re
from typing import Protocol

from .model import DEFAULT_PROJECT, Change, Priority, Status, Task


class _Page(Protocol):
    items: list[Task]
    total: int
    next_cursor: str | None


LINE_BREAK = "\u23ce"  # ⏎
_BREAKS = re.compile("\r\n|[\n\r\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with each line break (CRLF, LF, CR, U+2028, U+2029) shown as ⏎."""
    return text if text.isprintable() else _BREAKS.sub(LINE_BREAK, text)


def task_line(task: Task) -> str:
    """`#12 Title | high | due tomorrow (2026-12-01) | every weekday | +work | #a #b | sub of #3 |
    2 subtasks | after #4 | ⏰ 30m before | blocked | done`; defaults are left out."""
    parts = [f"#{task.id} {one_line(task.title)}"]
    if task.priority is not Priority.none:
        parts.append(task.priority.value)
    if task.due:
        human = task.due_human or f"due {task.due}"
        parts.append(human if task.due in human else f"{human} ({task.due})")
    if task.recur:
        from .dates.recurrence import describe

        parts.append(describe(task.recur))
    if task.project != DEFAULT_PROJECT:
        parts.append(f"+{task.project}")
    if task.tags:
        parts.append(" ".join(f"#{tag}" for tag in task.tags))
    if task.parent_id is not None:
        parts.append(f"sub of #{task.parent_id}")
    if task.subtasks:
        parts.append(f"{task.subtasks} subtask{'s' if task.subtasks > 1 else ''}")
    if task.depends_on:
        parts.append("after " + " ".join(f"#{dep}" for dep in task.depends_on))
    if task.reminders:
        from .dates.reminders import describe_reminder

        parts.append("⏰ " + ", ".join(describe_reminder(r) for r in task.reminders))
    if task.blocked:
        parts.append("blocked")
    if task.urgency is not None:
        parts.append(f"urgency {task.urgency:g}")
    if task.status is not Status.pending:
        parts.append(task.status.value)
    return " | ".join(parts)


def task_lines(prefix: str, tasks: list[Task]) -> list[str]:
    """One `task_line` per task, each after `prefix` ("Added #12 Title | ...")."""
    return [f"{prefix} {task_line(task)}" for task in tasks]


def change_line(change: Change) -> str:
    """`[7] 2026-11-25T10:00Z complete #3 Buy groceries` for the history, with who made it (a
    shared project's member) and the way it came in (`(via caldav)`) when they say more."""
    task = change.after or change.before
    title = one_line(task.title) if task else "?"
    by = f" (by {change.actor})" if change.actor else ""
    via = f" (via {change.via})" if change.via else ""
    return f"[{change.id}] {change.at[:16]}Z {change.op} #{change.task_id} {title}{by}{via}"


def page_text(page: _Page, status: str) -> str:
    what = {"all": "tasks", "deleted": "tasks in the trash"}.get(status, f"{status} tasks")
    if not page.items:
        return f"No {what}." if page.total == 0 else f"No more {what} (total {page.total})."
    lines = [task_line(task) for task in page.items]
    if page.next_cursor is not None or len(page.items) != page.total:
        # the page is cut: say so, with the way to the rest
        more = f'; more: cursor="{page.next_cursor}"' if page.next_cursor else ""
        lines.append(f"({len(page.items)} shown of {page.total} {what}{more})")
    return "\n".join(lines)


def table(tasks: list[Task]) -> str:
    """A plain table for the terminal."""
    if not tasks:
        return "No tasks."
    rows = [("ID", "PRI", "DUE", "PROJECT", "TITLE")]
    for task in tasks:
        title = one_line(task.title) + ("  " + " ".join(f"#{t}" for t in task.tags) if task.tags else "")
        if task.status is not Status.pending:
            title += f"  [{task.status.value}]"
        rows.append(
            (
                str(task.id),
                "" if task.priority is Priority.none else task.priority.value,
                task.due or "",
                task.project,
                title,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip() for row in rows
    )
