"""One registry of formats (formats.REGISTRY): the CLI's help, the name lookup and the sniffing
by file suffix all read it, so a new format is its module plus one registry line (the import
tool's list: tests/mcp/test_import_tool_formats.py)."""

from __future__ import annotations

import re

import pytest

from mcp_server_todo import formats
from mcp_server_todo.cli.main import main


def help_of(capsys: pytest.CaptureFixture[str], command: str) -> str:
    assert main([command, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())  # click wraps lines


def test_the_cli_help_names_the_registrys_formats(capsys: pytest.CaptureFixture[str]) -> None:
    export_help, import_help = help_of(capsys, "export"), help_of(capsys, "import")
    for name, entry in formats.REGISTRY.items():
        named = re.compile(rf"\b{re.escape(name)}\b")
        assert named.search(import_help), name
        assert bool(named.search(export_help)) is entry.writes, name


def test_every_registry_entry_loads_and_its_aliases_and_suffixes_resolve() -> None:
    for name, entry in formats.REGISTRY.items():
        assert formats.get(name).name == name
        for alias in entry.aliases:
            assert formats.name_of(alias.upper()) == name
        for suffix in entry.extensions:
            assert formats.sniff("plain words", f"file{suffix}") == name
