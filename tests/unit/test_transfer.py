"""Import and export over a real store (service/transfer.py), and their MCP side (server/tools/transfer.py).

The round-trip properties: for every writable format, what the format carries survives an
export and an import into a fresh store unchanged, and importing the file again (into the
fresh store or back into the original) adds and updates nothing. What each format cannot
carry is listed in docs/formats.md and left out of its projection here."""

from __future__ import annotations

import io
import re
import tempfile
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp_types import ListRootsResult, Root
from support.env import TESTS
from support.mcp import text as text_of

from mcp_server_todo.config import Config
from mcp_server_todo.errors import InvalidInput, TodoError
from mcp_server_todo.formats.markdown import _FIELD
from mcp_server_todo.formats.taskwarrior import rule_to_recur
from mcp_server_todo.model import Status, Task, clean_project, clean_tags, clean_title
from mcp_server_todo.server import build_server
from mcp_server_todo.server.tools.transfer import resolve_path
from mcp_server_todo.service import DETAIL_MAX, TodoService, Transfer
from mcp_server_todo.service.import_values import derived_key, merge_stamp, normal_due
from mcp_server_todo.store import open_store, sqlite_url
from mcp_server_todo.store.sqlite import SQLiteStore

DATA = TESTS / "data"


@contextmanager
def fresh_store() -> Iterator[SQLiteStore]:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(sqlite_url(Path(folder) / "todo.db"))
        assert isinstance(store, SQLiteStore)
        try:
            yield store
        finally:
            store.close()


def all_tasks(store: SQLiteStore) -> list[Task]:
    return Transfer(store).tasks()


def export(store: SQLiteStore, fmt: str, **kwargs: Any) -> str:
    out = io.StringIO()
    Transfer(store).export(fmt, out, **kwargs)
    return out.getvalue()


def load(store: SQLiteStore, fmt: str, text: str, **kwargs: Any) -> Any:
    return Transfer(store).import_lines(io.StringIO(text), fmt, **kwargs)


def put_all(store: SQLiteStore, tasks: list[Task]) -> None:
    with store.write() as tx:
        for task in tasks:
            tx.put(task)
        tx.reserve_ids(max((t.id for t in tasks), default=0))


# ---- strategies ------------------------------------------------------------------------

TRICKY = "+@#:()[]<>-!?.,;\\\"'/&*x"
WORD = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E),
        st.sampled_from(list("éßøΩ漢字🙂") + list(TRICKY)),
    ),
    min_size=1,
    max_size=7,
)
ZONES = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]
RULES = [
    "FREQ=DAILY",
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=YEARLY;COUNT=3",
]
TODOTXT_KEY = re.compile(r"(due|tz|rec|rrule|pri|uid|parent):\S")


def todotxt_title(title: str) -> bool:
    words = title.split(" ")
    return not any((len(w) > 1 and w[0] in "+@") or TODOTXT_KEY.match(w) for w in words)


def markdown_title(title: str) -> bool:
    words = title.split(" ")
    return not any(len(w) > 1 and w[0] == "#" for w in words) and not _FIELD.search(title) and "<!--" not in title


TITLE_RULES = {"todotxt": todotxt_title, "markdown": markdown_title}


def _valid(fn: Any, value: Any) -> bool:
    try:
        fn(value)
    except TodoError:
        return False
    return True


@st.composite
def titles(draw: st.DrawFn, fmt: str) -> str:
    words = draw(st.lists(WORD, min_size=1, max_size=4))
    title = draw(st.sampled_from([" ", "  "])).join(words)
    allowed = TITLE_RULES.get(fmt, lambda _: True)
    if not _valid(clean_title, title) or clean_title(title) != title or not allowed(title):
        return draw(st.sampled_from(["Buy milk", "Call Mom", "Überweisung prüfen", "x", "Zahlen: 1,2,3"]))
    return title


@st.composite
def projects(draw: st.DrawFn, fmt: str) -> str:
    name = draw(st.one_of(st.just("inbox"), st.sampled_from(["Home", "Work", "Side Project", "C#", "a(b)"]), WORD))
    if not _valid(clean_project, name) or clean_project(name) != name:
        return "inbox"
    if fmt == "todotxt" and " " in name:
        return name.replace(" ", "_")
    if fmt == "markdown" and (name.endswith("#") or "(" in name or ")" in name):
        return "Home"
    return name


