"""CalDAV at /dav, end to end: the real server (`serve --http --auth tokens` on 127.0.0.1) and the
real `caldav` client library, on SQLite and PostgreSQL. What a phone does (discover, create,
edit with ETags, delete, sync) is checked against what MCP sees, and the other way round."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import anyio
import caldav
import httpx2
import pytest
from caldav.lib import error as caldav_error
from mcp import MCPDeprecationWarning
from mcp.types import ResourceUpdatedNotification
from support import pg
from support.env import subprocess_env
from support.http import HttpServer, make_token, mcp_client
from support.mcp import ok, one

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

DAV = "{DAV:}"
VTODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//phone//EN
BEGIN:VTODO
UID:{uid}
DTSTAMP:20261201T090000Z
SUMMARY:{title}
PRIORITY:1
CATEGORIES:errand
DUE;VALUE=DATE:20261224
END:VTODO
END:VCALENDAR
"""
VEVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//phone//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20261201T090000Z
DTSTART:20261224T100000Z
SUMMARY:A meeting
END:VEVENT
END:VCALENDAR
"""


@dataclass
class Served:
    server: HttpServer
    tokens: dict[str, str]
    db: Path | str
    home: Path

    @property
    def dav(self) -> str:
        return self.server.base + "/dav/"

    def client(self, user: str, password: str | None = None) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.dav, username=user, password=password or self.tokens[user])

    def http(self, user: str, password: str | None = None) -> httpx2.Client:
        return httpx2.Client(base_url=self.server.base, auth=(user, password or self.tokens[user]), timeout=30)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per store kind for the module; users alice, bob and dave with their tokens."""
    folder = tmp_path_factory.mktemp("caldav")
    home = folder / "home"
    home.mkdir()
    if request.param == "postgresql":
        with pg.schema_url(request.getfixturevalue("postgres_url")) as url:
            yield from _serve(url, home, folder)
        return
    yield from _serve(folder / "todo.db", home, folder)


def _serve(db: Path | str, home: Path, folder: Path) -> Iterator[Served]:
    if isinstance(db, Path):
        HttpServer(db, home).stop()  # creates the file the token command opens
    tokens = {user: make_token(db, home, user) for user in ("alice", "bob", "dave")}  # type: ignore[arg-type]
    server = HttpServer(db, home, "--auth", "tokens", "--tools", "core,import", logs=folder)
    try:
        server.wait_ready()
        yield Served(server, tokens, db, home)
    finally:
        server.stop()


def calendar(served: Served, user: str, name: str) -> caldav.Calendar:
    found = [c for c in served.client(user).principal().calendars() if c.get_display_name() == name]
    assert len(found) == 1, [c.get_display_name() for c in served.client(user).principal().calendars()]
    return found[0]


async def mcp_add(served: Served, user: str, **fields: Any) -> dict[str, Any]:
    async with mcp_client(served.server.url, served.tokens[user]) as client:
        return await one(client, "new_item", fields)


async def mcp(served: Served, user: str, tool: str, **args: Any) -> dict[str, Any]:
    async with mcp_client(served.server.url, served.tokens[user]) as client:
        return await ok(client, tool, args)


async def titles(served: Served, user: str, project: str, status: str = "pending") -> list[str]:
    listed = await mcp(served, user, "list_items", project=project, status=status)
    return [t["title"] for t in listed["items"]]


