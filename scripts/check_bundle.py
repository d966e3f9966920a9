"""Run the built bundle the way Claude Desktop does and talk MCP to it (scripts/check-bundle).

Unpacks the .mcpb into a temp dir, reads its manifest.json, fills `server.mcp_config` in as the
MCPB reference implementation does (`getMcpConfigForManifest` in @anthropic-ai/mcpb:
`${__dirname}`, `${HOME}` and the other system dirs, `${pathSeparator}`/`${/}`, and
`${user_config.KEY}` from the manifest's defaults overridden by the user's values), starts that
command with that env as a subprocess, and does the handshake (2025-11-25 initialize +
notifications/initialized), tools/list, new_item and list_items over stdio. Then it checks the
task landed in todo.db of the chosen task folder (opened read-only), that the time zone and the tool groups
were honoured, that nothing went to the default data dir, and that uv installed no GPL Radicale.

Hermetic: HOME, XDG dirs and the task file are in the temp dir; only UV_CACHE_DIR (to reuse
downloads between runs) and TLS settings come from the caller. Standard library only.

    python scripts/check_bundle.py dist/mcp-server-todo.mcpb
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

PROTOCOL = "2025-11-25"
USER_CONFIG = {"time_zone": "Europe/Paris", "tool_groups": "core,view"}  # data_folder: the temp task folder
FIRST_ANSWER_S = 180  # the first start creates the venv and installs the dependencies
ANSWER_S = 30
PASSED_ENV = ("UV_CACHE_DIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "UV_NATIVE_TLS", "UV_INDEX_URL", "UV_DEFAULT_INDEX")


class CheckFailed(Exception):
    """The bundle does not do what its manifest says."""


def substitute(value: Any, variables: dict[str, str | list[str]]) -> Any:
    """`replaceVariables` of the MCPB reference implementation: strings get every `${KEY}`
    replaced, an array item that is exactly `${user_config.KEY}` expands to its value(s), and an
    unknown variable stays as it is."""
    if isinstance(value, str):
        for key, replacement in variables.items():
            if isinstance(replacement, str):
                value = value.replace("${" + key + "}", replacement)
        return value
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            whole = re.fullmatch(r"\$\{(user_config\.[^}]+)\}", item) if isinstance(item, str) else None
            if whole and whole.group(1) in variables:
                found = variables[whole.group(1)]
                out.extend(found if isinstance(found, list) else [found])
            else:
                out.append(substitute(item, variables))
        return out
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def mcp_config(manifest: dict[str, Any], ext_dir: Path, home: Path, user: dict[str, Any]) -> dict[str, Any]:
    """The command, args and env Claude Desktop would run, for this platform and these values."""
    config = dict(manifest["server"]["mcp_config"])
    override = config.pop("platform_overrides", {}).get(sys.platform, {})
    config.update({key: override[key] for key in ("command", "args", "env") if key in override})
    variables: dict[str, str | list[str]] = {
        "__dirname": str(ext_dir),
        "pathSeparator": os.sep,
        "/": os.sep,
        "HOME": str(home),
        "DESKTOP": str(home / "Desktop"),
        "DOCUMENTS": str(home / "Documents"),
        "DOWNLOADS": str(home / "Downloads"),
    }
    merged = {key: option["default"] for key, option in manifest.get("user_config", {}).items() if "default" in option}
    merged.update(user)
    for key, value in merged.items():
        if isinstance(value, bool):
            variables[f"user_config.{key}"] = "true" if value else "false"
        elif isinstance(value, list):
            variables[f"user_config.{key}"] = [str(item) for item in value]
        else:
            variables[f"user_config.{key}"] = str(value)
    filled: dict[str, Any] = substitute(config, variables)
    leftover = re.findall(r"\$\{[^}]+\}", json.dumps(filled))
    if leftover:
        raise CheckFailed(f"mcp_config keeps unsubstituted variables {leftover}: a user_config key without a default?")
    return filled


class Session:
    """A JSON-RPC session with a server subprocess over newline-delimited stdio."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env, cwd=cwd
        )
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._next_id = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(b"")  # end of output

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any], timeout: float = ANSWER_S) -> dict[str, Any]:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise CheckFailed(f"no answer to {method} within {timeout:.0f} s") from None
            if not line:
                raise CheckFailed(f"the server exited (code {self.proc.wait()}) before answering {method}")
            message = json.loads(line)  # stdout is the protocol: anything else there is a defect
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise CheckFailed(f"{method} failed: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=ANSWER_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise CheckFailed("the server did not exit within 30 s of its stdin closing") from None
        finally:
            self._stderr.close()


def converse(session: Session, manifest: dict[str, Any]) -> list[str]:
    """The MCP exchange; the tool names served."""
    init = session.request(
        "initialize",
        {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "check-bundle", "version": "1"}},
        timeout=FIRST_ANSWER_S,
    )
    if init.get("serverInfo", {}).get("version") != manifest["version"]:
        raise CheckFailed(f"serverInfo {init.get('serverInfo')} is not version {manifest['version']}")
    session.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    served = [tool["name"] for tool in session.request("tools/list", {})["tools"]]
    declared = [tool["name"] for tool in manifest["tools"]]
    if [name for name in served if name in declared] != declared or "show_tasks" not in served:
        raise CheckFailed(f"tools/list gave {served}: want the manifest's {declared} and show_tasks (group view)")
    added = session.request(
        "tools/call", {"name": "new_item", "arguments": {"title": "bundle check", "due": "2027-01-15 09:00"}}
    )
    task = added["structuredContent"]["items"][0]
    if added.get("isError") or task["due_tz"] != USER_CONFIG["time_zone"]:
        raise CheckFailed(f"new_item gave {added}: want a task due in {USER_CONFIG['time_zone']}")
    listed = session.request("tools/call", {"name": "list_items", "arguments": {}})
    if [item["title"] for item in listed["structuredContent"]["items"]] != ["bundle check"]:
        raise CheckFailed(f"list_items gave {listed}")
    return served


