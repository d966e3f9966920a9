"""Failed CalDAV logins counted per address and name (dav/logins.py), and the feed token's prefix."""

from __future__ import annotations

import base64

from mcp_server_todo.cli import tokens
from mcp_server_todo.transports.dav import feed
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
