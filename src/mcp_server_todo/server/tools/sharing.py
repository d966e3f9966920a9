"""Shared projects (group "share", for a hosted server with several users): share_project,
unshare_project, list_shares. The rules live in the service (`service.sharing`)."""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from ...model import Share
from ...service import TodoService
from ..context import Ctx
from ..offload import call
from ..toolset import DESTRUCTIVE, IDEMPOTENT, READ, Str, result
from .registry import tools

ProjectArg = Annotated[Str, Field(description="One of your projects (as list_items shows it).")]
UserArg = Annotated[Str, Field(description="The other user's name, as the server knows them (their login).")]


class Shared(BaseModel):
    project: str
    user: str
    seen_as: str = Field(description="The project's name in the other user's lists.")
    tasks: int = Field(description="Tasks in the project (trash included) that the user now sees.")


class Unshared(BaseModel):
    project: str
    user: str
    removed: int = Field(description="Tasks the user no longer sees.")


class ShareEntry(BaseModel):
    owner: str
    project: str = Field(description="The owner's name for the project.")
    member: str
    seen_as: str = Field(description="The member's name for the project.")
    since: str


class Shares(BaseModel):
    mine: list[ShareEntry] = Field(description="Your projects and who you share them with.")
    with_me: list[ShareEntry] = Field(description="Projects others share with you.")


def _entry(share: Share) -> ShareEntry:
    return ShareEntry(
        owner=share.owner, project=share.project, member=share.member, seen_as=share.mount, since=share.created_at
    )


@tools.tool(IDEMPOTENT, group="share", back_channel=False)
async def share_project(ctx: Ctx, project: ProjectArg, user: UserArg) -> Annotated[CallToolResult, Shared]:
    """Share one of your projects with another user: they see its tasks in their own lists (as
    project "you/project", under their own ids) and can add, edit and complete them; you see
    their changes. Only the project's owner can share it. Sharing again changes nothing."""

    def run(service: TodoService) -> CallToolResult:
        share, count = service.share_project(project, user)
        text = f"Shared {share.project} ({count} tasks) with {share.member}, who sees it as {share.mount}."
        return result(text, Shared(project=share.project, user=share.member, seen_as=share.mount, tasks=count))

    return await call(ctx, run)


@tools.tool(DESTRUCTIVE, group="share", back_channel=False)
async def unshare_project(ctx: Ctx, project: ProjectArg, user: UserArg) -> Annotated[CallToolResult, Unshared]:
    """Stop sharing one of your projects with a user: its tasks leave their lists (yours stay,
    with every change they made). Only the project's owner can do this."""

    def run(service: TodoService) -> CallToolResult:
        removed = service.unshare_project(project, user)
        text = f"{user} no longer sees {project} ({removed} tasks removed from their lists)."
        return result(text, Unshared(project=project, user=user, removed=removed))

    return await call(ctx, run)


@tools.tool(READ, group="share", back_channel=False)
async def list_shares(ctx: Ctx) -> Annotated[CallToolResult, Shares]:
    """Show which of your projects you share and with whom, and which projects others share
    with you (and their names in your lists)."""

    def run(service: TodoService) -> CallToolResult:
        mine, with_me = service.shares()
        lines = [f"{s.project} -> {s.member} (sees {s.mount})" for s in mine]
        lines += [f"{s.mount}: shared by {s.owner}" for s in with_me]
        text = "\n".join(lines) or "No shared projects."
        return result(text, Shares(mine=[_entry(s) for s in mine], with_me=[_entry(s) for s in with_me]))

    return await call(ctx, run)