def sync_report(http: httpx2.Client, path: str, token: str) -> tuple[str, dict[str, str]]:
    """A raw RFC 6578 sync-collection REPORT: the new token and {href: status} of what changed."""
    body = (
        '<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    answer = http.request("REPORT", path, content=body, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 207, answer.text
    root = ET.fromstring(answer.content)
    changed = {}
    for response in root.iter(DAV + "response"):
        href = response.findtext(DAV + "href") or ""
        status = response.findtext(DAV + "status") or response.findtext(f"{DAV}propstat/{DAV}status") or ""
        changed[href.rsplit("/", 1)[-1]] = status.split()[1]
    return root.findtext(DAV + "sync-token") or "", changed


async def test_discovery_finds_the_principal_its_home_and_one_vtodo_list_per_project(served: Served) -> None:
    await mcp_add(served, "alice", title="Paint the fence", project="home")
    await mcp_add(served, "alice", title="Write the report", project="Work stuff")

    principal = served.client("alice").principal()
    assert str(principal.url).endswith("/dav/alice/")
    assert str(principal.calendar_home_set.url).endswith("/dav/alice/")
    names = {c.get_display_name(): c for c in principal.calendars()}
    assert {"home", "Work stuff"} <= set(names)
    assert str(names["home"].url).endswith("/dav/alice/home/")
    assert re.search(r"/dav/alice/x-[0-9a-f]{16}/$", str(names["Work stuff"].url))  # ASCII path, name shown
    assert names["home"].get_supported_components() == ["VTODO"]
    assert [str(t.icalendar_component["SUMMARY"]) for t in names["home"].todos()] == ["Paint the fence"]
    with served.http("alice") as http:
        found = http.request("PROPFIND", "/.well-known/caldav", headers={"Depth": "0"})
    assert found.status_code == 301 and found.headers["location"] == "/dav/"


async def test_a_task_the_client_creates_is_a_task_for_mcp_and_reads_back(served: Served) -> None:
    await mcp_add(served, "alice", title="Seed", project="errands")
    todos = calendar(served, "alice", "errands")
    uid = f"phone-{uuid.uuid4().hex}"
    todos.save_todo(ical=VTODO.format(uid=uid, title="Buy stamps"))

    listed = await mcp(served, "alice", "list_items", project="errands")
    task = next(t for t in listed["items"] if t["title"] == "Buy stamps")
    assert task["priority"] == "high" and task["tags"] == ["errand"] and task["due"] == "2026-12-24"
    back = todos.todo_by_uid(uid).icalendar_component
    assert str(back["SUMMARY"]) == "Buy stamps" and str(back["UID"]) == uid
    assert str(todos.todo_by_uid(uid).url).endswith(f"/dav/alice/errands/{uid}.ics")


async def test_etags_guard_edits_from_both_sides(served: Served) -> None:
    task = await mcp_add(served, "alice", title="Call the plumber", project="house")
    item = calendar(served, "alice", "house").todos()[0]
    href = item.url.path
    with served.http("alice") as http:
        first = http.get(href)
        assert first.status_code == 200 and first.headers["etag"].startswith('"')
        etag = first.headers["etag"]
        uid = str(item.icalendar_component["UID"])

        edited = http.put(
            href, content=VTODO.format(uid=uid, title="Call the plumber today"), headers={"If-Match": etag}
        )
        assert edited.status_code in (201, 204), edited.text
        stale = http.put(href, content=VTODO.format(uid=uid, title="Lost update"), headers={"If-Match": etag})
        assert stale.status_code == 412
        exists = http.put(href, content=VTODO.format(uid=uid, title="Again"), headers={"If-None-Match": "*"})
        assert exists.status_code == 412
        assert await titles(served, "alice", "house") == ["Call the plumber today"]

        before = http.get(href).headers["etag"]
        await mcp(served, "alice", "update_item", id=task["id"], title="Plumber booked")
        after = http.get(href)
    assert after.headers["etag"] != before
    assert "SUMMARY:Plumber booked" in after.text


async def test_delete_moves_the_task_to_the_trash(served: Served) -> None:
    task = await mcp_add(served, "alice", title="Old chore", project="chores")
    todos = calendar(served, "alice", "chores")
    todos.todos()[0].delete()
    trash = await mcp(served, "alice", "list_items", status="deleted", project="chores")
    assert [t["id"] for t in trash["items"]] == [task["id"]]
    assert calendar_is_gone(served, "alice", "chores")
    restored = await mcp(served, "alice", "update_item", id=task["id"], status="pending")
    assert restored["items"][0]["status"] == "pending"


def calendar_is_gone(served: Served, user: str, name: str) -> bool:
    return name not in {c.get_display_name() for c in served.client(user).principal().calendars()}


async def test_sync_collection_reports_changes_and_deletions_incrementally(served: Served) -> None:
    first = await mcp_add(served, "alice", title="Sync one", project="sync")
    await mcp_add(served, "alice", title="Sync two", project="sync")
    path = calendar(served, "alice", "sync").url.path
    with served.http("alice") as http:
        token, everything = sync_report(http, path, "")
        assert len(everything) == 2 and set(everything.values()) == {"200"}

        await mcp(served, "alice", "update_item", id=first["id"], notes="changed")
        token2, changed = sync_report(http, path, token)
        assert len(changed) == 1 and next(iter(changed.values())) == "200"
        [changed_href] = changed

        http.delete(f"{path}{changed_href}")
        _, deleted = sync_report(http, path, token2)
        assert deleted == {changed_href: "404"}
        stale = http.request(
            "REPORT",
            path,
            content=(
                '<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>'
                "http://mcp-server-todo.invalid/sync/999999</D:sync-token><D:sync-level>1</D:sync-level>"
                "<D:prop><D:getetag/></D:prop></D:sync-collection>"
            ),
        )
        assert stale.status_code == 403 and "valid-sync-token" in stale.text


async def test_an_event_is_refused_and_nothing_is_stored(served: Served) -> None:
    await mcp_add(served, "alice", title="Only tasks here", project="tasks-only")
    todos = calendar(served, "alice", "tasks-only")
    with served.http("alice") as http:
        refused = http.put(f"{todos.url.path}meeting.ics", content=VEVENT.format(uid="meeting"))
        broken = http.put(f"{todos.url.path}broken.ics", content="BEGIN:VCALENDAR\nnot a calendar")
    assert refused.status_code == 400 and broken.status_code == 400
    assert await titles(served, "alice", "tasks-only", "all") == ["Only tasks here"]


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


async def test_a_chunked_upload_arrives_whole(served: Served) -> None:
    await mcp_add(served, "alice", title="Seed", project="chunked")
    uid = f"chunked-{uuid.uuid4().hex}"
    body = VTODO.format(uid=uid, title="Sent in pieces").encode()
    path = calendar(served, "alice", "chunked").url.path
    with served.http("alice") as http:
        answer = http.put(f"{path}{uid}.ics", content=iter([body[:40], body[40:]]))  # no Content-Length
    assert answer.status_code == 201, answer.text
    assert "Sent in pieces" in await titles(served, "alice", "chunked")


async def test_a_put_into_another_list_moves_the_task_and_cancelled_trashes_it(served: Served) -> None:
    await mcp_add(served, "alice", title="Seed", project="from-list")
    await mcp_add(served, "alice", title="Seed", project="to-list")
    source, target = calendar(served, "alice", "from-list"), calendar(served, "alice", "to-list")
    uid = f"moving-{uuid.uuid4().hex}"
    source.save_todo(ical=VTODO.format(uid=uid, title="Moving task"))
    target.save_todo(ical=VTODO.format(uid=uid, title="Moving task"))  # what a client's move does first
    assert "Moving task" in await titles(served, "alice", "to-list")
    assert "Moving task" not in await titles(served, "alice", "from-list")

    cancelled = VTODO.format(uid=uid, title="Moving task").replace("PRIORITY:1", "STATUS:CANCELLED")
    with served.http("alice") as http:
        assert http.put(f"{target.url.path}{uid}.ics", content=cancelled).status_code == 204
        assert http.get(f"{target.url.path}{uid}.ics").status_code == 404
    assert "Moving task" in await titles(served, "alice", "to-list", "deleted")


def test_the_host_guard_covers_dav(served: Served) -> None:
    with served.http("alice") as http:
        foreign = http.request("PROPFIND", "/dav/alice/", headers={"Depth": "0", "Host": "evil.example"})
        origin = http.request("PROPFIND", "/dav/alice/", headers={"Depth": "0", "Origin": "http://evil.example"})
    assert foreign.status_code == 421 and origin.status_code == 403


async def test_an_mcp_subscriber_hears_a_caldav_write_within_a_second(served: Served) -> None:
    await mcp_add(served, "alice", title="Seed", project="live")
    todos = calendar(served, "alice", "live")
    heard: list[float] = []

    async def inbox(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification) and message.params.uri == "todo://tasks/pending":
            heard.append(time.monotonic())

    async with mcp_client(served.server.url, served.tokens["alice"], mode="legacy", message_handler=inbox) as watcher:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await watcher.subscribe_resource("todo://tasks/pending")
        await anyio.sleep(0.5)
        heard.clear()
        uid = f"live-{uuid.uuid4().hex}"
        written = time.monotonic()  # the PUT itself counts against the second
        await anyio.to_thread.run_sync(lambda: todos.save_todo(ical=VTODO.format(uid=uid, title="From the phone")))
        with anyio.fail_after(5):
            while not heard:
                await anyio.sleep(0.01)
    assert heard[0] - written < 1.0


async def test_a_task_whose_uid_is_not_path_safe_is_served_and_edited_in_place(served: Served) -> None:
    """An imported UID such as `{...}/...` cannot be a resource name: it is served as h-<hash>.ics."""
    weird = "{Outlook}/item 1"
    async with mcp_client(served.server.url, served.tokens["alice"]) as client:
        text = VTODO.format(uid=weird, title="Imported").replace("PRIORITY:1\n", "X-TODO-PROJECT:imported\n")
        await ok(client, "import_items", {"content": text, "format": "ical", "dry_run": False})
    [task] = (await mcp(served, "alice", "list_items", project="imported"))["items"]
    item = calendar(served, "alice", "imported").todos()[0]
    assert re.fullmatch(r"h-[0-9a-f]{40}\.ics", item.url.path.rsplit("/", 1)[-1])
    assert str(item.icalendar_component["UID"]) == weird
    with served.http("alice") as http:
        answer = http.put(item.url.path, content=VTODO.format(uid=weird, title="Renamed on the phone"))
        assert answer.status_code == 204, answer.text
        assert "Renamed on the phone" in http.get(item.url.path).text
    listed = await mcp(served, "alice", "list_items", project="imported")
    assert [(t["id"], t["title"]) for t in listed["items"]] == [(task["id"], "Renamed on the phone")]


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


def cli(served: Served, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", *argv, "--db", str(served.db)],
        capture_output=True,
        text=True,
        env=subprocess_env(served.home),
        timeout=60,
        check=True,
    )
    return done.stdout
