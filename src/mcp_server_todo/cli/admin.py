"""The tree's commands around the store and the clients: `import`, `export`, `backup`,
`install`, `doctor` and `token` (create, list, revoke). Each is a click face over the handler
of its module (`transfer`, `backup`, `install`, `doctor`, `tokens`), which does the work.
`restore` (a backup, or tasks from the trash) is in `bulk.py`.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

import click

from .. import formats
from .completion import complete_projects
from .context import json_option, settings, store_options


def _call(module: str, handler: str, **args: Any) -> int:
    """Run `handler(Namespace(**args), db, tz)` of this package's `module`; its exit code."""
    run = settings()
    function = getattr(importlib.import_module(f"{__package__}.{module}"), handler)
    code: int = function(argparse.Namespace(owner=run.user, quiet=run.quiet, **args), run.db, run.tz)
    return code


@click.command("import")
@click.argument("file", metavar="FILE")
@click.option("--format", "-f", "fmt", metavar="FORMAT", help=f"{formats.listed(formats.FORMATS)} (default: guessed)")
@click.option("--dry-run", is_flag=True, help="report what would change; change nothing")
@click.option("--strict", is_flag=True, help="refuse the whole file if any line is malformed")
@store_options
def import_command(file: str, fmt: str | None, dry_run: bool, strict: bool) -> int:
    """Add and update tasks from a file (todo.txt, iCalendar, Taskwarrior, Todoist CSV,
    Markdown, json), FILE or - for standard input. One `undo` reverts the whole import;
    importing the same file again adds nothing. Malformed lines are reported and skipped.

    \b
    Example:
      mcp-server-todo import ~/todo.txt
      task export | mcp-server-todo import - -f taskwarrior --dry-run
    """
    return _call("transfer", "import_command", file=file, format=fmt, dry_run=dry_run, strict=strict)


@click.command("export")
@click.option("--format", "-f", "fmt", required=True, metavar="FORMAT", help=formats.listed(formats.writable_names()))
@click.option("--project", "-P", shell_complete=complete_projects, help="only this project's tasks")
@click.option("--output", "-o", metavar="FILE", help="write to FILE (default: standard output)")
@click.option("--force", is_flag=True, help="replace FILE if it exists")
@store_options
def export_command(fmt: str, project: str | None, output: str | None, force: bool) -> int:
    """Write tasks to a file in another tool's format (docs/formats.md says what each
    carries). The json dump keeps everything, ids and the trash included.

    \b
    Example:
      mcp-server-todo export -f todotxt -o todo.txt
      mcp-server-todo export -f json -P work > work.json
    """
    return _call("transfer", "export_command", format=fmt, project=project, output=output, force=force)


@click.command("backup")
@click.argument("path", metavar="[PATH]", required=False)
@store_options
def backup_command(path: str | None) -> int:
    """Copy the SQLite store, online (servers may keep running), into the backups folder next
    to it (or PATH: a file or a folder), and print where. PostgreSQL: use pg_dump.

    \b
    Example:
      mcp-server-todo backup
      mcp-server-todo restore ~/.local/share/mcp-server-todo/backups/todo-2026-12-06.db
    """
    return _call("backup", "backup_command", path=path)


