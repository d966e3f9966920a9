"""CalDAV collections end to end: task lists made, styled, renamed, deleted and moved between on a
phone (the real `caldav` client and raw requests), seen and undone over MCP; a project shared
with bob is a list in bob's home. One real server per backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import caldav
import pytest
from caldav.elements import cdav, dav, ical
from support.caldav import VTODO, Served, mcp, mcp_add, serve_dav, titles
from support.http import mcp_client
from support.mcp import ok

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

STYLE = [ical.CalendarColor("#FF8800FF"), ical.CalendarOrder("3"), cdav.CalendarDescription("every Saturday")]
STYLE_KEYS = [ical.CalendarColor(), ical.CalendarOrder(), cdav.CalendarDescription()]


def mkcalendar(name: str, components: str = "VTODO") -> str:
    return (
        '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        f'<D:displayname>{name}</D:displayname><C:supported-calendar-component-set><C:comp name="{components}"/>'
        "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
    )


def mkcol(name: str, resourcetype: str = "<C:calendar/>") -> str:
    """An extended MKCOL (RFC 5689), as DAVx5 makes a list."""
    return (
        '<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        f"<D:resourcetype><D:collection/>{resourcetype}</D:resourcetype><D:displayname>{name}</D:displayname>"
        '<C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>'
        "</D:prop></D:set></D:mkcol>"
    )


def proppatch(name: str) -> str:
    return (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
        f"<D:displayname>{name}</D:displayname></D:prop></D:set></D:propertyupdate>"
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_dav(request, tmp_path_factory, tools="core,share")


def lists(client: caldav.DAVClient) -> dict[str, caldav.Calendar]:
    """The lists of the client's home by name, read afresh (one client per user and test: a new
    client's first request is unauthenticated, and Radicale answers each 401 a second late)."""
    return {c.get_display_name(): c for c in client.principal().calendars()}


async def share(served: Served, project: str) -> None:
    """alice shares `project` with bob."""
    async with mcp_client(served.server.url, served.tokens["alice"]) as client:
        await ok(client, "share_project", {"project": project, "user": "bob"})


async def projects_resource(served: Served, user: str) -> str:
    async with mcp_client(served.server.url, served.tokens[user]) as client:
        contents = (await client.read_resource("todo://projects")).contents[0]
    return str(getattr(contents, "text", ""))


async def test_a_list_made_on_a_phone_stays_keeps_its_style_and_a_rename_is_one_undo(served: Served) -> None:
    alice = served.client("alice")
    made = alice.principal().make_calendar(
        name="Groceries", cal_id="groc-1", supported_calendar_component_set=["VTODO"]
    )
    made.set_properties(STYLE)
    groceries = lists(served.client("alice"))["Groceries"]  # another client: it was stored
    assert str(groceries.url).endswith("/dav/alice/groc-1/")
    styled = groceries.get_properties(STYLE_KEYS)
    assert [styled[key.tag] for key in STYLE_KEYS] == ["#FF8800FF", "3", "every Saturday"]
    assert "- Groceries: 0 pending, 0 done" in await projects_resource(served, "alice"), "MCP sees the empty list"
    await mcp_add(served, "alice", title="Paint", project="home")
    # a task from the phone and one from MCP, then the phone renames the list
    groceries.save_todo(ical=VTODO.format(uid=f"t-{uuid.uuid4().hex}", title="Milk"))
    await mcp_add(served, "alice", title="Eggs", project="Groceries")
    groceries.set_properties([dav.DisplayName("Food")])
    food = lists(alice)["Food"]
    assert str(food.url) == str(groceries.url), "a rename keeps the list's URL"
    assert food.get_properties([ical.CalendarColor()])[ical.CalendarColor().tag] == "#FF8800FF"
    assert sorted(await titles(served, "alice", "Food")) == ["Eggs", "Milk"]
    assert sorted(str(t.icalendar_component["SUMMARY"]) for t in food.todos()) == ["Eggs", "Milk"]
    refused = [  # in parallel: Radicale answers each 403 a second late
        ("MKCALENDAR", "groc-1/", mkcalendar("Again"), 409),  # a path in use
        ("MKCALENDAR", "groc-2/", mkcalendar("home"), 409),  # a name in use
        ("MKCALENDAR", "events/", mkcalendar("Events", "VEVENT"), 403),
        ("MKCOL", "groc-1/", mkcol("Again"), 405),  # a path in use, as DAVx5 asks
        ("MKCOL", "folder/", mkcol("Folder", resourcetype=""), 403),  # a plain WebDAV collection
        (
            "MKCOL",
            "cards/",
            mkcol("Cards", resourcetype="<A:addressbook xmlns:A='urn:ietf:params:xml:ns:carddav'/>"),
            403,
        ),
        ("PROPPATCH", "groc-1/", proppatch("home"), 403),  # a rename onto a name in use
        ("PROPPATCH", "inbox/", proppatch("Elsewhere"), 403),  # the default list keeps its name
    ]
    with served.http("alice") as http, ThreadPoolExecutor(len(refused)) as pool:
        answers = list(pool.map(lambda r: http.request(r[0], f"/dav/alice/{r[1]}", content=r[2]), refused))
    assert [a.status_code for a in answers] == [r[3] for r in refused]
    reasons = [a.text.strip() for a in answers]  # ours, in the answer's body (one line)
    in_use = "a list named 'home' exists already; pick another name, or rename or delete that one"
    assert reasons[1] == reasons[6] == in_use
    assert reasons[2] == "task lists hold VTODO only, not VEVENT"
    assert reasons[5] == "only task lists (calendars) are made here, in your own home"
    assert reasons[7].startswith("'inbox' is the default list")
    assert set(lists(alice)) == {"inbox", "Food", "home"}, "nothing was made or renamed by the refused requests"
    with served.http("alice") as http:
        assert http.request("MKCOL", "/dav/alice/chores-1/", content=mkcol("Chores")).status_code == 201
    assert str(lists(alice)["Chores"].url).endswith("/dav/alice/chores-1/")
    assert await titles(served, "alice", "home") == ["Paint"]
    undone = await mcp(served, "alice", "undo")
    assert len(undone["undone"]) == 2, undone
    assert set(lists(alice)) == {"inbox", "Groceries", "home", "Chores"}
    back = lists(alice)["Groceries"]
    assert str(back.url) == str(groceries.url) and sorted(await titles(served, "alice", "Groceries")) == [
        "Eggs",
        "Milk",
    ]


