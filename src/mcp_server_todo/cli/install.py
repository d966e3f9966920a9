"""Client setup: `install CLIENT` writes (or prints) the entry an MCP client needs to launch
this server, with the server's settings (`--db`, `--tz`, `--tools`) in the entry's env. How the
server is launched: `launch.py` (and `ephemeral.py` under uvx or pipx run); the clients and
their config files: `client_configs.py`. For Claude Code without `--config`, the `claude` CLI
does the writing (`claude mcp add`) when it is on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from typing import Any

from .client_configs import CLIENTS, Client, ConfigFileError, MergeResult, client_entry, merge_server
from .launch import Launch, Runtime, server_launch, shell_join

CLAUDE_TIMEOUT_SECONDS = 60.0
SCOPES = ("local", "user", "project")


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


def claude_mcp_add(name: str, launch: Launch, scope: str, claude: str = "claude") -> list[str]:
    """`claude mcp add --scope SCOPE NAME --env K=V... -- COMMAND ARGS...`. The name comes before
    --env: `-e` is variadic in Claude Code and would swallow it."""
    env_flags = [flag for key, value in launch.env.items() for flag in ("--env", f"{key}={value}")]
    return [claude, "mcp", "add", "--scope", scope, name, *env_flags, "--", launch.command, *launch.args]


def _print_claude_code(client: Client, name: str, launch: Launch, scope: str) -> None:
    print(f"For {'every project (user scope)' if scope == 'user' else f'this project ({scope} scope)'}, run:\n")
    print(f"  {shell_join(claude_mcp_add(name, launch, scope))}\n")
    _print_snippet(client, name, client_entry(client, launch), "a project's .mcp.json")
    print("\nOr: mcp-server-todo install claude-code --config PROJECT/.mcp.json")


def _run_claude(client: Client, name: str, launch: Launch, scope: str) -> int:
    """Run `claude mcp add` when `claude` is on PATH (else print it); its result, and what to do
    if it failed."""
    claude = shutil.which("claude")
    if claude is None:
        print("The claude CLI is not on PATH; nothing was changed.")
        _print_claude_code(client, name, launch, scope)
        return 0
    words = claude_mcp_add(name, launch, scope, claude)
    print(f"Running: {shell_join(words)}")
    try:
        done = subprocess.run(
            words, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CLAUDE_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        failure = f"could not run claude: {exc}"
    else:
        said = (done.stdout.strip() + "\n" + done.stderr.strip()).strip()
        if done.returncode == 0:
            if said:
                print(said)
            print(f"Added the '{name}' server to Claude Code ({scope} scope).")
            print("\n".join(_describe(launch)))
            print(client.after_install)
            return 0
        failure = f"claude mcp add exited {done.returncode}" + (f": {said}" if said else "")
    print(f"mcp-server-todo: {failure}", file=sys.stderr)
    if "already exists" in failure:
        print(f"To replace it: claude mcp remove --scope {scope} {name}, then run this again.", file=sys.stderr)
    print(f"Run it yourself: {shell_join(claude_mcp_add(name, launch, scope))}", file=sys.stderr)
    return 1


def _print_vscode(client: Client, name: str, launch: Launch) -> None:
    spec: dict[str, Any] = {"name": name, "command": launch.command, "args": launch.args}
    if launch.env:
        spec["env"] = launch.env
    print("For your VS Code user profile, run:\n")
    print(f"  {shell_join(['code', '--add-mcp', json.dumps(spec, separators=(',', ':'))])}\n")
    _print_snippet(client, name, client_entry(client, launch), "a workspace's .vscode/mcp.json")
    print("\nOr: mcp-server-todo install vscode --config WORKSPACE/.vscode/mcp.json")


def _print_only(client: Client, name: str, launch: Launch, config: str | None, scope: str) -> None:
    if client.key == "claude-code" and config is None:
        _print_claude_code(client, name, launch, scope)
    elif client.key == "vscode" and config is None:
        _print_vscode(client, name, launch)
    else:
        target = config if config is not None else f"{client.label}'s config"
        _print_snippet(client, name, client_entry(client, launch), target)


def _usage(message: str) -> int:
    print(f"mcp-server-todo install: {message}", file=sys.stderr)
    return 2


def checked_tools(spec: str) -> str:
    """`--tools` as the server will read it, checked with the server's own group parser;
    ValueError naming the groups when one is unknown."""
    from ..server.tools import tools

    tools.select(spec)
    return ",".join(part.strip() for part in spec.split(",") if part.strip()) or "core"


def _unseen_settings(db: str | None, tz: str | None, tools: str | None) -> list[str]:
    """This shell's TODO_* settings that the entry does not carry: the client will not see them."""
    given = {"TODO_DB": db, "TODO_TZ": tz, "TODO_TOOLS": tools}
    option = {"TODO_DB": "--db", "TODO_TZ": "--tz", "TODO_TOOLS": "--tools"}
    return [
        f"Note: {key} is set in this shell, but the client will not see it; add {option[key]} to pin it."
        for key, value in given.items()
        if value is None and os.environ.get(key)
    ]


def install_client(
    client: str,
    *,
    config: str | None,
    name: str,
    db: str | None,
    print_only: bool,
    tz: str | None = None,
    tools: str | None = None,
    scope: str | None = None,
    runtime: Runtime | None = None,
) -> int:
    """`mcp-server-todo install CLIENT`; returns the exit code."""
    spec = CLIENTS.get(client)
    if spec is None:
        return _usage(f"unknown client {client!r}; use one of {', '.join(CLIENTS)}")
    if not name.strip():
        return _usage("--name must not be empty")
    if scope is not None and (client != "claude-code" or config is not None):
        return _usage("--scope is for claude-code without --config (it is passed to `claude mcp add`)")
    if tools is not None:
        try:
            tools = checked_tools(tools)
        except ValueError as exc:
            return _usage(f"--tools: {exc}")
    launch = server_launch(db, tz=tz, tools=tools, runtime=runtime)
    if launch.warning:
        print(f"WARNING: {launch.warning}", file=sys.stderr)
    path = spec.config_path(config)
    if print_only or (path is None and client != "claude-code"):
        _print_only(spec, name, launch, str(path) if config else None, scope or "user")
        return 0
    if path is None:
        code = _run_claude(spec, name, launch, scope or "user")
    else:
        try:
            result = merge_server(path, spec.servers_key, name, client_entry(spec, launch))
        except (ConfigFileError, OSError) as exc:
            print(f"mcp-server-todo: {exc}. Nothing was changed.", file=sys.stderr)
            return 1
        _report_merge(spec, name, result, launch)
        code = 0
    for line in _unseen_settings(db, tz, tools):
        print(line)
    return code


def install_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..dates import zone

    zone(tz)  # an unknown --tz or TODO_TZ fails here, not in the client at its first start
    return install_client(
        args.client,
        config=args.config,
        name=args.name,
        db=db,
        tz=tz,
        tools=args.tools,
        scope=args.scope,
        print_only=args.print_only,
    )
