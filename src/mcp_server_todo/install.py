"""Client setup: `install CLIENT` writes (or prints) the entry an MCP client needs to launch
this server, and `doctor` checks the interpreter, the SDK, the store and every installed entry.

Entries use absolute paths only: GUI apps such as Claude Desktop start servers with a minimal
PATH and an unknown working directory. Config files are edited conservatively: parse, change
our one entry, keep everything else, back up the old file, write a temp file, `os.replace` it.
Invalid JSON is never "repaired": the command refuses and leaves the file alone.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import TodoError

if TYPE_CHECKING:
    from .store import Store

SCRIPT_NAME = "mcp-server-todo"
MODULE_NAME = "mcp_server_todo"
VERSION_TIMEOUT_SECONDS = 10.0
PYTHON_MIN = (3, 11)
SDK_MIN = (2, 3)
SDK_MAJOR_LIMIT = 3

OK, WARN, FAIL = "OK", "WARN", "FAIL"


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


def _is_executable(path: Path) -> bool:
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
        if _is_executable(script):
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


def install_command(client: str, *, config: str | None, name: str, db: str | None, print_only: bool) -> int:
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


# -- doctor ----------------------------------------------------------------------------------


@dataclass
class Check:
    level: str
    label: str
    detail: str
    hint: str = ""


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


def _creatable(path: Path) -> bool:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def _schema_check(version: int) -> Check:
    from .store.migrations import SQLITE_MIGRATIONS

    latest = SQLITE_MIGRATIONS[-1][0]
    if version > latest:
        detail = f"version {version}, newer than this release ({latest})"
        return Check(WARN, "store schema", detail, "upgrade mcp-server-todo everywhere this store is used")
    return Check(OK, "store schema", f"version {version} (current)")


def _task_counts(store: Store) -> Check:
    from .model import ListQuery, Status

    with store.read() as tx:
        counts = {status: tx.query(ListQuery(status=status, limit=1)).total for status in Status}
    return Check(OK, "tasks", ", ".join(f"{count} {status.value}" for status, count in counts.items()))


def _store_checks_open(url: str, path: Path) -> list[Check]:
    """Open (and migrate) the store, then schema, integrity and counts."""
    from .doctor_store import open_hint, sqlite_checks
    from .store import open_store
    from .store.sqlite import SQLiteStore

    try:
        store = open_store(url)
    except TodoError as exc:
        return [Check(FAIL, "store opens", str(exc), open_hint(exc, path))]
    checks = [Check(OK, "store opens", "yes")]
    try:
        integrity = sqlite_checks(store, path) if isinstance(store, SQLiteStore) else []
        checks += [_schema_check(store.schema_version()), *integrity, _task_counts(store)]
    except (TodoError, sqlite3.Error) as exc:
        checks.append(Check(FAIL, "store", f"cannot be read: {exc}"))
    finally:
        store.close()
    return checks


def _postgres_checks(url: str) -> list[Check]:
    """Open (and migrate) a PostgreSQL store: reachable, role without bypass, schema, counts."""
    from .doctor_store import postgres_backup_check
    from .store import open_store
    from .store.pg_migrations import PG_MIGRATIONS

    shown = url.split("@")[-1]  # never print a password
    try:
        store = open_store(url)
    except TodoError as exc:
        hint = "check the URL, that the server runs, and that the role may connect (install mcp-server-todo[postgres])"
        return [Check(FAIL, "store opens", str(exc), hint)]
    checks = [Check(OK, "store", f"postgresql://...@{shown}"), Check(OK, "store opens", "yes")]
    try:
        version = store.schema_version()
        latest = PG_MIGRATIONS[-1][0]
        state = "current" if version == latest else f"this release knows up to {latest}"
        checks += [Check(OK if version <= latest else WARN, "store schema", f"version {version} ({state})")]
        checks.append(_task_counts(store))
        checks.append(postgres_backup_check())
    except TodoError as exc:
        checks.append(Check(FAIL, "store", f"cannot be read: {exc}"))
    finally:
        store.close()
    return checks


def check_store(url: str) -> list[Check]:
    from .store import sqlite_path

    if url.startswith(("postgresql://", "postgres://")):
        return _postgres_checks(url)
    if not url.startswith("sqlite:///"):
        hint = "use --db /absolute/path/todo.db or --db postgresql://USER@HOST/DB"
        return [Check(FAIL, "store", f"{url}: not a sqlite:/// or postgresql:// store", hint)]
    path = sqlite_path(url)
    checks = [Check(OK, "store", url)]
    if path.is_dir():
        return [*checks, Check(FAIL, "store file", f"{path} is a directory", "point --db at a file")]
    if not path.exists():
        if _creatable(path):
            return [*checks, Check(OK, "store file", "not created yet; it is created on first use")]
        return [
            *checks,
            Check(FAIL, "store file", f"cannot create {path}", "choose a writable place with --db or TODO_DB"),
        ]
    checks.append(Check(OK, "store file", f"{path} ({path.stat().st_size} bytes)"))
    return checks + _store_checks_open(url, path)


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
    from .config import default_db_path
    from .store import sqlite_url

    if value is None:
        return sqlite_url(default_db_path())
    return value if "://" in value else sqlite_url(value)


def _check_entry_store(label: str, entry: dict[str, Any], store_url: str, hint: str) -> Check:
    from .config import default_db_path

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
        return Path(command) if _is_executable(Path(command)) else None
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
        print(f"{check.level:<4}  {check.label}: {check.detail}")
    hints = [c for c in checks if c.hint and c.level != OK]
    if hints:
        print("\nWhat to do:")
        for check in hints:
            print(f"  [{check.level}] {check.label}: {check.hint}")


def doctor_command(*, db: str | None, configs: list[str]) -> int:
    """`mcp-server-todo doctor`: one line per check; exit 1 if any check failed."""
    from .config import store_url_from

    store_url = store_url_from(db)
    checks = [check_python(), check_sdk(), *check_store(store_url)]
    checks.extend(client_config_checks(store_url, configs))
    _print_report(checks)
    return 1 if any(check.level == FAIL for check in checks) else 0
