"""Failed CalDAV logins (dav/logins.py): counted per address and name, answered late through DavApp,
then 429; wrong feed URLs counted too; the feed token's prefix."""

from __future__ import annotations

import base64
import time
from typing import Any

import anyio

from mcp_server_todo.cli import tokens
from mcp_server_todo.transports.dav import feed
from mcp_server_todo.transports.dav.app import DavApp
from mcp_server_todo.transports.dav.logins import FailedLogins, basic_login


def basic(text: str) -> bytes:
    return b"Basic " + base64.b64encode(text.encode())


def test_the_login_name_of_an_authorization_header() -> None:
    assert basic_login(None) is None  # no credentials: the client's first probe
    assert basic_login(basic("alice:todo_x:y")) == "alice"
    assert basic_login(b"Basic !!!") == ""  # undecodable still names a (failed) someone
    assert basic_login(b"Bearer abc") == ""


def test_ten_failures_of_one_name_or_fifty_of_an_address_wait_until_the_window_passes() -> None:
    logins = FailedLogins(per_login=10, per_client=50, window=60)
    for _ in range(9):
        logins.failed("10.0.0.1", "alice")
    assert logins.retry_after("10.0.0.1", "alice") is None
    logins.failed("10.0.0.1", "alice")
    wait = logins.retry_after("10.0.0.1", "alice")
    assert wait is not None and 59 <= wait <= 60
    assert logins.retry_after("10.0.0.1", "bob") is None  # another name from there
    assert logins.retry_after("10.0.0.2", "alice") is None  # the same name from elsewhere
    for n in range(40):
        logins.failed("10.0.0.1", f"guess{n}")
    assert logins.retry_after("10.0.0.1", "bob") is not None  # 50 from one address: every name waits
    short = FailedLogins(per_login=1, per_client=5, window=0.0)
    short.failed("10.0.0.1", "alice")
    assert short.retry_after("10.0.0.1", "alice") is None  # out of the window: forgotten


def test_the_cli_and_the_feed_agree_on_the_feed_prefix() -> None:
    assert tokens.FEED_PREFIX == feed.FEED_PREFIX
    assert feed.feed_path("/feed/feed_abc-_9/feed.ics") == ("feed_abc-_9", "feed")
    assert feed.feed_path("/feed/feed_abc/tasks.ics") == ("feed_abc", "tasks")
    assert feed.feed_path("/feed/todo_abc/feed.ics") is None
    assert feed.feed_path("/alice/feed/feed_abc/feed.ics") is None


def call(app: DavApp, path: str, authorization: bytes | None = None) -> tuple[int, dict[bytes, bytes], float]:
    """One GET through `app`: (status, headers, seconds until the answer started)."""
    sent: list[dict[str, Any]] = []
    headers = [] if authorization is None else [(b"authorization", authorization)]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("10.0.0.9", 5000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append({**message, "at": time.monotonic()})

    started = time.monotonic()
    anyio.run(app, scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[0]["at"] - started


def refusing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that refuses every login at once, as Radicale with delay 0."""
    start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="x"'), ("Content-Length", "0")])
    return [b""]


def test_a_failed_login_answers_late_then_429_and_a_probe_without_credentials_at_once() -> None:
    app = DavApp(refusing, login_delay=0.2)
    status, _, took = call(app, "/dav/alice/", basic("alice:todo_wrong"))
    assert status == 401 and took >= 0.2
    status, _, took = call(app, "/dav/alice/")  # no credentials: the challenge, at once, not counted
    assert status == 401 and took < 0.2
    for _ in range(9):  # nine more failures, as if answered already
        app.failed_logins.failed("10.0.0.9", "alice")
    status, headers, took = call(app, "/dav/alice/", basic("alice:todo_right-one"))
    assert status == 429 and int(headers[b"retry-after"]) >= 1 and took < 0.2


def test_ten_wrong_feed_urls_then_429() -> None:
    app = DavApp(refusing, login_delay=0.2, feeds=(lambda token: None, lambda user: None))  # type: ignore[arg-type,return-value]
    answers = [call(app, f"/dav/feed/feed_guess{n}/feed.ics") for n in range(11)]
    assert [status for status, _, _ in answers] == [404] * 10 + [429]
    assert int(answers[-1][1][b"retry-after"]) >= 1
    assert all(took < 0.2 for _, _, took in answers)  # a wrong feed URL is not held


def accepting(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that lets every login in (a slow answer, so requests overlap)."""
    time.sleep(0.05)
    start_response("207 Multi-Status", [("Content-Length", "0")])
    return [b""]


async def burst(app: DavApp, authorizations: list[bytes]) -> list[int]:
    """The statuses of one GET per authorization, all sent at once from one address."""
    statuses: list[int] = []

    async def one(authorization: bytes) -> None:
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
            "raw_path": b"/dav/alice/",
            "path": "/dav/alice/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"authorization", authorization)],
            "client": ("10.0.0.9", 5000),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)

    async with anyio.create_task_group() as group:
        for authorization in authorizations:
            group.start_soon(one, authorization)
    return statuses


def test_a_parallel_burst_of_bad_logins_is_bounded_as_a_sequence_would_be() -> None:
    """An attempt counts while it is being checked: of 12 concurrent bad logins of one name, the
    11th and 12th get 429; of 60 with different names from one address, 10 do."""
    one_name = anyio.run(burst, DavApp(refusing, login_delay=0.1), [basic("alice:todo_guess")] * 12)
    assert sorted(one_name) == [401] * 10 + [429] * 2
    names = [basic(f"user{n}:todo_guess") for n in range(60)]
    many = anyio.run(burst, DavApp(refusing, login_delay=0.1), names)
    assert sorted(many) == [401] * 50 + [429] * 10


def test_good_logins_in_parallel_are_not_counted_against_their_address() -> None:
    """A client's first 30 parallel requests all get in (past the 10th, each waits until one is
    in), later ones are not counted at all, and a good login is not left as a failure."""
    app = DavApp(accepting, login_delay=0.1)
    good = basic("alice:todo_right")
    assert anyio.run(burst, app, [good] * 30) == [207] * 30
    assert anyio.run(burst, app, [good] * 30) == [207] * 30
    assert app.failed_logins.retry_after("10.0.0.9", "alice") is None
    assert not app.failed_logins._pending
