"""The arguments of `serve` and of the bare command (no command: the stdio server), parsed with
argparse on the fast path: serving never imports click or rich (`cli/main.py` decides)."""

from __future__ import annotations

import argparse
import os
import typing
from collections.abc import Sequence

GLOBAL_VALUE_OPTIONS = ("--db", "--tz", "--tools")
"""The options the bare command takes (each with a value): the stdio server's store, zone and
tool groups (`mcp-server-todo --tools core,view` is the stdio server with the task view)."""
TREE_VALUE_OPTIONS = (*GLOBAL_VALUE_OPTIONS, "--user", "--color")
"""The global options of the command tree that take a value (skipped to find the command)."""
SERVE_MODE_ENV = ("TODO_HTTP", "TODO_DAV")
"""The environment variables that make `serve` more than a stdio server (read by the full parser)."""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        default=argparse.SUPPRESS,
        help="task store: a SQLite file path, sqlite:///PATH or postgresql://... (the [postgres] extra) "
        "(env TODO_DB; default in the user data dir)",
    )
    parser.add_argument(
        "--tz", default=argparse.SUPPRESS, help="time zone for due dates, e.g. Europe/Paris (env TODO_TZ)"
    )


def serve_parser() -> argparse.ArgumentParser:
    """`mcp-server-todo [--db ...] serve [...]`: every option of the MCP server."""
    serve = argparse.ArgumentParser(
        prog="mcp-server-todo serve",
        description="Run the MCP server over stdio (the default) or, with --http, over Streamable HTTP "
        "(see docs/deploy.md). Example: mcp-server-todo serve --http --port 8000",
    )
    _stdio_options(serve)
    from ..transports.http import add_arguments as add_http_arguments  # stdlib only: the SDK is not loaded here

    add_http_arguments(serve)
    return serve


def _stdio_options(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--tools",
        default=os.environ.get("TODO_TOOLS", "core"),
        metavar="core|all|GROUP,...",
        help=(
            "tool groups to serve: core (default), all (every group, sharing included), or core plus any "
            "of history, trash, view, import, share, e.g. core,view (env TODO_TOOLS)"
        ),
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("TODO_LOG_LEVEL", "WARNING"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level; logs go to stderr (env TODO_LOG_LEVEL)",
    )


class _NotPlain(Exception):
    pass


class _StdioParser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise _NotPlain(message)


def parse_plain_stdio(argv: Sequence[str]) -> argparse.Namespace | None:
    """The options of a plain stdio server (--db, --tz, --tools, --log-level, exactly spelled),
    parsed without loading the HTTP options (transports/http costs tens of milliseconds of a
    cold start); None for anything else (`serve_parser` then parses, helps and complains), and
    None when the environment asks for more than stdio (TODO_HTTP, TODO_DAV: the full parser
    reads them and their companions)."""
    if any(os.environ.get(name, "").strip() for name in SERVE_MODE_ENV):
        return None
    parser = _StdioParser(add_help=False, allow_abbrev=False)
    _stdio_options(parser)
    try:
        parsed, unknown = parser.parse_known_args(list(argv))
    except _NotPlain:
        return None
    return None if unknown else parsed


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of `argv` (the first word that is neither an option nor the value of
    one of `TREE_VALUE_OPTIONS`), or None when there is none."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in TREE_VALUE_OPTIONS:
            skip = True
        elif word == "--":
            return None
        elif not word.startswith("-"):
            return word
    return None


def only_serve_options(argv: Sequence[str]) -> bool:
    """Whether `argv` holds nothing but --db/--tz/--tools and their values (the bare stdio server)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in GLOBAL_VALUE_OPTIONS:
            skip = True
        elif not word.startswith(tuple(f"{option}=" for option in GLOBAL_VALUE_OPTIONS)):
            return False
    return True
