"""The MCP surface over the service: tools, resources, prompts. The only package that
imports mcp besides transports/; every private SDK part we use is reached through sdk_seams.py.

`build_server` assembles one `TodoServer` (todo_server.py): a lifespan that opens the store once
per process and watches it for changes (live.py), the tool groups chosen by `--tools`
(tools/, one module per group, built with toolset.py), the resources (resources.py), the
prompts and completions (prompts.py). Who a request is for: context.py; service calls off
the event loop: offload.py.

The transports and the CLI import from this face only: `build_server`, `AppState`,
`TodoServer`, `offload`, `many_clients` (a transport that answers several requests at once),
`live_of`, `owner_of_token`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from .. import __version__
from ..config import Config
from ..service import TodoService
from ..store import open_store
from . import prompts, resources, sdk_seams
from .context import AppState, owner_of_token
from .live import Live, live_of
from .offload import many_clients, offload
from .todo_server import TodoServer
from .tools import tools, transfer, view

INSTRUCTIONS = (
    "A persistent TODO list. Call list_items to see pending tasks and their ids (#id), "
    "new_item to add, complete_item to tick off, update_item to edit, delete_item to trash, "
    "undo to revert the last change."
)

__all__ = [
    "AppState",
    "TodoServer",
    "build_server",
    "live_of",
    "many_clients",
    "offload",
    "owner_of_token",
    "sdk_seams",
]


def build_server(
    config: Config,
    toolsets: str = "core",
    *,
    token_verifier: TokenVerifier | None = None,
    auth: AuthSettings | None = None,
) -> TodoServer:
    """The server; over HTTP with `token_verifier` and `auth` (transports/http), whose tokens say who
    each request's owner is (context.owner_of_request)."""
    live = Live()
    states: list[AppState] = []

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        store = open_store(config.store_url)
        try:
            state = AppState(service=TodoService(store, tz=config.tz))
            state.extras["live"] = live
            states.append(state)
            try:
                async with live.running(state.service):
                    yield state
            finally:
                states.remove(state)
        finally:
            store.close()

    served = tools.select(toolsets)
    server = TodoServer(
        "todo",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        tools=served,
        extensions=view.extensions(served),
        subscriptions=live.bus,
        token_verifier=token_verifier,
        auth=auth,
        middleware=[live.middleware],
    )
    live.install(server)

    def current() -> TodoService:
        """The requester's service in the running lifespan (resources get no Context)."""
        if not states:
            return live.service
        return states[-1].for_request()

    resources.register(server, current)
    prompts.register(server, current)
    transfer.register(server)
    return server