TAG = st.text(alphabet=st.sampled_from(list("abcXYZ09-_+@éß")), min_size=1, max_size=6)


@st.composite
def tag_lists(draw: st.DrawFn) -> list[str]:
    tags = draw(st.lists(TAG, max_size=3))
    return clean_tags(tags) if _valid(clean_tags, tags) else []


NOTES = st.text(
    alphabet=st.one_of(st.sampled_from(list("\n\t >-[]#@*")), st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
    max_size=40,
)
MOMENTS = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=UTC)
)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@st.composite
def dues(draw: st.DrawFn, fmt: str) -> tuple[str | None, str | None]:
    kind = draw(st.sampled_from(["none", "date", "zoned", "offset"]))
    if kind == "none":
        return None, None
    if kind == "date":
        return draw(st.dates(date(2015, 1, 1), date(2035, 1, 1))).isoformat(), None
    wall = draw(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1))).replace(
        second=0, microsecond=0
    )
    if kind == "zoned":
        return normal_due(wall.isoformat(), draw(st.sampled_from(ZONES)), UTC)
    offset = draw(st.sampled_from(["+05:30", "-03:00", "+00:00", "+14:00"]))
    return normal_due(wall.isoformat() + offset, None, UTC)


@st.composite
def task_lists(draw: st.DrawFn, fmt: str) -> list[Task]:
    count = draw(st.integers(0, 7))
    tasks: list[Task] = []
    for index in range(count):
        status = draw(st.sampled_from([Status.pending, Status.pending, Status.done, Status.deleted]))
        created = draw(MOMENTS)
        updated = created + draw(st.timedeltas(timedelta(0), timedelta(days=30)))
        due, due_tz = draw(dues(fmt))
        if fmt == "taskwarrior" and due is not None and len(due) > 10:
            instant = datetime.fromisoformat(due).astimezone(UTC)
            if instant.time() == datetime.min.time():
                due, due_tz = None, None  # local midnight is how Taskwarrior stores a date
        alive = [t.id for t in tasks if t.status is not Status.deleted]
        parent = draw(st.one_of(st.none(), st.sampled_from(alive))) if alive else None
        depends = draw(st.lists(st.sampled_from([t.id for t in tasks]), unique=True, max_size=2)) if tasks else []
        uid = draw(
            st.one_of(st.uuids().map(lambda u: u.hex), st.from_regex(r"[a-z0-9]{1,8}@example\.com", fullmatch=True))
        )
        completed = (
            stamp(updated) if status is Status.done or (status is Status.deleted and draw(st.booleans())) else None
        )
        tasks.append(
            Task(
                id=index + 1,
                title=draw(titles(fmt)),
                notes=draw(NOTES),
                status=status,
                priority=draw(st.sampled_from(["none", "low", "medium", "high"])),
                due=due,
                due_tz=due_tz,
                recur=draw(st.one_of(st.none(), st.sampled_from(RULES))) if due else None,
                project=draw(projects(fmt)),
                tags=draw(tag_lists()),
                parent_id=parent,
                depends_on=depends,
                created_at=stamp(created),
                updated_at=stamp(updated),
                completed_at=completed,
                uid=uid,
            )
        )
    if fmt == "ical":
        tasks = [_ical_safe(t) for t in tasks]
    uids = [t.uid for t in tasks]
    if len(set(uids)) != len(uids):
        return [t.model_copy(update={"uid": uuid.uuid4().hex}) for t in tasks]
    return tasks


def _ical_safe(task: Task) -> Task:
    """The icalendar library reads a backslash before n or N as a line break, whatever was
    escaped (docs/formats.md lists it): such text is left out of the iCalendar examples."""

    def safe(text: str) -> str:
        return re.sub(r"\\(?=[nN])", "/", text)

    return task.model_copy(
        update={"title": safe(task.title), "notes": safe(task.notes), "tags": clean_tags([safe(t) for t in task.tags])}
    )


# ---- what each format carries -------------------------------------------------------------


def _instant(due: str | None) -> str | None:
    if due is None or len(due) == 10:
        return due
    return datetime.fromisoformat(due).astimezone(UTC).isoformat()


def _second(value: str | None) -> str | None:
    return None if value is None else value[:19]


