"""The interactive task list (MCP Apps, extension `io.modelcontextprotocol/ui`): the tool
show_tasks (group "view") and the `ui://todo/tasks.html` resource a host renders it with.

- show_tasks takes list_items' filters (plus `group_by`, a hint for the view) and returns
  exactly what list_items returns: the compact text list and the page as structured content.
  Its `_meta.ui.resourceUri` (the SDK's `Apps.tool` format) tells a host with MCP Apps to
  render the page in the view; a client without Apps reads the text, so nothing breaks. For
  an Apps client the text says the user sees the list, so the model need not repeat it.
- The view is one self-contained HTML file shipped in the package (ui/tasks.html: no build
  step, no framework, nothing fetched). It talks to the host over postMessage JSON-RPC
  (`ui/initialize`, `tools/call` of our own tools, tool-input/tool-result and change
  notifications in) and follows the host's theme. Its CSP is declared twice: as an empty
  `_meta.ui.csp` on the resource (no external origins at all) and as a meta tag in the file.
- The SDK's `Apps` extension serves the resource with the mime type hosts require
  (`text/html;profile=mcp-app`) and advertises the extension in the server's capabilities;
  `extensions()` adds it only when show_tasks is served.

Why a tool group and not `@apps.tool`: `Apps.tool` registers through `MCPServer.add_tool`, so
the tool would skip `--tools` selection and our `_Tool` path (unknown arguments refused, one-
line argument errors, compact schemas). The SDK cannot list a tool only to clients that declare
the extension either, and the default tools/list has a size budget; so show_tasks is opt-in:
`serve --tools core,view` (or `all`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Annotated, Literal

from mcp.server.apps import APP_MIME_TYPE, Apps, ResourceCsp, client_supports_apps
from mcp.server.extension import Extension
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent
from pydantic import Field

from ..context import Ctx
from ..toolset import READ
from .registry import tools
from .tasks import (
    Cursor,
    DueFilter,
    PageSize,
    ParentFilter,
    ProjectFilter,
    QueryFilter,
    SortOrder,
    StatusFilter,
    TagFilter,
    TaskList,
    list_items,
)

__all__ = ["APP_MIME_TYPE", "URI", "extensions", "html", "show_tasks"]

URI = "ui://todo/tasks.html"
TOOL = "show_tasks"
SHOWN = "(The user sees these tasks in an interactive list and can tick, edit and add them there.)"


@cache
def html() -> str:
    """The view: ui/tasks.html, package data."""
    return files("mcp_server_todo").joinpath("ui/tasks.html").read_text(encoding="utf-8")


# the meta is what Apps.tool(resource_uri=URI) stamps
@tools.tool(READ, group="view", meta={"ui": {"resourceUri": URI}}, back_channel=False)
async def show_tasks(
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
    group_by: Annotated[Literal["project", "due"], Field(description="How the view groups them.")] = "project",
) -> Annotated[CallToolResult, TaskList]:
    """Show tasks to the user as an interactive list (tick, edit, add, undo) where the client
    supports MCP Apps; elsewhere the same text as list_items. Filters as list_items."""
    shown = await list_items(
        ctx,
        status=status,
        project=project,
        tag=tag,
        due=due,
        query=query,
        parent_id=parent_id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    if not shown.is_error and client_supports_apps(ctx):
        text = "\n".join(block.text for block in shown.content if isinstance(block, TextContent))
        shown = shown.model_copy(update={"content": [TextContent(type="text", text=f"{text}\n{SHOWN}")]})
    return shown


def extensions(served: Sequence[Tool]) -> list[Extension]:
    """The MCP Apps extension (the ui:// resource and the capability) when show_tasks is served."""
    if not any(tool.name == TOOL for tool in served):
        return []
    apps = Apps()
    apps.add_html_resource(
        URI,
        html(),
        name="tasks",
        title="Tasks",
        description="The interactive task list show_tasks renders in.",
        # declared, and empty: no origin to connect to, load from, frame or use as base
        csp=ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[]),
        prefers_border=True,
    )
    return [apps]
