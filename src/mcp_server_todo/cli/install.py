"""Client setup: `install CLIENT` writes (or prints) the entry an MCP client needs to launch
this server (`doctor.py` checks those entries, with the same config-file readers).

Entries use absolute paths only: GUI apps such as Claude Desktop start servers with a minimal
PATH and an unknown working directory. Config files are edited conservatively: parse, change
our one entry, keep everything else, back up the old file, write a temp file, `os.replace` it.
Invalid JSON is never "repaired": the command refuses and leaves the file alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TodoError

SCRIPT_NAME = "mcp-server-todo"
MODULE_NAME = "mcp_server_todo"


class ConfigFileError(TodoError):
    """A client config file we must not touch (not JSON, or an unexpected shape)."""


# -- how the server is launched --------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    command: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)


def _script_candidates() -> list[Path]:
    exe_dir = Path(sys.executable).absolute().parent
    name = SCRIPT_NAME + (".exe" if os.name == "nt" else "")
    return [exe_dir / name, exe_dir / "Scripts" / name]


def is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def db_setting(db: str) -> str:
    """`--db` as the client should see it: a URL unchanged, a file path made absolute."""
    if "://" in db:
        return db
    return str(Path(db).expanduser().resolve())


def server_launch(db: str | None) -> Launch:
    """The console script next to this interpreter if installed, else `python -m mcp_server_todo`.

    `sys.executable` is made absolute but not resolved: in a virtualenv it is a symlink whose
    target is the base interpreter, which would not see the venv's packages.
    """
    env = {"TODO_DB": db_setting(db)} if db else {}
    for script in _script_candidates():
        if is_executable(script):
            return Launch(str(script), [], env)
    return Launch(str(Path(sys.executable).absolute()), ["-m", MODULE_NAME], env)


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
        "Start a new Claude Code session in that project; /mcp shows the server.",
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


def shell_join(words: Iterable[str]) -> str:
    words = list(words)
    return subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)


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


# -- install ---------------------------------------------------------------------------------


def _describe(launch: Launch) -> list[str]:
    lines = [f"  command: {launch.command}"]
    if launch.args:
        lines.append(f"  args:    {shell_join(launch.args)}")
    lines.extend(f"  env:     {key}={value}" for key, value in launch.env.items())
    return lines


def _report_merge(client: Client, name: str, result: MergeResult, launch: Launch) -> None:
    where = f"{client.label}'s config {result.path}"
    if result.action == "unchanged":
        print(f"'{name}' is already installed in {where} with these settings; nothing changed.")
        print(f"If {client.label} does not show it yet: {client.after_install}")
        return
    if result.action == "replaced":
        print(f"Replaced the existing '{name}' entry in {where}.")
        print(f"  it was: {json.dumps(result.previous, ensure_ascii=False)}")
    else:
        print(f"Added the '{name}' server to {where}.")
    print("\n".join(_describe(launch)))
    if result.backup is not None:
        print(f"Backed up the previous file to {result.backup}")
    print(client.after_install)


def _print_snippet(client: Client, name: str, entry: dict[str, Any], target: str) -> None:
    print(f"Add this to {target} (merged into {client.servers_key!r}):")
    print(json.dumps({client.servers_key: {name: entry}}, indent=2, ensure_ascii=False))


def _print_claude_code(client: Client, name: str, launch: Launch) -> None:
    env_flags = [flag for key, value in launch.env.items() for flag in ("--env", f"{key}={value}")]
    words = ["claude", "mcp", "add", "--scope", "user", name, *env_flags, "--", launch.command, *launch.args]
    print("For every project (user scope), run:\n")
    print(f"  {shell_join(words)}\n")
    _print_snippet(client, name, client_entry(client, launch), "a project's .mcp.json")
    print("\nOr: mcp-server-todo install claude-code --config PROJECT/.mcp.json")


def _print_vscode(client: Client, name: str, launch: Launch) -> None:
    spec: dict[str, Any] = {"name": name, "command": launch.command, "args": launch.args}
    if launch.env:
        spec["env"] = launch.env
    print("For your VS Code user profile, run:\n")
    print(f"  {shell_join(['code', '--add-mcp', json.dumps(spec, separators=(',', ':'))])}\n")
    _print_snippet(client, name, client_entry(client, launch), "a workspace's .vscode/mcp.json")
    print("\nOr: mcp-server-todo install vscode --config WORKSPACE/.vscode/mcp.json")


def _print_only(client: Client, name: str, launch: Launch, config: Path | None) -> None:
    if client.key == "claude-code" and config is None:
        _print_claude_code(client, name, launch)
    elif client.key == "vscode" and config is None:
        _print_vscode(client, name, launch)
    else:
        target = str(config) if config is not None else f"{client.label}'s config"
        _print_snippet(client, name, client_entry(client, launch), target)


def _config_path(client: Client, config: str | None) -> Path | None:
    if config:
        return Path(config).expanduser().absolute()
    return client.default_config() if client.default_config else None


def install_client(client: str, *, config: str | None, name: str, db: str | None, print_only: bool) -> int:
    """`mcp-server-todo install CLIENT`; returns the exit code."""
    spec = CLIENTS.get(client)
    if spec is None:
        print(f"mcp-server-todo: unknown client {client!r}; use one of {', '.join(CLIENTS)}", file=sys.stderr)
        return 2
    if not name.strip():
        print("mcp-server-todo: --name must not be empty", file=sys.stderr)
        return 2
    launch = server_launch(db)
    path = _config_path(spec, config)
    if print_only or path is None:
        _print_only(spec, name, launch, path)
        return 0
    try:
        result = merge_server(path, spec.servers_key, name, client_entry(spec, launch))
    except (ConfigFileError, OSError) as exc:
        print(f"mcp-server-todo: {exc}. Nothing was changed.", file=sys.stderr)
        return 1
    _report_merge(spec, name, result, launch)
    if db is None and os.environ.get("TODO_DB"):
        print("Note: TODO_DB is set in this shell, but the client will not see it; add --db to pin it.")
    return 0


def install_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..dates import zone

    zone(tz)  # an unknown --tz or TODO_TZ fails here, not in the client at its first start
    return install_client(args.client, config=args.config, name=args.name, db=db, print_only=args.print_only)