def projection(fmt: str, tasks: list[Task]) -> dict[str, dict[str, Any]]:
    """Per uid, the fields `fmt` carries, as they must come back."""
    keeps_trash = fmt in ("json", "ical", "taskwarrior")
    listed = [t for t in tasks if keeps_trash or t.status is not Status.deleted]
    uids = {t.id: t.uid for t in listed}
    found: dict[str, dict[str, Any]] = {}
    for t in listed:
        common = {
            "title": t.title,
            "status": t.status,
            "priority": t.priority,
            "project": t.project,
            "tags": t.tags,
        }
        parent = uids.get(t.parent_id) if t.parent_id is not None else None
        depends = sorted(uids[d] for d in t.depends_on if d in uids)
        done_at = t.completed_at if t.status is Status.done else None
        extra: dict[str, Any]
        if fmt == "json":
            extra = t.model_dump()
        elif fmt == "todotxt":
            extra = {
                "due": (t.due, t.due_tz),
                "recur": t.recur,
                "parent": parent,
                "created": t.created_at[:10],
                "completed": done_at and done_at[:10],
            }
        elif fmt == "markdown":
            extra = {"due": (t.due, t.due_tz), "recur": t.recur, "notes": t.notes, "parent": parent}
            extra["completed"] = done_at
        elif fmt == "ical":
            # a date-time is written in its zone (TZID) or, without one, in UTC; a zone of UTC
            # is UTC too, and comes back as a bare UTC time
            zoned = t.due_tz not in (None, "UTC")
            due = t.due if t.due is None or len(t.due) == 10 or zoned else _instant(t.due)
            extra = {
                "due": (due, t.due_tz if zoned else None),
                "recur": t.recur,
                "notes": t.notes,
                "parent": parent,
                "depends": depends,
                "created": _second(t.created_at),
                "updated": _second(t.updated_at),
                "completed": _second(t.completed_at),
            }
        else:  # taskwarrior
            extra = {
                "due": _instant(t.due),
                "recur": t.recur,
                "notes": t.notes,
                "parent": parent,
                "depends": depends,
                "created": _second(t.created_at),
                "updated": _second(t.updated_at),
                "completed": _second(t.completed_at) if t.status is not Status.pending else None,
            }
        assert t.uid is not None
        found[t.uid] = {**common, **extra}
    return found


def imported_view(fmt: str, tasks: list[Task]) -> dict[str, dict[str, Any]]:
    """The same projection of the tasks an import produced (zones that a format rewrites
    compared as instants, as the projection does)."""
    view = projection(fmt, tasks)
    if fmt == "ical":
        for task in tasks:
            entry = view[task.uid or ""]
            if task.due and len(task.due) > 10 and not task.due_tz:
                entry["due"] = (_instant(task.due), None)
    return view


def check_round_trip(fmt: str, tasks: list[Task]) -> None:
    with fresh_store() as source, fresh_store() as target:
        put_all(source, tasks)
        text = export(source, fmt)
        first = load(target, fmt, text)
        expected = projection(fmt, tasks)
        assert first.problems == 0, first.items
        assert first.added == len(expected), first.items
        assert imported_view(fmt, all_tasks(target)) == expected, text
        for store in (target, source):
            again = load(store, fmt, text)
            assert (again.added, again.updated, again.problems) == (0, 0, 0), (again.items, text)
        if fmt == "json":
            assert all_tasks(target) == all_tasks(source)
            service = TodoService(target)
            assert service.add("next").id == max((t.id for t in tasks), default=0) + 1


ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(task_lists("json"))
def test_round_trip_json_reproduces_the_store(tasks: list[Task]) -> None:
    check_round_trip("json", tasks)


@ROUND_TRIP
@given(task_lists("todotxt"))
def test_round_trip_todotxt(tasks: list[Task]) -> None:
    check_round_trip("todotxt", tasks)


@ROUND_TRIP
@given(task_lists("markdown"))
def test_round_trip_markdown(tasks: list[Task]) -> None:
    check_round_trip("markdown", tasks)


@ROUND_TRIP
@given(task_lists("ical"))
def test_round_trip_ical(tasks: list[Task]) -> None:
    check_round_trip("ical", tasks)


@ROUND_TRIP
@given(task_lists("taskwarrior"))
def test_round_trip_taskwarrior(tasks: list[Task]) -> None:
    check_round_trip("taskwarrior", tasks)


