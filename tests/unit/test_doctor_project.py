"""`doctor` checks a project's own MCP files, Claude Code's `.mcp.json` and VS Code's
`.vscode/mcp.json` (in the current folder, or `--project DIR`), and the settings of each entry of
ours: its arguments parse as the server parses them, its time zone and tool groups exist."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_server_todo.cli.main import main


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["doctor", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def lines(out: str, level: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(f"{level} ")]


def python_entry(db_path: Path, *args: str, **env: str) -> dict[str, Any]:
    return {
        "command": sys.executable,
        "args": ["-m", "mcp_server_todo", *args],
        "env": {"TODO_DB": str(db_path), **env},
    }


@pytest.fixture
def project(tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_the_projects_mcp_json_in_the_current_folder_is_checked(
    capsys: pytest.CaptureFixture[str], project: Path, db_path: Path
) -> None:
    entry = python_entry(db_path, TODO_TZ="Europe/Paris", TODO_TOOLS="core,view")
    mcp_json = write(project / ".mcp.json", {"mcpServers": {"todo": entry}})
    code, out, _ = doctor(capsys, "--db", str(db_path))
    assert code == 0, out
    ok = "\n".join(lines(out, "OK"))
    assert f"config {mcp_json}: entry 'todo'" in ok
    assert "'todo' runs: not started: a project's file is checked without running it" in ok
    assert "'todo' settings: arguments parse; time zone Europe/Paris, tools core,view" in ok
    assert "no client configuration found" not in out


def test_a_vscode_entry_whose_command_is_gone_fails(
    capsys: pytest.CaptureFixture[str], project: Path, db_path: Path
) -> None:
    gone = project / "venv" / "bin" / "mcp-server-todo"
    mcp_json = write(
        project / ".vscode" / "mcp.json", {"servers": {"todo": {"type": "stdio", "command": str(gone), "args": []}}}
    )
    code, out, _ = doctor(capsys, "--db", str(db_path))
    assert code == 1
    [fail] = lines(out, "FAIL")
    assert "mcp.json 'todo' command" in fail and "does not exist" in fail
    assert f"mcp-server-todo install vscode --config {mcp_json}" in out


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (["serve", "--bogus"], {}, "unrecognized arguments: --bogus"),
        (["list"], {}, "do not start the server (they run 'list')"),
        ([], {"TODO_TOOLS": "core,viwe"}, "unknown tool group(s) viwe"),
        (["--tz", "Mars/Olympus"], {}, "Mars/Olympus"),
    ],
    ids=["bad-option", "not-the-server", "bad-tools", "bad-tz"],
)
def test_an_entry_whose_settings_do_not_parse_fails(
    capsys: pytest.CaptureFixture[str], project: Path, db_path: Path, args: list[str], env: dict[str, str], problem: str
) -> None:
    write(project / ".mcp.json", {"mcpServers": {"todo": python_entry(db_path, *args, **env)}})
    code, out, _ = doctor(capsys, "--db", str(db_path))
    assert code == 1
    settings = [line for line in lines(out, "FAIL") if "'todo' settings" in line]
    assert len(settings) == 1 and problem in settings[0], out


def test_a_project_file_for_other_servers_only_is_not_a_warning(
    capsys: pytest.CaptureFixture[str], project: Path, db_path: Path
) -> None:
    mcp_json = write(project / ".mcp.json", {"mcpServers": {"gh": {"command": "npx", "args": ["gh-mcp"]}}})
    code, out, _ = doctor(capsys, "--db", str(db_path))
    assert code == 0
    assert f"OK    config {mcp_json}: no mcp-server-todo entry" in out
    assert [line for line in lines(out, "WARN") if ".mcp.json" in line] == []
    assert "no client uses mcp-server-todo" in out  # the one overall hint: install it somewhere


def test_missing_project_files_say_nothing_and_project_option_points_elsewhere(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path, db_path: Path
) -> None:
    code, out, _ = doctor(capsys, "--db", str(db_path))
    assert code == 0 and "mcp.json" not in out
    other = tmp_path / "other"
    mcp_json = write(other / ".vscode" / "mcp.json", {"servers": {"todo": {"command": "/nowhere/mcp-server-todo"}}})
    code, out, _ = doctor(capsys, "--db", str(db_path), "--project", str(other))
    assert code == 1 and str(mcp_json) in out
    code, _, err = doctor(capsys, "--db", str(db_path), "--project", str(tmp_path / "nope"))
    assert code == 2 and "not a folder" in err


def test_a_durable_uvx_entry_is_recognised_run_and_checked(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path, db_path: Path
) -> None:
    """What `install` writes from a uvx cache: `uvx --from SOURCE mcp-server-todo`, settings in env.
    A stand-in uvx runs this interpreter's server with the words after the package name; in a
    user-level file (`--config`) it is started."""
    uvx = tmp_path / "bin" / "uvx"
    uvx.parent.mkdir()
    uvx.write_text(f'#!/bin/sh\nshift 3\nexec "{sys.executable}" -m mcp_server_todo "$@"\n', encoding="utf-8")
    uvx.chmod(0o755)
    env = {"TODO_DB": str(db_path), "TODO_TOOLS": "core,history"}
    entry = {"command": str(uvx), "args": ["--from", "/src/mcp-server-todo", "mcp-server-todo"], "env": env}
    mcp_json = write(tmp_path / "user" / "mcp.json", {"mcpServers": {"todo": entry}})
    code, out, _ = doctor(capsys, "--db", str(db_path), "--config", str(mcp_json))
    assert code == 0, out
    ok = "\n".join(lines(out, "OK"))
    assert f"config {mcp_json}: entry 'todo'" in ok and "'todo' runs: mcp-server-todo" in ok
    assert "'todo' settings: arguments parse; time zone of the system, tools core,history" in ok
    assert "'todo' store: uses the store checked above" in ok


def test_an_entry_in_uvs_cache_is_a_warning_naming_the_durable_command(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    isolated_env: Path,
    tmp_path: Path,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What an older `install` run through uvx wrote: the script in uv's cache. It runs today, and
    goes when `uv cache clean` runs: WARN, with the install command that writes the lasting form."""
    clone = tmp_path / "clone"
    clone.mkdir()
    env_dir = isolated_env / ".cache" / "uv" / "archive-v0" / "Xy12"
    script = env_dir / "bin" / "mcp-server-todo"
    script.parent.mkdir(parents=True)
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mcp_server_todo "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    dist = env_dir / "lib" / "python3.11" / "site-packages" / "mcp_server_todo-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "direct_url.json").write_text(json.dumps({"url": clone.as_uri(), "dir_info": {}}), encoding="utf-8")
    uvx = tmp_path / "bin" / "uvx"
    uvx.parent.mkdir()
    uvx.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    uvx.chmod(0o755)
    monkeypatch.setenv("PATH", f"{uvx.parent}{os.pathsep}{os.environ['PATH']}")
    entry = {"command": str(script), "args": [], "env": {"TODO_DB": str(db_path)}}
    mcp_json = write(project / ".mcp.json", {"mcpServers": {"todo": entry}})
    code, out, _ = doctor(capsys, "--db", str(db_path))
    assert code == 0, out
    [warning] = [line for line in lines(out, "WARN") if "'todo' command" in line]
    assert f"{script} is in uv's cache" in warning
    assert f"run: {uvx} --from {clone} mcp-server-todo install claude-code --config {mcp_json}" in out
    assert "'todo' runs: not started: a project's file" in "\n".join(lines(out, "OK"))
    assert not [line for line in lines(out, "OK") if "'todo' command" in line]  # one line: the warning
    assert f"uv tool install '{clone}'" in out  # and the install that starts offline
