"""The CalDAV request being answered, as the storage plugins need it, and the WSGI layer around
Radicale that records it and corrects Radicale's answer where Radicale cannot say ours.

- `If-Match` / `If-None-Match`: Radicale checks them before it calls our upload, and a CalDAV
  write lock makes that check hold against other CalDAV writers only. The upload checks them
  again inside the write transaction (collection.py), against MCP writes too; when that
  fails (`stale`), the answer is 412, not the 400 Radicale gives any upload error (a DELETE
  that the transaction refused deleted nothing, and is answered 412 too).
- `etags_only`: a REPORT that asks for no calendar data (items.py builds no text for it).
- `refusal`: the reason a list operation was refused (MKCALENDAR, PROPPATCH, MOVE, a
  collection DELETE); Radicale answers those with its own body, and ours replaces it.

Runs in Radicale's worker thread (a2wsgi), so the context variable is the request's."""

from __future__ import annotations

import contextvars
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_REFUSED = ("400", "403", "409")


@dataclass
class DavRequest:
    """What the storage plugins read (`if_match`, `if_none_match`, `etags_only`) and write
    (`stale`, `refusal`) while Radicale answers one request."""

    if_match: str = ""
    if_none_match: str = ""
    etags_only: bool = False
    stale: str = ""
    refusal: str = ""


_current: contextvars.ContextVar[DavRequest | None] = contextvars.ContextVar("dav_request", default=None)


def current() -> DavRequest:
    """The request being answered (an empty one outside a request: tests, tools)."""
    return _current.get() or DavRequest()


class RequestLayer:
    """WSGI middleware around Radicale (module docstring)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        state = DavRequest(
            if_match=environ.get("HTTP_IF_MATCH", "").strip(),
            if_none_match=environ.get("HTTP_IF_NONE_MATCH", "").strip(),
        )
        if method == "REPORT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            state.etags_only = b"calendar-data" not in body and b"address-data" not in body
        answer: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            answer[:] = [status, headers, exc_info]
            return lambda data: None

        token = _current.set(state)
        try:
            body_out = list(self.app(environ, hold))
        finally:
            _current.reset(token)
        status, headers, exc_info = answer
        if state.stale:
            return _plain(start_response, "412 Precondition Failed", state.stale)
        if state.refusal and status[:3] in _REFUSED:
            return _plain(start_response, status, state.refusal)
        start_response(status, headers, exc_info)
        return body_out


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    data = (text + "\n").encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]
