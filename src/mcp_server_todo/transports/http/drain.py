"""Graceful shutdown (SIGTERM, SIGINT): `Drain` knows the requests in flight, so shutdown waits
for the ordinary ones and then ends the long-lived streams (the GET stream,
subscriptions/listen); `leave_running_calls` ends the process when a call on a worker thread
outlives the shutdown timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...logs import ASGIApp, Message, Receive, Scope, Send
from .options import MCP_PATH

if TYPE_CHECKING:
    import anyio

log = logging.getLogger(__name__)


@dataclass
class _InFlight:
    stream: bool
    scope: anyio.CancelScope | None
    started: bool = False
    finished: bool = False


_ORDINARY = _InFlight(stream=False, scope=None)  # the one entry every ordinary request in flight shares


@dataclass
class Drain:
    """ASGI middleware that knows the requests in flight, so shutdown can wait for the ordinary
    ones and then end the long-lived streams (a GET stream or subscriptions/listen never ends on
    its own; without this every restart would wait the full timeout)."""

    app: ASGIApp
    path: str = MCP_PATH
    around: Callable[[], AbstractContextManager[None]] | None = None
    """Entered around each request (server.many_clients: a write's fsync is awaited off the loop)."""
    _requests: dict[int, _InFlight] = field(default_factory=dict)
    _next: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import anyio

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stream = scope.get("method") == "GET" and scope.get("path") == self.path
        if scope.get("method") == "POST" and scope.get("path") == self.path:
            receive, body = await _buffered(receive)
            stream = b"subscriptions/listen" in body
        self._next += 1
        key = self._next
        if not stream:
            # an ordinary request is never cancelled here, only waited for: no scope, no send wrapper
            self._requests[key] = _ORDINARY
            try:
                with self.around() if self.around else contextlib.nullcontext():
                    await self.app(scope, receive, send)
            finally:
                self._requests.pop(key, None)
            return
        cancel = anyio.CancelScope()
        entry = _InFlight(stream=stream, scope=cancel)
        self._requests[key] = entry

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                entry.finished = True
            await send(message)

        try:
            with cancel:
                await self.app(scope, receive, tracking_send)
            if cancel.cancelled_caught and entry.started and not entry.finished:
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._requests.pop(key, None)

    @property
    def busy(self) -> int:
        """Requests in flight, streams not counted."""
        return sum(1 for entry in self._requests.values() if not entry.stream)

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout`) for the requests in flight, then end the streams."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.busy and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for entry in list(self._requests.values()):
            if entry.stream and entry.scope is not None:
                entry.scope.cancel()
        from sse_starlette.sse import AppStatus

        AppStatus.should_exit = True  # any SSE response not seen here ends too


PEEK_BYTES = 64 * 1024


async def _buffered(receive: Receive) -> tuple[Receive, bytes]:
    """The start of the request body (up to PEEK_BYTES: enough to see a JSON-RPC method, and no
    more held before the request is authenticated), with the same messages handed on."""
    messages: list[Message] = []
    body = bytearray()
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False) or len(body) >= PEEK_BYTES:
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, bytes(body)


def leave_running_calls(code: int) -> None:
    """A call still running on a worker thread after the shutdown timeout (an import, an undo)
    cannot be cancelled, and Python would wait for its thread at exit: end the process now.
    Its transaction is not committed, so SQLite or PostgreSQL rolls it back."""
    if threading.current_thread() is not threading.main_thread():
        return  # not the process's own server (a test runs it on a thread)
    deadline = time.monotonic() + 0.2  # idle workers stop at once
    busy = [t for t in threading.enumerate() if t.name == "AnyIO worker thread"]
    for thread in busy:
        thread.join(max(0.0, deadline - time.monotonic()))
    left = sum(1 for thread in busy if thread.is_alive())
    if left:
        log.warning("exiting with %d call(s) unfinished after the shutdown timeout; their writes are rolled back", left)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
