"""The CalDAV mapping end to end (issue 13, point 5), a real server with the `caldav` client and
raw HTTP, on SQLite and PostgreSQL: what a phone sends that we do not model survives MCP edits,
the phone's resource name, zone and relations are kept, a recurring task completed on a phone
gives one next occurrence (both client styles), and every CalDAV change is one step, via caldav."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from icalendar import Calendar, Component
from support.caldav import Served, calendar, listed_etags, mcp, mcp_add, serve_dav, sync_report
from support.http import mcp_client
from support.mcp import call, text

pytestmark = pytest.mark.anyio

PHONE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//iOS 18//EN
BEGIN:VTODO
UID:{uid}
DTSTAMP:20261201T090000Z
CREATED:20261201T090000Z
SEQUENCE:3
SUMMARY:Buy milk
LOCATION:Corner shop
X-APPLE-SORT-ORDER:17
PRIORITY:2
DUE;TZID=America/New_York:20261207T090000
RELATED-TO:{parent}
RELATED-TO;RELTYPE=DEPENDS-ON:uid-of-nothing-we-know
STATUS:NEEDS-ACTION
BEGIN:VALARM
UID:ALARM-{uid}
X-WR-ALARMUID:ALARM-{uid}
ACTION:DISPLAY
DESCRIPTION:Reminder
TRIGGER;RELATED=END:-PT30M
END:VALARM
END:VTODO
END:VCALENDAR
"""
RECURRING = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//tasks.org//EN
BEGIN:VTODO
UID:{uid}
DTSTAMP:20261201T090000Z
SUMMARY:{title}
DUE;VALUE=DATE:{due}
DTSTART;VALUE=DATE:{due}
RRULE:FREQ=WEEKLY
STATUS:{status}
END:VTODO
END:VCALENDAR
"""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_dav(request, tmp_path_factory)


def vtodo(text: str) -> Component:
    (found,) = Calendar.from_ical(text).walk("VTODO")
    return found


async def test_a_phone_task_keeps_what_we_do_not_model_through_mcp_edits(served: Served) -> None:
    parent = await mcp_add(served, "alice", title="Groceries", project="shop")
    path = calendar(served, "alice", "shop").url.path
    uid = str(uuid.uuid4()).upper()
    href = f"{path}{uid}.ics"  # Apple's name: the UPPERCASE UUID, not the UID's own case
    uid = uid.lower()
    parent_uid = str(calendar(served, "alice", "shop").todos()[0].icalendar_component["UID"])
    with served.http("alice") as http:
        created = http.put(href, content=PHONE.format(uid=uid, parent=parent_uid))
        assert created.status_code == 201, created.text
        got = http.get(href)
        assert got.status_code == 200 and created.headers["etag"] == got.headers["etag"]
        name, etag = href.rsplit("/", 1)[-1], got.headers["etag"]
        seen = listed_etags(http, path)  # from the rows: a listing builds no text, and agrees
        assert seen["propfind"][name] == seen["sync"][name] == etag
        assert seen["multiget"][name] == f"{etag} {got.text}".replace("\r\n", "\n")
        assert http.get(f"{path}{uid}.ics").status_code == 404, "served at the client's name only"
        assert "X-APPLE-SORT-ORDER:17" in got.text and "LOCATION:Corner shop" in got.text

        items = (await mcp(served, "alice", "list_items", project="shop"))["items"]
        task = next(t for t in items if t["title"] == "Buy milk")
        assert "ical" not in task and "href" not in task, "never shown to MCP"
        assert task["priority"] == "high" and task["due_tz"] == "America/New_York"
        assert task["due"] == "2026-12-07T09:00-05:00" and task["parent_id"] == parent["id"]
        assert task["reminders"] == ["-PT30M"], "the phone's alarm is a reminder"
        async with mcp_client(served.server.url, served.tokens["alice"]) as client:
            lines = text(await call(client, "list_items", {"project": "shop"})).splitlines()
        line = next(line for line in lines if "Buy milk" in line)
        assert "⏰ 30m before" in line and "Corner shop" not in line and "BEGIN" not in line, line

        await mcp(
            served, "alice", "update_item", id=task["id"], title="Buy oat milk", remind=["30m before", "1d before"]
        )
        edited = vtodo(http.get(href).text)
        assert str(edited["SUMMARY"]) == "Buy oat milk"
        assert str(edited["LOCATION"]) == "Corner shop" and str(edited["X-APPLE-SORT-ORDER"]) == "17"
        assert edited["DUE"].params["TZID"] == "America/New_York" and str(edited["SEQUENCE"]) == "3"
        assert "uid-of-nothing-we-know" in [str(r) for r in edited["RELATED-TO"]], "an unknown UID is kept"
        alarms = edited.walk("VALARM")
        assert [str(a.get("X-WR-ALARMUID", "")) for a in alarms] == [f"ALARM-{uid}", ""], "the phone's alarm intact"
        assert alarms[1]["TRIGGER"].to_ical() == b"-P1D"
        edited_etag = http.get(href).headers["etag"]
        assert edited_etag != etag and listed_etags(http, path)["propfind"][name] == edited_etag

        # the UID its RELATED-TO named becomes a task: linked (the ETag moves), the relation still served
        other = RECURRING.format(uid="uid-of-nothing-we-know", title="Now known", due="20261207", status="NEEDS-ACTION")
        assert http.put(f"{path}uid-of-nothing-we-know.ics", content=other).status_code == 201
        known = http.get(href)
        assert "uid-of-nothing-we-know" in known.text and known.headers["etag"] != edited_etag
        seen = listed_etags(http, path)
        assert seen["propfind"][name] == seen["sync"][name] == known.headers["etag"]
        assert seen["multiget"][name] == f"{known.headers['etag']} {known.text}".replace("\r\n", "\n")

        history = await mcp(served, "alice", "history", id=task["id"])
        assert [e["op"] for e in history["entries"]] == ["update", "update", "add"]
        bare = f"{path}task-without-extension"  # a name is a name: kept as the client chose it
        bare_uid = uuid.uuid4().hex
        assert (
            http.put(
                bare, content=RECURRING.format(uid=bare_uid, title="Bare", due="20261207", status="NEEDS-ACTION")
            ).status_code
            == 201
        )
        assert "SUMMARY:Bare" in http.get(bare).text and http.delete(bare).status_code in (200, 204)
        assert http.delete(href).status_code in (200, 204)
        assert http.get(href).status_code == 404
    trash = await mcp(served, "alice", "list_items", project="shop", status="deleted")
    assert sorted(t["title"] for t in trash["items"]) == ["Bare", "Buy oat milk"]


async def test_a_caldav_put_is_one_step_marked_via_caldav(served: Served) -> None:
    path = calendar(served, "alice", "inbox").url.path
    uid = uuid.uuid4().hex
    body = RECURRING.format(uid=uid, title="Done already", due="20261201", status="COMPLETED").replace(
        "RRULE:FREQ=WEEKLY\n", ""
    )
    with served.http("alice") as http:
        assert http.put(f"{path}{uid}.ics", content=body).status_code == 201
        done = (await mcp(served, "alice", "list_items", project="inbox", status="done"))["items"]
        task = next(t for t in done if t["title"] == "Done already")
        async with mcp_client(served.server.url, served.tokens["alice"]) as client:
            lines = text(await call(client, "history", {"id": task["id"]})).splitlines()
            assert len(lines) == 1 and lines[0].endswith("Done already (via caldav)"), lines
            await call(client, "undo", {})
        assert http.get(f"{path}{uid}.ics").status_code == 404, "one undo takes the whole PUT back"


@pytest.mark.parametrize("style", ["completed", "due moved"])
async def test_a_recurring_task_completed_on_a_phone_gives_one_next_occurrence(served: Served, style: str) -> None:
    path = calendar(served, "alice", "inbox").url.path
    uid, title = uuid.uuid4().hex, f"Water plants ({style})"
    with served.http("alice") as http:
        first = RECURRING.format(uid=uid, title=title, due="20261207", status="NEEDS-ACTION")
        assert http.put(f"{path}{uid}.ics", content=first).status_code == 201
        if style == "completed":
            step = RECURRING.format(uid=uid, title=title, due="20261207", status="COMPLETED")
        else:  # tasks.org: the same UID, DUE moved to the next occurrence, still open
            step = RECURRING.format(uid=uid, title=title, due="20261214", status="NEEDS-ACTION")
        assert http.put(f"{path}{uid}.ics", content=step).status_code == 204
        again = http.put(f"{path}{uid}.ics", content=step)  # the same body again: nothing new
        assert again.status_code == 204
    everything = (await mcp(served, "alice", "list_items", project="inbox", status="all"))["items"]
    mine = sorted((t["status"], t["due"]) for t in everything if t["title"] == title)
    assert mine == [("done", "2026-12-07"), ("pending", "2026-12-14")], mine


SERIES = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n"
    "BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261201T090000Z\r\nSUMMARY:{title}\r\n"
    "DTSTART:20261207T090000Z\r\nDUE:20261207T100000Z\r\nRRULE:FREQ=WEEKLY\r\nSTATUS:NEEDS-ACTION\r\n"
    "END:VTODO\r\n{override}END:VCALENDAR\r\n"
)
DONE_OVERRIDE = (
    "BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261207T093000Z\r\nRECURRENCE-ID:{at}\r\nSUMMARY:{title}\r\n"
    "DTSTART:{at}\r\nSTATUS:COMPLETED\r\nCOMPLETED:20261207T093000Z\r\nPERCENT-COMPLETE:100\r\nEND:VTODO\r\n"
)


async def series_of(served: Served, title: str) -> list[tuple[str, str]]:
    everything = (await mcp(served, "alice", "list_items", project="inbox", status="all"))["items"]
    return sorted((t["status"], t["due"][:10]) for t in everything if t["title"] == title)


async def test_an_override_completing_the_current_occurrence_completes_it(served: Served) -> None:
    path = calendar(served, "alice", "inbox").url.path
    uid, title = uuid.uuid4().hex, "Weekly review (override)"
    master = SERIES.format(uid=uid, title=title, override="")
    later = SERIES.format(
        uid=uid, title=title, override=DONE_OVERRIDE.format(uid=uid, title=title, at="20261214T090000Z")
    )
    this = SERIES.format(
        uid=uid, title=title, override=DONE_OVERRIDE.format(uid=uid, title=title, at="20261207T090000Z")
    )
    with served.http("alice") as http:
        assert http.put(f"{path}{uid}.ics", content=master).status_code == 201
        refused = http.put(f"{path}{uid}.ics", content=later)
        assert refused.status_code == 400, "a later occurrence's completion is refused, not dropped"
        assert await series_of(served, title) == [("pending", "2026-12-07")]
        assert http.put(f"{path}{uid}.ics", content=this).status_code == 204
        assert http.put(f"{path}{uid}.ics", content=this).status_code == 204  # again: nothing new
    assert await series_of(served, title) == [("done", "2026-12-07"), ("pending", "2026-12-14")]


@pytest.mark.parametrize("mode", ["thisandfuture", "safe"])
async def test_the_caldav_library_completes_a_recurring_task_once(served: Served, mode: str) -> None:
    tasks = calendar(served, "alice", "inbox")
    uid, title = uuid.uuid4().hex, f"Take out bins ({mode})"
    daily = SERIES.format(uid=uid, title=title, override="").replace("WEEKLY", "DAILY")
    daily = daily.replace("DTSTART:20261207T090000Z", "DTSTART;VALUE=DATE:20261207")  # Apple's and the review's
    todo = tasks.save_todo(ical=daily.replace("DUE:20261207T100000Z", "DUE;VALUE=DATE:20261207"))
    todo.complete(completion_timestamp=datetime(2026, 12, 7, 9, 30, tzinfo=UTC), handle_rrule=True, rrule_mode=mode)
    assert await series_of(served, title) == [("done", "2026-12-07"), ("pending", "2026-12-08")]


async def test_a_client_that_uploads_its_done_copy_gets_one_done_record(served: Served) -> None:
    path = calendar(served, "alice", "inbox").url.path
    uid, copy, title = uuid.uuid4().hex, uuid.uuid4().hex, "Feed the cat (own copy)"
    daily = RECURRING.replace("WEEKLY", "DAILY")
    with served.http("alice") as http:  # the review's APPLE-R1 / APPLE-C1
        assert (
            http.put(
                f"{path}{uid}.ics", content=daily.format(uid=uid, title=title, due="20261207", status="NEEDS-ACTION")
            ).status_code
            == 201
        )
        done = daily.format(uid=copy, title=title, due="20261207", status="COMPLETED").replace("RRULE:FREQ=DAILY\n", "")
        assert http.put(f"{path}{copy}.ics", content=done).status_code == 201
        moved = daily.format(uid=uid, title=title, due="20261208", status="NEEDS-ACTION")
        assert http.put(f"{path}{uid}.ics", content=moved).status_code == 204
    assert await series_of(served, title) == [("done", "2026-12-07"), ("pending", "2026-12-08")]


async def test_occurrences_keep_the_client_start_and_properties(served: Served) -> None:
    tasks = calendar(served, "alice", "inbox")
    path = tasks.url.path
    uid, title = uuid.uuid4().hex, "Weekly review (kept)"
    extra = "LOCATION:Office\r\nX-MOZ-LASTACK:20261201T090000Z\r\nPRIORITY:2\r\nSTATUS:NEEDS-ACTION"
    first = SERIES.format(uid=uid, title=title, override="").replace("STATUS:NEEDS-ACTION", extra)
    stepped = first.replace("20261207T", "20261214T")  # tasks.org: DTSTART and DUE a week on, open
    with served.http("alice") as http:
        assert http.put(f"{path}{uid}.ics", content=first).status_code == 201
        assert http.put(f"{path}{uid}.ics", content=stepped).status_code == 204
        assert http.put(f"{path}{uid}.ics", content=stepped.replace("NEEDS-ACTION", "COMPLETED")).status_code == 204
    served_todos = [t.icalendar_component for t in tasks.todos(include_completed=True)]
    mine = sorted((str(t["DUE"].to_ical().decode()), t) for t in served_todos if str(t["SUMMARY"]) == title)
    assert [due for due, _ in mine] == ["20261207T100000Z", "20261214T100000Z", "20261221T100000Z"]
    (_, done_copy), _, (_, following) = mine
    assert str(done_copy["STATUS"]) == "COMPLETED" and "RRULE" not in done_copy, "one occurrence's record"
    assert (str(done_copy["LOCATION"]), int(done_copy["PRIORITY"])) == ("Office", 2) and "X-MOZ-LASTACK" in done_copy
    assert following["DTSTART"].to_ical() == b"20261221T090000Z", "an hour before its due, as the client had it"


async def test_completed_reopened_completed_on_a_phone_leaves_one_open_occurrence(served: Served) -> None:
    path = calendar(served, "alice", "inbox").url.path
    uid, title = uuid.uuid4().hex, "Water plants (again)"
    with served.http("alice") as http:
        for status in ("NEEDS-ACTION", "COMPLETED", "NEEDS-ACTION", "COMPLETED"):
            body = RECURRING.format(uid=uid, title=title, due="20261207", status=status)
            assert http.put(f"{path}{uid}.ics", content=body).status_code in (201, 204)
    assert await series_of(served, title) == [("done", "2026-12-07"), ("pending", "2026-12-14")]


def _alarm(trigger: str, action: str = "DISPLAY") -> str:
    return f"BEGIN:VALARM\r\nACTION:{action}\r\nDESCRIPTION:x\r\nTRIGGER{trigger}\r\nEND:VALARM\r\n"


async def test_a_phones_valarms_are_served_as_sent_until_a_reminder_changes_over_mcp(served: Served) -> None:
    path = calendar(served, "alice", "inbox").url.path
    uid = uuid.uuid4().hex
    alarms = [
        _alarm(":-PT15M"),
        _alarm(":-PT15M", "AUDIO"),  # the same trigger twice
        _alarm(";RELATED=START:-PT5M"),  # from DTSTART (none here: from DUE)
        _alarm(":-P1D"),
        _alarm(":-PT24H", "AUDIO"),  # the same time written otherwise
        *(_alarm(f":-PT{n}H") for n in range(1, 13)),  # more than the task's 10 reminders
    ]
    body = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n"
        f"DTSTAMP:20261201T090000Z\r\nSUMMARY:Alarms\r\nDUE:20261220T100000Z\r\n{''.join(alarms)}"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    )
    with served.http("alice") as http:
        created = http.put(f"{path}{uid}.ics", content=body)
        assert created.status_code == 201, created.text
        got = http.get(f"{path}{uid}.ics")
        assert got.headers["etag"] == created.headers["etag"]
        assert len(vtodo(got.text).walk("VALARM")) == len(alarms), "every VALARM served back"
        items = (await mcp(served, "alice", "list_items", status="all"))["items"]
        task = next(t for t in items if t["title"] == "Alarms")
        assert len(task["reminders"]) == 10 and task["reminders"][:4] == ["-PT15M", "-PT5M", "-P1D", "-PT1H"]

        await mcp(served, "alice", "update_item", id=task["id"], title="Alarms renamed")
        renamed = vtodo(http.get(f"{path}{uid}.ics").text)
        assert str(renamed["SUMMARY"]) == "Alarms renamed" and len(renamed.walk("VALARM")) == len(alarms)

        kept = [r for r in task["reminders"] if r not in ("-PT15M", "-P1D")]
        await mcp(served, "alice", "update_item", id=task["id"], remind=[*kept, "2 minutes before"])
        served_alarms = vtodo(http.get(f"{path}{uid}.ics").text).walk("VALARM")
        triggers = [(a["TRIGGER"].to_ical().decode(), str(a["ACTION"])) for a in served_alarms]
        assert ("-PT15M", "DISPLAY") not in triggers and ("-P1D", "DISPLAY") not in triggers, triggers
        assert ("-PT24H", "AUDIO") not in triggers and ("-PT15M", "AUDIO") not in triggers, "every VALARM at that time"
        assert triggers[-1] == ("-PT2M", "DISPLAY") and len(triggers) == len(alarms) - 4 + 1, triggers


async def test_a_subtask_put_before_its_parent_is_linked_when_the_parent_arrives(served: Served) -> None:
    path = calendar(served, "alice", "inbox").url.path
    child, parent, blocker = (f"{name}-{uuid.uuid4().hex}" for name in ("child", "parent", "blocker"))
    body = RECURRING.format(uid=child, title="Child first", due="20261207", status="NEEDS-ACTION").replace(
        "RRULE:FREQ=WEEKLY\n", f"RELATED-TO;RELTYPE=PARENT:{parent}\nRELATED-TO;RELTYPE=DEPENDS-ON:{blocker}\n"
    )
    with served.http("alice") as http:
        created = http.put(f"{path}{child}.ics", content=body)
        assert created.status_code == 201, created.text
        token, _ = sync_report(http, path, "")
        for uid, title in ((parent, "Parent later"), (blocker, "Blocker later")):
            later = RECURRING.format(uid=uid, title=title, due="20261207", status="NEEDS-ACTION")
            assert http.put(f"{path}{uid}.ics", content=later.replace("RRULE:FREQ=WEEKLY\n", "")).status_code == 201
        _, changed = sync_report(http, path, token)
        assert set(changed) == {f"{child}.ics", f"{parent}.ics", f"{blocker}.ics"}, changed
        got = http.get(f"{path}{child}.ics")
        assert got.headers["etag"] != created.headers["etag"]
        relations = {str(r): str(r.params.get("RELTYPE", "PARENT")) for r in vtodo(got.text)["RELATED-TO"]}
        assert relations == {parent: "PARENT", blocker: "DEPENDS-ON"}, "the client's relations still served"
        assert http.put(f"{path}{child}.ics", content=body).status_code == 204, "its re-PUT keeps the links"
    items = {t["title"]: t for t in (await mcp(served, "alice", "list_items", status="all"))["items"]}
    assert items["Child first"]["parent_id"] == items["Parent later"]["id"]
    assert items["Child first"]["depends_on"] == [items["Blocker later"]["id"]]
