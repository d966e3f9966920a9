"""The one place we reach into the SDK's private parts; tests/test_sdk_seams.py fails loudly
if an SDK upgrade moves them."""

from __future__ import annotations

from typing import Any

from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession


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
