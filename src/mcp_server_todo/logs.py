"""Structured logging: one line per record on stderr, as text or (`--log-json`, TODO_LOG_JSON=1)
as one JSON object per line with time, level, logger, message and the request id.

Over HTTP every request gets an id (`RequestIdMiddleware`): the client's `X-Request-Id` when it
is a short plain token, else a new random one. It is kept in a context variable, so every log
record written while the request is served carries it (the SDK hands the variable on to the
tasks that run MCP handlers), and it is sent back in the `X-Request-Id` response header.

An unexpected exception (a bug) is logged once with its traceback under a short log id
(`log_incident`); the client is told only "internal error (log id N)", so whoever reads the
log can find the traceback of that very answer.

What is logged at info level: the method, path, status and duration of each request, start and
stop, and warnings. Never a bearer token, never a task's text (those appear nowhere in our
records; the SDK logs request bodies only at debug level).

Stdlib only at import time: `mcp-server-todo list` does not pay for this module.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = "x-request-id"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_suffix)s: %(message)s"

request_id_var: ContextVar[str | None] = ContextVar("todo_request_id", default=None)
access_log = logging.getLogger("mcp_server_todo.access")


def current_request_id() -> str | None:
    return request_id_var.get()


def log_incident(logger: logging.Logger, exc: BaseException, what: str, *args: object) -> str:
    """Log `exc` with its traceback under a new short id; return the answer for the client,
    which names that id and nothing else of the failure."""
    log_id = secrets.token_hex(4)
    logger.error(what + " (log id %s)", *args, log_id, exc_info=exc)
    return f"internal error (log id {log_id})"


class _RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id_var.get()
        record.request_id = rid
        record.request_suffix = f" [{rid}]" if rid else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, request_id,
    the access fields when present, and the formatted exception if any."""

    EXTRA = ("method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        data: dict[str, Any] = {
            "time": when.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key in self.EXTRA:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure(level: str = "WARNING", *, json_lines: bool = False) -> None:
    """Send every log record to stderr, as text or JSON lines, replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


class RequestIdMiddleware:
    """ASGI middleware: a request id per HTTP request (context variable and X-Request-Id
    response header) and one access-log record per request at info level."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER.encode())
        rid = given if given and _CLIENT_ID.match(given) else secrets.token_hex(8)
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = [0]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = round((time.perf_counter() - start) * 1000, 1)
            access_log.info(
                "%s %s %d %.1f ms",
                scope.get("method", "?"),
                scope.get("path", "?"),
                status[0],
                duration,
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status[0],
                    "duration_ms": duration,
                },
            )
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None
