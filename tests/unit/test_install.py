"""`install CLIENT` and `doctor` on real files: other servers and keys survive, a backup is
made, bad files are refused untouched, and the entry written really launches the server."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_server_todo import __version__
from mcp_server_todo.cli.client_configs import _claude_desktop_config
from mcp_server_todo.cli.launch import server_launch
from mcp_server_todo.cli.main import main

OTHER_SERVERS = {
    "filesystem": {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"],
    },
    "weather": {"command": "/opt/weather/bin/weather-mcp", "args": [], "env": {"API_KEY": "sekret-é"}},
}
EXTRA_KEYS = {"globalShortcut": "Ctrl+Space", "preferences": {"menuBarEnabled": True, "quickEntry": [1, 2]}}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".bak-*"))


def minimal_env(entry: dict[str, Any], home: Path) -> dict[str, str]:
    """What a GUI app gives a server: a bare PATH, a HOME, and the entry's own env."""
    return {
        "PATH": os.defpath,
        "HOME": str(home),
        "SYSTEMROOT": os.environ.get("SYSTEMROOT", ""),
        **entry.get("env", {}),
    }


@pytest.fixture
def desktop_config(tmp_path: Path) -> Path:
    path = tmp_path / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"mcpServers": OTHER_SERVERS, **EXTRA_KEYS}, indent=4), encoding="utf-8")
    return path


# -- claude-desktop ------------------------------------------------------------------------------


def test_install_merges_keeps_everything_else_and_backs_up(
    capsys: pytest.CaptureFixture[str], desktop_config: Path, db_path: Path
) -> None:
    before = desktop_config.read_bytes()
    code, out, _ = run(capsys, "install", "claude-desktop", "--config", str(desktop_config), "--db", str(db_path))
    assert code == 0
    data = read_json(desktop_config)
    assert {k: v for k, v in data.items() if k != "mcpServers"} == EXTRA_KEYS
    assert set(data["mcpServers"]) == {"filesystem", "weather", "todo"}
    for name, server in OTHER_SERVERS.items():
        assert data["mcpServers"][name] == server
    entry = data["mcpServers"]["todo"]
    command = Path(entry["command"])
    assert command.is_absolute() and command.is_file() and os.access(command, os.X_OK)
    assert entry["env"] == {"TODO_DB": str(db_path.resolve())}
    # indent=2, a trailing newline, non-ASCII kept readable
    text = desktop_config.read_text(encoding="utf-8")
    assert text == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    [backup] = backups(desktop_config)
    assert backup.read_bytes() == before
    assert "Added the 'todo' server" in out and "Restart Claude Desktop" in out
    assert str(backup) in out
    assert not list(desktop_config.parent.glob(".*.tmp")), "temp file left behind"


def test_second_install_is_idempotent(capsys: pytest.CaptureFixture[str], desktop_config: Path) -> None:
    assert run(capsys, "install", "claude-desktop", "--config", str(desktop_config))[0] == 0
    after_first = desktop_config.read_bytes()
    code, out, _ = run(capsys, "install", "claude-desktop", "--config", str(desktop_config))
    assert code == 0
    assert "already installed" in out and "nothing changed" in out
    assert desktop_config.read_bytes() == after_first
    assert len(backups(desktop_config)) == 1
    assert list(read_json(desktop_config)["mcpServers"]) == ["filesystem", "weather", "todo"]


def test_a_different_entry_with_the_same_name_is_replaced_and_reported(
    capsys: pytest.CaptureFixture[str], desktop_config: Path, db_path: Path
) -> None:
    assert run(capsys, "install", "claude-desktop", "--config", str(desktop_config))[0] == 0
    code, out, _ = run(capsys, "install", "claude-desktop", "--config", str(desktop_config), "--db", str(db_path))
    assert code == 0
    assert "Replaced the existing 'todo' entry" in out
    servers = read_json(desktop_config)["mcpServers"]
    assert servers["todo"]["env"]["TODO_DB"] == str(db_path.resolve())
    assert len(servers) == 3
    assert len(backups(desktop_config)) == 2


