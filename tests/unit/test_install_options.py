"""`install CLIENT` carries the server's settings into the entry it writes: --db, --tz (global or
after the command) and --tools, in the entry's env (TODO_DB, TODO_TZ, TODO_TOOLS: what the bare
command reads), checked before anything is written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mcp_server_todo.cli.main import main

GROUPS = ("history", "import", "share", "trash", "view")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def entry_of(path: Path, key: str = "mcpServers") -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))[key]["todo"]
    return entry


@pytest.mark.parametrize("where", ["after", "before"])
def test_db_tz_and_tools_end_up_in_the_entry(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, db_path: Path, where: str
) -> None:
    config = tmp_path / "claude_desktop_config.json"
    settings = ["--db", str(db_path), "--tz", "Europe/Paris"]
    command = ["install", "claude-desktop", "--config", str(config), "--tools", " core, view "]
    argv = [*command, *settings] if where == "after" else [*settings, *command]
    code, out, _ = run(capsys, *argv)
    assert code == 0, out
    entry = entry_of(config)
    assert entry["env"] == {"TODO_DB": str(db_path.resolve()), "TODO_TZ": "Europe/Paris", "TODO_TOOLS": "core,view"}
    assert "TODO_TZ=Europe/Paris" in out and "TODO_TOOLS=core,view" in out


def test_vscode_and_the_printed_snippets_carry_them_too(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path
) -> None:
    config = tmp_path / ".vscode" / "mcp.json"
    assert run(capsys, "install", "vscode", "--config", str(config), "--tz", "Asia/Tokyo", "--tools", "all")[0] == 0
    assert entry_of(config, "servers")["env"] == {"TODO_TZ": "Asia/Tokyo", "TODO_TOOLS": "all"}
    code, out, _ = run(capsys, "install", "cursor", "--print", "--tz", "Asia/Tokyo")
    assert code == 0
    assert json.loads(out[out.index("{") :])["mcpServers"]["todo"]["env"] == {"TODO_TZ": "Asia/Tokyo"}


def test_an_unknown_tool_group_is_a_usage_error_naming_the_groups(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path
) -> None:
    config = tmp_path / "c.json"
    code, out, err = run(capsys, "install", "claude-desktop", "--config", str(config), "--tools", "core,viwe")
    assert code == 2
    assert "viwe" in err and all(group in err for group in GROUPS), err
    assert out == "" and not config.exists()


def test_an_unknown_time_zone_writes_nothing(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path
) -> None:
    config = tmp_path / "c.json"
    code, _, err = run(capsys, "install", "claude-desktop", "--config", str(config), "--tz", "Mars/Olympus")
    assert code != 0 and "Mars/Olympus" in err
    assert not config.exists()


def test_scope_is_for_claude_code_only(capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    code, _, err = run(capsys, "install", "cursor", "--config", str(config), "--scope", "project")
    assert code == 2 and "--scope is for claude-code" in err
    assert not config.exists()


def test_settings_only_in_this_shell_are_pointed_out(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODO_TOOLS", "all")
    config = tmp_path / "c.json"
    code, out, _ = run(capsys, "install", "claude-desktop", "--config", str(config), "--tz", "UTC")
    assert code == 0
    assert "TODO_TOOLS is set in this shell" in out and "--tools" in out
    assert "TODO_TZ is set" not in out  # given with --tz: the entry has it
    assert "TODO_TOOLS" not in entry_of(config)["env"]


@pytest.mark.slow
def test_the_entry_serves_the_tool_groups_it_names(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, db_path: Path
) -> None:
    config = tmp_path / "c.json"
    argv = ["install", "claude-desktop", "--config", str(config), "--db", str(db_path), "--tools", "view"]
    assert run(capsys, *argv)[0] == 0
    entry = entry_of(config)
    messages = [
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
    env = {"PATH": os.defpath, "HOME": str(isolated_env), **entry["env"]}
    served = subprocess.run(
        [entry["command"], *entry["args"]],
        input="".join(json.dumps(m) + "\n" for m in messages),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=isolated_env,
    )
    assert served.returncode == 0, served.stderr
    replies = {reply["id"]: reply for reply in map(json.loads, served.stdout.splitlines())}
    names = {tool["name"] for tool in replies[2]["result"]["tools"]}
    assert {"new_item", "show_tasks"} <= names and "history" not in names