async def test_deleting_a_list_trashes_it_and_undo_brings_it_back_and_move_changes_the_project(
    served: Served,
) -> None:
    alice = served.client("alice")
    trip = alice.principal().make_calendar(name="Trip", cal_id="trip-1", supported_calendar_component_set=["VTODO"])
    trip.set_properties([ical.CalendarColor("#0000FFFF")])
    uid = f"t-{uuid.uuid4().hex}"
    trip.save_todo(ical=VTODO.format(uid=uid, title="Tickets"))
    await mcp_add(served, "alice", title="Bags", project="Trip")
    with served.http("alice") as http:
        moved = http.request(
            "MOVE", f"/dav/alice/trip-1/{uid}.ics", headers={"Destination": f"{served.dav}alice/inbox/{uid}.ics"}
        )
        assert moved.status_code in (201, 204), moved.text
        assert await titles(served, "alice", "Trip") == ["Bags"]
        assert "Tickets" in await titles(served, "alice", "inbox")
        assert http.get(f"/dav/alice/trip-1/{uid}.ics").status_code == 404
        assert http.get(f"/dav/alice/inbox/{uid}.ics").status_code == 200
    lists(alice)["Trip"].delete()
    assert "Trip" not in lists(alice)
    assert await titles(served, "alice", "Trip", "deleted") == ["Bags"], "its tasks are in the trash"
    await mcp(served, "alice", "undo")
    back = lists(alice)["Trip"]
    assert str(back.url).endswith("/dav/alice/trip-1/")
    assert back.get_properties([ical.CalendarColor()])[ical.CalendarColor().tag] == "#0000FFFF"
    assert [str(t.icalendar_component["SUMMARY"]) for t in back.todos()] == ["Bags"]
    lists(alice)["inbox"].delete()  # the default list stays: it is only emptied
    assert "inbox" in lists(alice) and await titles(served, "alice", "inbox") == []
    await mcp(served, "alice", "undo")
    assert "Tickets" in await titles(served, "alice", "inbox")


