"""CalDAV at /dav, end to end: the real server (`serve --http --auth tokens` on 127.0.0.1) and the
real `caldav` client library, on SQLite and PostgreSQL. What a phone does (discover, create,
edit with ETags, delete, sync) is checked against what MCP sees, and the other way round.
Who may do it (401, isolation, the guards) is in test_caldav_access.py."""

from __future__ import annotations

import re
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import MCPDeprecationWarning
from mcp.types import ResourceUpdatedNotification
from support.caldav import (
    VEVENT,
    VTODO,
    Served,
    calendar,
    calendar_is_gone,
    mcp,
    mcp_add,
    serve_dav,
    sync_report,
    titles,
)
from support.http import mcp_client
from support.mcp import ok

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_dav(request, tmp_path_factory)


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
        late = http.put(href, content=VTODO.format(uid=uid, title="Over MCP's edit"), headers={"If-Match": before})
    assert after.headers["etag"] != before
    assert "SUMMARY:Plumber booked" in after.text
    assert late.status_code == 412, "an MCP edit between the client's GET and its PUT: refused"
    assert await titles(served, "alice", "house") == ["Plumber booked"]


async def test_delete_moves_the_task_to_the_trash(served: Served) -> None:
    task = await mcp_add(served, "alice", title="Old chore", project="chores")
    todos = calendar(served, "alice", "chores")
    todos.todos()[0].delete()
    trash = await mcp(served, "alice", "list_items", status="deleted", project="chores")
    assert [t["id"] for t in trash["items"]] == [task["id"]]
    assert calendar_is_gone(served, "alice", "chores")
    restored = await mcp(served, "alice", "update_item", id=task["id"], status="pending")
    assert restored["items"][0]["status"] == "pending"


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
    """A VEVENT: 403 with RFC 4791's supported-calendar-component; a body we cannot use: 400 with
    our one-line reason; a VTODO without SUMMARY (RFC 5545 allows it) is a task, served as sent."""
    await mcp_add(served, "alice", title="Only tasks here", project="tasks-only")
    todos = calendar(served, "alice", "tasks-only")
    bad_due = VTODO.format(uid="bad-due", title="x").replace("DUE;VALUE=DATE:20261224", "DUE:notadate")
    untitled = VTODO.format(uid="untitled", title="x").replace("SUMMARY:x\n", "")
    with served.http("alice") as http:
        refused = http.put(f"{todos.url.path}meeting.ics", content=VEVENT.format(uid="meeting"))
        broken = http.put(f"{todos.url.path}broken.ics", content="BEGIN:VCALENDAR\nnot a calendar")
        dated = http.put(f"{todos.url.path}bad-due.ics", content=bad_due)
        empty = http.put(f"{todos.url.path}empty.ics", content=VEVENT.replace("VEVENT", "VJOURNAL").format(uid="j"))
        assert http.put(f"{todos.url.path}untitled.ics", content=untitled).status_code == 201
        served_back = http.get(f"{todos.url.path}untitled.ics").text
    assert refused.status_code == 403, refused.text
    assert "supported-calendar-component" in refused.text and "xml" in refused.headers["content-type"]
    assert empty.status_code == 403
    for answer in (broken, dated):
        assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/plain"), answer.text
        assert answer.text.strip() != "Bad Request" and len(answer.text.strip().splitlines()) == 1, answer.text
    assert "SUMMARY" not in served_back and "UID:untitled" in served_back
    assert sorted(await titles(served, "alice", "tasks-only", "all")) == ["(no title)", "Only tasks here"]


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
