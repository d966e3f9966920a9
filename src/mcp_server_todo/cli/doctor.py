"""`mcp-server-todo doctor`: checks the interpreter, the SDK, the store (its `health()`, through
`store.health.check_store`) and every installed client entry (`entry_checks.py`): the clients'
usual files, the project's own (`.mcp.json` for Claude Code, `.vscode/mcp.json` for VS Code, in
the current folder or `--project DIR`) and any `--config`; one OK/WARN/FAIL line each, then
what to do. A project's files come with cloned repositories: their entries are checked without
running anything; user-level files run only our own command lines (`entry_checks.py`).
The doctor knows no store backend by name."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import re
import sys
from pathlib import Path

from ..store.health import FAIL, OK, WARN, Check, check_store
from .client_configs import CLIENTS, ConfigFileError, load_config, servers_of
from .entry_checks import check_entry, is_ours

PYTHON_MIN = (3, 11)
SDK_MIN = (2, 3)
SDK_MAJOR_LIMIT = 3


def _version_tuple(text: str) -> tuple[int, ...]:
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def check_python() -> Check:
    version = ".".join(str(part) for part in sys.version_info[:3])
    detail = f"{version} ({sys.executable})"
    if sys.version_info[:2] < PYTHON_MIN:
        return Check(FAIL, "python", detail, "install Python 3.11 or newer, then reinstall mcp-server-todo")
    return Check(OK, "python", detail)


def check_sdk() -> Check:
    hint = f"reinstall mcp-server-todo (it brings the SDK), or run: {sys.executable} -m pip install 'mcp>=2.3,<3'"
    try:
        version = importlib.metadata.version("mcp")
        importlib.import_module("mcp")
    except importlib.metadata.PackageNotFoundError:
        return Check(FAIL, "mcp SDK", "not installed", hint)
    except Exception as exc:
        return Check(FAIL, "mcp SDK", f"does not import: {exc}", hint)
    if not SDK_MIN <= _version_tuple(version) < (SDK_MAJOR_LIMIT, 0):
        return Check(WARN, "mcp SDK", f"{version} (this server is tested with >=2.3,<3)", hint)
    return Check(OK, "mcp SDK", version)


def _guess_client(path: Path, servers_key: str) -> str:
    if servers_key == "servers":
        return "vscode"
    if path.name == "claude_desktop_config.json":
        return "claude-desktop"
    if path.parent.name == ".cursor":
        return "cursor"
    return "claude-code" if path.name == ".mcp.json" else "CLIENT"


def _install_hint(path: Path, servers_key: str, known: bool) -> str:
    client = _guess_client(path, servers_key)
    return f"run: mcp-server-todo install {client}" + ("" if known else f" --config {path}")


PROJECT_FILES = ((".mcp.json", "mcpServers"), (".vscode/mcp.json", "servers"))
"""A project's own MCP files: Claude Code's and VS Code's (checked when they exist)."""


def check_config(
    path: Path, store_url: str, *, known: bool, key: str | None = None, project: bool = False
) -> list[Check]:
    """The entries of ours in one client config file; `known` = found at a client's default place,
    `project` = a project's own file (one without our entry is fine: it serves other servers)."""
    label = f"config {path}"
    try:
        data = load_config(path)
        key = key or ("servers" if "servers" in data and "mcpServers" not in data else "mcpServers")
        servers = servers_of(data, key, path)
    except ConfigFileError as exc:
        return [Check(FAIL, label, str(exc), f"fix the file; backups are next to it ({path.name}.bak-*)")]
    hint = _install_hint(path, key, known)
    ours = {name: entry for name, entry in servers.items() if is_ours(entry)}
    if not ours:
        if project:
            return [Check(OK, label, "no mcp-server-todo entry (this project does not use it)")]
        return [Check(WARN if known else FAIL, label, "no mcp-server-todo entry", hint)]
    checks = [Check(OK, label, f"entry {', '.join(repr(n) for n in ours)}")]
    for name, entry in ours.items():
        checks.extend(check_entry(path.name, name, entry, store_url, hint, run=not project))
    return checks


def client_config_checks(store_url: str, configs: list[str], project: Path | None = None) -> list[Check]:
    known = [c.default_config() for c in CLIENTS.values() if c.default_config]
    explicit = [Path(p).expanduser().absolute() for p in configs]
    checks: list[Check] = []
    for path in explicit:
        if not path.is_file():
            checks.append(Check(FAIL, f"config {path}", "does not exist", "check the --config path"))
        else:
            checks.extend(check_config(path, store_url, known=False))
    for path in known:
        if path.is_file() and path not in explicit:
            checks.extend(check_config(path, store_url, known=True))
    folder = (project or Path.cwd()).expanduser().absolute()
    for name, key in PROJECT_FILES:
        path = folder / name
        if path.is_file() and path not in explicit and path not in known:
            checks.extend(check_config(path, store_url, known=False, key=key, project=True))
    if not any(c.detail.startswith("entry ") for c in checks) and not any(c.level != OK for c in checks):
        checks.append(
            Check(
                WARN,
                "clients",
                "no client configuration found" if not checks else "no client uses mcp-server-todo",
                "run: mcp-server-todo install claude-desktop (or claude-code, cursor, vscode)",
            )
        )
    return checks


def _print_report(checks: list[Check]) -> None:
    for check in checks:
        print(f"{check.level:<4}  {check.name}: {check.detail}")
    hints = [c for c in checks if c.hint and c.level != OK]
    if hints:
        print("\nWhat to do:")
        for check in hints:
            print(f"  [{check.level}] {check.name}: {check.hint}")


def doctor_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    """`mcp-server-todo doctor`: one line per check; exit 1 if any check failed."""
    from ..config import store_url_from

    configs: list[str] = args.config or []
    project = Path(args.project) if getattr(args, "project", None) else None
    store_url = store_url_from(db)
    checks = [check_python(), check_sdk(), *check_store(store_url)]
    if project is not None and not project.is_dir():
        print(f"mcp-server-todo doctor: --project {project}: not a folder", file=sys.stderr)
        return 2
    checks.extend(client_config_checks(store_url, configs, project))
    _print_report(checks)
    return 1 if any(check.level == FAIL for check in checks) else 0