@pytest.mark.parametrize("fmt", ["json", "ical", "taskwarrior"])
def test_reminders_round_trip_through_json_ical_and_taskwarrior(fmt: str) -> None:
    with fresh_store() as source:
        svc = TodoService(source, tz=ZoneInfo("Europe/Paris"))
        svc.add("flight", due="2026-12-20T08:00", remind=["2 hours before", "1 day before", "2026-12-19 20:00"])
        svc.add("timed only", remind=["2026-12-24 09:00"])
        svc.add("none")
        text = export(source, fmt)
        want = {t.title: t.reminders for t in all_tasks(source)}
    assert want["flight"] == ["-PT2H", "-P1D", "2026-12-19T19:00:00Z"]
    with fresh_store() as target:
        load(target, fmt, text)
        assert {t.title: t.reminders for t in all_tasks(target)} == want
        load(target, fmt, text)
        assert {t.title: t.reminders for t in all_tasks(target)} == want, "a second import changes nothing"


def test_reminders_on_import_are_validated_and_an_older_dump_keeps_them() -> None:
    with fresh_store() as store:
        svc = TodoService(store)
        task = svc.add("dentist", due="2026-12-24", remind=["1 day before"])
        dump = export(store, "json")
        older = re.sub(r',"reminders":\[[^]]*\]', "", dump)
        assert '"reminders"' not in older
        svc.update(task.id, remind=["2 days before"])
        load(store, "json", older)
        assert svc.get(task.id).reminders == ["-P2D"], "a dump without reminders keeps the stored ones"
        bad = dump.replace('"-P1D"', '"whenever"')
        report = load(store, "json", bad)
        assert report.problems == 1 and "not understood" in (report.items[0].reason or ""), report.items
        assert svc.get(task.id).reminders == ["-P2D"], "the bad record changed nothing"
        undated = dump.replace('"due":"2026-12-24"', '"due":null')
        load(store, "json", undated)
        assert svc.get(task.id).reminders == [], "a relative reminder without a due date is left out"


def test_taskwarrior_rules_without_a_period_travel_in_an_attribute() -> None:
    assert rule_to_recur("FREQ=MONTHLY;BYMONTHDAY=15") is None
    task = Task(
        id=1,
        title="Rent",
        due="2026-03-15",
        recur="FREQ=MONTHLY;BYMONTHDAY=15",
        created_at="2026-03-01T00:00:00.000Z",
        updated_at="2026-03-01T00:00:00.000Z",
        uid="a" * 32,
    )
    with fresh_store() as source:
        put_all(source, [task])
        text = export(source, "taskwarrior")
    assert '"mcp_rrule":"FREQ=MONTHLY;BYMONTHDAY=15"' in text and '"recur"' not in text


# ---- importing: one transaction, matching, reports ------------------------------------------------


def test_real_world_samples_import_twice_without_duplicates(store: SQLiteStore) -> None:
    samples = [
        ("todotxt", "todo.txt", 20),
        ("ical", "rfc5545-3.6.2-vtodo.ics", 2),
        ("ical", "rfc5545-4-vtodo-alarm.ics", 1),
        ("taskwarrior", "taskwarrior-export.json", 5),
        ("todoist", "todoist-template.csv", 5),
        ("markdown", "checklist.md", 6),
        ("json", "mcp-server-todo.json", 5),
    ]
    total = 0
    for fmt, name, count in samples:
        text = (DATA / name).read_text(encoding="utf-8-sig")
        first = load(store, fmt, text, source=name)
        assert (first.added, first.updated, first.problems) == (count, 0, 0), (name, first.items)
        total += count
        again = load(store, fmt, text, source=name)
        assert (again.added, again.updated, again.problems) == (0, 0, 0), (name, again.items)
    assert len(all_tasks(store)) == total


def test_taskwarrior_sample_links_and_template(store: SQLiteStore) -> None:
    report = load(store, "taskwarrior", (DATA / "taskwarrior-export.json").read_text())
    assert report.skipped == 1 and "recurrence template" in report.items[3].reason
    by_title = {t.title: t for t in all_tasks(store)}
    assert by_title["Plant the tomatoes"].depends_on == [by_title["Pay the bills"].id]
    assert by_title["Cancel the old gym membership"].status is Status.deleted


