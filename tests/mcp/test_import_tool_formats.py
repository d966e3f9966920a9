"""The import tool's format list is the format registry's (formats.REGISTRY): a new format needs
no edit in the MCP adapter."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from support.env import MODES

from mcp_server_todo import formats
from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server


@pytest.mark.parametrize("mode", MODES)
def test_the_import_tool_offers_exactly_the_registrys_formats(db_path: Path, mode: str) -> None:
    async def schema() -> dict[str, object]:
        async with Client(build_server(Config.resolve(str(db_path)), "all"), mode=mode) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            return dict(tools["import_items"].input_schema["properties"]["format"])

    found = anyio.run(schema)
    assert found["enum"] == list(formats.REGISTRY)
