"""The core task tools (always on): list_items, new_item, complete_item, update_item, undo;
delete_item lives in trash.py with its confirmation. Each is a thin wrapper: validated
arguments in, one service call, a pydantic model (structured output) plus one compact text
block out.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from mcp_types import CallToolResult
from pydantic import BaseModel, Field, WithJsonSchema

from ...model import Task
from ...render import one_line, page_text, task_lines
from ...service import DUE_FILTERS, Completed, TodoService, Undone
from ..context import Ctx
from ..offload import call
from ..tool_schemas import compact
from ..toolset import ADD, DESTRUCTIVE, IDEMPOTENT, READ, SHOWN_MAX, PriorityArg, Str, result, shown
from .registry import tools


class TaskList(BaseModel):
    items: list[ListedTask]
    total: int = Field(description="Matching tasks, all pages.")
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page.")


@functools.cache
def _full_task_schema() -> dict[str, Any]:
    return compact(Task.model_json_schema(), output=True)


def _task_schema(*fields: str) -> WithJsonSchema:
    """Results carry whole tasks, but their schemas name only the fields a client needs (the
    rest are allowed, not listed): every conversation pays for tools/list."""
    full = _full_task_schema()
    properties = {name: full["properties"][name] for name in fields}
    return WithJsonSchema({"type": "object", "properties": properties, "required": ["id", "title"]})


_LISTED = ("id", "title", "status", "priority", "due", "due_human", "project", "tags", "subtasks", "blocked")
ListedTask = Annotated[Task, _task_schema(*_LISTED)]
SlimTask = Annotated[Task, WithJsonSchema({"type": "object", "required": ["id", "title"]})]


class Tasks(BaseModel):
    items: list[SlimTask]


class Completion(BaseModel):
    items: list[SlimTask]
    next_occurrences: list[Annotated[Task, WithJsonSchema({"type": "object"})]] = []
    """Tasks created because a recurring task was completed."""


class UndoneChange(BaseModel):
    op: str
    id: int
    title: str
    status: str | None = Field(None, description="The task's status after the undo; absent if it no longer exists.")


class UndoResult(BaseModel):
    undone: list[Annotated[UndoneChange, WithJsonSchema({"type": "object", "required": ["op", "id", "title"]})]]
    more: int | None = None
    """Changes undone beyond the UNDO_SHOWN listed (an import's undo reverts thousands)."""


UNDO_SHOWN = 100


Ids = Annotated[list[Annotated[int, Field(strict=True)]] | None, Field(description="Several task ids.")]
DueText = Annotated[Str | None, Field(description="2026-12-24T17:00, tomorrow 5pm, friday...")]
Recur = Annotated[Str | None, Field(description="every weekday, every 2 weeks on monday, monthly...")]
Remind = Annotated[list[Str] | None, Field(description="1h before, at due, tomorrow 9am")]


class _NewTask(BaseModel):
    title: Str
    notes: Str | None = None
    priority: PriorityArg | None = None
    due: Str | None = None
    recur: Str | None = None
    project: Str | None = None
    tags: list[Str] | None = None
    parent_id: Annotated[int | None, Field(strict=True)] = None
    depends_on: list[Annotated[int, Field(strict=True)]] | None = None
    remind: list[Str] | None = None


NewTask = Annotated[_NewTask, WithJsonSchema({"type": "object", "required": ["title"]})]


# the filters of list_items, which show_tasks (view.py) takes too
StatusFilter = Annotated[Literal["pending", "done", "deleted", "all"], Field(description="deleted = the trash.")]
ProjectFilter = Annotated[Str | None, Field(description="Only this project.")]
TagFilter = Annotated[Str | None, Field(description="Only this tag.")]
DueFilter = Annotated[Str | None, Field(description="overdue, today, this_week, or a date: due by then.")]
QueryFilter = Annotated[Str | None, Field(description="Words in title or notes (max 32 words, 500 chars).")]
ParentFilter = Annotated[int | None, Field(strict=True, description="Subtasks of this task.")]
SortOrder = Annotated[Literal["created", "due", "priority", "urgency"], Field(description="urgency: what to do next.")]
PageSize = Annotated[int, Field(strict=True, description="Page size (max 500).")]
Cursor = Annotated[Str | None, Field(description="From the previous page.")]


@tools.tool(READ, back_channel=False)
async def list_items(
    ctx: Ctx,
    status: StatusFilter = "pending",
    project: ProjectFilter = None,
    tag: TagFilter = None,
    due: DueFilter = None,
    query: QueryFilter = None,
    parent_id: ParentFilter = None,
    sort: SortOrder = "created",
    limit: PageSize = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, TaskList]:
    """List tasks (pending by default), one line each with its #id; filters combine."""

    def run(service: TodoService) -> CallToolResult:
        page = service.list_tasks(
            status=status,
            project=project,
            tag=tag,
            due=due if due in DUE_FILTERS else None,
            due_before=due if due is not None and due not in DUE_FILTERS else None,
            query=query,
            parent_id=parent_id,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        model = TaskList(items=page.items, total=page.total, next_cursor=page.next_cursor)
        return result(page_text(page, status), model)

    return await call(ctx, run, heavy=query is not None or sort == "urgency")  # a search or a scoring scan


@tools.tool(ADD, back_channel=False)
async def new_item(
    ctx: Ctx,
    title: Annotated[Str | None, Field(description="What to do, one line.")] = None,
    notes: Annotated[Str | None, Field(description="Details.")] = None,
    priority: Annotated[PriorityArg | None, Field(description="Default none.")] = None,
    due: DueText = None,
    recur: Recur = None,
    project: Annotated[Str | None, Field(description="Default inbox.")] = None,
    tags: Annotated[list[Str] | None, Field(description="e.g. work, errand.")] = None,
    parent_id: Annotated[int | None, Field(strict=True, description="Parent task id.")] = None,
    depends_on: Ids = None,
    remind: Remind = None,
    items: Annotated[
        list[NewTask] | None,
        Field(description="Several tasks, same fields (parent_id -N: Nth item)."),
    ] = None,
) -> Annotated[CallToolResult, Tasks]:
    """Add a task (or several with items, all or none); returns their ids."""

    def run(service: TodoService) -> CallToolResult:
        single = {
            "title": title,
            "notes": notes,
            "priority": priority,
            "due": due,
            "recur": recur,
            "project": project,
            "tags": tags,
            "parent_id": parent_id,
            "depends_on": depends_on,
            "remind": remind,
        }
        batch: list[dict[str, Any]] = []
        if title is not None or any(v is not None for v in single.values()) or not items:
            batch.append({k: v for k, v in single.items() if v is not None})
        batch += [item.model_dump(exclude_none=True) for item in items or []]
        created = service.add_many(batch)
        return result("\n".join(task_lines("Added", created)), Tasks(items=created))

    return await call(ctx, run)


@tools.tool(IDEMPOTENT, back_channel=False)
async def complete_item(
    ctx: Ctx,
    id: Annotated[int | None, Field(strict=True, description="Task id.")] = None,
    ids: Ids = None,
    with_subtasks: Annotated[bool, Field(description="Also complete open subtasks.")] = False,
) -> Annotated[CallToolResult, Completion]:
    """Mark tasks done; a recurring task gets its next occurrence."""

    def run(service: TodoService) -> CallToolResult:
        done: Completed = service.complete_many(targets(id, ids), with_subtasks=with_subtasks)
        listed, more = shown(done.done + done.unchanged)
        first = len(done.done)  # the listed ones up to here were completed now
        lines = task_lines("Completed", listed[:first]) + task_lines("Already done:", listed[first:])
        if more:
            lines.append(f"(and {more:,} more completed: list_items status=done)")
        lines += task_lines("Next:", done.created[:SHOWN_MAX])
        model = Completion(items=listed, next_occurrences=done.created[:SHOWN_MAX])
        return result("\n".join(lines), model)

    return await call(ctx, run)


@tools.tool(IDEMPOTENT, back_channel=False)
async def update_item(
    ctx: Ctx,
    id: Annotated[int | None, Field(strict=True, description="Task id.")] = None,
    ids: Annotated[list[Annotated[int, Field(strict=True)]] | None, Field(description="Several ids.")] = None,
    title: Annotated[Str | None, Field(description="New title.")] = None,
    notes: Annotated[Str | None, Field(description='"" clears.')] = None,
    priority: Annotated[PriorityArg | None, Field(description="New priority.")] = None,
    due: Annotated[Str | None, Field(description='Date or phrase; "" clears.')] = None,
    recur: Annotated[Str | None, Field(description='Repeat rule; "" stops.')] = None,
    project: Annotated[Str | None, Field(description="Move to project.")] = None,
    tags: Annotated[list[Str] | None, Field(description="Replaces tags.")] = None,
    parent_id: Annotated[int | None, Field(strict=True, description="Parent; 0 detaches.")] = None,
    depends_on: Annotated[
        list[Annotated[int, Field(strict=True)]] | None, Field(description="Ids it waits for.")
    ] = None,
    status: Annotated[
        Literal["pending", "done"] | None,
        Field(description="pending reopens or restores."),
    ] = None,
    remind: Annotated[list[Str] | None, Field(description="Replaces; [] clears.")] = None,
) -> Annotated[CallToolResult, Tasks]:
    """Change given fields of tasks (a new due keeps the repeat rule)."""

    def run(service: TodoService) -> CallToolResult:
        updated = service.update_many(
            targets(id, ids),
            title=title,
            notes=notes,
            priority=priority,
            due=due,
            recur=recur,
            project=project,
            tags=tags,
            parent_id=parent_id,
            depends_on=depends_on,
            status=status,
            remind=remind,
        )
        return result("\n".join(task_lines("Updated", updated)), Tasks(items=updated))

    return await call(ctx, run)


@tools.tool(DESTRUCTIVE, back_channel=False)
async def undo(
    ctx: Ctx, steps: Annotated[int, Field(strict=True, description="Changes to revert.")] = 1
) -> Annotated[CallToolResult, UndoResult]:
    """Revert the latest change (even from an earlier chat); a bulk call is one change."""

    def run(service: TodoService) -> CallToolResult:
        undone: list[Undone] = service.undo(steps)
        more = max(0, len(undone) - UNDO_SHOWN)  # an import's undo: thousands, the first listed
        undone = undone[:UNDO_SHOWN]
        model = UndoResult(
            undone=[
                UndoneChange(op=u.op, id=u.task_id, title=u.title, status=u.task.status.value if u.task else None)
                for u in undone
            ]
        )
        lines = [
            f"Undid {u.op} of #{u.task_id} {one_line(u.title)}"
            + (f" (now {u.task.status.value})" if u.task else " (removed)")
            for u in undone
        ]
        if more:
            model.more = more
            lines.append(f"(and {more} more changes undone)")
        return result("\n".join(lines), model)

    return await call(ctx, run, heavy=True)  # an import's undo reverts thousands


def targets(task_id: int | None, ids: list[int] | None) -> list[int]:
    targets = ([task_id] if task_id is not None else []) + list(ids or [])
    if not targets:
        from ...errors import InvalidInput

        raise InvalidInput("give id (one task) or ids (several); call list_items to see ids")
    return targets