def test_todoist_subtasks_and_parents(store: SQLiteStore) -> None:
    load(store, "todoist", (DATA / "todoist-template.csv").read_text(encoding="utf-8-sig"), source="Trip.csv")
    by_title = {t.title: t for t in all_tasks(store)}
    trip = by_title["Plan the trip"]
    assert by_title["Book the flights"].parent_id == trip.id and by_title["Renew the passport"].parent_id == trip.id
    assert trip.project == "Trip" and by_title["Pack the bags"].project == "Packing"


def test_reimport_updates_what_changed_and_keeps_what_the_format_lacks(store: SQLiteStore) -> None:
    load(store, "todotxt", "(A) 2026-03-01 Call Mom @phone\n2026-03-01 Buy milk\n")
    service = TodoService(store)
    milk = next(t for t in all_tasks(store) if t.title == "Buy milk")
    service.update(milk.id, notes="oat, not cow")
    report = load(store, "todotxt", "(A) 2026-03-01 Call Mom @phone @home\nx 2026-03-02 2026-03-01 Buy milk\n")
    assert (report.added, report.updated, report.skipped) == (0, 2, 0)
    milk = service.get(milk.id)
    assert milk.status is Status.done and milk.completed_at == "2026-03-02T00:00:00.000Z"
    assert milk.notes == "oat, not cow", "todo.txt has no notes: the stored ones stay"
    call = next(t for t in all_tasks(store) if t.title == "Call Mom")
    assert call.tags == ["phone", "home"]


def test_same_line_twice_makes_two_tasks_and_a_stable_key(store: SQLiteStore) -> None:
    report = load(store, "todotxt", "Call Mom\nCall Mom\n")
    assert report.added == 2
    assert {t.uid for t in all_tasks(store)} == {
        derived_key("todotxt", "Call Mom\x1f", 0),
        derived_key("todotxt", "Call Mom\x1f", 1),
    }
    assert load(store, "todotxt", "Call Mom\nCall Mom\nCall Mom\n").added == 1


def test_a_uid_twice_in_one_file_is_reported(store: SQLiteStore) -> None:
    report = load(store, "todotxt", "One uid:same\nTwo uid:same\n")
    assert report.added == 1 and report.problems == 1
    assert "appears twice" in report.items[1].reason and report.items[1].line == 2


def test_one_import_is_one_undo_step(store: SQLiteStore) -> None:
    service = TodoService(store)
    service.add("before")
    text = "\n".join(f"task {n}" for n in range(250))
    assert load(store, "todotxt", text).added == 250
    undone = service.undo()
    assert len(undone) == 250
    assert [t.title for t in all_tasks(store)] == ["before"]


def test_dry_run_changes_nothing_and_counts_the_same(store: SQLiteStore) -> None:
    text = (DATA / "todo.txt").read_text()
    preview = load(store, "todotxt", text, dry_run=True)
    assert preview.dry_run and preview.added == 20 and all(i.id is None for i in preview.items)
    assert all_tasks(store) == []
    assert TodoService(store).add("first").id == 1, "the ids a dry run took were given back"
    real = load(store, "todotxt", text)
    assert (real.added, real.updated, real.skipped) == (preview.added, preview.updated, preview.skipped)


def test_malformed_lines_are_skipped_or_refuse_the_import(store: SQLiteStore) -> None:
    text = "Good\n2026-02-30 Bad date\nAlso good due:2026-99-01\nFine\n"
    with pytest.raises(InvalidInput, match=r"line 2: .*nothing was imported \(--strict\)"):
        load(store, "todotxt", text, strict=True)
    assert all_tasks(store) == []
    report = load(store, "todotxt", text)
    assert (report.added, report.problems) == (2, 2)
    assert [(i.line, i.action) for i in report.items if i.action == "problem"] == [(2, "problem"), (3, "problem")]


def test_a_broken_file_is_never_half_imported(store: SQLiteStore) -> None:
    whole = export_sample_dump()
    cut = whole[: whole.rindex("\n,{")]
    with pytest.raises(InvalidInput, match="nothing was imported"):
        load(store, "json", cut)
    assert all_tasks(store) == []
    with pytest.raises(InvalidInput, match="not UTF-8"):
        Transfer(store).import_lines(_bad_bytes(), "todotxt")
    assert all_tasks(store) == []


def export_sample_dump() -> str:
    return (DATA / "mcp-server-todo.json").read_text()


def _bad_bytes() -> Iterator[str]:
    yield "fine\n"
    raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")


