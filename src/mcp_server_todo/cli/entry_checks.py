"""`doctor`'s checks of one client entry of ours: its command exists and runs (`--version`), its
arguments and settings parse as the server will parse them, and which store it uses."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__
from ..store.health import FAIL, OK, WARN, Check
from .launch import MODULE_NAME, SCRIPT_NAME, is_executable

VERSION_TIMEOUT_SECONDS = 10.0
BUILDING_TIMEOUT_SECONDS = 120.0
"""For an entry that runs uvx or pipx run: its first start may build the environment."""
BUILDERS = ("uvx", "uv", "pipx")


INTERPRETER = re.compile(r"python(\d+(\.\d+)*)?")
"""The names of a Python interpreter (`python`, `python3`, `python3.12`; `.exe` removed)."""


def _is_package(word: str) -> bool:
    return word == SCRIPT_NAME or word.startswith(SCRIPT_NAME + "==")


def launch_shape(entry: Any) -> tuple[str, list[str]] | None:
    """How an entry starts our server, and the words our command line gets: ("script", ...) for
    our console script, ("module", ...) for `PYTHON -m mcp_server_todo`, ("uvx", ...) for `uvx
    [--from SOURCE] mcp-server-todo`, ("pipx", ...) for `pipx run [--spec SOURCE] mcp-server-todo`;
    None for any other command line, whatever words its arguments hold."""
    if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
        return None
    raw = entry.get("args") or []
    if not isinstance(raw, list):
        return None
    args = [str(arg) for arg in raw]
    name = Path(entry["command"]).name.removesuffix(".exe").removesuffix(".EXE")
    if name == SCRIPT_NAME:
        return "script", args
    if INTERPRETER.fullmatch(name) and args[:2] == ["-m", MODULE_NAME]:
        return "module", args[2:]
    if name == "uvx" and args[:1] == ["--from"] and len(args) >= 3 and _is_package(args[2]):
        return "uvx", args[3:]
    if name == "pipx" and args[:2] == ["run", "--spec"] and len(args) >= 4 and _is_package(args[3]):
        return "pipx", args[4:]
    if (name, *args[:1]) == ("pipx", "run") and len(args) >= 2 and _is_package(args[1]):
        return "pipx", args[2:]
    if name == "uvx" and args and _is_package(args[0]):
        return "uvx", args[1:]
    return None


def is_ours(entry: Any) -> bool:
    """The entry starts this server (`launch_shape`): an extra argument does not make it ours."""
    return launch_shape(entry) is not None


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
    """`config.store_url_from`, ignoring this shell's TODO_DB (the client has its own env)."""
    from ..config import store_url_from

    return store_url_from(value, environ={})


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


def _is_console_script(path: Path) -> bool:
    """`path` is the console script pip or uv writes for us: a shebang, then our import."""
    if path.suffix.lower() == ".exe":
        return path.stem == SCRIPT_NAME
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return head.startswith(b"#!") and f"from {MODULE_NAME}".encode() in head


def _not_runnable(command_text: str, command: Path, entry: dict[str, Any]) -> str | None:
    """Why the doctor will not start this user-level entry's command; None when it is our console
    script, an interpreter with `-m mcp_server_todo`, or an absolute uvx/pipx with --from/--spec."""
    shape = launch_shape(entry)
    if shape is None:
        return "not a command line of ours"
    if not Path(command_text).is_absolute() and Path(command_text).name != command_text:
        return f"{command_text!r} is a relative path"
    resolved = command.resolve()
    kind = shape[0]
    if kind == "script" and not _is_console_script(resolved):
        return f"{resolved} is not the console script pip or uv installs"
    if kind == "module" and not INTERPRETER.fullmatch(resolved.name.removesuffix(".exe")):
        return f"{resolved} is not a Python interpreter"
    if kind in ("uvx", "pipx"):
        flag = "--from" if kind == "uvx" else "--spec"
        if not Path(command_text).is_absolute():
            return f"{command_text!r} is not an absolute path"
        if flag not in [str(arg) for arg in entry.get("args") or []][:2]:
            return f"{kind} without {flag} SOURCE would fetch the package from the index"
    return None


def _child_env(entry: dict[str, Any]) -> dict[str, str]:
    """This shell's environment plus the entry's TODO_* settings; never the entry's other
    variables (LD_PRELOAD, PYTHONPATH, PATH...), which could run code other than ours."""
    extra = entry.get("env") if isinstance(entry.get("env"), dict) else {}
    ours = {str(k): str(v) for k, v in (extra or {}).items() if str(k).startswith("TODO_")}
    return {**os.environ, **ours}


def _version_args(entry: dict[str, Any]) -> list[str]:
    """The entry's args with `--version` added where the top-level parser sees it (before `serve`)."""
    args = [str(arg) for arg in entry.get("args") or []]
    shape = launch_shape(entry)
    words = shape[1] if shape else []
    prefix = args[: len(args) - len(words)]
    if "serve" in words:
        words = words[: words.index("serve")]
    return [*prefix, *words, "--version"]


