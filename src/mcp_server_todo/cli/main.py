"""The console script `mcp-server-todo`: with no command (or `serve`), the MCP server, parsed
with argparse on a fast path that imports neither click nor rich (the stdio cold start is
benchmarked); any other command goes to the click command tree (`cli/app.py`), whose command
modules import the service, the store and rich only when they run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .exits import fail
from .serve_args import command_of, only_serve_options

COMPLETE_VAR = "_MCP_SERVER_TODO_COMPLETE"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; its exit code (see `cli/exits.py`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = command_of(args)
    completing = COMPLETE_VAR in os.environ  # the shell asks click for completions
    if not completing and (command == "serve" or (command is None and only_serve_options(args))):
        if command == "serve":
            del args[args.index("serve")]  # global --db/--tz before it are serve's own options too
        return serve_main(args)
    from .app import run

    return run(args)


def serve_main(args: list[str]) -> int:
    """`serve` and the bare command: argparse, then `serve.serve_command`."""
    from ..errors import TodoError
    from .serve import serve_command
    from .serve_args import parse_plain_stdio, serve_parser

    try:
        parsed = parse_plain_stdio(args) or serve_parser().parse_args(args)
    except SystemExit as exc:  # --help, or a usage error argparse has printed: its code
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with _without_rich():
            return serve_command(parsed, getattr(parsed, "db", None), getattr(parsed, "tz", None))
    except TodoError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        return 130


@contextmanager
def _without_rich() -> Iterator[None]:
    """While serving, `import rich` fails: the SDK's logging set-up tries rich first and falls
    back to the standard library (our own `logging.basicConfig` came first anyway), so a server
    never pays for loading it. Undone afterwards (tests serve in-process)."""
    if "rich" in sys.modules:
        yield
        return
    sys.modules["rich"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if "rich" in sys.modules and sys.modules["rich"] is None:
            del sys.modules["rich"]