def test_items_in_the_trash_are_not_overwritten(store: SQLiteStore) -> None:
    load(store, "todotxt", "Old task uid:abc\n")
    service = TodoService(store)
    service.delete(1)
    report = load(store, "todotxt", "Old task, renamed uid:abc\n")
    assert report.skipped == 1 and "in the trash" in report.items[0].reason
    assert service.get(1).title == "Old task"


def test_links_resolve_forward_and_refuse_cycles(store: SQLiteStore) -> None:
    text = (
        "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:c\nSUMMARY:Child\nRELATED-TO:p\nEND:VTODO\n"
        "BEGIN:VTODO\nUID:p\nSUMMARY:Parent\nRELATED-TO:c\nEND:VTODO\n"
        "BEGIN:VTODO\nUID:o\nSUMMARY:Orphan\nRELATED-TO:nowhere\nRELATED-TO;RELTYPE=DEPENDS-ON:o\nEND:VTODO\n"
        "BEGIN:VTODO\nUID:d1\nSUMMARY:D1\nRELATED-TO;RELTYPE=DEPENDS-ON:d2\nEND:VTODO\n"
        "BEGIN:VTODO\nUID:d2\nSUMMARY:D2\nRELATED-TO;RELTYPE=DEPENDS-ON:d1\nEND:VTODO\nEND:VCALENDAR\n"
    )
    report = load(store, "ical", text)
    assert report.added == 5
    by_uid = {t.uid: t for t in all_tasks(store)}
    child, parent = by_uid["c"], by_uid["p"]
    links = {(child.parent_id, parent.parent_id)}
    assert links in ({(parent.id, None)}, {(None, child.id)}), "one link of the cycle is dropped, not both"
    assert by_uid["o"].parent_id is None and by_uid["o"].depends_on == []
    assert by_uid["d1"].depends_on == [by_uid["d2"].id] and by_uid["d2"].depends_on == []
    reasons = " / ".join(i.reason for i in report.items)
    assert "cycle" in reasons and "'nowhere' is not in the file or the store" in reasons


def test_json_into_a_store_with_other_tasks_moves_ids_and_links(store: SQLiteStore) -> None:
    service = TodoService(store)
    for title in ("mine 1", "mine 2", "mine 3"):
        service.add(title)
    report = load(store, "json", export_sample_dump())
    assert report.added == 5
    by_title = {t.title: t for t in all_tasks(store)}
    assert [by_title[f"mine {n}"].id for n in (1, 2, 3)] == [1, 2, 3]
    trip, flights, visa = by_title["Plan the trip"], by_title["Book the flights"], by_title["Apply for the visa"]
    assert trip.id not in (1, 2, 3) and flights.parent_id == trip.id and flights.depends_on == [visa.id]
    assert service.add("after").id > max(t.id for t in all_tasks(store) if t.title != "after")


def test_new_tasks_of_a_file_without_dates_get_sensible_timestamps(store: SQLiteStore) -> None:
    load(store, "todotxt", "x 2011-03-03 Call Mom\n")
    (task,) = all_tasks(store)
    assert task.completed_at == "2011-03-03T00:00:00.000Z" and task.created_at == task.completed_at


def test_recurring_task_without_due_gets_its_first_occurrence(store: SQLiteStore) -> None:
    load(store, "markdown", "- [ ] Water @recur(every monday)\n")
    (task,) = all_tasks(store)
    assert task.recur == "FREQ=WEEKLY;BYDAY=MO" and task.due is not None
    assert date.fromisoformat(task.due).weekday() == 0


def test_report_details_are_capped(store: SQLiteStore) -> None:
    text = "".join(f"x 2026-13-{n % 28 + 1:02d} bad\n" for n in range(DETAIL_MAX + 5))
    report = load(store, "todotxt", text)
    assert report.problems == DETAIL_MAX + 5 and len(report.items) == DETAIL_MAX and report.omitted == 5


def test_import_streams(store: SQLiteStore) -> None:
    """10,000 lines through a generator: memory stays far below holding them all (the tasks
    alone would be tens of MB; streamed, the peak is about 5 MB)."""

    def lines() -> Iterator[str]:
        for n in range(10_000):
            yield f"(B) 2026-03-01 Task number {n} +Project{n % 7} @ctx due:2026-04-01\n"

    tracemalloc.start()
    try:
        report = Transfer(store).import_lines(lines(), "todotxt")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.added == 10_000
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB: the import holds what it should stream"


