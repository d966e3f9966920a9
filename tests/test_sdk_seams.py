"""The SDK internals we rely on (wrapped in mcp_server_todo.sdk). If an SDK upgrade moves
them, this fails loudly instead of the server failing at run time."""

from __future__ import annotations

import inspect

from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver.tools import Tool

from mcp_server_todo.config import Config
from mcp_server_todo.sdk import lowlevel
from mcp_server_todo.server import build_server


def test_lowlevel_server_is_reachable(tmp_path: object) -> None:
    server = build_server(Config.resolve("/nonexistent/never-opened.db", "UTC"))
    low = lowlevel(server)
    assert isinstance(low, Server)
    assert {"read_stream", "write_stream", "initialization_options"} <= set(inspect.signature(low.run).parameters)


def test_tool_schemas_are_editable_before_registration() -> None:
    def probe(x: int) -> int:
        return x

    tool = Tool.from_function(probe)
    tool.parameters = {"type": "object"}
    assert tool.parameters == {"type": "object"}
    assert hasattr(tool.fn_metadata, "output_schema")
