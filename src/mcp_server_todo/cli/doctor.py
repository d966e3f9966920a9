"""`mcp-server-todo doctor`: checks the interpreter, the SDK, the store (its `health()`, through
`store.health.check_store`) and every installed client entry; one OK/WARN/FAIL line each, then
what to do. The doctor knows no store backend by name."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .. import __version__
from ..store.health import FAIL, OK, WARN, Check, check_store
from .install import (
    CLIENTS,
    MODULE_NAME,
    SCRIPT_NAME,
    ConfigFileError,
    is_executable,
    load_config,
    servers_of,
)

VERSION_TIMEOUT_SECONDS = 10.0
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
    hint = "run: pip install 'mcp>=2.3,<3' (in the environment of this interpreter)"
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


def _is_ours(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
        return False
    words = [Path(entry["command"]).stem, *(str(arg) for arg in entry.get("args") or [])]
    return any(word in (SCRIPT_NAME, MODULE_NAME) or word.startswith(SCRIPT_NAME + "==") for word in words)


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


def _entry_store(entry: dict[str, Any]) -> str | None:
    """The store the entry selects: --db in its args, else TODO_DB in its env; None = the default."""
    args = [str(arg) for arg in entry.get("args") or []]
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--db="):
            return arg.removeprefix("--db=")
    env = entry.get("env")
    value = (env.get("TODO_DB") or env.get("TODO_STORE")) if isinstance(env, dict) else None
    return str(value) if value else None


def _store_url_of(value: str | None) -> str:
    """Like `config.store_url_from`, but ignoring this shell's TODO_DB (the client has its own env)."""
    from ..config import default_db_path
    from ..store import sqlite_url

    if value is None:
        return sqlite_url(default_db_path())
    return value if "://" in value else sqlite_url(value)


def _check_entry_store(label: str, entry: dict[str, Any], store_url: str, hint: str) -> Check:
    from ..config import default_db_path

    value = _entry_store(entry)
    if value is not None and "://" not in value and not Path(value).expanduser().is_absolute():
        return Check(
            WARN,
            label,
            f"TODO_DB {value!r} is relative to the client's working directory",
            hint + " --db /absolute/path/todo.db",
        )
    url = _store_url_of(value)
    if url == store_url:
        return Check(OK, label, "uses the store checked above")
    return Check(
        WARN,
        label,
        f"uses {url}, not the store checked above",
        f"run: mcp-server-todo doctor --db {value or default_db_path()} to check that store",
    )


def _resolve_command(command: str) -> Path | None:
    if Path(command).is_absolute():
        return Path(command) if is_executable(Path(command)) else None
    found = shutil.which(command)
    return Path(found) if found else None


def _version_args(entry: dict[str, Any]) -> list[str]:
    """The entry's args with `--version` added where the top-level parser sees it (before `serve`)."""
    args = [str(arg) for arg in entry.get("args") or []]
    if "serve" in args:
        args = args[: args.index("serve")]
    return [*args, "--version"]


def _check_runs(label: str, command: Path, entry: dict[str, Any], hint: str) -> Check:
    extra = entry.get("env") if isinstance(entry.get("env"), dict) else {}
    env = {**os.environ, **{str(k): str(v) for k, v in (extra or {}).items()}}
    try:
        done = subprocess.run(
            [str(command), *_version_args(entry)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=VERSION_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return Check(FAIL, label, f"--version did not finish in {VERSION_TIMEOUT_SECONDS:.0f} s", hint)
    except OSError as exc:
        return Check(FAIL, label, f"cannot start: {exc}", hint)
    output = (done.stdout.strip() or done.stderr.strip()).splitlines()
    last = output[-1] if output else ""
    if done.returncode != 0:
        return Check(FAIL, label, f"--version exited {done.returncode}: {last}", hint)
    if last != f"{SCRIPT_NAME} {__version__}":
        return Check(WARN, label, f"runs {last!r}; this doctor is {__version__}", hint)
    return Check(OK, label, f"{last} (--version exits 0)")


def check_entry(where: str, name: str, entry: dict[str, Any], store_url: str, hint: str) -> list[Check]:
    label = f"{where} '{name}'"
    command_text = str(entry["command"])
    command = _resolve_command(command_text)
    if command is None:
        problem = "does not exist or is not executable" if Path(command_text).is_absolute() else "is not on PATH"
        return [Check(FAIL, f"{label} command", f"{command_text} {problem}", hint)]
    checks: list[Check] = []
    if Path(command_text).is_absolute():
        checks.append(Check(OK, f"{label} command", command_text))
    else:
        checks.append(
            Check(
                WARN,
                f"{label} command",
                f"{command_text!r} is not an absolute path; a GUI app's minimal PATH may not find it",
                hint,
            )
        )
    checks.append(_check_runs(f"{label} runs", command, entry, hint))
    checks.append(_check_entry_store(f"{label} store", entry, store_url, hint))
    return checks


def check_config(path: Path, store_url: str, *, known: bool) -> list[Check]:
    """The entries of ours in one client config file; `known` = found at a client's default place."""
    label = f"config {path}"
    try:
        data = load_config(path)
        key = "servers" if "servers" in data and "mcpServers" not in data else "mcpServers"
        servers = servers_of(data, key, path)
    except ConfigFileError as exc:
        return [Check(FAIL, label, str(exc), f"fix the file; backups are next to it ({path.name}.bak-*)")]
    hint = _install_hint(path, key, known)
    ours = {name: entry for name, entry in servers.items() if _is_ours(entry)}
    if not ours:
        return [Check(WARN if known else FAIL, label, "no mcp-server-todo entry", hint)]
    checks = [Check(OK, label, f"entry {', '.join(repr(n) for n in ours)}")]
    for name, entry in ours.items():
        checks.extend(check_entry(path.name, name, entry, store_url, hint))
    return checks


def client_config_checks(store_url: str, configs: list[str]) -> list[Check]:
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
    if not checks:
        checks.append(
            Check(
                WARN,
                "clients",
                "no client configuration found",
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
    store_url = store_url_from(db)
    checks = [check_python(), check_sdk(), *check_store(store_url)]
    checks.extend(client_config_checks(store_url, configs))
    _print_report(checks)
    return 1 if any(check.level == FAIL for check in checks) else 0
