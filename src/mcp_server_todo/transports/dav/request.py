"""The CalDAV request being answered, as the storage plugins need it, and the WSGI layer around
Radicale that records it and corrects Radicale's answer where Radicale cannot say ours.

- `If-Match` / `If-None-Match`: Radicale checks them before it calls our upload, and a CalDAV
  write lock makes that check hold against other CalDAV writers only. The upload checks them
  again inside the write transaction (collection.py), against MCP writes too; when that
  fails (`stale`), the answer is 412, not the 400 Radicale gives any upload error (a DELETE
  that the transaction refused deleted nothing, and is answered 412 too).
- `etags_only`: a REPORT that asks for no calendar data (items.py builds no text for it).
- A malformed XML body (garbage, a DTD, entities: defusedxml refuses those) is 400 with the
  parser's reason, where Radicale answers 400 without one, or 500 for what defusedxml refuses.
  Checked only once Radicale has answered (after the login), so a bad login is still a 401.
- `refusal`: the reason a list operation was refused (MKCALENDAR, PROPPATCH, MOVE, a
  collection DELETE); Radicale answers those with its own body, and ours replaces it.

Runs in Radicale's worker thread (a2wsgi), so the context variable is the request's."""

from __future__ import annotations

import contextvars
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import defusedxml  # type: ignore[import-untyped]
import defusedxml.ElementTree as DefusedET  # type: ignore[import-untyped]

_REFUSED = ("400", "403", "409")
_XML = ("PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MKCOL")


@dataclass
class DavRequest:
    """What the storage plugins read (`if_match`, `if_none_match`, `etags_only`) and write
    (`stale`, `refusal`) while Radicale answers one request."""

    if_match: str = ""
    if_none_match: str = ""
    etags_only: bool = False
    stale: str = ""
    refusal: str = ""
    refusal_xml: str = ""
    conflict: str = ""


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
        body = b""
        if method in _XML or method == "PUT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        if method == "REPORT":
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
        if state.conflict:
            return _plain(start_response, "409 Conflict", state.conflict)
        if state.refusal_xml and status[:3] == "403":
            return _answer(start_response, status, "application/xml; charset=utf-8", state.refusal_xml)
        if method == "PUT" and status[:3] == "400" and not state.refusal:
            return _plain(start_response, status, _unreadable(body))
        if method != "PUT" and body and status[:3] in ("400", "500") and (malformed := _malformed(body)):
            return _plain(start_response, "400 Bad Request", malformed)
        if state.refusal and status[:3] in _REFUSED:
            return _plain(start_response, status, state.refusal)
        start_response(status, headers, exc_info)
        return body_out


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    return _answer(start_response, status, "text/plain; charset=utf-8", text)


def _answer(start_response: Callable[..., Any], status: str, kind: str, text: str) -> list[bytes]:
    data = (text + "\n").encode()
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]


def _malformed(body: bytes) -> str:
    """Why an XML request body cannot be read ("" when it can): not XML, or XML with a DTD or
    entities (never needed by CalDAV, refused as defusedxml refuses them)."""
    try:
        DefusedET.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        return f"the XML body cannot be used: {exc} (CalDAV bodies need no DTD or entities)"
    except ET.ParseError as exc:
        return f"the XML body cannot be read: {exc}"
    return ""


def _unreadable(body: bytes) -> str:
    """Why Radicale refused a PUT body before our upload saw it (it logs the reason only)."""
    from radicale import item as radicale_item

    try:
        radicale_item.read_components(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "the body is not UTF-8 text"
    except Exception as exc:
        return f"the iCalendar body cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return "the body is not one VCALENDAR holding one task's VTODO (RFC 4791 §4.1)"
