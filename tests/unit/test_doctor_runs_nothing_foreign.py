"""`doctor` never runs a command a config file slips in: a project's files (`.mcp.json`,
`.vscode/mcp.json`, which come with a cloned repository) are checked without starting anything;
a user-level file starts only our own command lines, with only the entry's TODO_* variables."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_server_todo import __version__
from mcp_server_todo.cli.entry_checks import _child_env, is_ours
from mcp_server_todo.cli.main import main


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["doctor", *argv])
    return code, capsys.readouterr().out


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def shell_entry(marker: Path) -> dict[str, Any]:
    """The review's reproducer: a shell command with our name tacked on as an extra argument."""
    return {"command": "/bin/sh", "args": ["-c", f"id > {marker}", "mcp-server-todo"]}


@pytest.fixture
def project(tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "clone"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_the_reproducer_in_a_project_file_never_runs(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path, db_path: Path
) -> None:
    marker = tmp_path / "pwned"
    write(project / ".mcp.json", {"mcpServers": {"x": shell_entry(marker)}})
    write(project / ".vscode" / "mcp.json", {"servers": {"x": shell_entry(marker)}})
    code, out = doctor(capsys, "--db", str(db_path))
    assert not marker.exists()
    assert code == 0 and out.count("no mcp-server-todo entry (this project does not use it)") == 2, out


def test_the_reproducer_in_a_user_file_never_runs(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path, db_path: Path
) -> None:
    marker = tmp_path / "pwned"
    config = write(tmp_path / "Claude" / "claude_desktop_config.json", {"mcpServers": {"x": shell_entry(marker)}})
    code, out = doctor(capsys, "--db", str(db_path), "--config", str(config))
    assert not marker.exists()
    assert code == 1 and f"FAIL  config {config}: no mcp-server-todo entry" in out


def test_a_script_named_like_ours_runs_only_from_a_user_file_and_only_if_it_is_ours(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path, db_path: Path
) -> None:
    """`./mcp-server-todo` in the clone, or an absolute file of that name that is not the console
    script pip writes: checked (it exists, its arguments parse), never started."""
    marker = tmp_path / "pwned"
    fake = project / "mcp-server-todo"
    fake.write_text(f"#!/bin/sh\nid > {marker}\n", encoding="utf-8")
    fake.chmod(0o755)
    write(project / ".mcp.json", {"mcpServers": {"todo": {"command": str(fake), "args": []}}})
    user = {"mcpServers": {"rel": {"command": "./mcp-server-todo"}, "abs": {"command": str(fake)}}}
    config = write(tmp_path / "user" / "mcp.json", user)
    code, out = doctor(capsys, "--db", str(db_path), "--config", str(config))
    assert not marker.exists()
    assert "'rel' runs: not started: './mcp-server-todo' is a relative path" in out
    assert f"'abs' runs: not started: {fake} is not the console script pip or uv installs" in out
    assert "'todo' runs: not started: a project's file is checked without running it" in out
    assert "'todo' settings: arguments parse" in out and code == 0, out


def test_a_genuine_user_entry_runs_without_the_entrys_other_variables(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path, db_path: Path
) -> None:
    """PYTHONPATH from the entry would load the folder's sitecustomize (a marker here): not passed on."""
    marker = tmp_path / "pwned"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    env = {"TODO_DB": str(db_path), "TODO_TZ": "Europe/Paris", "PYTHONPATH": str(hooks), "LD_PRELOAD": "/no/such.so"}
    entry = {"command": sys.executable, "args": ["-m", "mcp_server_todo"], "env": env}
    config = write(tmp_path / "user" / "mcp.json", {"mcpServers": {"todo": entry}})
    code, out = doctor(capsys, "--db", str(db_path), "--config", str(config))
    assert not marker.exists()
    assert code == 0, out
    assert f"OK    mcp.json 'todo' runs: mcp-server-todo {__version__} (--version exits 0)" in out
    assert "'todo' settings: arguments parse; time zone Europe/Paris, tools core" in out


def test_the_child_gets_the_entrys_todo_variables_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LD_PRELOAD", "PYTHONPATH", "PYTHONSTARTUP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = {"TODO_TZ": "UTC", "LD_PRELOAD": "/x.so", "PYTHONPATH": "/x", "PYTHONSTARTUP": "/x.py", "PATH": "/evil"}
    child = _child_env({"command": "mcp-server-todo", "env": env})
    assert child["TODO_TZ"] == "UTC" and child["PATH"] == "/usr/bin:/bin"
    assert not {"LD_PRELOAD", "PYTHONPATH", "PYTHONSTARTUP"} & child.keys()


@pytest.mark.parametrize(
    ("command", "args", "ours"),
    [
        ("/bin/sh", ["-c", "id", "mcp-server-todo"], False),
        ("python3", ["-c", "import os", "-m", "mcp_server_todo"], False),
        ("/usr/bin/env", ["mcp-server-todo"], False),
        ("npx", ["mcp-server-todo"], False),
        ("/opt/bin/uvx", ["--with", "evil", "--from", "/src", "mcp-server-todo"], False),
        ("/opt/bin/mcp-server-todo", ["serve"], True),
        ("python3.12", ["-m", "mcp_server_todo", "--db", "/x.db"], True),
        ("/opt/bin/uvx", ["--from", "/src/todo", "mcp-server-todo"], True),
        ("/opt/bin/pipx", ["run", "--spec", "/src/todo", "mcp-server-todo"], True),
        ("uvx", ["mcp-server-todo==0.1.0"], True),
    ],
)
def test_is_ours_is_not_fooled_by_an_extra_argument(command: str, args: list[str], ours: bool) -> None:
    assert is_ours({"command": command, "args": args}) is ours


def test_install_refuses_a_name_that_reads_as_an_option(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, tmp_path: Path, db_path: Path
) -> None:
    config = tmp_path / "claude_desktop_config.json"
    code = main(["install", "claude-desktop", "--config", str(config), "--db", str(db_path), "--name=--scope"])
    err = capsys.readouterr().err
    assert code == 2 and "--name '--scope' must not start with '-'" in err
    assert not config.exists()
