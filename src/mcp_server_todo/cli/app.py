"""The click command tree of the human commands: the root group (global options, aliases,
help that lists them) and `run`, which maps every outcome to an exit code and one line on
stderr (`cli/exits.py`). `serve` and the bare command never come here (`cli/main.py`).

The command modules are small and import click only: the service, the store and rich load
when a command runs, so `--help` answers at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import click

from .. import __version__
from ..errors import TodoError
from .context import Settings, _set
from .exits import EXIT_USAGE, fail

ALIASES = {
    "ls": "list",  # todo.txt, Taskwarrior
    "rm": "delete",  # todo.txt
    "del": "delete",  # todo.txt
    "do": "done",  # todo.txt
    "info": "show",  # Taskwarrior
    "modify": "edit",  # Taskwarrior
    "lsprj": "projects",  # todo.txt (listproj)
    "listproj": "projects",
    "log": "history",
    "find": "search",
}


class Tree(click.Group):
    """A group whose commands answer to their aliases too, listed beside them in --help."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, ALIASES.get(cmd_name, cmd_name))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command else name), command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        aliases: dict[str, list[str]] = {}
        for alias, name in ALIASES.items():
            aliases.setdefault(name, []).append(alias)
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            shown = f"{name} ({', '.join(aliases[name])})" if name in aliases else name
            rows.append((shown, command.get_short_help_str(limit=80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=Tree,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "-V", "--version", prog_name="mcp-server-todo", message="%(prog)s %(version)s")
@click.option(
    "--db",
    metavar="PATH|URL",
    expose_value=False,
    callback=_set("db"),
    help="the task store: a SQLite path, sqlite:///PATH or postgresql://... (env TODO_DB)",
)
@click.option(
    "--tz",
    metavar="ZONE",
    expose_value=False,
    callback=_set("tz"),
    help="time zone for due dates, e.g. Europe/Paris (env TODO_TZ)",
)
@click.option(
    "--tools",
    metavar="GROUPS",
    help="with no command (the MCP server): the tool groups to serve, core (default), all, or e.g. "
    "core,view (env TODO_TOOLS; see `serve --help`)",
)
@click.option(
    "--user", metavar="NAME", expose_value=False, callback=_set("user"), help="act for this user of a multi-user store"
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    expose_value=False,
    callback=_set("color"),
    help="colour: auto (a terminal without NO_COLOR), always or never",
)
@click.option(
    "--json",
    "json_",
    is_flag=True,
    expose_value=False,
    callback=_set("json"),
    help="read commands print JSON lines, one task per line",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    expose_value=False,
    callback=_set("quiet"),
    help="no progress bars or messages, only data and errors",
)
def root(tools: str | None) -> None:
    """A durable TODO list for MCP clients (Claude Desktop, Claude Code, Cursor, VS Code) and
    for you. With no command, serves MCP over stdio.

    \b
    Example:
      mcp-server-todo add "Buy milk" --due tomorrow -P home
      mcp-server-todo list
      mcp-server-todo done 1

    Exit codes: 0 ok, 1 not found, 2 usage, 3 conflict.
    """
    ctx = click.get_current_context()
    if tools is not None:  # with no command or `serve`, main.py's fast path took it: not here
        where = "`install CLIENT --tools ...`" if ctx.invoked_subcommand == "install" else "no command, or `serve`"
        raise click.UsageError(f"--tools chooses the MCP server's tool groups: use it with {where}")
    ctx.ensure_object(Settings)


def _register() -> None:
    from . import admin, bulk, completion, sharing, tasks, views

    for module in (tasks, views, bulk, sharing, admin):
        for command in module.COMMANDS:
            root.add_command(command)
    root.add_command(completion.completion_command)


_register()


def run(args: Sequence[str]) -> int:
    """Run the tree on `args`: the command's exit code; errors are one line on stderr."""
    try:
        code: Any = root.main(list(args), prog_name="mcp-server-todo", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "mcp-server-todo"
        click.echo(f"mcp-server-todo: {exc.format_message()} (see `{where} --help`)", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        click.echo(f"mcp-server-todo: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("mcp-server-todo: interrupted", err=True)
        return 130
    except TodoError as exc:
        return fail(exc)
    except BrokenPipeError:  # `list | head`: the reader has what it wanted
        _quiet_stdout()
        return 0
    except Exception as exc:  # a bug: one line, and the traceback only when asked for
        if os.environ.get("TODO_DEBUG"):
            raise
        click.echo(
            f"mcp-server-todo: unexpected error: {type(exc).__name__}: {exc} (TODO_DEBUG=1 shows where)", err=True
        )
        return 1
    return code if isinstance(code, int) else 0


def _quiet_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is silent."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's buffer)
        pass
