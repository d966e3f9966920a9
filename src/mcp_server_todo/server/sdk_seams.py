"""The seam between us and the SDK's internals: the one place we reach into its private parts
(attributes it has no public accessor for), each wrapped in a function here and tested in
tests/unit/test_sdk_seams.py, which fails loudly if an SDK upgrade moves them.

- `lowlevel`: `MCPServer._lowlevel_server` (the stdio transport runs it; live.py adds handlers);
- `connection`: `ServerSession._connection` (live.py keeps subscriptions per connection);
- `http_request_slot`, `wrap_request_handler`: the session manager's request handler, behind
  its `RequestBodyLimitMiddleware` (the HTTP fast path and the session limits sit there);
- `lifespan_state`, `running`: `StreamableHTTPSessionManager._lifespan_state`, `._task_group`;
- `open_sessions`: `StreamableHTTPSessionManager._server_instances`.

Part of the MCP adapter (it imports mcp): server/ and transports/ use it, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from mcp.server.streamable_http import StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import RequestBodyLimitMiddleware

from ..logs import ASGIApp

_Wrapper = TypeVar("_Wrapper", bound=ASGIApp)


def lowlevel(server: MCPServer[Any]) -> Server[Any]:
    """The low-level `Server` under an `MCPServer` (the SDK has no public accessor)."""
    low = getattr(server, "_lowlevel_server", None)
    if not isinstance(low, Server):
        raise RuntimeError("mcp SDK changed: MCPServer._lowlevel_server is gone; update sdk_seams.py")
    return low


def connection(session: ServerSession) -> Connection:
    """The long-lived `Connection` behind a per-request `ServerSession` (the SDK has no public
    accessor). Handshake-era subscriptions live as long as the connection: they are kept in its
    `state` and dropped through its `exit_stack` when it closes."""
    conn = getattr(session, "_connection", None)
    if not isinstance(conn, Connection):
        raise RuntimeError("mcp SDK changed: ServerSession._connection is gone; update sdk_seams.py")
    return conn


def http_request_slot(manager: StreamableHTTPSessionManager) -> RequestBodyLimitMiddleware:
    """The body-limit middleware whose `.app` is the session manager's per-request handler
    (where the HTTP fast path and the session limits sit), after checking the manager still
    keeps the private state the fast path reads (`lifespan_state`, `running`)."""
    limit = manager.asgi_app
    if not isinstance(limit, RequestBodyLimitMiddleware) or not all(
        hasattr(manager, name) for name in ("_lifespan_state", "_task_group")
    ):
        raise RuntimeError("mcp SDK changed: the session manager's request handler moved; update sdk_seams.py")
    return limit


def wrap_request_handler(manager: StreamableHTTPSessionManager, wrap: Callable[[ASGIApp], _Wrapper]) -> _Wrapper:
    """Put `wrap(handler)` in place of the manager's per-request handler, inside its body limit
    (so a request too large is still refused first); returns the wrapper."""
    slot = http_request_slot(manager)
    wrapper = wrap(slot.app)
    slot.app = wrapper
    return wrapper


def lifespan_state(manager: StreamableHTTPSessionManager) -> Any:
    """The server lifespan's state, as the session manager hands it to each request."""
    return manager._lifespan_state


def running(manager: StreamableHTTPSessionManager) -> bool:
    """Whether the session manager's `run()` is active (it refuses requests otherwise)."""
    return manager._task_group is not None


def open_sessions(manager: StreamableHTTPSessionManager) -> dict[str, StreamableHTTPServerTransport]:
    """The manager's open stateful sessions by id (the SDK has no public view of them): a session
    is in it from admission until it ends (DELETE, idle timeout, a failed opening request)."""
    sessions = getattr(manager, "_server_instances", None)
    if not isinstance(sessions, dict):
        raise RuntimeError(
            "mcp SDK changed: StreamableHTTPSessionManager._server_instances is gone; update sdk_seams.py"
        )
    return sessions
