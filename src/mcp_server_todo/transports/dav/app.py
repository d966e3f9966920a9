"""CalDAV under /dav/: Radicale (a library) with our storage and auth plugins, behind a2wsgi.

Around the mount: `X-Script-Name` and `X-Forwarded-*` are dropped (the first would move
Radicale's hrefs, the second makes Radicale strip the prefix from the path by plain string
match; uvicorn has already applied the forwarded headers it trusts); request bodies are
read here, capped at `MAX_BODY` (413), and handed over with a Content-Length (Radicale reads
exactly that many bytes, so a chunked upload would arrive empty). The Host/Origin guard wraps
the whole HTTP app, /dav included.

Radicale is imported only here and in this package's plugins; the package is loaded only when
the `caldav` extra is installed (see `available`)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import anyio

from ...logs import Message, Receive, Scope, Send
from ...service import TodoService
from .feed import feed_path, feed_text
from .logins import BUSY, BUSY_WAIT, LOGIN_DELAY, FailedLogins, basic_login

FEED_LOGIN = "\x00feed"  # the name wrong feed tokens are counted under (no user is called that)
Feeds = tuple[Callable[[str], str | None], Callable[[str], TodoService]]
"""What the feeds need: the user of a feed token (or None), and a service for a user."""

MAX_BODY = 1 << 20
DAV_PATH = "/dav"
MISSING = (
    "CalDAV needs the caldav extra: from a clone, pip install '.[caldav]' "
    "(with pipx: pipx install --force '/path/to/mcp-server-todo[caldav]')"
)
_DROPPED = (b"x-script-name", b"x-forwarded-", b"content-length", b"transfer-encoding")


def available() -> bool:
    """Whether Radicale and a2wsgi are installed (the `caldav` extra)."""
    return all(importlib.util.find_spec(name) is not None for name in ("radicale", "a2wsgi"))


def radicale_app(services: Callable[[str], TodoService], user_for_token: Callable[[str], str | None] | None) -> Any:
    """Radicale's WSGI application over our plugins, inside request.py's layer (the request's
    preconditions, our refusals' text). `user_for_token` None: `--auth none`."""
    from radicale import config
    from radicale.app import Application

    from .auth import TodoAuth
    from .request import RequestLayer
    from .storage import TodoStorage

    storage = type("Storage", (TodoStorage,), {"services": staticmethod(services)})
    auth = type("Auth", (TodoAuth,), {"user_for_token": staticmethod(user_for_token) if user_for_token else None})
    configuration = config.load()
    configuration.update(
        {
            "storage": {"type": storage},
            "auth": {"type": auth, "delay": "0"},  # DavApp delays failed logins (logins.py)
            "server": {"delay_on_error": "0"},  # Radicale's sleep on a 5xx holds a worker thread
            "rights": {"type": "owner_only"},
            "web": {"type": "none"},
            "hook": {"type": "none"},
        },
        "mcp-server-todo",
        privileged=True,
    )
    return RequestLayer(Application(configuration))


class DavApp:
    """The ASGI face of Radicale: header hygiene, the body cap and failed logins, then a2wsgi."""

    def __init__(self, wsgi_app: Any, login_delay: float = LOGIN_DELAY, feeds: Feeds | None = None) -> None:
        from a2wsgi import WSGIMiddleware

        self.inner: Any = WSGIMiddleware(wsgi_app)
        self.login_delay = login_delay
        self.failed_logins = FailedLogins()
        self.feeds = feeds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"].removeprefix(scope.get("root_path", "")).removeprefix(DAV_PATH)
        feed = feed_path(path) if self.feeds is not None else None
        if feed is not None:
            await self.feed(scope, send, *feed)
            return
        authorization = dict(scope["headers"]).get(b"authorization")
        login = basic_login(authorization)
        if authorization is None or login is None:
            await self.radicale(scope, receive, send)
            return
        client = str((scope.get("client") or ("?",))[0])
        trusted = self.failed_logins.trusted(authorization)
        wait = self.failed_logins.retry_after(client, login) if trusted else await self.begin(client, login)
        if wait is not None:
            text = f"too many failed logins from this address; retry after {wait} s"
            await plain(send, 429, text, [(b"retry-after", str(wait).encode())])
            return
        held: list[Message] = []
        statuses: list[int] = []

        async def holding_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            if held or statuses == [401]:
                held.append(message)  # the worker thread goes on; the answer waits below
            else:
                await send(message)

        reached = False
        try:
            reached = await self.radicale(scope, receive, holding_send)
        finally:
            if trusted and held:  # credentials that worked before, refused now (a revoked token)
                self.failed_logins.failed(client, login)
            elif not trusted:  # Radicale let it in, or refused it (or it never got there: a failure)
                good = reached and bool(statuses) and not held
                self.failed_logins.end(client, login, authorization if good else None)
        if held:
            await anyio.sleep(self.login_delay)
            for message in held:
                await send(message)

    async def begin(self, client: str, login: str) -> int | None:
        """`FailedLogins.begin`, waiting while attempts in flight fill the limit (logins.py)."""
        deadline = anyio.current_time() + BUSY_WAIT
        while (wait := self.failed_logins.begin(client, login)) == BUSY:
            if anyio.current_time() > deadline:
                return 1
            await anyio.sleep(0.01)
        return wait

    async def feed(self, scope: Scope, send: Send, token: str, kind: str) -> None:
        """A read-only feed (feed.py): GET or HEAD; 404 for a token that opens none, which counts
        as a failed login of the address (logins.py: 429 after 10 a minute)."""
        assert self.feeds is not None
        if not kind:
            await plain(send, 404, "no such feed file: a feed URL ends in feed.ics or tasks.ics")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await plain(send, 405, "a feed is read-only: GET it", [(b"allow", b"GET, HEAD")])
            return
        client = str((scope.get("client") or ("?",))[0])
        wait = self.failed_logins.retry_after(client, FEED_LOGIN)
        if wait is not None:
            refusal = f"too many wrong feed URLs from this address; retry after {wait} s"
            await plain(send, 429, refusal, [(b"retry-after", str(wait).encode())])
            return
        user_of, service_for = self.feeds
        text = await anyio.to_thread.run_sync(feed_text, token, kind, user_of, service_for)
        if text is None:
            self.failed_logins.failed(client, FEED_LOGIN)  # counted as a failed login, answered at once
            await plain(send, 404, "no such feed")
            return
        data = text.encode()
        headers = [
            (b"content-type", b"text/calendar; charset=utf-8"),
            (b"content-length", str(len(data)).encode()),
            (b"cache-control", b"private, max-age=300"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data if scope["method"] == "GET" else b""})

    async def radicale(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Radicale through a2wsgi, with the headers cleaned and the body read and capped; False
        when the request was answered (413) or dropped before it reached Radicale."""
        headers = [(k, v) for k, v in scope["headers"] if not k.lower().startswith(_DROPPED)]
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await plain(send, 413 if declared.isdigit() else 400, f"request bodies are limited to {MAX_BODY} bytes")
            return False
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await plain(send, 413, f"request bodies are limited to {MAX_BODY} bytes")
                return False
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.inner({**scope, "headers": headers}, replay, send)
        return True


async def plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """A one-line text/plain answer."""
    data = (text + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(data)).encode())]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def not_installed(scope: Scope, receive: Receive, send: Send) -> None:
    """/dav without the extra: 501 and how to get it."""
    await plain(send, 501, MISSING)