def check(bundle: Path, work: Path) -> str:
    """Every check on `bundle`, in `work` (an empty temp dir); a one-line summary."""
    ext_dir, home = work / "extension", work / "home"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(ext_dir)
    manifest = json.loads((ext_dir / "manifest.json").read_text(encoding="utf-8"))
    data_file = work / "my tasks" / "todo.db"  # a space, as in real folder names; the server makes the file
    data_file.parent.mkdir()
    config = mcp_config(manifest, ext_dir, home, {**USER_CONFIG, "data_folder": str(data_file.parent)})
    command = shutil.which(config["command"], path=os.environ["PATH"])
    if command is None:
        raise CheckFailed(f"{config['command']!r} is not on PATH (scripts/check-bundle puts the venv's uv first)")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "USERPROFILE": str(home), "UV_PYTHON_DOWNLOADS": "never"}
    env |= {f"XDG_{name}_HOME": str(home / name.lower()) for name in ("DATA", "CONFIG", "CACHE", "STATE")}
    env |= {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env |= config.get("env", {})
    started = time.monotonic()
    session = Session([command, *config["args"]], env, work, work / "server.stderr")
    try:
        served = converse(session, manifest)
    except (CheckFailed, KeyError, json.JSONDecodeError) as exc:
        session.proc.kill()
        session.close()
        tail = session.stderr_path.read_text(errors="replace")[-3000:]
        raise CheckFailed(f"{exc}\n--- server stderr (last 3000 characters) ---\n{tail}") from exc
    if (code := session.close()) != 0:
        raise CheckFailed(f"the server exited with {code} after stdin closed")
    with sqlite3.connect(f"{data_file.as_uri()}?mode=ro", uri=True) as db:
        titles = [row[0] for row in db.execute("SELECT title FROM tasks")]
    if titles != ["bundle check"]:
        raise CheckFailed(f"the task file {data_file} holds {titles}, want ['bundle check']")
    strays = [str(path) for path in home.rglob("todo.db")]
    if strays:
        raise CheckFailed(f"a task file outside the chosen one: {strays}")
    radicale = list((ext_dir / ".venv").glob("lib*/**/site-packages/radicale"))
    if radicale:
        raise CheckFailed(f"uv installed the GPL Radicale into the bundle's env: {radicale}")
    return f"{len(served)} tools served, task stored in the chosen folder's todo.db, {time.monotonic() - started:.1f} s"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_file():
        print("usage: check_bundle.py BUNDLE.mcpb (an existing file)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="check-bundle-") as work:
        try:
            summary = check(Path(argv[0]), Path(work))
        except (CheckFailed, OSError, zipfile.BadZipFile, sqlite3.Error) as exc:
            print(f"check-bundle: FAILED: {exc}", file=sys.stderr)
            return 1
    print(f"check-bundle: ok ({summary})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
