"""`--tools` where a tutorial reader types it: on the bare command (`mcp-server-todo --tools
core,view` is the stdio server with the task view), in any case and with spaces (`Core, View`),
and refused with a pointer where it means nothing (before another command, empty for install)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_server_todo.cli.main import main
from mcp_server_todo.cli.serve_args import command_of, only_serve_options, parse_plain_stdio
from mcp_server_todo.server.tools import tools


def names(spec: str) -> list[str]:
    return [tool.name for tool in tools.select(spec)]


def test_group_names_ignore_case_and_spaces() -> None:
    assert names("Core, View") == names("core,view") != names("core")
    assert names(" ALL ") == names("all")
    with pytest.raises(ValueError, match="unknown tool group"):
        tools.select("core,views")


@pytest.mark.parametrize("argv", [["--tools", "core,view"], ["--tools=all"], ["--db", "x.db", "--tools", "view"]])
def test_the_bare_command_takes_tools_on_the_fast_path(argv: list[str]) -> None:
    assert command_of(argv) is None and only_serve_options(argv)
    parsed = parse_plain_stdio(argv)
    assert parsed is not None and parsed.tools == argv[-1].removeprefix("--tools=")
    assert command_of(["--tools", "view", "list"]) == "list"


def test_tools_before_another_command_is_a_usage_error_saying_where_it_goes(
    capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    assert main(["--tools", "view", "list"]) == 2
    assert "use it with no command, or `serve`" in capsys.readouterr().err
    assert main(["--tools", "view", "install", "claude-desktop", "--print"]) == 2
    assert "`install CLIENT --tools ...`" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "--tools GROUPS" in capsys.readouterr().out


@pytest.mark.parametrize("spec", ["", " , "])
def test_install_with_empty_tools_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, spec: str
) -> None:
    config = tmp_path / "c.json"
    assert main(["install", "claude-desktop", "--config", str(config), "--tools", spec]) == 2
    assert "--tools: name at least one group" in capsys.readouterr().err
    assert not config.exists()


def test_install_writes_the_groups_as_the_server_reads_them(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path
) -> None:
    config = tmp_path / "c.json"
    assert main(["install", "claude-desktop", "--config", str(config), "--tools", "Core, View"]) == 0
    entry = json.loads(config.read_text(encoding="utf-8"))["mcpServers"]["todo"]
    assert entry["env"]["TODO_TOOLS"] == "core,view"


def test_serve_help_names_postgresql_for_db(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "postgresql://" in out and "sharing included" in out


def test_the_bare_command_serves_the_groups_it_is_given(tmp_path: Path) -> None:
    """A real start: `python -m mcp_server_todo --tools Core,View` lists the view's tools."""
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "TODO_TZ": "UTC"}
    env.pop("TODO_TOOLS", None)
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "--db", str(tmp_path / "t.db"), "--tools", "Core,View"],
        input="".join(json.dumps(r) + "\n" for r in requests),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    listed = next(a for a in answers if a.get("id") == 2)["result"]["tools"]
    assert sorted(t["name"] for t in listed) == sorted(names("core,view"))
