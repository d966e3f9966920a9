"""The clients' own command lines that add a server to their user settings: `claude mcp add`
(Claude Code) and `code --add-mcp` (VS Code). `install` runs them when they are on PATH and
prints them (with the JSON for a project's file) when they are not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable

from .client_configs import Client
from .launch import Launch, shell_join

CLI_TIMEOUT_SECONDS = 60.0


def claude_mcp_add(name: str, launch: Launch, scope: str, claude: str = "claude") -> list[str]:
    """`claude mcp add --scope SCOPE NAME --env K=V... -- COMMAND ARGS...`. The name comes before
    --env: `-e` is variadic in Claude Code and would swallow it."""
    env_flags = [flag for key, value in launch.env.items() for flag in ("--env", f"{key}={value}")]
    return [claude, "mcp", "add", "--scope", scope, name, *env_flags, "--", launch.command, *launch.args]


def code_add_mcp(name: str, launch: Launch, code: str = "code") -> list[str]:
    """`code --add-mcp JSON`: VS Code adds the server to the user profile's mcp.json."""
    spec: dict[str, object] = {"name": name, "command": launch.command, "args": launch.args}
    if launch.env:
        spec["env"] = launch.env
    return [code, "--add-mcp", json.dumps(spec, separators=(",", ":"), ensure_ascii=False)]


def run_client_cli(
    client: Client, name: str, launch: Launch, words: list[str], where: str, describe: Callable[[Launch], list[str]]
) -> int:
    """Run a client's own CLI (`words`, its absolute path first); 0 and what it said, or 1 with
    the failure and the command to run by hand on stderr."""
    print(f"Running: {shell_join(words)}")
    try:
        done = subprocess.run(
            words, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        failure = f"could not run {words[0]}: {exc}"
    else:
        said = (done.stdout.strip() + "\n" + done.stderr.strip()).strip()
        if done.returncode == 0:
            if said:
                print(said)
            print(f"Added the '{name}' server to {client.label} ({where}).")
            print("\n".join(describe(launch)))
            print(client.after_install)
            return 0
        title = "claude mcp add" if client.key == "claude-code" else "code --add-mcp"
        failure = f"{title} exited {done.returncode}" + (f": {said}" if said else "")
    print(f"mcp-server-todo: {failure}", file=sys.stderr)
    if "already exists" in failure and client.key == "claude-code":
        scope = words[words.index("--scope") + 1]
        print(f"To replace it: claude mcp remove --scope {scope} {name}, then run this again.", file=sys.stderr)
    print(f"Run it yourself: {shell_join([client_cli_name(client), *words[1:]])}", file=sys.stderr)
    return 1


def client_cli_name(client: Client) -> str:
    return "claude" if client.key == "claude-code" else "code"


def which_client_cli(client: Client) -> str | None:
    """The client's CLI on PATH (`claude`, `code`), absolute; None when absent."""
    return shutil.which(client_cli_name(client))
