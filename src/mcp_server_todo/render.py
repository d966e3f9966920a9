"""Compact text for the model and tables for people. One line per task, no JSON."""

from __future__ import annotations

from typing import Protocol

from .model import DEFAULT_PROJECT, Priority, Status, Task


class _Page(Protocol):
    items: list[Task]
    total: int
    next_cursor: str | None


def task_line(task: Task) -> str:
    """`#12 Title | high | due 2026-12-01 | +work | #a #b | sub of #3 | done`; defaults are left out."""
    parts = [f"#{task.id} {task.title}"]
    if task.priority is not Priority.none:
        parts.append(task.priority.value)
    if task.due:
        parts.append(f"due {task.due}")
    if task.project != DEFAULT_PROJECT:
        parts.append(f"+{task.project}")
    if task.tags:
        parts.append(" ".join(f"#{tag}" for tag in task.tags))
    if task.parent_id is not None:
        parts.append(f"sub of #{task.parent_id}")
    if task.status is not Status.pending:
        parts.append(task.status.value)
    return " | ".join(parts)


def page_text(page: _Page, status: str) -> str:
    what = {"all": "tasks", "deleted": "tasks in the trash"}.get(status, f"{status} tasks")
    one = {"all": "task", "deleted": "task in the trash"}.get(status, f"{status} task")
    if not page.items:
        return f"No {what}." if page.total == 0 else f"No more {what} (total {page.total})."
    lines = [task_line(task) for task in page.items]
    if page.next_cursor is None and len(page.items) == page.total:
        lines.append(f"({page.total} {one if page.total == 1 else what})")
    else:
        more = f'; more: cursor="{page.next_cursor}"' if page.next_cursor else ""
        lines.append(f"({len(page.items)} shown of {page.total} {what}{more})")
    return "\n".join(lines)


def table(tasks: list[Task]) -> str:
    """A plain table for the terminal."""
    if not tasks:
        return "No tasks."
    rows = [("ID", "PRI", "DUE", "PROJECT", "TITLE")]
    for task in tasks:
        title = task.title + ("  " + " ".join(f"#{t}" for t in task.tags) if task.tags else "")
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
