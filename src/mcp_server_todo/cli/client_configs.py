"""The MCP clients `install` knows and their JSON config files: where each keeps it, under which
key its servers are, the entry it wants, and a conservative editor (`doctor.py` reads the same
files with the same readers).

Config files are edited conservatively: parse, change our one entry, keep everything else,
back up the old file, write a temp file, `os.replace` it. Invalid JSON is never "repaired":
the command refuses and leaves the file alone.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TodoError
from .launch import Launch


class ConfigFileError(TodoError):
    """A client config file we must not touch (not JSON, or an unexpected shape)."""


# -- clients -----------------------------------------------------------------------------------


def _claude_desktop_config() -> Path:
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "Claude" / "claude_desktop_config.json"


def _cursor_config() -> Path:
    return Path.home() / ".cursor" / "mcp.json"


@dataclass(frozen=True)
class Client:
    key: str
    label: str
    servers_key: str
    after_install: str
    default_config: Callable[[], Path] | None = None
    stdio_type: bool = False

    def config_path(self, config: str | None) -> Path | None:
        """`--config`, absolute; else the client's usual file; None when it has none (Claude
        Code's user settings and VS Code's profile are changed by their own CLIs)."""
        if config:
            return Path(config).expanduser().absolute()
        return self.default_config() if self.default_config else None


CLIENTS: dict[str, Client] = {
    "claude-desktop": Client(
        "claude-desktop",
        "Claude Desktop",
        "mcpServers",
        "Restart Claude Desktop (quit it completely, then reopen it) to load the server.",
        _claude_desktop_config,
    ),
    "claude-code": Client(
        "claude-code",
        "Claude Code",
        "mcpServers",
        "Start a new Claude Code session (in that project, for a project's .mcp.json); /mcp shows the server.",
    ),
    "cursor": Client(
        "cursor", "Cursor", "mcpServers", "Restart Cursor (or reload it in Settings → MCP).", _cursor_config
    ),
    "vscode": Client(
        "vscode",
        "VS Code",
        "servers",
        "In VS Code, run 'MCP: List Servers' and start the server.",
        stdio_type=True,
    ),
}


def client_entry(client: Client, launch: Launch) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "stdio"} if client.stdio_type else {}
    entry.update(command=launch.command, args=list(launch.args))
    if launch.env:
        entry["env"] = dict(launch.env)
    return entry


# -- editing JSON config files ---------------------------------------------------------------


def load_config(path: Path) -> dict[str, Any]:
    """The parsed file ({} when missing or empty); ConfigFileError when it is not a JSON object."""
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path}: {exc}") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix or move the file, then run this again"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path} does not hold a JSON object at the top level")
    return data


def servers_of(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    servers = data.get(key, {})
    if not isinstance(servers, dict):
        raise ConfigFileError(f'"{key}" in {path} is not a JSON object')
    return servers


def backup_file(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.bak-{stamp}-{n}")
    shutil.copy2(path, backup)
    return backup


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write to a temp file in the same directory, fsync, then `os.replace` over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass
class MergeResult:
    path: Path
    action: str  # "added", "replaced" or "unchanged"
    previous: Any = None
    backup: Path | None = None


def merge_server(path: Path, servers_key: str, name: str, entry: dict[str, Any]) -> MergeResult:
    """Put `entry` under `servers_key`/`name` in the JSON file at `path`, keeping everything else."""
    if path.is_symlink():
        path = path.resolve()
    data = load_config(path)
    servers = servers_of(data, servers_key, path)
    previous = servers.get(name)
    if previous == entry:
        return MergeResult(path, "unchanged")
    servers[name] = entry
    data[servers_key] = servers
    backup = backup_file(path) if path.exists() else None
    write_json_atomic(path, data)
    return MergeResult(path, "added" if previous is None else "replaced", previous, backup)
