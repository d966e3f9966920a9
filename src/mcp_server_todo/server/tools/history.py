"""The change log tool (group "history"): history, newest first, to see what undo would revert."""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from ...model import Task
from ...render import change_line
from ...service import TodoService
from ..context import Ctx
from ..offload import call
from ..toolset import READ, result
from .registry import tools


class HistoryEntry(BaseModel):
    change: int
    at: str
    op: str
    id: int
    title: str
    fields: list[str] = Field(description="Fields this change touched.")
    by: str | None = Field(None, description="Who made it, when someone else did (a shared project).")


class History(BaseModel):
    entries: list[HistoryEntry]


@tools.tool(READ, group="history", back_channel=False)
async def history(
    ctx: Ctx,
    id: Annotated[int | None, Field(strict=True, description="Only this task's changes.")] = None,
    limit: Annotated[int, Field(strict=True, description="How many, newest first (1-500).")] = 20,
) -> Annotated[CallToolResult, History]:
    """Show the change log, newest first: what changed, when, on which task. Use it to see what
    undo would revert."""

    def run(service: TodoService) -> CallToolResult:
        changes = service.history(id, limit)
        entries = [
            HistoryEntry(
                change=c.id,
                at=c.at,
                op=c.op,
                id=c.task_id,
                title=(c.after or c.before or Task.model_construct(title="?")).title,
                fields=_changed_fields(c.before, c.after),
                by=c.actor,
            )
            for c in changes
        ]
        text = "\n".join(change_line(c) for c in changes) or "No changes yet."
        return result(text, History(entries=entries))

    return await call(ctx, run)


def _changed_fields(before: Task | None, after: Task | None) -> list[str]:
    if before is None or after is None:
        return []
    skip = {"updated_at", "due_human", "subtasks", "blocked", "urgency", "ical", "href"}
    return [name for name in Task.model_fields if name not in skip and getattr(before, name) != getattr(after, name)]
