"""The MCP surface: tools over the service. The only module that imports mcp.

Each tool is a thin wrapper: validate arguments (strictly: `true` is not an id), call the
service, and answer with a pydantic model (structured output) plus one compact text
block for the model to read. Expected failures become tool errors that say what to do.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from . import __version__
from .config import Config
from .errors import TodoError
from .model import Task
from .render import page_text, task_line
from .schema import compact
from .service import Page, TodoService, Undone
from .store import open_store

_Fn = TypeVar("_Fn", bound=Callable[..., Any])

INSTRUCTIONS = (
    "A persistent TODO list. Call list_items to see pending tasks and their ids (#id), "
    "new_item to add, complete_item to tick off, update_item to edit, delete_item to trash, "
    "undo to revert the last change."
)


@dataclass
class AppState:
    service: TodoService


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


Ctx = Context[AppState, Any]
Id = Annotated[int, Field(strict=True, description="Task id, as shown by list_items (#id).")]
PriorityArg = Literal["none", "low", "medium", "high"]
Str = Annotated[str, Field(strict=True)]

_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_ADD = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
_IDEMPOTENT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
_DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)


class _Tool(Tool):
    """A tool on a short path: arguments validated once, with errors that read as one clear
    line for the model (not pydantic's multi-line report with links), and our own
    `CallToolResult` returned as built. Its structured content comes from the very models
    that define the output schema, so re-validating it on every call would only cost time;
    tests/test_server.py validates every tool's results against its published schema."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        try:
            validated = self.fn_metadata.validate_arguments(arguments)
        except ValidationError as exc:
            return CallToolResult(
                content=[TextContent(type="text", text=argument_errors(self.name, exc))], is_error=True
            )
        kwargs = {self.context_kwarg: context} if self.context_kwarg else {}
        try:
            return await self.fn_metadata.call_fn(self.fn, self.is_async, validated, kwargs)
        except Exception as exc:
            # a bug: logged with its traceback, never shown to the client
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc


def argument_errors(tool: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "arguments"
        if err["type"] == "missing":
            problems.append(f"{where} is required")
        else:
            shown = json.dumps(err.get("input"), default=str)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            problems.append(f"{where}: {err['msg'].lower()} (got {shown})")
    return f"Invalid arguments for {tool}: " + "; ".join(problems) + "."


def _result(text: str, model: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json"),
    )


def _error(exc: TodoError) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)


def _call(ctx: Ctx, fn: Callable[[TodoService], CallToolResult]) -> CallToolResult:
    try:
        return fn(ctx.request_context.lifespan_context.service)
    except TodoError as exc:
        return _error(exc)


def build_server(config: Config) -> MCPServer[AppState]:
    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        store = open_store(config.store_url)
        try:
            yield AppState(service=TodoService(store, tz=config.tz))
        finally:
            store.close()

    tools: list[Tool] = []

    def tool(annotations: ToolAnnotations) -> Callable[[_Fn], _Fn]:
        def register(fn: _Fn) -> _Fn:
            registered = _Tool.from_function(fn, annotations=annotations)
            registered.parameters = compact(registered.parameters)
            if registered.fn_metadata.output_schema is not None:
                registered.fn_metadata.output_schema = compact(registered.fn_metadata.output_schema, output=True)
            tools.append(registered)
            return fn

        return register

    @tool(_READ)
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
            return _result(page_text(page, status), model)

        return _call(ctx, run)

    @tool(_ADD)
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
            return _result(f"Added {task_line(task)}", task)

        return _call(ctx, run)

    @tool(_IDEMPOTENT)
    def complete_item(ctx: Ctx, id: Id) -> Annotated[CallToolResult, Task]:
        """Mark a task as done: it leaves the pending list and stays in history. Returns the task."""

        def run(service: TodoService) -> CallToolResult:
            task, changed = service.complete(id)
            text = f"Completed {task_line(task)}" if changed else f"Already done: {task_line(task)}"
            return _result(text, task)

        return _call(ctx, run)

    @tool(_IDEMPOTENT)
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
            return _result(f"Updated {task_line(task)}", task)

        return _call(ctx, run)

    @tool(_DESTRUCTIVE)
    def delete_item(ctx: Ctx, id: Id) -> Annotated[CallToolResult, Task]:
        """Move a task to the trash (list_items status=deleted shows it; undo or
        update_item status=pending restores it). Use complete_item for finished tasks."""

        def run(service: TodoService) -> CallToolResult:
            task = service.delete(id)
            return _result(f"Deleted {task_line(task)} (in the trash; undo restores it)", task)

        return _call(ctx, run)

    @tool(_DESTRUCTIVE)
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
                f"Undid {u.op} of #{u.task_id} {u.title}"
                + (f" (now {u.task.status.value})" if u.task else " (removed)")
                for u in undone
            ]
            return _result("\n".join(lines), model)

        return _call(ctx, run)

    return MCPServer("todo", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan, tools=tools)
