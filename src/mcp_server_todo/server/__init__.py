"""The MCP surface over the service: tools, resources, prompts. The only package that
imports mcp (besides the stdio transport and the SDK seam module).

`build_server` assembles one `MCPServer`: a lifespan that opens the store once per
process, the tool groups chosen by `--tools`, and the resources and prompts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer

from .. import __version__
from ..config import Config
from ..service import TodoService
from ..store import open_store
from .base import AppState
from .tools import tools

INSTRUCTIONS = (
    "A persistent TODO list. Call list_items to see pending tasks and their ids (#id), "
    "new_item to add, complete_item to tick off, update_item to edit, delete_item to trash, "
    "undo to revert the last change."
)

__all__ = ["AppState", "build_server"]


def build_server(config: Config, toolsets: str = "core") -> MCPServer[AppState]:
    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        store = open_store(config.store_url)
        try:
            yield AppState(service=TodoService(store, tz=config.tz))
        finally:
            store.close()

    return MCPServer(
        "todo",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        tools=tools.select(toolsets),
    )
