"""`install claude-code` runs `claude mcp add` when the claude CLI is on PATH, `install vscode`
runs `code --add-mcp` when VS Code's is: a fake `claude` or `code` (a real executable in
tmp_path) records the argv it gets and answers as told."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mcp_server_todo.cli.launch import server_launch
from mcp_server_todo.cli.main import main

FAKE_CLAUDE = """#!{python}
import json, sys
with open({record!r}, "a", encoding="utf-8") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
print({stdout!r})
print({stderr!r}, file=sys.stderr)
sys.exit({code})
"""


def fake_claude(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    code: int = 0,
    stdout: str = "",
    stderr: str = "",
    name: str = "claude",
) -> Path:
    """Put a `claude` (or `name`) alone on PATH; the file its argv lines go to."""
    record = folder / "argv.jsonl"
    script = folder / "bin" / name
    script.parent.mkdir(parents=True)
    text = FAKE_CLAUDE.format(python=sys.executable, record=str(record), stdout=stdout, stderr=stderr, code=code)
    script.write_text(text, encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(script.parent))
    return record


def calls(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


def test_claude_mcp_add_is_run_with_the_settings(
    capsys: pytest.CaptureFixture[str],
    isolated_env: Path,
    tmp_path: Path,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = fake_claude(tmp_path, monkeypatch, stdout="Added stdio MCP server todo to user config")
    code = main(["install", "claude-code", "--db", str(db_path), "--tz", "Europe/Paris", "--tools", "core,view"])
    out, err = capsys.readouterr()
    assert code == 0, err
    launch = server_launch(str(db_path))
    assert calls(record) == [
        [
            "mcp", "add", "--scope", "user", "todo",
            "--env", f"TODO_DB={db_path.resolve()}",
            "--env", "TODO_TZ=Europe/Paris",
            "--env", "TODO_TOOLS=core,view",
            "--", launch.command, *launch.args,
        ]
    ]  # fmt: skip
    assert "Added stdio MCP server todo to user config" in out
    assert "Added the 'todo' server to Claude Code (user scope)" in out


def test_scope_and_name_are_passed_on(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = fake_claude(tmp_path, monkeypatch)
    assert main(["install", "claude-code", "--scope", "project", "--name", "tasks"]) == 0
    [argv] = calls(record)
    assert argv[:6] == ["mcp", "add", "--scope", "project", "tasks", "--"]
    assert "(project scope)" in capsys.readouterr().out


def test_a_failing_claude_is_reported_with_the_command_to_run(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_claude(tmp_path, monkeypatch, code=1, stderr="MCP server todo already exists in user config")
    code = main(["install", "claude-code"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "claude mcp add exited 1: MCP server todo already exists in user config" in err
    assert "claude mcp remove --scope user todo" in err
    assert "Run it yourself: claude mcp add --scope user todo -- " in err
    assert "Added the" not in out


def test_print_and_config_never_run_claude(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = fake_claude(tmp_path, monkeypatch)
    assert main(["install", "claude-code", "--print"]) == 0
    assert "claude mcp add --scope user todo" in capsys.readouterr().out
    config = tmp_path / "project" / ".mcp.json"
    config.parent.mkdir()
    assert main(["install", "claude-code", "--config", str(config)]) == 0
    assert "todo" in json.loads(config.read_text(encoding="utf-8"))["mcpServers"]
    assert not record.exists()


def test_without_claude_on_path_the_command_and_snippet_are_printed(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["install", "claude-code", "--scope", "local"]) == 0
    out = capsys.readouterr().out
    assert "claude CLI is not on PATH" in out
    assert "claude mcp add --scope local todo -- " in out and '"mcpServers"' in out


def test_vscode_runs_code_add_mcp_with_the_settings(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = fake_claude(tmp_path, monkeypatch, name="code")
    assert main(["install", "vscode", "--tools", "Core, View"]) == 0
    out = capsys.readouterr().out
    [argv] = calls(record)
    launch = server_launch(None)
    assert argv[0] == "--add-mcp" and len(argv) == 2
    assert json.loads(argv[1]) == {
        "name": "todo",
        "command": launch.command,
        "args": launch.args,
        "env": {"TODO_TOOLS": "core,view"},
    }
    assert "Added the 'todo' server to VS Code (user profile)" in out


def test_a_failing_code_is_reported_and_print_never_runs_it(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = fake_claude(tmp_path, monkeypatch, name="code", code=3, stderr="boom")
    assert main(["install", "vscode"]) == 1
    out, err = capsys.readouterr()
    assert "code --add-mcp exited 3: boom" in err and "Run it yourself: code --add-mcp " in err
    assert "Added the" not in out
    assert main(["install", "vscode", "--print"]) == 0
    assert len(calls(record)) == 1
