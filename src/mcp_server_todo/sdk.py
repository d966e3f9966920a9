"""The one place we reach into the SDK's private parts; tests/test_sdk_seams.py fails loudly
if an SDK upgrade moves them."""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer


def lowlevel(server: MCPServer[Any]) -> Server[Any]:
    """The low-level `Server` under an `MCPServer` (the SDK has no public accessor)."""
    low = getattr(server, "_lowlevel_server", None)
    if not isinstance(low, Server):
        raise RuntimeError("mcp SDK changed: MCPServer._lowlevel_server is gone; update mcp_server_todo.sdk")
    return low