def test_merge_stamp_keeps_the_more_precise_value() -> None:
    stored = "2026-03-01T10:11:12.345Z"
    assert merge_stamp(stored, "2026-03-01", "x") == stored
    assert merge_stamp(stored, "2026-03-01T10:11:12Z", "x") == stored
    assert merge_stamp(stored, "2026-03-02", "x") == "2026-03-02T00:00:00.000Z"
    assert merge_stamp(None, "2026-03-01T10:11:12+02:00", "x") == "2026-03-01T08:11:12.000Z"
    assert merge_stamp(stored, None, "x") == stored
    with pytest.raises(InvalidInput, match="not a date"):
        merge_stamp(None, "yesterday", "created date")


def test_normal_due() -> None:
    assert normal_due("2026-03-01", None, UTC) == ("2026-03-01", None)
    assert normal_due("", None, UTC) == (None, None)
    assert normal_due("2026-03-01T09:00", "Europe/Paris", UTC) == ("2026-03-01T09:00+01:00", "Europe/Paris")
    assert normal_due("2026-03-01T08:00Z", "Europe/Paris", UTC) == ("2026-03-01T09:00+01:00", "Europe/Paris")
    assert normal_due("2026-03-01T09:00+05:30", None, UTC) == ("2026-03-01T09:00+05:30", None)
    with pytest.raises(InvalidInput):
        normal_due("tomorrow", None, UTC)
    with pytest.raises(InvalidInput, match="IANA"):
        normal_due("2026-03-01T09:00", "Mars/Olympus", UTC)


# ---- exporting ----------------------------------------------------------------------------


def test_export_filters_by_project_and_leaves_the_trash_out_where_it_cannot_be_said(store: SQLiteStore) -> None:
    service = TodoService(store)
    service.add("home 1", project="Home")
    service.add("work 1", project="Work")
    gone = service.add("home 2", project="Home")
    service.delete(gone.id)
    assert export(store, "todotxt", project="Home").count("\n") == 1
    assert export(store, "markdown").count("- [ ]") == 2
    assert export(store, "ical").count("STATUS:CANCELLED") == 1
    assert export(store, "json", project="Home").count('"title"') == 2
    with pytest.raises(InvalidInput, match="import-only"):
        export(store, "todoist")


# ---- MCP: the import_items tool and the export resource ----------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def roots_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "todo.txt").write_text("(A) Call Mom @phone\nx 2011-03-03 Pay rent\n", encoding="utf-8")
    (tmp_path / "private.txt").write_text("secret\n", encoding="utf-8")
    (folder / "link.txt").symlink_to(tmp_path / "private.txt")
    return folder


@pytest.fixture(params=["legacy", "2026-07-28"])
async def client(request: pytest.FixtureRequest, db_path: Path, roots_dir: Path) -> AsyncIterator[Client]:
    server = build_server(Config.resolve(str(db_path), "UTC"), "import")

    async def roots(_: object) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=roots_dir.as_uri(), name="shared")])

    async with Client(server, mode=request.param, list_roots_callback=roots) as connected:
        yield connected


@pytest.mark.anyio
async def test_import_items_previews_then_imports(client: Client, roots_dir: Path) -> None:
    tool = next(t for t in (await client.list_tools()).tools if t.name == "import_items")
    assert set(tool.input_schema["properties"]) == {"content", "path", "format", "dry_run"}
    preview = await client.call_tool("import_items", {"path": "todo.txt"})
    assert not preview.is_error and "Would import (todotxt): 2 added" in text_of(preview)
    assert preview.structured_content is not None and preview.structured_content["dry_run"] is True
    listed = await client.call_tool("list_items", {"status": "all"})
    assert listed.structured_content is not None and listed.structured_content["total"] == 0
    done = await client.call_tool("import_items", {"path": str(roots_dir / "todo.txt"), "dry_run": False})
    assert done.structured_content is not None
    assert done.structured_content["added"] == 2 and done.structured_content["items"][0]["id"] == 1
    again = await client.call_tool("import_items", {"content": "(A) Call Mom @phone\n", "dry_run": False})
    assert again.structured_content is not None and again.structured_content["skipped"] == 1
    bad = await client.call_tool("import_items", {"content": "fine\n2026-02-30 x\n", "format": "todotxt"})
    assert bad.structured_content is not None and bad.structured_content["problems"] == 1
    assert "line 2: problem: not a real date" in text_of(bad)
    for outcome in (preview, done, again, bad):
        jsonschema.validate(outcome.structured_content, tool.output_schema)  # type: ignore[arg-type]
    undo = await client.call_tool("undo", {})
    assert not undo.is_error and "Undid add" in text_of(undo)