def test_install_under_another_name(capsys: pytest.CaptureFixture[str], desktop_config: Path) -> None:
    code, _, _ = run(capsys, "install", "claude-desktop", "--config", str(desktop_config), "--name", "tasks")
    assert code == 0
    assert "tasks" in read_json(desktop_config)["mcpServers"]
    assert "todo" not in read_json(desktop_config)["mcpServers"]


@pytest.mark.parametrize(
    "content",
    ['{"mcpServers": {"a": {"command": "x"},}', "", '{"mcpServers": ["not", "an", "object"]}', "[1, 2]"],
    ids=["trailing-comma", "empty", "servers-is-a-list", "top-level-list"],
)
def test_a_bad_config_is_refused_and_left_unchanged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "install", "claude-desktop", "--config", str(path))
    if content == "":  # an empty file is treated as an empty config, not as an error
        assert code == 0 and "todo" in read_json(path)["mcpServers"]
        return
    assert code == 1
    assert path.read_text(encoding="utf-8") == content
    assert backups(path) == []
    assert str(path) in err and "Nothing was changed" in err
    assert out == ""


def test_invalid_json_message_says_where(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{\n  "mcpServers": {\n    oops\n  }\n}\n', encoding="utf-8")
    code, _, err = run(capsys, "install", "claude-desktop", "--config", str(path))
    assert code == 1
    assert "not valid JSON" in err and "line 3" in err


def test_a_missing_config_in_an_existing_folder_is_created(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    code, out, err = run(capsys, "install", "claude-desktop", "--config", str(path))
    assert code == 0
    assert set(read_json(path)) == {"mcpServers"}
    assert backups(path) == []
    assert "Backed up" not in out and "did not exist" not in err


def test_an_explicit_config_in_a_missing_folder_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "cfg.json"
    code, out, err = run(capsys, "install", "claude-desktop", "--config", str(path))
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        f"mcp-server-todo install: the folder of --config {path} does not exist; nothing was changed."
    ]
    assert not (tmp_path / "no").exists()


def test_a_workspaces_vscode_folder_is_made_but_not_the_workspace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "workspace" / ".vscode" / "mcp.json"
    assert run(capsys, "install", "vscode", "--config", str(config))[0] == 1
    (tmp_path / "workspace").mkdir()
    code, _, err = run(capsys, "install", "vscode", "--config", str(config))
    assert code == 0 and "todo" in read_json(config)["servers"]
    assert f"created the folder {config.parent}" in err


def test_a_clients_missing_default_folder_is_made_and_said(
    capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    config = _claude_desktop_config()
    assert not config.parent.exists()
    code, _, err = run(capsys, "install", "claude-desktop")
    assert code == 0 and "todo" in read_json(config)["mcpServers"]
    assert f"Claude Desktop's folder {config.parent} did not exist" in err and "is Claude Desktop installed?" in err
    code, _, err = run(capsys, "install", "claude-desktop", "--tz", "Europe/Paris")
    assert code == 0 and "did not exist" not in err


def test_a_symlinked_config_stays_a_symlink(capsys: pytest.CaptureFixture[str], desktop_config: Path) -> None:
    link = desktop_config.parent / "link.json"
    link.symlink_to(desktop_config)
    assert run(capsys, "install", "claude-desktop", "--config", str(link))[0] == 0
    assert link.is_symlink()
    assert "todo" in read_json(desktop_config)["mcpServers"]


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the Linux location")
def test_default_location_on_linux_follows_xdg_config_home(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    assert run(capsys, "install", "claude-desktop")[0] == 0
    assert "todo" in read_json(xdg / "Claude" / "claude_desktop_config.json")["mcpServers"]


def test_default_locations_per_platform(isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setattr(sys, "platform", "linux")
    assert _claude_desktop_config() == isolated_env / ".config" / "Claude" / "claude_desktop_config.json"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _claude_desktop_config() == (
        isolated_env / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    )
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    assert _claude_desktop_config() == tmp_path / "Roaming" / "Claude" / "claude_desktop_config.json"


# -- other clients -------------------------------------------------------------------------------


def test_cursor_default_location_and_shape(capsys: pytest.CaptureFixture[str], isolated_env: Path) -> None:
    code, out, _ = run(capsys, "install", "cursor")
    assert code == 0
    data = read_json(isolated_env / ".cursor" / "mcp.json")
    assert list(data) == ["mcpServers"]
    assert set(data["mcpServers"]["todo"]) == {"command", "args"}
    assert "Restart Cursor" in out


def test_vscode_merges_under_servers_with_stdio_type(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path
) -> None:
    path = tmp_path / ".vscode" / "mcp.json"
    path.parent.mkdir()
    existing = {"inputs": [{"type": "promptString", "id": "key"}], "servers": {"gh": {"type": "http", "url": "u"}}}
    path.write_text(json.dumps(existing), encoding="utf-8")
    assert run(capsys, "install", "vscode", "--config", str(path), "--db", str(db_path))[0] == 0
    data = read_json(path)
    assert data["inputs"] == existing["inputs"]
    assert data["servers"]["gh"] == existing["servers"]["gh"]
    entry = data["servers"]["todo"]
    assert entry["type"] == "stdio" and Path(entry["command"]).is_absolute()
    assert entry["env"] == {"TODO_DB": str(db_path.resolve())}
    assert "mcpServers" not in data


def test_vscode_without_config_prints_the_add_mcp_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-code-here"))  # without VS Code's CLI: printed
    before = sorted(tmp_path.rglob("*"))
    code, out, _ = run(capsys, "install", "vscode")
    assert code == 0 and "The code CLI is not on PATH; nothing was changed." in out
    assert sorted(tmp_path.rglob("*")) == before
    line = next(line.strip() for line in out.splitlines() if line.strip().startswith("code --add-mcp"))
    spec = json.loads(shlex.split(line)[2])
    launch = server_launch(None)
    assert spec == {"name": "todo", "command": launch.command, "args": launch.args}
    assert '"servers"' in out and '"type": "stdio"' in out


def test_claude_code_prints_a_working_claude_mcp_add_command(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-claude-here"))  # without the claude CLI: printed
    code, out, _ = run(capsys, "install", "claude-code", "--db", str(db_path))
    assert code == 0
    line = next(line.strip() for line in out.splitlines() if line.strip().startswith("claude mcp add"))
    words = shlex.split(line)
    launch = server_launch(str(db_path))
    # the name comes before --env: `-e` is variadic in Claude Code and would swallow it
    assert words[:7] == ["claude", "mcp", "add", "--scope", "user", "todo", "--env"]
    assert words[7] == f"TODO_DB={db_path.resolve()}"
    assert words[8:] == ["--", launch.command, *launch.args]
    assert '"mcpServers"' in out and ".mcp.json" in out


def test_claude_code_with_config_merges_into_mcp_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "project" / ".mcp.json"
    path.parent.mkdir()
    path.write_text('{"mcpServers": {"other": {"command": "o", "args": []}}}', encoding="utf-8")
    assert run(capsys, "install", "claude-code", "--config", str(path))[0] == 0
    assert set(read_json(path)["mcpServers"]) == {"other", "todo"}


@pytest.mark.parametrize("client", ["claude-desktop", "claude-code", "cursor", "vscode"])
def test_print_writes_nothing(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, desktop_config: Path, client: str
) -> None:
    before = desktop_config.read_bytes()
    missing = desktop_config.parent / "new.json"
    for config in (str(desktop_config), str(missing)):
        code, out, _ = run(capsys, "install", client, "--config", config, "--print")
        assert code == 0
        snippet = json.loads(out[out.index("{") :])
        key = "servers" if client == "vscode" else "mcpServers"
        assert Path(snippet[key]["todo"]["command"]).is_absolute()
    assert run(capsys, "install", client, "--print")[0] == 0
    assert desktop_config.read_bytes() == before
    assert not missing.exists()
    assert backups(desktop_config) == []
    assert [p for p in isolated_env.rglob("*") if p.is_file()] == []


# -- the entry really works ----------------------------------------------------------------------


def _entry_launches(entry: dict[str, Any], home: Path) -> None:
    env = minimal_env(entry, home)
    version = subprocess.run(
        [entry["command"], *entry["args"], "--version"], capture_output=True, text=True, env=env, timeout=30
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"mcp-server-todo {__version__}"
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    served = subprocess.run(
        [entry["command"], *entry["args"]],
        input=json.dumps(initialize) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=home,
    )
    assert served.returncode == 0, served.stderr
    reply = json.loads(served.stdout.splitlines()[0])
    assert reply["id"] == 1 and reply["result"]["serverInfo"]["version"] == __version__


@pytest.mark.slow
def test_the_installed_entry_launches_with_a_minimal_path(
    capsys: pytest.CaptureFixture[str], desktop_config: Path, db_path: Path, isolated_env: Path
) -> None:
    assert run(capsys, "install", "claude-desktop", "--config", str(desktop_config), "--db", str(db_path))[0] == 0
    entry = read_json(desktop_config)["mcpServers"]["todo"]
    _entry_launches(entry, isolated_env)
    assert db_path.exists(), "the server did not use the TODO_DB of its entry"


@pytest.mark.slow
def test_the_python_dash_m_fallback_launches(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sys.executable
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-script-here" / "python"))
    launch = server_launch(None)
    assert launch.command == str(tmp_path / "no-script-here" / "python")
    assert launch.args == ["-m", "mcp_server_todo"] and launch.env == {}
    _entry_launches({"command": real, "args": launch.args}, isolated_env)


def test_the_console_script_is_preferred_when_installed() -> None:
    launch = server_launch(None)
    script = Path(sys.executable).absolute().parent / ("mcp-server-todo.exe" if os.name == "nt" else "mcp-server-todo")
    if not script.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    assert launch.command == str(script) and launch.args == []


# -- doctor --------------------------------------------------------------------------------------


def lines_by_level(out: str) -> dict[str, list[str]]:
    levels: dict[str, list[str]] = {"OK": [], "WARN": [], "FAIL": []}
    for line in out.splitlines():
        word = line.split(" ", 1)[0]
        if word in levels:
            levels[word].append(line)
    return levels


@pytest.mark.slow
def test_doctor_on_a_healthy_setup(capsys: pytest.CaptureFixture[str], desktop_config: Path, db_path: Path) -> None:
    assert run(capsys, "add", "--db", str(db_path), "one")[0] == 0
    assert run(capsys, "install", "claude-desktop", "--config", str(desktop_config), "--db", str(db_path))[0] == 0
    code, out, _ = run(capsys, "doctor", "--db", str(db_path), "--config", str(desktop_config))
    levels = lines_by_level(out)
    assert code == 0, out
    assert levels["FAIL"] == [] and levels["WARN"] == [], out
    ok = "\n".join(levels["OK"])
    for label in ("python", "mcp SDK", "store opens", "store schema", "store integrity", "tasks: 1 pending"):
        assert label in ok, f"{label!r} missing from\n{out}"
    assert f"mcp-server-todo {__version__}" in ok and "uses the store checked above" in ok


@pytest.mark.slow
def test_doctor_fails_on_a_command_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], desktop_config: Path, db_path: Path, tmp_path: Path
) -> None:
    data = read_json(desktop_config)
    data["mcpServers"]["todo"] = {"command": str(tmp_path / "gone" / "mcp-server-todo"), "args": []}
    desktop_config.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(capsys, "doctor", "--db", str(db_path), "--config", str(desktop_config))
    assert code == 1
    [fail] = lines_by_level(out)["FAIL"]
    assert "command" in fail and "does not exist" in fail
    hints = out[out.index("What to do:") :]
    assert "mcp-server-todo install claude-desktop" in hints


@pytest.mark.slow
def test_doctor_accepts_a_hand_written_python_m_serve_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path
) -> None:
    config = tmp_path / "mcp.json"
    entry = {"command": sys.executable, "args": ["-m", "mcp_server_todo", "serve", "--db", str(db_path)]}
    config.write_text(json.dumps({"mcpServers": {"tasks": entry}}), encoding="utf-8")
    code, out, _ = run(capsys, "doctor", "--db", str(db_path), "--config", str(config))
    assert code == 0, out
    assert lines_by_level(out)["FAIL"] == []
    assert f"'tasks' runs: mcp-server-todo {__version__}" in out
    assert "'tasks' store: uses the store checked above" in out


def test_doctor_fails_on_a_config_without_our_entry_or_invalid_json(
    capsys: pytest.CaptureFixture[str], desktop_config: Path, db_path: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    code, out, _ = run(capsys, "doctor", "--db", str(db_path), "--config", str(desktop_config), "--config", str(broken))
    assert code == 1
    fails = "\n".join(lines_by_level(out)["FAIL"])
    assert "no mcp-server-todo entry" in fails and "not valid JSON" in fails


def test_doctor_only_warns_about_a_default_config_without_our_entry(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, db_path: Path
) -> None:
    cursor = isolated_env / ".cursor" / "mcp.json"
    cursor.parent.mkdir()
    cursor.write_text(json.dumps({"mcpServers": OTHER_SERVERS}), encoding="utf-8")
    code, out, _ = run(capsys, "doctor", "--db", str(db_path))
    assert code == 0
    [warn] = lines_by_level(out)["WARN"]
    assert str(cursor) in warn and "no mcp-server-todo entry" in warn
    assert "mcp-server-todo install cursor" in out
    assert "store file: not created yet" in out
    assert not db_path.exists(), "doctor must not create the store"


@pytest.mark.slow
def test_doctor_warns_when_an_entry_uses_another_store(
    capsys: pytest.CaptureFixture[str], desktop_config: Path, tmp_path: Path, db_path: Path
) -> None:
    other = tmp_path / "other.db"
    assert run(capsys, "install", "claude-desktop", "--config", str(desktop_config), "--db", str(other))[0] == 0
    code, out, _ = run(capsys, "doctor", "--db", str(db_path), "--config", str(desktop_config))
    assert code == 0
    [warn] = lines_by_level(out)["WARN"]
    assert "store" in warn and str(other) in warn


def test_doctor_fails_on_a_file_that_is_not_a_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all, not even close" * 10)
    code, out, _ = run(capsys, "doctor", "--db", str(bad))
    assert code == 1
    [fail] = lines_by_level(out)["FAIL"]
    assert "store opens" in fail
    assert bad.read_bytes() == b"this is not sqlite at all, not even close" * 10


def test_doctor_without_any_client_config_warns_and_suggests_install(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    code, out, _ = run(capsys, "doctor", "--db", str(db_path))
    assert code == 0
    assert "no client configuration found" in out
    assert "run: mcp-server-todo install claude-desktop" in out


@pytest.mark.postgres
def test_doctor_checks_a_postgresql_store(capsys: pytest.CaptureFixture[str], postgres_url: str) -> None:
    code, out, _ = run(capsys, "doctor", "--db", postgres_url)
    assert code == 0, out
    assert "store opens" in out and "store schema" in out and "0 pending" in out
    assert "backups: PostgreSQL: take them with pg_dump" in out
    password = postgres_url.split("//", 1)[1].split("@")[0].partition(":")[2]
    assert not password or password not in out, "the password is never printed"
    code, out, _ = run(capsys, "doctor", "--db", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    assert code == 1 and "FAIL" in out
