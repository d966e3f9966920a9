"""Deleting: delete_item (core) and empty_trash (group "trash").

Deleting more than one task (counting the ids given), or emptying the trash, needs the
user's confirmation. It is asked through elicitation with the SDK's resolver mechanism
(`Resolve` returning an `Elicit` marker), which works on both protocol generations: a
mid-call elicitation/create request on the 2025-11-25 handshake, an input_required round
on 2026-07-28. The call proceeds only when the user accepts. A client that cannot elicit
gets a tool error naming the exact call to make once the user has agreed (confirm=true);
confirm=true skips the question.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver.resolve import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from ...errors import TodoError
from ...model import Status
from ...render import one_line, task_lines
from ...service import BULK_MAX, TodoService
from ..context import Ctx, service_of
from ..offload import call, offload
from ..toolset import DESTRUCTIVE, result, shown
from .registry import tools
from .tasks import Ids, Tasks, targets

Confirm_ = Annotated[bool, Field(strict=True, description="true if the user already agreed.")]


class Confirm(BaseModel):
    """What the confirmation form asks: one checkbox, ticked by default."""

    confirm: bool = Field(default=True, title="Yes, go ahead")


class Emptied(BaseModel):
    removed: int = Field(description="Tasks removed from the trash for good.")


NOT_ASKED = Confirm(confirm=False)
"""A resolver's answer when it did not ask: the tool decides from the arguments alone."""


def can_elicit(ctx: Ctx) -> bool:
    """Whether the client declared form elicitation (a bare `elicitation: {}` counts)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _unique(task_id: int | None, ids: list[int] | None) -> list[int]:
    return list(dict.fromkeys(([task_id] if task_id is not None else []) + list(ids or [])))


def _declined(decision: ElicitationResult[Confirm]) -> bool:
    """The user was asked and did not say yes (declined, cancelled, or unticked the box)."""
    if isinstance(decision, AcceptedElicitation):
        return decision.data is not NOT_ASKED and not decision.data.confirm
    return True


def _said_yes(decision: ElicitationResult[Confirm]) -> bool:
    return isinstance(decision, AcceptedElicitation) and decision.data is not NOT_ASKED and decision.data.confirm


def _refusal(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


async def _ask_delete(ctx: Ctx, id: int | None, ids: list[int] | None, confirm: bool) -> Elicit[Confirm] | Confirm:
    wanted = _unique(id, ids)
    if len(wanted) <= 1 or len(wanted) > BULK_MAX or confirm or not can_elicit(ctx):
        return NOT_ASKED  # nothing to ask, or a call the service refuses anyway

    def titles(service: TodoService) -> list[str] | None:
        tasks = [service.get(task_id) for task_id in wanted]
        if any(task.status is Status.deleted for task in tasks):
            return None
        return [f"#{task.id} {one_line(task.title)}" for task in tasks]

    try:
        shown = await offload(service_of(ctx), titles)
    except TodoError:
        shown = None
    if shown is None:
        return NOT_ASKED  # a bad id: the delete itself reports it, without bothering the user
    listed = "; ".join(shown[:10]) + (f"; and {len(shown) - 10} more" if len(shown) > 10 else "")
    return Elicit(f"Move {len(shown)} tasks (and their subtasks) to the trash? {listed}. Undo restores them.", Confirm)


@tools.tool(DESTRUCTIVE)
async def delete_item(
    ctx: Ctx,
    decision: Annotated[ElicitationResult[Confirm], Resolve(_ask_delete)],
    id: Annotated[int | None, Field(strict=True, description="Task id.")] = None,
    ids: Ids = None,
    confirm: Confirm_ = False,
) -> Annotated[CallToolResult, Tasks]:
    """Trash tasks (with subtasks); undo restores them. Several ids ask the user first."""
    wanted = _unique(id, ids)
    if len(wanted) > 1 and not confirm:
        if not can_elicit(ctx):
            return _refusal(
                f"Nothing deleted: deleting {len(wanted)} tasks needs the user's confirmation, and this client "
                f"cannot ask for it. Ask the user; if they agree, call delete_item(ids={wanted}, confirm=true) "
                "to delete them."
            )
        if _declined(decision):
            return result("Nothing deleted: the user did not confirm.", Tasks(items=[]))

    def run(service: TodoService) -> CallToolResult:
        listed, more = shown(service.delete_many(targets(id, ids)))
        lines = task_lines("Deleted", listed) + ([f"(and {more:,} more)"] if more else [])
        lines.append("(in the trash; undo restores)")
        return result("\n".join(lines), Tasks(items=listed))

    return await call(ctx, run, heavy=True)  # each id moves its subtasks too: thousands, level by level


async def _ask_empty(ctx: Ctx, confirm: bool) -> Elicit[Confirm] | Confirm:
    if confirm or not can_elicit(ctx):
        return NOT_ASKED
    size = await offload(service_of(ctx), lambda s: s.trash_size())
    if size == 0:
        return NOT_ASKED
    return Elicit(f"Empty the trash: remove {size} task(s) for good? Undo right after still brings them back.", Confirm)


@tools.tool(DESTRUCTIVE, group="trash")
async def empty_trash(
    ctx: Ctx,
    decision: Annotated[ElicitationResult[Confirm], Resolve(_ask_empty)],
    confirm: Confirm_ = False,
) -> Annotated[CallToolResult, Emptied]:
    """Remove every task in the trash for good; the user is asked to confirm. Returns how many
    were removed; undo right after brings them back."""
    if not confirm:
        size = await offload(service_of(ctx), lambda s: s.trash_size())
        if size == 0:
            return result("The trash is empty; nothing removed.", Emptied(removed=0))
        if not can_elicit(ctx):
            return _refusal(
                f"Nothing removed: emptying the trash removes {size} task(s) for good and needs the user's "
                "confirmation, and this client cannot ask for it. Ask the user; if they agree, call "
                "empty_trash(confirm=true) to remove them."
            )
        if not _said_yes(decision):
            return result("Nothing removed: the user did not confirm.", Emptied(removed=0))

    def run(service: TodoService) -> CallToolResult:
        removed = service.empty_trash()
        if not removed:
            return result("The trash is empty; nothing removed.", Emptied(removed=0))
        return result(
            f"Removed {removed} task(s) from the trash for good; undo brings them back.", Emptied(removed=removed)
        )

    return await call(ctx, run, heavy=True)  # an imported trash can hold many thousands
