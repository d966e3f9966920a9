"""How a client launches this server: the command and arguments an `install` entry holds.

An entry uses absolute paths only: GUI apps such as Claude Desktop start servers with a
minimal PATH and an unknown working directory. The usual command is the console script next
to this interpreter (else `python -m mcp_server_todo`). Run from an ephemeral environment (a
`uvx` or `pipx run` environment in a cache folder, `ephemeral.py` tells), that path would
vanish when the cache is cleaned: the entry then runs `uvx --from SOURCE mcp-server-todo` (or
`pipx run --spec SOURCE mcp-server-todo`), SOURCE being what the environment was installed
from (its PEP 610 `direct_url.json`), and when that cannot be done, says so loudly.

`Runtime` is the seam: the interpreter, its environment variables and PATH, as found here or
as a test makes them up.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT_NAME = "mcp-server-todo"
MODULE_NAME = "mcp_server_todo"


@dataclass(frozen=True)
class Launch:
    """A client's way to start the server; `warning` says why it may stop working, `note` what
    else it needs (uvx: the network at each start)."""

    command: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    warning: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Runtime:
    """Where this process runs: its interpreter (`executable`, absolute, not resolved), the
    environment (`prefix`), the variables and the PATH a durable command's tool is looked up on."""

    executable: Path
    prefix: Path
    environ: Mapping[str, str]

    @classmethod
    def current(cls) -> Runtime:
        return cls(Path(sys.executable).absolute(), Path(sys.prefix).absolute(), os.environ)

    def which(self, name: str) -> Path | None:
        found = shutil.which(name, path=self.environ.get("PATH", os.defpath))
        return Path(found).absolute() if found else None


def is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def db_setting(db: str) -> str:
    """`--db` as the client should see it: a URL unchanged, a file path made absolute."""
    if "://" in db:
        return db
    return str(Path(db).expanduser().resolve())


def shell_join(words: Iterable[str]) -> str:
    words = list(words)
    return subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)


def _script_candidates(executable: Path) -> list[Path]:
    name = SCRIPT_NAME + (".exe" if os.name == "nt" else "")
    return [executable.parent / name, executable.parent / "Scripts" / name]


def local_launch(runtime: Runtime, env: dict[str, str]) -> Launch:
    """The console script next to the interpreter if installed, else `python -m mcp_server_todo`.

    The interpreter path is absolute but not resolved: in a virtualenv it is a symlink whose
    target is the base interpreter, which would not see the venv's packages.
    """
    for script in _script_candidates(runtime.executable):
        if is_executable(script):
            return Launch(str(script), [], env)
    return Launch(str(runtime.executable), ["-m", MODULE_NAME], env)


def server_launch(
    db: str | None, *, tz: str | None = None, tools: str | None = None, runtime: Runtime | None = None
) -> Launch:
    """The launch for an entry: the server's settings go in its env (TODO_DB, TODO_TZ,
    TODO_TOOLS: what the bare command reads), the command survives cache cleaning if it can."""
    from .ephemeral import durable_launch

    runtime = runtime or Runtime.current()
    env: dict[str, str] = {}
    if db:
        env["TODO_DB"] = db_setting(db)
    if tz:
        env["TODO_TZ"] = tz
    if tools:
        env["TODO_TOOLS"] = tools
    return durable_launch(runtime, env) or local_launch(runtime, env)
