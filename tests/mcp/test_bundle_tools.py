"""The bundle's manifest lists the tools Claude Desktop shows before the server starts: they must
be exactly what the server's tools/list returns for the manifest's default tool groups, names and
descriptions, in order (packaging/mcpb/manifest.json; docs/bundle.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server

pytestmark = pytest.mark.anyio
MANIFEST = Path(__file__).parents[2] / "packaging" / "mcpb" / "manifest.json"


async def test_the_manifests_tools_are_what_the_default_toolset_serves(db_path: Path) -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    groups = manifest["user_config"]["tool_groups"]["default"]
    async with Client(build_server(Config.resolve(str(db_path), "UTC"), groups)) as client:
        served = [{"name": tool.name, "description": tool.description} for tool in (await client.list_tools()).tools]
    assert manifest["tools"] == served
    # other groups add tools at run time, and the prompts are written from the store's tasks
    assert manifest["tools_generated"] is True and manifest["prompts_generated"] is True
