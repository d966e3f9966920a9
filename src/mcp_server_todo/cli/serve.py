"""`mcp-server-todo serve` (the default command): MCP over stdio, or Streamable HTTP with `--http`,
or local CalDAV with `--dav` (the HTTP server on port 5232, /mcp included, for calendar apps on
this machine: with the default `--auth none` every request is the local user, the one a stdio
server on the same store serves)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from ..errors import InvalidInput, TodoError


def serve_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    if getattr(args, "http", False) or getattr(args, "dav", False):
        return _serve_http(args, db, tz)
    if getattr(args, "log_json", False):
        from ..logs import configure

        configure(args.log_level, json_lines=True)
    return _serve(
        db,
        tz,
        getattr(args, "log_level", os.environ.get("TODO_LOG_LEVEL", "WARNING")),
        getattr(args, "tools", os.environ.get("TODO_TOOLS", "core")),
    )


def _serve(db: str | None, tz: str | None, log_level: str, toolsets: str) -> int:
    """The stdio server: with a start-up snapshot for these settings (and a client's pipe on
    stdin), its front end answers while the server loads in a thread (docs/architecture.md)."""
    logging.basicConfig(level=log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from ..transports import stdio_snapshot

    if not stdio_snapshot.enabled(os.environ):
        return _run_stdio(*_load_server(db, tz, toolsets))
    key = stdio_snapshot.snapshot_key({"db": db, "tz": tz, "tools": toolsets}, os.environ)
    snapshot = stdio_snapshot.Snapshot(key, os.environ).load()
    recorder = stdio_snapshot.Recorder(snapshot)
    if not snapshot.answers or _stdin_is_terminal():
        return _run_stdio(*_load_server(db, tz, toolsets), recorder=recorder)
    from ..transports.stdio_front import front_run

    (server, serve_stdio), handoff = front_run(lambda: _load_server(db, tz, toolsets), snapshot)
    log = logging.getLogger(__name__)
    log.info("the start-up snapshot answered %d requests while the server loaded", handoff.answered)
    return _run_stdio(server, serve_stdio, handoff=handoff, recorder=recorder)


def _load_server(db: str | None, tz: str | None, toolsets: str) -> tuple[Any, Any]:
    """The server and the stdio transport's entry: the SDK's import, the long part of a start
    (`transports/stdio_front.py` answers the client meanwhile)."""
    from ..config import Config
    from ..server import build_server
    from ..transports.stdio import serve_stdio

    config = Config.resolve(db, tz)
    try:
        return build_server(config, toolsets), serve_stdio
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def _run_stdio(server: Any, serve_stdio: Any, **front: Any) -> int:
    import anyio

    try:
        anyio.run(lambda: serve_stdio(server, **front))
    except BaseExceptionGroup as group:  # the store failed to open in the lifespan: its one line
        found = group.subgroup(lambda exc: isinstance(exc, TodoError))
        while isinstance(found, BaseExceptionGroup):
            found = found.exceptions[0]
        if found is None:
            raise
        raise found from None
    return 0


def _stdin_is_terminal() -> bool:
    """A terminal (nobody to answer fast) or no stdin at all: no front end."""
    try:
        os.fstat(0)
        return os.isatty(0)
    except OSError:
        return True


def _serve_http(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..logs import configure

    configure(args.log_level, json_lines=args.log_json)
    from ..config import Config
    from ..transports.http import HttpOptions, build_app, run

    options = HttpOptions.from_args(args)
    config = Config.resolve(db, tz)
    try:
        options.check()
        if options.dav:
            from ..transports.dav.app import MISSING, available

            if not available():
                raise InvalidInput(f"serve --dav: {MISSING}")
        app = build_app(config, args.tools, options)
    except ValueError as exc:  # unsafe or incomplete settings, unknown tool group, unusable key file
        raise InvalidInput(str(exc)) from exc
    from ..store import open_store

    open_store(config.store_url).close()  # a store that cannot open: our one line, not uvicorn's traceback
    return run(app, options, say=_logged if args.log_json else _said)


def _said(line: str) -> None:
    """A start-up line (the URLs served) on stderr, shown at every log level."""
    print(line, file=sys.stderr, flush=True)


def _logged(line: str) -> None:
    """A start-up line as a JSON log record (`--log-json`: stderr holds only JSON lines), at
    warning level so that the default level shows it."""
    logging.getLogger("mcp_server_todo.serve").warning(line)
