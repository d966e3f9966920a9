"""The one place we reach into the SDK's private parts; tests/test_sdk_seams.py fails loudly
if an SDK upgrade moves them."""

from __future__ import annotations

from typing import Any

from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from mcp.server.streamable_http import StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import RequestBodyLimitMiddleware


def lowlevel(server: MCPServer[Any]) -> Server[Any]:
    """The low-level `Server` under an `MCPServer` (the SDK has no public accessor)."""
    low = getattr(server, "_lowlevel_server", None)
    if not isinstance(low, Server):
        raise RuntimeError("mcp SDK changed: MCPServer._lowlevel_server is gone; update mcp_server_todo.sdk")
    return low


def connection(session: ServerSession) -> Connection:
    """The long-lived `Connection` behind a per-request `ServerSession` (the SDK has no public
    accessor). Handshake-era subscriptions live as long as the connection: they are kept in its
    `state` and dropped through its `exit_stack` when it closes."""
    conn = getattr(session, "_connection", None)
    if not isinstance(conn, Connection):
        raise RuntimeError("mcp SDK changed: ServerSession._connection is gone; update mcp_server_todo.sdk")
    return conn


def http_request_slot(manager: StreamableHTTPSessionManager) -> RequestBodyLimitMiddleware:
    """The body-limit middleware whose `.app` is the session manager's per-request handler
    (where http_fast puts its short path), after checking the manager still keeps the private
    state that path reads (`lifespan_state`, `running`)."""
    limit = manager.asgi_app
    if not isinstance(limit, RequestBodyLimitMiddleware) or not all(
        hasattr(manager, name) for name in ("_lifespan_state", "_task_group")
    ):
        raise RuntimeError("mcp SDK changed: the session manager's request handler moved; update mcp_server_todo.sdk")
    return limit


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
        raise RuntimeError("mcp SDK changed: StreamableHTTPSessionManager._server_instances is gone; update sdk.py")
    return sessions