async def test_a_shared_project_is_a_list_in_the_members_home(served: Served) -> None:
    await mcp_add(served, "alice", title="Agenda", project="team")
    await share(served, "team")
    alice = served.client("alice")
    alice.principal().make_calendar(name="Ideas", cal_id="ideas", supported_calendar_component_set=["VTODO"])
    await share(served, "Ideas")  # shared while still empty
    bob = lists(served.client("bob"))
    team = bob["alice/team"]
    assert [str(t.icalendar_component["SUMMARY"]) for t in team.todos()] == ["Agenda"]
    ideas = bob["alice/Ideas"]
    ideas.save_todo(ical=VTODO.format(uid=f"b-{uuid.uuid4().hex}", title="From bob's phone"))
    assert await titles(served, "alice", "Ideas") == ["From bob's phone"], "the owner's project holds it"
    agenda = (await mcp(served, "alice", "list_items", project="team"))["items"][0]
    await mcp(served, "alice", "update_item", id=agenda["id"], title="Agenda v2")
    assert [str(t.icalendar_component["SUMMARY"]) for t in team.todos()] == ["Agenda v2"]
    own = f"b-{uuid.uuid4().hex}"
    bob["inbox"].save_todo(ical=VTODO.format(uid=own, title="bob's own"))
    # a member's phone cannot rename the owner's list, nor move a task of its own into it
    with served.http("bob") as http, ThreadPoolExecutor(2) as pool:
        renamed, moved = pool.map(
            lambda request: http.request(*request[:2], content=request[2], headers=request[3]),
            [
                ("PROPPATCH", team.url.path, proppatch("mine"), {}),
                ("MOVE", f"/dav/bob/inbox/{own}.ics", None, {"Destination": f"{team.url}{own}.ics"}),
            ],
        )
    assert (renamed.status_code, moved.status_code) == (403, 403)
    assert await titles(served, "bob", "inbox") == ["bob's own"] and "bob's own" not in await titles(
        served, "alice", "team"
    )
    # another user's collections answer exactly like missing ones, whatever the method (each
    # refusal waits Radicale's second: in parallel)
    requests = [
        ("PROPFIND", "", ""),
        ("PROPPATCH", "", proppatch("x")),
        ("MKCALENDAR", "", mkcalendar("x")),
        ("DELETE", "", ""),
        ("REPORT", "", '<?xml version="1.0"?><C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>'),
        ("PUT", "x.ics", VTODO.format(uid="x", title="x")),
        ("GET", "x.ics", ""),
    ]
    with served.http("dave") as http, ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(
                lambda r: http.request(r[0], r[1], content=r[2] or None),
                [
                    (m, f"{home}ideas/{name}", body)
                    for m, name, body in requests
                    for home in ("/dav/alice/", "/dav/nobody/")
                ],
            )
        )
    for (method, _, _), theirs, missing in zip(requests, answers[::2], answers[1::2], strict=True):
        assert (theirs.status_code, theirs.text) == (missing.status_code, missing.text), method
        assert theirs.status_code in (403, 404), (method, theirs.status_code)
    assert await titles(served, "alice", "Ideas") == ["From bob's phone"]
    assert "Ideas" in lists(alice)


async def test_a_members_phone_keeps_the_uid_it_put_into_a_shared_list(served: Served) -> None:
    mine, secret = f"m-{uuid.uuid4().hex}", f"secret-{uuid.uuid4().hex}"
    await mcp_add(served, "alice", title="Rake", project="garden")
    with served.http("alice") as http:
        hidden = http.put(f"/dav/alice/inbox/{secret}.ics", content=VTODO.format(uid=secret, title="alice's secret"))
        assert hidden.status_code == 201, hidden.text
    await share(served, "garden")
    path = lists(served.client("bob"))["alice/garden"].url.path
    with served.http("bob") as http:
        created = http.put(f"{path}hj3.ics", content=VTODO.format(uid=mine, title="Weed"))
        assert created.status_code == 201, created.text
        got = http.get(f"{path}hj3.ics")
        assert f"UID:{mine}" in got.text, "the member's phone sees the UID it PUT"
        assert got.headers["etag"] == created.headers["etag"]
        again = http.put(f"{path}hj3.ics", content=VTODO.format(uid=mine, title="Weed twice"))
        assert again.status_code == 204, again.text
        etag = http.get(f"{path}hj3.ics").headers["etag"]
        edit = VTODO.format(uid=mine, title="Weed thrice")
        assert http.put(f"{path}hj3.ics", content=edit, headers={"If-Match": etag}).status_code == 204
        # a UID alice has outside the shared project: stored like any other, nothing revealed
        other = http.put(f"{path}s.ics", content=VTODO.format(uid=secret, title="bob's own idea"))
        assert other.status_code == 201, other.text
        assert f"UID:{secret}" in http.get(f"{path}s.ics").text
    assert sorted(await titles(served, "alice", "garden")) == ["Rake", "Weed thrice", "bob's own idea"]
    assert "alice's secret" in await titles(served, "alice", "inbox")
    with served.http("alice") as http:
        assert f"UID:{mine}" in http.get("/dav/alice/garden/hj3.ics").text, "the owner's task has the phone's UID"
        assert "alice's secret" in http.get(f"/dav/alice/inbox/{secret}.ics").text
        assert f"UID:{secret}" not in http.get("/dav/alice/garden/s.ics").text, "the owner's gets a fresh UID"