def _check_runs(label: str, command: Path, entry: dict[str, Any], hint: str) -> Check:
    """Start the command with `--version` in an empty folder (nothing of the current folder on
    its path), with `_child_env`."""
    timeout = BUILDING_TIMEOUT_SECONDS if command.stem in BUILDERS else VERSION_TIMEOUT_SECONDS
    try:
        with tempfile.TemporaryDirectory(prefix="mcp-server-todo-doctor-") as empty:
            done = subprocess.run(
                [str(command), *_version_args(entry)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                env=_child_env(entry),
                cwd=empty,
                timeout=timeout,
            )
    except subprocess.TimeoutExpired:
        return Check(FAIL, label, f"--version did not finish in {timeout:.0f} s", hint)
    except OSError as exc:
        return Check(FAIL, label, f"cannot start: {exc}", hint)
    output = (done.stdout.strip() or done.stderr.strip()).splitlines()
    last = output[-1] if output else ""
    if done.returncode != 0:
        return Check(FAIL, label, f"--version exited {done.returncode}: {last}", hint)
    if last != f"{SCRIPT_NAME} {__version__}":
        return Check(WARN, label, f"runs {last!r}; this doctor is {__version__}", hint)
    return Check(OK, label, f"{last} (--version exits 0)")


def check_entry(
    where: str, name: str, entry: dict[str, Any], store_url: str, hint: str, *, run: bool = True
) -> list[Check]:
    """The entry's checks; `run=False` (a project's file, which comes with a cloned repository)
    checks it without starting anything; `run=True` starts only a command `_not_runnable` accepts."""
    label = f"{where} '{name}'"
    command_text = str(entry["command"])
    command = _resolve_command(command_text)
    if command is None:
        problem = "does not exist or is not executable" if Path(command_text).is_absolute() else "is not on PATH"
        return [Check(FAIL, f"{label} command", f"{command_text} {problem}", hint)]
    checks: list[Check] = []
    cached = _check_cache(f"{label} command", Path(command_text), hint)
    if cached is not None:
        checks.append(cached)
    elif Path(command_text).is_absolute():
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
    refused = _not_runnable(command_text, command, entry) if run else "a project's file is checked without running it"
    if refused is None:
        checks.append(_check_runs(f"{label} runs", command, entry, hint))
    else:
        checks.append(Check(OK if not run else WARN, f"{label} runs", f"not started: {refused}", hint))
    checks.append(check_settings(f"{label} settings", entry, hint))
    checks.append(_check_entry_store(f"{label} store", entry, store_url, hint))
    return checks


def _check_cache(label: str, command: Path, hint: str) -> Check | None:
    """A WARN when the command lives in a uvx or `pipx run` cache environment (it goes when the
    cache is cleaned), with the install command that writes the lasting form; else None."""
    from .ephemeral import durable_launch, ephemeral_kind
    from .launch import Runtime, shell_join

    if not command.is_absolute():
        return None
    where = Runtime(command, command.parent.parent, os.environ)
    kind = ephemeral_kind(where)
    if kind is None:
        return None
    durable = durable_launch(where, {})
    detail = f"{command} is in {kind}'s cache: the entry stops working when that cache is cleaned"
    if durable is None or durable.warning:
        lasting = "install the server for good (uv tool install PATH, or pipx install PATH), then "
        return Check(WARN, label, detail, lasting + hint)
    words = shell_join([durable.command, *durable.args])
    durable_hint = hint.replace(f"run: {SCRIPT_NAME}", f"run: {words}", 1)
    return Check(WARN, label, detail, f"{durable_hint} (it writes `{words}`; {durable.note})")


def _parse_serve(words: list[str]) -> str | None:
    """None when `words` start the server and parse as `serve` parses them; else what is wrong."""
    from .serve_args import command_of, only_serve_options, serve_parser

    command = command_of(words)
    if command not in (None, "serve") or (command is None and not only_serve_options(words)):
        return f"the arguments {words} do not start the server" + (f" (they run {command!r})" if command else "")
    if command == "serve":
        words = [*words[: words.index("serve")], *words[words.index("serve") + 1 :]]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            serve_parser().parse_args(words)
    except SystemExit:
        lines = stderr.getvalue().strip().splitlines()
        return lines[-1] if lines else f"the arguments {words} do not parse"
    return None


def _option(words: list[str], name: str) -> str | None:
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(f"{name}="):
            return word.partition("=")[2]
    return None


def check_settings(label: str, entry: dict[str, Any], hint: str) -> Check:
    """The entry's arguments parse, and its time zone and tool groups (args, else env) exist."""
    from ..dates import zone
    from ..errors import TodoError
    from .install import checked_tools

    shape = launch_shape(entry)
    if shape is None:
        return Check(OK, label, "arguments not checked (not a command line of ours)")
    words = shape[1]
    problem = _parse_serve(words)
    if problem is not None:
        return Check(FAIL, label, problem, hint)
    env = entry.get("env") if isinstance(entry.get("env"), dict) else {}
    tz = _option(words, "--tz") or (env or {}).get("TODO_TZ")
    tools = _option(words, "--tools") or (env or {}).get("TODO_TOOLS")
    try:
        if tz:
            zone(str(tz))
        shown = checked_tools(str(tools)) if tools else "core"
    except (TodoError, ValueError) as exc:
        return Check(FAIL, label, str(exc), hint)
    return Check(OK, label, f"arguments parse; time zone {tz or 'of the system'}, tools {shown}")