@click.command("install")
@click.argument("client", type=click.Choice(["claude-desktop", "claude-code", "cursor", "vscode"]))
@click.option(
    "--config", metavar="PATH", help="the client's config file, in a folder that exists (default: its usual place)"
)
@click.option("--name", default="todo", show_default=True, help="the server's name in the client")
@click.option(
    "--tools",
    metavar="GROUP,...",
    help="tool groups the client gets: core (default), all, or core plus history, trash, view, import, share",
)
@click.option(
    "--scope",
    type=click.Choice(["local", "user", "project"]),
    help="claude-code: the `claude mcp add` scope (default: user)",
)
@click.option("--print", "print_only", is_flag=True, help="print the snippet only")
@store_options
def install_command(
    client: str, config: str | None, name: str, tools: str | None, scope: str | None, print_only: bool
) -> int:
    """Add this server to an MCP client's configuration (or --print the snippet), with --db,
    --tz and --tools in its env. Entries use absolute paths, so GUI apps with a minimal PATH
    can launch them; run through uvx or pipx run, the entry runs uvx/pipx (a cache path would
    break, and uvx needs the network at each start: `uv tool install` or `pipx install` first for
    an entry that starts offline). Without --config, claude-code runs `claude mcp add` and vscode
    `code --add-mcp` when that CLI is on PATH, else they print it.

    \b
    Example:
      mcp-server-todo install claude-desktop --tz Europe/Paris --tools core,view
      mcp-server-todo install claude-code --scope project
      mcp-server-todo install vscode --print
    """
    return _call(
        "install",
        "install_command",
        client=client,
        config=config,
        name=name,
        tools=tools,
        scope=scope,
        print_only=print_only,
    )


@click.command("doctor")
@click.option("--config", metavar="PATH", multiple=True, help="also check this client config file (repeat)")
@click.option(
    "--project",
    metavar="DIR",
    help="the project whose .mcp.json and .vscode/mcp.json to check (default: here); their entries are checked, "
    "never run",
)
@store_options
def doctor_command(config: tuple[str, ...], project: str | None) -> int:
    """Check the store and the installed client entries (the clients' usual files, and this
    project's .mcp.json and .vscode/mcp.json): one OK/WARN/FAIL line per check, exit 1 if
    anything failed.

    \b
    Example:
      mcp-server-todo doctor
      mcp-server-todo doctor --project ~/code/app
    """
    return _call("doctor", "doctor_command", config=list(config) or None, project=project)


@click.group("token")
def token_command() -> None:
    """Manage the bearer tokens of `serve --http --auth tokens`. The store keeps only their
    SHA-256; a token is printed once, when it is created.

    \b
    Example:
      mcp-server-todo token create alice --label laptop
      mcp-server-todo token list
      mcp-server-todo token revoke 3
    """


@token_command.command("create")
@click.argument("token_user", metavar="USER")
@click.option("--label", default="", help="a note for `token list`, e.g. the device")
@click.option("--feed", is_flag=True, help="a read-only calendar feed token: prints the feed's URL")
@click.option("--url", metavar="URL", help="with --feed: the server's address as the calendar app reaches it")
@store_options
def token_create(token_user: str, label: str, feed: bool, url: str | None) -> int:
    """Create a token for USER and print it (once).

    \b
    Example:
      mcp-server-todo token create alice --label phone
      mcp-server-todo token create alice --feed --url https://todo.example.org
    """
    return _call("tokens", "token_command", token_command="create", user=token_user, label=label, feed=feed, url=url)


@token_command.command("list")
@store_options
@json_option
def token_list() -> int:
    """List tokens: id, user, label, created, status (never the token).

    \b
    Example:
      mcp-server-todo token list
    """
    return _call("tokens", "token_command", token_command="list", json=settings().json)


@token_command.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@store_options
def token_revoke(token_id: int) -> int:
    """Revoke a token by its id.

    \b
    Example:
      mcp-server-todo token revoke 3
    """
    return _call("tokens", "token_command", token_command="revoke", id=token_id)


@click.command("serve", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def serve_command(args: tuple[str, ...]) -> int:
    """Run the MCP server over stdio (the default) or Streamable HTTP (--http).

    \b
    Example:
      mcp-server-todo serve --http --port 8000
      mcp-server-todo serve --help
    """
    from .main import serve_main

    run = settings()
    given = [*(["--db", run.db] if run.db else []), *(["--tz", run.tz] if run.tz else [])]
    return serve_main([*given, *args])


COMMANDS = [
    import_command,
    export_command,
    backup_command,
    install_command,
    doctor_command,
    token_command,
    serve_command,
]
