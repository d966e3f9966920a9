"""The command line's parser and its command table (name → the handler of its family module).

`serve` is the default command; the human commands work on the same store. Imports are lazy:
a handler's module is imported only when its command runs, so `mcp-server-todo list` never
loads the MCP SDK, and `serve` loads only what serving needs. Errors become one line on stderr
and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import cast

from .. import __version__
from ..errors import InvalidInput, NotFound, TodoError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        default=argparse.SUPPRESS,
        help="task store: a SQLite file path or sqlite:///PATH (env TODO_DB; default in the user data dir)",
    )
    parser.add_argument(
        "--tz", default=argparse.SUPPRESS, help="time zone for due dates, e.g. Europe/Paris (env TODO_TZ)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-server-todo",
        description="A durable TODO list for MCP clients (Claude Desktop, Claude Code, Cursor, VS Code) "
        "and for you. With no command, serves MCP over stdio.",
    )
    parser.add_argument("--version", action="version", version=f"mcp-server-todo {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the MCP server over stdio (the default) or Streamable HTTP (--http)",
        description="Run the MCP server over stdio (the default) or, with --http, over Streamable HTTP "
        "(see docs/deploy.md).",
    )
    _common(serve)
    serve.add_argument(
        "--tools",
        default=os.environ.get("TODO_TOOLS", "core"),
        metavar="core|all|GROUP,...",
        help=(
            "tool groups to serve: core (default), all, or a list of history, trash, view, import, share "
            "(env TODO_TOOLS)"
        ),
    )
    serve.add_argument(
        "--log-level",
        default=os.environ.get("TODO_LOG_LEVEL", "WARNING"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level; logs go to stderr (env TODO_LOG_LEVEL)",
    )
    from ..transports.http import add_arguments as add_http_arguments  # stdlib only: the SDK is not loaded here

    add_http_arguments(serve)

    add = sub.add_parser("add", help="add a task", description="Add a task.")
    _common(add)
    add.add_argument("title", nargs="+", help="the task's title")
    add.add_argument("--due", help="YYYY-MM-DD, a date-time, today or tomorrow")
    add.add_argument("--priority", "-p", choices=["none", "low", "medium", "high"])
    add.add_argument("--project", "-P")
    add.add_argument("--tag", "-t", action="append", dest="tags", help="a tag (repeat for more)")
    add.add_argument("--notes", "-n")
    add.add_argument("--parent", type=int, help="make it a subtask of this task id")
    add.add_argument(
        "--remind",
        "-r",
        action="append",
        help="a reminder: '30 minutes before', 'at due', 'tomorrow 9am' (repeat for more)",
    )

    ls = sub.add_parser(
        "list", aliases=["ls"], help="list tasks (pending by default)", description="List tasks (pending by default)."
    )
    _common(ls)
    ls.add_argument("--status", "-s", default="pending", choices=["pending", "done", "deleted", "all"])
    ls.add_argument("--all", "-a", action="store_const", const="all", dest="status", help="every status")
    ls.add_argument("--project", "-P")
    ls.add_argument("--tag", "-t")
    ls.add_argument("--query", "-q", help="text to find in title or notes")
    ls.add_argument("--due-before")
    ls.add_argument("--limit", type=int, default=500)

    done = sub.add_parser("done", help="complete tasks by id", description="Complete tasks by id.")
    _common(done)
    done.add_argument("ids", nargs="+", type=int, metavar="ID")

    undo = sub.add_parser("undo", help="revert the most recent change", description="Revert the most recent change.")
    _common(undo)

    from .. import formats  # the registry: every format's name, which ones write

    export = sub.add_parser(
        "export",
        help=f"write tasks to a file: {formats.listed(formats.writable_names())}",
        description="Write tasks in another tool's format (docs/formats.md says what each carries). "
        "The json dump keeps everything, ids and the trash included.",
    )
    _common(export)
    export.add_argument(
        "--format", "-f", required=True, metavar="FORMAT", help=formats.listed(formats.writable_names())
    )
    export.add_argument("--project", "-P", help="only this project's tasks")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")

    imp = sub.add_parser(
        "import",
        help="add and update tasks from a file (todo.txt, iCalendar, Taskwarrior, Todoist CSV, Markdown, json)",
        description="Import a file, committed in batches that one `undo` reverts together. Tasks are matched by "
        "uid or a stable key, so importing the same file again adds nothing. Malformed lines are reported and skipped.",
    )
    _common(imp)
    imp.add_argument("file", metavar="FILE", help="the file to import (- for standard input)")
    imp.add_argument(
        "--format",
        "-f",
        metavar="FORMAT",
        help=f"{formats.listed(formats.FORMATS)} (default: guessed from the file)",
    )
    imp.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
    imp.add_argument("--strict", action="store_true", help="refuse the whole file if any line is malformed")

    install = sub.add_parser(
        "install",
        help="add this server to an MCP client's configuration",
        description="Add this server to an MCP client's configuration (or --print the snippet). "
        "Entries use absolute paths, so GUI apps with a minimal PATH can launch them.",
    )
    _common(install)
    install.add_argument("client", choices=["claude-desktop", "claude-code", "cursor", "vscode"])
    install.add_argument("--config", metavar="PATH", help="the client's config file (default: its usual place)")
    install.add_argument("--name", default="todo", help="the server's name in the client (default todo)")
    install.add_argument("--print", action="store_true", dest="print_only", help="print the snippet only")

    doctor = sub.add_parser(
        "doctor",
        help="check the store and the installed client entries",
        description="Check the store and the installed client entries: one OK/WARN/FAIL line per check, "
        "exit 1 if anything failed.",
    )
    _common(doctor)
    doctor.add_argument("--config", metavar="PATH", action="append", help="also check this client config file")

    backup = sub.add_parser(
        "backup",
        help="copy the SQLite store, online (servers may keep running)",
        description="Copy the SQLite store, online (servers may keep running), with SQLite's backup API into "
        "the backups folder next to it (or PATH: a file or a folder) and print where. PostgreSQL: use pg_dump.",
    )
    _common(backup)
    backup.add_argument("path", nargs="?", metavar="PATH", help="where to write the copy (never overwritten)")
    restore = sub.add_parser(
        "restore",
        help="replace the SQLite store by a backup (the current one is backed up first)",
        description="Replace the SQLite store by a backup: check that PATH is a task database with integrity ok, "
        "back the current store up, then copy PATH into it. A running server sees the restored tasks on its next "
        "read. PostgreSQL: use pg_restore.",
    )
    _common(restore)
    restore.add_argument("path", metavar="PATH", help="the backup to restore")

    token = sub.add_parser(
        "token",
        help="manage the bearer tokens of `serve --http --auth tokens`",
        description="Manage the bearer tokens of `serve --http --auth tokens`. The store keeps only "
        "their SHA-256; a token is printed once, when it is created.",
    )
    _common(token)
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    token_create = token_sub.add_parser("create", help="create a token for USER and print it (once)")
    _common(token_create)
    token_create.add_argument("user", metavar="USER", help="whose tasks the token reaches (no spaces or '#')")
    token_create.add_argument("--label", default="", help="a note for `token list`, e.g. the device")
    token_create.add_argument(
        "--feed",
        action="store_true",
        help="a read-only calendar feed token instead: prints the feed's URL (opens neither /mcp nor CalDAV)",
    )
    token_create.add_argument(
        "--url",
        metavar="URL",
        help="with --feed: the server's address as the calendar app reaches it "
        "(default: from TODO_PUBLIC_URL, else http://127.0.0.1:TODO_PORT)",
    )
    _common(token_sub.add_parser("list", help="list tokens: id, user, label, created, status (never the token)"))
    token_revoke = token_sub.add_parser("revoke", help="revoke a token by its id")
    _common(token_revoke)
    token_revoke.add_argument("id", type=int, metavar="ID")
    return parser


Handler = Callable[[argparse.Namespace, str | None, str | None], int]

# command -> (module of this package, handler): (args, db, tz) -> exit code
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "serve_command"),
    "add": ("tasks", "add_command"),
    "list": ("tasks", "list_command"),
    "ls": ("tasks", "list_command"),
    "done": ("tasks", "done_command"),
    "undo": ("tasks", "undo_command"),
    "export": ("transfer", "export_command"),
    "import": ("transfer", "import_command"),
    "install": ("install", "install_command"),
    "doctor": ("doctor", "doctor_command"),
    "backup": ("backup", "backup_command"),
    "restore": ("backup", "restore_command"),
    "token": ("tokens", "token_command"),
}


def handler_of(command: str) -> Handler:
    module, name = COMMANDS[command]
    return cast(Handler, getattr(importlib.import_module(f"{__package__}.{module}"), name))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "serve"
    db = getattr(args, "db", None)
    tz = getattr(args, "tz", None)
    try:
        return handler_of(command)(args, db, tz)
    except TodoError as exc:
        # the service speaks to a model ("call list_items"); a person runs a command instead
        message = str(exc).replace("call list_items", "run `mcp-server-todo list --all`")
        print(f"mcp-server-todo: {message}", file=sys.stderr)
        if isinstance(exc, NotFound):
            return EXIT_NOT_FOUND
        return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_ERROR
    except KeyboardInterrupt:
        return 130
