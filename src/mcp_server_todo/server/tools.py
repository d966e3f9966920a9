"""The task tools. Each is a thin wrapper: validated arguments in, one service call, a
pydantic model (structured output) plus one compact text block out."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from ..model import Task
from ..render import page_text, task_line
from ..service import Page, TodoService, Undone
from .base import ADD, DESTRUCTIVE, IDEMPOTENT, READ, Ctx, Id, PriorityArg, Str, ToolSet, call, result

tools = ToolSet()


class TaskList(BaseModel):
    items: list[Task]
    total: int = Field(description="Tasks matching the filters, across all pages.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null when this is the last.")


class UndoneChange(BaseModel):
    op: str
    id: int
    title: str
    status: str | None = Field(description="The task's status after the undo; null if it no longer exists.")


class UndoResult(BaseModel):
    undone: list[UndoneChange]


@tools.tool(READ)
def list_items(
    ctx: Ctx,
    status: Annotated[
        Literal["pending", "done", "deleted", "all"],
        Field(description="Default pending; deleted = trash."),
    ] = "pending",
    project: Annotated[Str | None, Field(description="Only this project.")] = None,
    tag: Annotated[Str | None, Field(description="Only tasks with this tag.")] = None,
    due_before: Annotated[
        Str | None, Field(description="Only tasks due on or before this date (YYYY-MM-DD or date-time).")
    ] = None,
    query: Annotated[Str | None, Field(description="Text to find in title or notes.")] = None,
    limit: Annotated[int, Field(strict=True, description="Page size, 1-500.")] = 50,
    cursor: Annotated[Str | None, Field(description="next_cursor from the previous page.")] = None,
) -> Annotated[CallToolResult, TaskList]:
    """List tasks, pending by default, oldest first, one line each with its #id. Filters combine.
    Returns a page (50 by default) with the total; if more remain, call again with the cursor."""

    def run(service: TodoService) -> CallToolResult:
        page: Page = service.list_tasks(
            status=status,
            project=project,
            tag=tag,
            due_before=due_before,
            query=query,
            limit=limit,
            cursor=cursor,
        )
        model = TaskList(items=page.items, total=page.total, next_cursor=page.next_cursor)
        return result(page_text(page, status), model)

    return call(ctx, run)


@tools.tool(ADD)
def new_item(
    ctx: Ctx,
    title: Annotated[Str, Field(description="What to do, one line (1-500 characters).")],
    notes: Annotated[Str | None, Field(description="Details (up to 10,000 characters).")] = None,
    priority: Annotated[PriorityArg | None, Field(description="Default none.")] = None,
    due: Annotated[
        Str | None, Field(description="YYYY-MM-DD, a date-time like 2026-12-24T17:00, or today/tomorrow.")
    ] = None,
    project: Annotated[Str | None, Field(description="Default inbox.")] = None,
    tags: Annotated[list[Str] | None, Field(description="Words like work, errand (at most 20).")] = None,
    parent_id: Annotated[int | None, Field(strict=True, description="Make it a subtask of this task.")] = None,
) -> Annotated[CallToolResult, Task]:
    """Add a task to the TODO list. Returns the new task with its id."""

    def run(service: TodoService) -> CallToolResult:
        task = service.add(
            title,
            notes=notes,
            priority=priority,
            due=due,
            project=project,
            tags=tags,
            parent_id=parent_id,
        )
        return result(f"Added {task_line(task)}", task)

    return call(ctx, run)


@tools.tool(IDEMPOTENT)
def complete_item(ctx: Ctx, id: Id) -> Annotated[CallToolResult, Task]:
    """Mark a task as done: it leaves the pending list and stays in history. Returns the task."""

    def run(service: TodoService) -> CallToolResult:
        task, changed = service.complete(id)
        text = f"Completed {task_line(task)}" if changed else f"Already done: {task_line(task)}"
        return result(text, task)

    return call(ctx, run)


@tools.tool(IDEMPOTENT)
def update_item(
    ctx: Ctx,
    id: Id,
    title: Annotated[Str | None, Field(description="New title.")] = None,
    notes: Annotated[Str | None, Field(description="New notes; empty string clears.")] = None,
    priority: Annotated[PriorityArg | None, Field(description="New priority.")] = None,
    due: Annotated[Str | None, Field(description="New due date; empty string clears.")] = None,
    project: Annotated[Str | None, Field(description="Move to this project.")] = None,
    tags: Annotated[list[Str] | None, Field(description="Replaces all tags; [] clears.")] = None,
    parent_id: Annotated[int | None, Field(strict=True, description="New parent; 0 detaches.")] = None,
    status: Annotated[
        Literal["pending", "done"] | None,
        Field(description="pending reopens a done task or restores one from the trash."),
    ] = None,
) -> Annotated[CallToolResult, Task]:
    """Change fields of a task; fields not given stay as they are. Returns the updated task."""

    def run(service: TodoService) -> CallToolResult:
        task = service.update(
            id,
            title=title,
            notes=notes,
            priority=priority,
            due=due,
            project=project,
            tags=tags,
            parent_id=parent_id,
            status=status,
        )
        return result(f"Updated {task_line(task)}", task)

    return call(ctx, run)


@tools.tool(DESTRUCTIVE)
def delete_item(ctx: Ctx, id: Id) -> Annotated[CallToolResult, Task]:
    """Move a task to the trash (list_items status=deleted shows it; undo or
    update_item status=pending restores it). Use complete_item for finished tasks."""

    def run(service: TodoService) -> CallToolResult:
        task = service.delete(id)
        return result(f"Deleted {task_line(task)} (in the trash; undo restores it)", task)

    return call(ctx, run)


@tools.tool(DESTRUCTIVE)
def undo(ctx: Ctx) -> Annotated[CallToolResult, UndoResult]:
    """Revert the most recent change (add, complete, update or delete), even one made in an
    earlier conversation. Call again to go further back. Returns what was reverted."""

    def run(service: TodoService) -> CallToolResult:
        undone: list[Undone] = service.undo()
        model = UndoResult(
            undone=[
                UndoneChange(op=u.op, id=u.task_id, title=u.title, status=u.task.status.value if u.task else None)
                for u in undone
            ]
        )
        lines = [
            f"Undid {u.op} of #{u.task_id} {u.title}" + (f" (now {u.task.status.value})" if u.task else " (removed)")
            for u in undone
        ]
        return result("\n".join(lines), model)

    return call(ctx, run)
