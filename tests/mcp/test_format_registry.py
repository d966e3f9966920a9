"""One registry of formats (formats.REGISTRY): the import tool's format list, the CLI's help and
the name lookup all read it, so a new format is its module plus one registry line."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from support.env import MODES

from mcp_server_todo import formats
from mcp_server_todo.cli.main import build_parser
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


def test_the_cli_help_names_the_registrys_formats() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    choices = sub.choices  # type: ignore[attr-defined]
    export_help = choices["export"].format_help()
    import_help = choices["import"].format_help()
    for name, entry in formats.REGISTRY.items():
        assert name in import_help
        assert (name in export_help) is entry.writes, name


def test_every_registry_entry_loads_and_its_aliases_and_suffixes_resolve() -> None:
    for name, entry in formats.REGISTRY.items():
        assert formats.get(name).name == name
        for alias in entry.aliases:
            assert formats.name_of(alias.upper()) == name
        for suffix in entry.extensions:
            assert formats.sniff("plain words", f"file{suffix}") == name
