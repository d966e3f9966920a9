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
import sys
from pathlib import Path
from typing import Any

from .client_clis import claude_mcp_add, client_cli_name, code_add_mcp, run_client_cli, which_client_cli
from .client_configs import CLIENTS, Client, ConfigFileError, MergeResult, client_entry, merge_server
from .launch import Launch, Runtime, server_launch, shell_join

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


def _print_claude_code(client: Client, name: str, launch: Launch, scope: str) -> None:
    print(f"For {'every project (user scope)' if scope == 'user' else f'this project ({scope} scope)'}, run:\n")
    print(f"  {shell_join(claude_mcp_add(name, launch, scope))}\n")
    _print_snippet(client, name, client_entry(client, launch), "a project's .mcp.json")
    print("\nOr: mcp-server-todo install claude-code --config PROJECT/.mcp.json")


def _print_vscode(client: Client, name: str, launch: Launch) -> None:
    print("For your VS Code user profile, run:\n")
    print(f"  {shell_join(code_add_mcp(name, launch))}\n")
    _print_snippet(client, name, client_entry(client, launch), "a workspace's .vscode/mcp.json")
    print("\nOr: mcp-server-todo install vscode --config WORKSPACE/.vscode/mcp.json")


def _run_or_print(client: Client, name: str, launch: Launch, scope: str) -> int:
    """Claude Code and VS Code without --config: their own CLI adds the server to the user's
    settings when it is on PATH (`claude mcp add`, `code --add-mcp`); else the command is printed."""
    cli = which_client_cli(client)
    if cli is None:
        print(f"The {client_cli_name(client)} CLI is not on PATH; nothing was changed.")
        _print_only(client, name, launch, None, scope)
        return 0
    if client.key == "claude-code":
        words = claude_mcp_add(name, launch, scope, cli)
        return run_client_cli(client, name, launch, words, f"{scope} scope", _describe)
    return run_client_cli(client, name, launch, code_add_mcp(name, launch, cli), "user profile", _describe)


def _print_only(client: Client, name: str, launch: Launch, config: str | None, scope: str) -> int:
    if client.key == "claude-code" and config is None:
        _print_claude_code(client, name, launch, scope)
    elif client.key == "vscode" and config is None:
        _print_vscode(client, name, launch)
    else:
        target = config if config is not None else f"{client.label}'s config"
        _print_snippet(client, name, client_entry(client, launch), target)
    return 0


def _usage(message: str) -> int:
    print(f"mcp-server-todo install: {message}", file=sys.stderr)
    return 2


def checked_tools(spec: str) -> str:
    """`--tools` as the server will read it (lowercased, no spaces), checked with the server's own
    group parser; ValueError naming the groups when one is unknown or none is named."""
    from ..server.tools import tools
    from ..server.toolset import group_names

    if not group_names(spec):
        raise ValueError("name at least one group: core, all, or e.g. core,view")
    tools.select(spec)
    return ",".join(group_names(spec))


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
    if name.startswith("-"):
        return _usage(f"--name {name!r} must not start with '-' (the clients' CLIs would read it as an option)")
    if scope is not None and (client != "claude-code" or config is not None):
        return _usage("--scope is for claude-code without --config (it is passed to `claude mcp add`)")
    if tools is not None:
        try:
            tools = checked_tools(tools)
        except ValueError as exc:
            return _usage(f"--tools: {exc}")
    runtime = runtime or Runtime.current()
    missing = _missing_driver(db, runtime)
    if missing and not print_only:
        print(f"mcp-server-todo install: {missing} Nothing was changed.", file=sys.stderr)
        return 1
    path = spec.config_path(config)
    if path is not None and config and not print_only and not _may_create(path.parent):
        print(
            f"mcp-server-todo install: the folder of --config {path} does not exist; nothing was changed.",
            file=sys.stderr,
        )
        return 1
    launch = server_launch(db, tz=tz, tools=tools, runtime=runtime)
    for label, text in (("WARNING", missing), ("WARNING", launch.warning), ("Note", launch.note)):
        if text:
            print(f"{label}: {text}", file=sys.stderr)
    if print_only:
        return _print_only(spec, name, launch, str(path) if config else None, scope or "user")
    if path is None:
        code = _run_or_print(spec, name, launch, scope or "user")
    else:
        code = _write_entry(spec, name, launch, path, created=not path.parent.is_dir())
        if code:
            return code
    for line in _unseen_settings(db, tz, tools):
        print(line)
    return code


def _may_create(folder: Path) -> bool:
    """An explicit --config's folder must exist (a typo must not make folders), except a project's
    `.vscode` (the workspace itself must exist): VS Code's project file is often the first there."""
    return folder.is_dir() or (folder.name == ".vscode" and folder.parent.is_dir())


def _write_entry(client: Client, name: str, launch: Launch, path: Path, *, created: bool) -> int:
    """Merge the entry into a client's config file; a client's usual folder that was not there
    is made, and said (the client may not be installed yet: it reads the file once it is)."""
    try:
        result = merge_server(path, client.servers_key, name, client_entry(client, launch))
    except (ConfigFileError, OSError) as exc:
        print(f"mcp-server-todo: {exc}. Nothing was changed.", file=sys.stderr)
        return 1
    _report_merge(client, name, result, launch)
    if created and path.parent.name == ".vscode":
        print(f"Note: created the folder {path.parent}.", file=sys.stderr)
    elif created:
        print(
            f"Note: {client.label}'s folder {path.parent} did not exist, so it was created: is {client.label} "
            "installed? It reads this file once it is (or pass --config for another file).",
            file=sys.stderr,
        )
    return 0


def _missing_driver(db: str | None, runtime: Runtime) -> str | None:
    """What is wrong with a PostgreSQL --db in an environment without psycopg (the entry would
    fail at its first start), and the install that adds the driver; None when nothing is."""
    from .ephemeral import postgres_install_hint

    if not db or not db.startswith(("postgresql://", "postgres://")):
        return None
    hint = postgres_install_hint(runtime)
    if hint is None:
        return None
    return (
        "--db postgresql://... needs the psycopg driver (the [postgres] extra), which this mcp-server-todo "
        f"does not have, so the entry would fail when the client starts it. Install it: {hint}; "
        "then run this install command with that mcp-server-todo."
    )


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