@pytest.mark.anyio
async def test_import_items_refuses_paths_outside_the_roots(client: Client, roots_dir: Path) -> None:
    for path in (str(roots_dir.parent / "private.txt"), "../private.txt", "link.txt"):
        result = await client.call_tool("import_items", {"path": path})
        assert result.is_error and "outside your roots" in text_of(result), path
    missing = await client.call_tool("import_items", {"path": "nope.txt"})
    assert missing.is_error and "no file" in text_of(missing)
    both = await client.call_tool("import_items", {"content": "x", "path": "todo.txt"})
    assert both.is_error and "not both" in text_of(both)


@pytest.mark.anyio
async def test_import_items_without_roots_needs_content(db_path: Path) -> None:
    server = build_server(Config.resolve(str(db_path), "UTC"), "import")
    async with Client(server, mode="legacy") as connected:
        result = await connected.call_tool("import_items", {"path": "todo.txt"})
        assert result.is_error and "pass the file's text as content" in text_of(result)
        ok = await connected.call_tool("import_items", {"content": "- [ ] a\n  - [x] b\n", "dry_run": False})
        assert ok.structured_content is not None and ok.structured_content["format"] == "markdown"


@pytest.mark.anyio
async def test_export_resource(client: Client) -> None:
    await client.call_tool("import_items", {"path": "todo.txt", "dry_run": False})
    templates = (await client.list_resource_templates()).resource_templates
    assert "todo://export/{format}{?project}" in [t.uri_template for t in templates]
    todotxt = await client.read_resource("todo://export/todotxt")
    text = todotxt.contents[0].text  # type: ignore[union-attr]
    assert text.startswith("(A) ") and "x 2011-03-03" in text
    dump = await client.read_resource("todo://export/json?project=inbox")
    assert '"format":"mcp-server-todo"' in dump.contents[0].text  # type: ignore[union-attr]
    with pytest.raises(Exception, match="cannot be exported"):
        await client.read_resource("todo://export/todoist")


def test_resolve_path_follows_symlinks_before_judging(tmp_path: Path) -> None:
    inside = tmp_path / "root"
    inside.mkdir()
    (inside / "a.txt").write_text("x")
    roots = ListRootsResult(roots=[Root(uri=inside.as_uri())])
    assert resolve_path("a.txt", roots) == (inside / "a.txt").resolve()
    assert resolve_path((inside / "a.txt").as_uri(), roots) == (inside / "a.txt").resolve()
    with pytest.raises(InvalidInput, match="outside your roots"):
        resolve_path(str(tmp_path / "root" / ".." / "a.txt"), roots)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_over_http_an_import_is_the_requesters_own_and_paths_are_refused(tmp_path: Path) -> None:
    import anyio
    from support.http import http_server, make_token, mcp_client

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    db = tmp_path / "shared.db"
    tokens = {user: make_token(db, home, user) for user in ("alice", "bob")}
    with http_server(db, home, "--auth", "tokens", "--tools", "core,import") as server:

        async def scenario() -> None:
            async with mcp_client(server.url, tokens["alice"]) as alice:
                done = await alice.call_tool("import_items", {"content": "Alice's task\nAnother\n", "dry_run": False})
                assert done.structured_content is not None and done.structured_content["added"] == 2
                refused = await alice.call_tool("import_items", {"path": str(db)})
                assert refused.is_error and "over HTTP" in text_of(refused)
                mine = await alice.read_resource("todo://export/todotxt")
                assert "Alice's task" in mine.contents[0].text  # type: ignore[union-attr]
            async with mcp_client(server.url, tokens["bob"]) as bob:
                listed = await bob.call_tool("list_items", {"status": "all"})
                assert listed.structured_content is not None and listed.structured_content["total"] == 0
                theirs = await bob.read_resource("todo://export/json")
                assert "Alice" not in theirs.contents[0].text  # type: ignore[union-attr]

        anyio.run(scenario)
