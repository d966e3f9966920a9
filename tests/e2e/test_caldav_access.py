"""CalDAV at /dav, who gets in: wrong and revoked credentials (401), failed logins (late, bounded),
other users' lists (answered like missing ones), the Host/Origin guard, proxy headers, the body
cap (413), the local user of a loopback `--auth none` server, and the read-only feed URLs. The
real server and clients, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from caldav.lib import error as caldav_error
from icalendar import Calendar
from support.caldav import (
    LOGIN_DELAY,
    VTODO,
    Served,
    calendar,
    cli,
    mcp,
    mcp_add,
    serve_dav,
)
from support.http import MCP_HEADERS, HttpServer, initialize_body, make_token

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_dav(request, tmp_path_factory)


def test_wrong_credentials_get_401(served: Served) -> None:
    with served.http("alice", "todo_not-a-token") as http:
        assert http.request("PROPFIND", "/dav/alice/", headers={"Depth": "0"}).status_code == 401
    with served.http("alice", served.tokens["bob"]) as http:  # bob's token does not open alice
        assert http.request("PROPFIND", "/dav/alice/", headers={"Depth": "0"}).status_code == 401
    with httpx2.Client(base_url=served.server.base, timeout=30) as anonymous:
        answer = anonymous.request("PROPFIND", "/dav/alice/", headers={"Depth": "0"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Basic")
    with pytest.raises(caldav_error.AuthorizationError):
        served.client("alice", "todo_wrong").principal()


async def test_a_burst_of_bad_logins_waits_without_holding_up_good_users(served: Served) -> None:
    """30 bad logins at once (more than a2wsgi's 10 worker threads) each get their 401 after the
    delay; bob's request, sent meanwhile, is answered before any of them. Then the 11th failure
    of one name from this address gets 429 with Retry-After, unchecked (the right token too)."""
    bad: list[tuple[int, float]] = []
    good: list[tuple[int, float]] = []
    start = time.monotonic()
    async with httpx2.AsyncClient(base_url=served.server.base, timeout=30) as http:

        async def propfind(user: str, password: str, into: list[tuple[int, float]]) -> None:
            answer = await http.request("PROPFIND", f"/dav/{user}/", headers={"Depth": "0"}, auth=(user, password))
            into.append((answer.status_code, time.monotonic() - start))

        async with anyio.create_task_group() as group:
            for n in range(30):
                group.start_soon(propfind, f"mallory{n % 3}", "todo_guess", bad)
            await anyio.sleep(0.05)
            group.start_soon(propfind, "bob", served.tokens["bob"], good)
    assert [code for code, _ in good] == [207]
    assert sorted({code for code, _ in bad}) == [401] and len(bad) == 30
    assert min(at for _, at in bad) >= LOGIN_DELAY
    assert good[0][1] < min(at for _, at in bad), (good, sorted(at for _, at in bad)[:3])
    with served.http("mallory0", "todo_guess") as http:
        refused = http.request("PROPFIND", "/dav/mallory0/", headers={"Depth": "0"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    with served.http("bob") as http:  # another name from the same address still gets in
        assert http.request("PROPFIND", "/dav/bob/", headers={"Depth": "0"}).status_code == 207


DTD_PROPFIND = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "hi">]><D:propfind xmlns:D="DAV:">'
    "<D:prop><D:displayname/></D:prop></D:propfind>"
)


async def test_a_burst_of_malformed_xml_gets_400_and_holds_up_nobody(served: Served) -> None:
    """Radicale slept a second in a worker thread on every 5xx, and a DTD was a 500: 30 such
    PROPFINDs from one user stalled everyone. Now each is a 400 with the parser's reason, at once,
    and alice's PROPFIND sent meanwhile is answered well within that second."""
    bad: list[httpx2.Response] = []
    good: list[tuple[int, float]] = []
    start = time.monotonic()
    async with httpx2.AsyncClient(base_url=served.server.base, timeout=30) as http:

        async def propfind(user: str, body: str, into: list[Any]) -> None:
            auth = (user, served.tokens[user])
            answer = await http.request("PROPFIND", f"/dav/{user}/", headers={"Depth": "0"}, content=body, auth=auth)
            into.append(answer if into is bad else (answer.status_code, time.monotonic() - start))

        async with anyio.create_task_group() as group:
            for n in range(30):
                group.start_soon(propfind, "bob", DTD_PROPFIND if n % 2 else "<D:propfind xmlns:D=", bad)
            await anyio.sleep(0.05)
            group.start_soon(propfind, "alice", "", good)
    assert {answer.status_code for answer in bad} == {400}, {answer.status_code for answer in bad}
    assert all(answer.text.startswith("the XML body cannot be") for answer in bad), bad[0].text
    assert good[0][0] == 207 and good[0][1] < 0.9, good


async def test_another_users_lists_answer_exactly_like_missing_ones(served: Served) -> None:
    await mcp_add(served, "alice", title="Private", project="secret")
    uid = str(calendar(served, "alice", "secret").todos()[0].icalendar_component["UID"])
    with served.http("bob") as http:
        answers = [
            http.request("PROPFIND", path, headers={"Depth": "1"})
            for path in ("/dav/alice/secret/", "/dav/alice/no-such-list/", "/dav/nobody/secret/")
        ]
        items = [http.get(f"/dav/alice/secret/{name}.ics") for name in (uid, "no-such-task")]
    assert len({(a.status_code, a.text) for a in answers}) == 1 and answers[0].status_code in (403, 404)
    assert len({(a.status_code, a.text) for a in items}) == 1 and items[0].status_code in (403, 404)
    assert "secret" not in {c.get_display_name() for c in served.client("bob").principal().calendars()}


def test_proxy_headers_and_big_bodies(served: Served) -> None:
    with served.http("dave") as http:  # "/dave" starts with "/dav": Radicale's proxy prefix strip must not run
        forwarded = http.request(
            "PROPFIND",
            "/dav/dave/",
            headers={"Depth": "0", "X-Forwarded-For": "10.0.0.1", "X-Script-Name": "/elsewhere"},
        )
        assert forwarded.status_code == 207 and "<href>/dav/dave/</href>" in forwarded.text
        big = http.put("/dav/dave/x/big.ics", content=b"x" * (2 << 20))
    assert big.status_code == 413


def test_the_host_guard_covers_dav(served: Served) -> None:
    with served.http("alice") as http:
        foreign = http.request("PROPFIND", "/dav/alice/", headers={"Depth": "0", "Host": "evil.example"})
        origin = http.request("PROPFIND", "/dav/alice/", headers={"Depth": "0", "Origin": "http://evil.example"})
    assert foreign.status_code == 421 and origin.status_code == 403


def test_with_auth_none_on_loopback_every_request_is_the_local_user(tmp_path: Path, isolated_env: Path) -> None:
    server = HttpServer(tmp_path / "local.db", isolated_env)
    try:
        server.wait_ready()
        with httpx2.Client(base_url=server.base, timeout=30) as http:
            found = http.request("PROPFIND", "/dav/", headers={"Depth": "1"})
            assert found.status_code == 207 and "<href>/dav/local/</href>" in found.text
            uid = f"local-{uuid.uuid4().hex}"
            put = http.put(f"/dav/local/inbox/{uid}.ics", content=VTODO.format(uid=uid, title="No password"))
            assert put.status_code == 201, put.text
            assert "SUMMARY:No password" in http.get(f"/dav/local/inbox/{uid}.ics").text
    finally:
        server.stop()


def test_a_revoked_token_stops_opening_caldav_at_once(served: Served) -> None:
    token = make_token(served.db, served.home, "erin")  # type: ignore[arg-type]
    with served.http("erin", token) as http:
        assert http.request("PROPFIND", "/dav/erin/", headers={"Depth": "0"}).status_code == 207
        listed = cli(served, "token", "list").splitlines()
        token_id = next(line.split()[0] for line in listed if " erin " in f" {line} ")
        cli(served, "token", "revoke", token_id)
        assert http.request("PROPFIND", "/dav/erin/", headers={"Depth": "0"}).status_code == 401


async def test_a_feed_url_serves_open_due_tasks_read_only_until_revoked(served: Served) -> None:
    await mcp_add(served, "alice", title="Pay rent", due="2026-12-24", project="feed")
    await mcp_add(served, "alice", title="Call the bank", due="2026-12-23T10:00:00Z", project="feed")
    await mcp_add(served, "alice", title="Someday, no due date", project="feed")
    paid = await mcp_add(served, "alice", title="Already paid", due="2026-12-20", project="feed")
    await mcp(served, "alice", "complete_item", id=paid["id"])
    await mcp_add(served, "bob", title="Bob's own", due="2026-12-24")
    url = cli(served, "token", "create", "alice", "--feed", "--url", served.server.base).strip()
    assert url.startswith(served.server.base + "/dav/feed/feed_") and url.endswith("/feed.ics")
    path = url.removeprefix(served.server.base)
    token = path.split("/")[3]
    with httpx2.Client(base_url=served.server.base, timeout=30) as http:  # no credentials: the URL is the secret
        events = http.get(path)
        todos = http.get(path.replace("/feed.ics", "/tasks.ics"))
        assert events.status_code == todos.status_code == 200
        assert events.headers["content-type"].startswith("text/calendar")
        feed = Calendar.from_ical(events.text)
        starts = {str(e["SUMMARY"]): e.decoded("DTSTART") for e in feed.walk("VEVENT")}
        assert {k: str(v) for k, v in starts.items()} == {
            "Pay rent": "2026-12-24",
            "Call the bank": "2026-12-23 10:00:00+00:00",
        }
        assert "DTEND;VALUE=DATE:20261225" in events.text  # a day is an all-day event
        summaries = sorted(str(t["SUMMARY"]) for t in Calendar.from_ical(todos.text).walk("VTODO"))
        assert summaries == ["Call the bank", "Pay rent"]
        assert http.put(path, content=b"x").status_code == 405
        for other in ("/other.ics", "/", ""):  # under a feed URL's folder: 404, not a login's 401
            assert http.get(path.removesuffix("/feed.ics") + other).status_code == 404
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert http.get(path.replace(token, wrong)).status_code == 404
        assert http.get(f"/dav/feed/{served.tokens['alice']}/feed.ics").status_code in (401, 404)  # not a feed token
        refused = http.post("/mcp", json=initialize_body(), headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
    with served.http("alice", token) as dav:  # nor a CalDAV password
        assert dav.request("PROPFIND", "/dav/alice/", headers={"Depth": "0"}).status_code == 401
    listed = cli(served, "token", "list").splitlines()
    token_id = next(line.split()[0] for line in listed if re.search(r"\balice\s+feed\b", line))
    cli(served, "token", "revoke", token_id)
    with httpx2.Client(base_url=served.server.base, timeout=30) as http:
        assert http.get(path).status_code == 404
