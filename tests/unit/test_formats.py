"""Each format's reader and writer on its own (no store): the real-world samples in
tests/data read as their specs say, malformed input is reported with its line, and the
writers produce what the readers (and the other tools) expect."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from support.env import TESTS

from mcp_server_todo import formats
from mcp_server_todo.errors import InvalidInput
from mcp_server_todo.formats import ImportedTask, Options, Problem, Record
from mcp_server_todo.formats._jsonstream import Header, Item, array_items, object_items
from mcp_server_todo.formats.ical import priority_of as ical_priority
from mcp_server_todo.formats.taskwarrior import recur_to_rule, rule_to_recur
from mcp_server_todo.formats.todotxt import format_line, rec_to_rule, rule_to_rec
from mcp_server_todo.model import Priority, Status, Task

DATA = TESTS / "data"
LONDON = ZoneInfo("Europe/London")
OPTIONS = Options(tz=LONDON, now=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def read(fmt: str, text: str | Iterable[str], options: Options = OPTIONS) -> list[Record]:
    lines = io.StringIO(text) if isinstance(text, str) else text
    return list(formats.get(fmt).read(lines, options))


def sample(fmt: str, name: str, options: Options = OPTIONS) -> list[Record]:
    with (DATA / name).open(encoding="utf-8-sig") as file:
        return read(fmt, file, options)


def tasks(records: list[Record]) -> list[ImportedTask]:
    found = [r for r in records if isinstance(r, ImportedTask)]
    return found


def problems(records: list[Record]) -> list[Problem]:
    return [r for r in records if isinstance(r, Problem)]


def make_task(**fields: object) -> Task:
    base: dict[str, object] = {
        "id": 1,
        "title": "Buy milk",
        "created_at": "2026-03-01T09:00:00.000Z",
        "updated_at": "2026-03-01T09:00:00.000Z",
        "uid": "5f0c" * 8,
    }
    base.update(fields)
    return Task.model_validate(base)


# ---- the registry -------------------------------------------------------------------


def test_names_and_aliases() -> None:
    assert formats.FORMATS == ("todotxt", "ical", "taskwarrior", "todoist", "markdown", "json")
    assert formats.name_of("todo.txt") == "todotxt"
    assert formats.name_of("ICS") == "ical"
    assert formats.name_of("md") == "markdown"
    with pytest.raises(InvalidInput, match="unknown format 'xls'"):
        formats.name_of("xls")
    assert "todoist" not in formats.writable_names()
    with pytest.raises(InvalidInput, match="import-only"):
        formats.get("todoist").write([], io.StringIO(), OPTIONS)


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        ("BEGIN:VCALENDAR\r\nVERSION:2.0", None, "ical"),
        ('{"format":"mcp-server-todo","schema_version":1', None, "json"),
        ('[\n{"description":"x"}', None, "taskwarrior"),
        ('{"description":"x","uuid":"..."}', "tasks.json", "taskwarrior"),
        ("TYPE,CONTENT,DESCRIPTION,PRIORITY", None, "todoist"),
        ("\ufeffTYPE,CONTENT,DESCRIPTION", None, "todoist"),
        ("# Home\n\n- [ ] paint", None, "markdown"),
        ("(A) Call Mom @phone", None, "todotxt"),
        ("anything", "list.md", "markdown"),
        ("anything", "cal.ics", "ical"),
    ],
)
def test_sniff(head: str, filename: str | None, expected: str) -> None:
    assert formats.sniff(head, filename) == expected


# ---- todo.txt -----------------------------------------------------------------------


def test_todotxt_spec_examples() -> None:
    found = {t.line: t for t in tasks(sample("todotxt", "todo.txt"))}
    assert len(found) == 20
    meatballs = found[1]
    assert (meatballs.title, meatballs.priority, meatballs.tags) == (
        "Thank Mom for the meatballs",
        Priority.high,
        ["phone"],
    )
    assert found[2].project == "GarageSale" and found[2].priority is Priority.medium
    assert found[4].title == "Eskimo pies" and found[4].tags == ["GroceryStore"]
    # "These tasks do not have any priorities"
    for line in (6, 7, 8):
        assert found[line].priority is Priority.none, found[line]
    assert found[7].title == "(b) Get back to the boss"
    assert found[8].title == "(B)->Submit TPS report"
    # "These tasks have creation dates" / "This task doesn't have a creation date"
    assert found[9].created_at == "2011-03-02" and found[9].project == "TodoTxt"
    assert found[10].created_at == "2011-03-02" and found[10].priority is Priority.high
    assert found[11].created_at is None and found[11].title == "Call Mom 2011-03-02"
    # contexts and projects only as words of their own
    assert found[13].tags == [] and found[14].project == "inbox"
    # complete tasks, and the three that are not
    assert found[16].status is Status.done and found[16].completed_at == "2011-03-03"
    for line in (17, 18, 19):
        assert found[line].status is Status.pending, found[line]
    assert found[19].priority is Priority.high and found[19].title == "x Find ticket prices"
    review = found[20]
    assert review.status is Status.done
    assert (review.completed_at, review.created_at) == ("2011-03-02", "2011-03-01")
    assert (review.project, review.tags) == ("TodoTxtTouch", ["github"])


def test_todotxt_extensions() -> None:
    line = "(B) 2026-03-01 Pay rent +Home @bank +Money due:2026-04-01 rec:+1m t:2026-03-25 uid:abc parent:def"
    (task,) = tasks(read("todotxt", line))
    assert task.title == "Pay rent t:2026-03-25", "unknown key:value stays in the title"
    assert task.project == "Home" and task.tags == ["bank", "+Money"]
    assert (task.due, task.recur, task.key, task.parent) == ("2026-04-01", "FREQ=MONTHLY", "abc", "def")
    (done,) = tasks(read("todotxt", "x 2026-03-02 2026-03-01 Pay rent pri:A"))
    assert done.priority is Priority.high and done.status is Status.done


def test_todotxt_recurrence_words() -> None:
    assert rec_to_rule("1w") == rec_to_rule("+1w") == "FREQ=WEEKLY"
    assert rec_to_rule("3d") == "FREQ=DAILY;INTERVAL=3"
    assert rec_to_rule("2m") == "FREQ=MONTHLY;INTERVAL=2"
    assert rec_to_rule("1y") == "FREQ=YEARLY"
    assert rec_to_rule("1b") == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert rec_to_rule("2b") is None and rec_to_rule("weekly") is None and rec_to_rule("0d") is None
    assert rule_to_rec("FREQ=WEEKLY;INTERVAL=2") == "+2w"
    assert rule_to_rec("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR") == "+1b"
    assert rule_to_rec("FREQ=MONTHLY;BYMONTHDAY=15") is None
    (kept,) = tasks(read("todotxt", "Water plants rec:2b"))
    assert kept.title == "Water plants rec:2b" and kept.recur == "" and kept.warnings


def test_todotxt_problems_carry_line_numbers() -> None:
    text = "Good one\n\n+only @tokens\n2026-02-30 Bad date\nx 2026-13-01 bad completion\nAnother good one\n"
    records = read("todotxt", text)
    assert [t.title for t in tasks(records)] == ["Good one", "Another good one"]
    assert [(p.line, p.severity) for p in problems(records)] == [(3, "error"), (4, "error"), (5, "error")]
    assert "no task text" in problems(records)[0].message


def test_todotxt_writer() -> None:
    uids = {1: "p" * 32}
    task = make_task(
        id=2,
        priority="high",
        project="Home Improvement",
        tags=["paint", "+Garage"],
        due="2026-04-10T09:30+02:00",
        due_tz="Europe/Paris",
        recur="FREQ=WEEKLY;BYDAY=MO,TH",
        parent_id=1,
    )
    assert format_line(task, uids) == (
        "(A) 2026-03-01 Buy milk +Home_Improvement @paint +Garage due:2026-04-10T09:30+02:00 tz:Europe/Paris "
        f"rrule:FREQ=WEEKLY;BYDAY=MO,TH parent:{'p' * 32} uid:{'5f0c' * 8}"
    )
    done = make_task(status="done", priority="low", completed_at="2026-03-05T10:00:00.000Z", recur="FREQ=DAILY")
    assert format_line(done, {}) == f"x 2026-03-05 2026-03-01 Buy milk rec:+1d pri:C uid:{'5f0c' * 8}"
    plus_only = make_task(tags=["+Side"])
    assert format_line(plus_only, {}).startswith("2026-03-01 Buy milk +inbox +Side")
    out = io.StringIO()
    formats.get("todotxt").write([make_task(), make_task(id=2, status="deleted")], out, OPTIONS)
    assert out.getvalue().count("\n") == 1, "the trash is not written"


# ---- iCalendar ----------------------------------------------------------------------


def test_ical_rfc5545_section_3_6_2() -> None:
    quebec, draft = tasks(sample("ical", "rfc5545-3.6.2-vtodo.ics"))
    assert quebec.key == "20070313T123432Z-456553@example.com"
    assert quebec.title == "Submit Quebec Income Tax Return for 2006"
    assert (quebec.due, quebec.tags, quebec.status) == ("2007-05-01", ["FAMILY", "FINANCE"], Status.pending)
    assert quebec.project is None, "no X-TODO-PROJECT: the stored project is kept"
    assert draft.priority is Priority.high
    assert draft.due == "2007-07-09T13:00+00:00" and draft.due_tz is None
    # "was completed on July 7th, 2007 at 10:00 A.M. UTC" although STATUS says NEEDS-ACTION
    assert draft.status is Status.done and draft.completed_at == "2007-07-07T10:00:00Z"
    assert draft.parent == "" and draft.depends == []


def test_ical_rfc5545_section_4_alarm_and_folding() -> None:
    (taxes,) = tasks(sample("ical", "rfc5545-4-vtodo-alarm.ics"))
    assert (taxes.key, taxes.title) == ("uid4@example.com", "Submit Income Taxes")
    assert taxes.due == "1998-04-15T00:00", "a floating date-time: read in the user's zone by the import"
    assert taxes.status is Status.pending
    assert taxes.reminders == ["1998-04-03T12:00:00Z"], "the RFC's audio alarm, an absolute trigger"


def test_ical_priority_scale() -> None:
    assert [ical_priority(n) for n in range(10)] == [
        Priority.none,
        *[Priority.high] * 4,
        Priority.medium,
        *[Priority.low] * 4,
    ]


ICAL_MORE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VTIMEZONE
TZID:US-Eastern
BEGIN:STANDARD
DTSTART:19671029T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19870405T020000
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:event-1
SUMMARY:Not a task
DTSTART:20260301T090000Z
END:VEVENT
BEGIN:VTODO
UID:child
SUMMARY:Child before its parent
RELATED-TO:parent
RELATED-TO;RELTYPE=DEPENDS-ON:other
RELATED-TO;RELTYPE=SIBLING:x
DUE;TZID=US-Eastern:20260310T090000
RRULE:FREQ=WEEKLY;BYDAY=TU
X-TODO-PROJECT:Work
DESCRIPTION:Line one\\nLine two\\, with a comma
END:VTODO
BEGIN:VTODO
UID:parent
SUMMARY:The parent
DUE;TZID=Europe/Paris:20260310T090000
STATUS:CANCELLED
END:VTODO
BEGIN:VTODO
SUMMARY:Broken
DUE:2026xx
END:VTODO
BEGIN:VTODO
UID:nosummary
END:VTODO
BEGIN:VTODO
UID:late
SUMMARY:After the broken ones
DTSTART;VALUE=DATE:20260401
DURATION:P2D
END:VTODO
END:VCALENDAR
"""


def test_ical_relations_zones_and_bad_components() -> None:
    records = read("ical", ICAL_MORE)
    child, parent, untitled, late = tasks(records)
    assert (untitled.key, untitled.title) == ("nosummary", "(no title)"), "SUMMARY is optional (RFC 5545)"
    assert child.parent == "parent" and child.depends == ["other"]
    assert any("SIBLING" in w for w in child.warnings)
    assert child.due == "2026-03-10T09:00-04:00" and child.due_tz is None, "a custom VTIMEZONE: the offset is kept"
    assert child.recur == "FREQ=WEEKLY;BYDAY=TU" and child.project == "Work"
    assert child.notes == "Line one\nLine two, with a comma"
    assert parent.status is Status.deleted and parent.due == "2026-03-10T09:00+01:00"
    assert parent.due_tz == "Europe/Paris"
    assert late.due == "2026-04-03", "DTSTART + DURATION is the due"
    (broken,) = problems(records)
    assert broken.line == 43 and "cannot be read" in broken.message and broken.severity == "error"


def test_ical_cut_short_is_fatal() -> None:
    records = read("ical", "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:a\nSUMMARY:ok\nEND:VTODO\nBEGIN:VTODO\nUID:b\n")
    assert [t.key for t in tasks(records)] == ["a"]
    (cut,) = problems(records)
    assert (cut.line, cut.severity) == (6, "fatal")


def test_ical_writer_is_rfc5545_with_timezones() -> None:
    parent = make_task(id=1, uid="parent-uid", project="Work", tags=["a", "b"], notes="two\nlines", priority="medium")
    child = make_task(
        id=2,
        uid="child-uid",
        title="Child, with; punctuation",
        parent_id=1,
        depends_on=[1],
        due="2026-04-10T09:30+02:00",
        due_tz="Europe/Paris",
        recur="FREQ=WEEKLY;BYDAY=FR",
        status="done",
        completed_at="2026-03-02T10:00:00.000Z",
    )
    out = io.StringIO()
    formats.get("ical").write([parent, child], out, OPTIONS)
    text = out.getvalue()
    assert text.startswith("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//mcp-server-todo//")
    assert "BEGIN:VTIMEZONE\nTZID:Europe/Paris" in text
    assert "DUE;TZID=Europe/Paris:20260410T093000" in text and "DTSTART;TZID=Europe/Paris:20260410T093000" in text
    assert "RELATED-TO:parent-uid" in text and "RELATED-TO;RELTYPE=DEPENDS-ON:parent-uid" in text
    assert "SUMMARY:Child\\, with\\; punctuation" in text and "PRIORITY:5" in text
    assert "STATUS:COMPLETED" in text and "COMPLETED:20260302T100000Z" in text
    back = {t.key: t for t in tasks(read("ical", text))}
    assert back["child-uid"].title == "Child, with; punctuation" and back["parent-uid"].notes == "two\nlines"
    assert back["child-uid"].due_tz == "Europe/Paris" and back["parent-uid"].tags == ["a", "b"]


def test_ical_reminders_are_valarms_relative_to_due_or_at_an_instant() -> None:
    task = make_task(
        due="2026-04-10T09:30+02:00",
        due_tz="Europe/Paris",
        reminders=["-PT30M", "PT0S", "-P1DT2H", "2026-04-09T18:00:00Z"],
    )
    out = io.StringIO()
    formats.get("ical").write([task], out, OPTIONS)
    text = out.getvalue()
    assert text.count("BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Buy milk\n") == 4
    assert "TRIGGER;RELATED=END:-PT30M" in text and "TRIGGER;RELATED=END:-P1DT2H" in text
    assert "TRIGGER;VALUE=DATE-TIME:20260409T180000Z" in text
    (back,) = tasks(read("ical", text))
    assert back.reminders == ["-PT30M", "PT0S", "-P1DT2H", "2026-04-09T18:00:00Z"]


def test_ical_alarms_from_other_clients() -> None:
    alarms = "".join(
        f"BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:x\n{trigger}\nEND:VALARM\n"
        for trigger in (
            "TRIGGER:-PT15M",  # RELATED=START by default: from DTSTART, an hour before DUE
            "TRIGGER;RELATED=END:PT5M",
            "TRIGGER:-P400D",
            "REPEAT:2",
        )
    )
    text = (
        "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:u\nSUMMARY:call\nDTSTART:20260410T080000Z\n"
        f"DUE:20260410T090000Z\n{alarms}END:VTODO\nEND:VCALENDAR\n"
    )
    (task,) = tasks(read("ical", text))
    assert task.reminders == ["-PT1H15M", "PT5M"]
    assert any("more than a year" in w for w in task.warnings) and any("without a TRIGGER" in w for w in task.warnings)
    (bare,) = tasks(read("ical", "BEGIN:VTODO\nUID:v\nSUMMARY:no alarms\nEND:VTODO\n"))
    assert bare.reminders == [], "a VTODO without VALARMs has none"


# ---- Taskwarrior --------------------------------------------------------------------


def test_taskwarrior_export_sample() -> None:
    records = sample("taskwarrior", "taskwarrior-export.json")
    bills, tomatoes, milk, instance, gym = tasks(records)
    assert bills.key == "296d835e8f8542248f36c612cad1b9f8"
    assert bills.notes == "Remember to get the mail\nPay the bills"
    assert (bills.project, bills.tags, bills.created_at) == (
        "Personal Taxes",
        ["home", "garden"],
        "2012-01-10T23:12:00Z",
    )
    assert tomatoes.priority is Priority.high and tomatoes.depends == [bills.key], "the older comma-string depends"
    assert tomatoes.due == "2012-01-15", "midnight in the user's zone is a date"
    assert milk.status is Status.done and milk.completed_at == "2012-01-11T08:00:00Z" and milk.priority is Priority.low
    assert instance.recur == "FREQ=WEEKLY" and instance.title == "Water the plants"
    assert gym.status is Status.deleted
    (template,) = problems(records)
    assert (template.line, template.severity) == (5, "skip")


def test_taskwarrior_due_with_a_time_is_a_date_time_in_the_user_zone() -> None:
    (task,) = tasks(read("taskwarrior", '{"description":"x","uuid":"a","due":"20260701T163000Z","status":"pending"}'))
    assert (task.due, task.due_tz) == ("2026-07-01T17:30+01:00", "Europe/London")


def test_taskwarrior_periods() -> None:
    cases = {
        "daily": "FREQ=DAILY",
        "weekly": "FREQ=WEEKLY",
        "biweekly": "FREQ=WEEKLY;INTERVAL=2",
        "fortnight": "FREQ=WEEKLY;INTERVAL=2",
        "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "monthly": "FREQ=MONTHLY",
        "quarterly": "FREQ=MONTHLY;INTERVAL=3",
        "semiannual": "FREQ=MONTHLY;INTERVAL=6",
        "yearly": "FREQ=YEARLY",
        "annual": "FREQ=YEARLY",
        "biannual": "FREQ=YEARLY;INTERVAL=2",
        "3d": "FREQ=DAILY;INTERVAL=3",
        "2wks": "FREQ=WEEKLY;INTERVAL=2",
        "2q": "FREQ=MONTHLY;INTERVAL=6",
        "P1M": "FREQ=MONTHLY",
        "P2W": "FREQ=WEEKLY;INTERVAL=2",
    }
    for period, rule in cases.items():
        assert recur_to_rule(period) == rule, period
    assert recur_to_rule("4hrs") is None and recur_to_rule("whenever") is None
    assert rule_to_recur("FREQ=MONTHLY") == "monthly" and rule_to_recur("FREQ=DAILY;INTERVAL=3") == "3d"
    assert rule_to_recur("FREQ=MONTHLY;BYMONTHDAY=1") is None


def test_taskwarrior_json_lines_and_a_bad_line() -> None:
    text = (
        '{"description":"one","uuid":"a"}\n{"description": broken}\n{"description":"three","uuid":"c"}\n{"uuid":"d"}\n'
    )
    records = read("taskwarrior", text)
    assert [t.title for t in tasks(records)] == ["one", "three"]
    assert [(p.line, p.severity) for p in problems(records)] == [(2, "error"), (4, "error")]


def test_taskwarrior_cut_short_is_fatal() -> None:
    records = read("taskwarrior", '[\n{"description":"one","uuid":"a"},\n{"description":"two","uuid":"b"},\n')
    assert problems(records)[-1].severity == "fatal"


def test_taskwarrior_writer_same_shape() -> None:
    ours = make_task(id=3, priority="high", tags=["x"], notes="a\nb", due="2026-03-10", recur="FREQ=WEEKLY")
    foreign = make_task(id=4, uid="uid4@example.com", status="done", completed_at="2026-03-02T10:00:00.000Z")
    dep = make_task(id=5, uid="e" * 32, depends_on=[3])
    out = io.StringIO()
    formats.get("taskwarrior").write([ours, foreign, dep], out, OPTIONS)
    lines = out.getvalue().splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 5
    first = json.loads(lines[1])
    assert first["uuid"] == "5f0c5f0c-5f0c-5f0c-5f0c-5f0c5f0c5f0c" and "mcp_uid" not in first
    assert first["due"] == "20260310T000000Z", "midnight in the user's zone (London, winter)"
    assert first["priority"] == "H" and first["recur"] == "weekly" and first["status"] == "pending"
    assert [a["description"] for a in first["annotations"]] == ["a", "b"]
    second = json.loads(lines[2][1:])
    assert second["mcp_uid"] == "uid4@example.com" and second["status"] == "completed" and second["id"] == 0
    assert json.loads(lines[3][1:])["depends"] == [first["uuid"]]
    back = tasks(read("taskwarrior", out.getvalue()))
    assert [t.key for t in back] == ["5f0c" * 8, "uid4@example.com", "e" * 32]


# ---- Todoist ------------------------------------------------------------------------


def test_todoist_template_sample() -> None:
    options = Options(tz=LONDON, now=OPTIONS.now, source="Trip [2203306141].csv")
    trip, flights, passport, bags, camera = tasks(sample("todoist", "todoist-template.csv", options))
    assert (trip.title, trip.tags, trip.priority, trip.project) == ("Plan the trip", ["travel"], Priority.high, "Trip")
    assert trip.notes == "Dates and budget first" and trip.status is None, "a template never changes a status"
    assert flights.parent is trip and passport.parent is trip
    assert flights.priority is Priority.medium and flights.due == "2026-10-05"
    assert flights.notes == "Compare prices on two sites", "a note row is a comment on the task above"
    assert passport.priority is Priority.none and passport.due == "2026-09-01"
    assert bags.project == "Packing" and bags.parent == "" and bags.priority is Priority.low
    assert bags.recur == "FREQ=WEEKLY;BYDAY=FR"
    assert (bags.due, bags.due_tz) == ("2026-03-06T18:00+00:00", "Europe/London"), "first Friday, at 6pm"
    assert camera.priority is Priority.none and camera.due == ""


def test_todoist_bad_rows() -> None:
    text = "TYPE,CONTENT,PRIORITY,DATE\nnote,orphan,,\ntask,,1,\nwidget,x,,\ntask,Fine,9,sometime never\n"
    records = read("todoist", text)
    (fine,) = tasks(records)
    assert fine.priority is Priority.none and fine.due == "" and "sometime never" in fine.warnings[0]
    assert [p.line for p in problems(records)] == [2, 3, 4]
    (fatal,) = problems(read("todoist", "a,b,c\n1,2,3\n"))
    assert fatal.severity == "fatal"


# ---- Markdown -----------------------------------------------------------------------


def test_markdown_gfm_spec_examples() -> None:
    foo, bar, foo2, bar2, baz, bim = tasks(sample("markdown", "checklist.md"))
    assert (foo.status, bar.status, foo2.status, bim.status) == (
        Status.pending,
        Status.done,
        Status.done,
        Status.pending,
    )
    assert foo.parent == "" and bar2.parent is foo2 and baz.parent is foo2 and bim.parent == ""
    assert baz.status is Status.done and bar2.status is Status.pending


def test_markdown_fields_notes_and_projects() -> None:
    text = (
        "Intro text is ignored.\n"
        "- [ ] Loose item\n"
        "## Home\n"
        "* [X] Paint the fence #weekend @due(2026-05-02) @priority(high) @done(2026-04-30) <!-- uid:abc -->\n"
        "  > Two coats.\n"
        "  >\n"
        "  >   indented\n"
        "    - [ ] Buy paint @recur(every saturday) @project(Shopping)\n"
        "      plain indented note\n"
        "\n"
        "      after a blank line\n"
        "- [ ]\n"
        "- [ ] Bad priority @priority(urgent)\n"
    )
    records = read("markdown", text)
    loose, fence, paint, bad = tasks(records)
    assert loose.project == "inbox" and fence.project == "Home" and paint.project == "Shopping"
    assert (fence.key, fence.tags, fence.due, fence.priority) == ("abc", ["weekend"], "2026-05-02", Priority.high)
    assert fence.status is Status.done and fence.completed_at == "2026-04-30"
    assert fence.notes == "Two coats.\n\n  indented"
    assert paint.parent is fence and paint.recur == "every saturday"
    assert paint.notes == "plain indented note\n\nafter a blank line"
    assert bad.priority is Priority.none and bad.warnings
    (empty,) = problems(records)
    assert empty.line == 12


def test_markdown_writer_nests_and_groups() -> None:
    parent = make_task(id=1, project="Home", notes="line\n\n  indented", tags=["x"])
    child = make_task(
        id=2, title="Child", parent_id=1, project="Shop", status="done", completed_at="2026-03-02T00:00:00.000Z"
    )
    other = make_task(id=3, title="Other", uid=None, priority="low", due="2026-03-09", recur="FREQ=DAILY")
    out = io.StringIO()
    formats.get("markdown").write([parent, child, other], out, OPTIONS)
    assert out.getvalue() == (
        "## Home\n\n"
        f"- [ ] Buy milk #x <!-- uid:{'5f0c' * 8} -->\n"
        "  > line\n"
        "  >\n"
        "  >   indented\n"
        "  - [x] Child @done(2026-03-02T00:00:00.000Z) @project(Shop) <!-- uid:5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c -->\n"
        "\n## inbox\n\n"
        "- [ ] Other @due(2026-03-09) @priority(low) @recur(FREQ=DAILY)\n"
    )


# ---- the JSON dump and the streaming JSON reader -----------------------------------------


def test_json_dump_sample() -> None:
    records = sample("json", "mcp-server-todo.json")
    assert not problems(records)
    trip, flights, visa, plants, gym = tasks(records)
    assert (trip.id, trip.line, trip.notes) == (1, 2, "Dates first.\nThen the budget.")
    assert flights.parent == 1 and flights.depends == [3] and flights.due_tz == "Europe/Paris"
    assert visa.status is Status.done and gym.status is Status.deleted and plants.recur.startswith("FREQ=WEEKLY")


def test_json_dump_refuses_other_files() -> None:
    (wrong,) = read("json", '{"format":"other","tasks":[{"id":1}]}')
    assert isinstance(wrong, Problem) and wrong.severity == "fatal"
    (newer,) = read("json", '{"format":"mcp-server-todo","schema_version":99,"tasks":[]}')
    assert isinstance(newer, Problem) and "newer" in newer.message
    records = read("json", '{"format":"mcp-server-todo","schema_version":1,"tasks":[\n{"id":1,"title":"x"}\n]}')
    assert isinstance(records[0], Problem) and records[0].line == 2 and "created_at" in records[0].message


def test_json_stream_reads_pretty_printed_and_compact_arrays() -> None:
    pretty = json.dumps([{"a": i, "b": [1, 2, {"c": "x"}]} for i in range(3)], indent=2)
    found = list(array_items(io.StringIO(pretty)))
    assert [f.value["a"] for f in found if isinstance(f, Item)] == [0, 1, 2]
    assert [f.line for f in found if isinstance(f, Item)] == [2, 12, 22]
    compact = list(array_items([json.dumps([{"a": 1}, {"a": 2}])]))
    assert [f.value for f in compact if isinstance(f, Item)] == [{"a": 1}, {"a": 2}]
    assert list(array_items(io.StringIO(""))) == []
    header_last = list(object_items(io.StringIO('{"tasks": [1, 2], "x": {"y": 1}}'), "tasks"))
    assert header_last == [Item(1, 1), Item(1, 2), Header("x", {"y": 1})]
    (broken,) = [p for p in object_items(io.StringIO('{"tasks": [1, 2] "x": 1}'), "tasks") if isinstance(p, Problem)]
    assert broken.severity == "fatal"


def test_json_stream_does_not_hold_the_file() -> None:
    consumed = 0

    def lines() -> Iterable[str]:
        nonlocal consumed
        yield "[\n"
        for i in range(100_000):
            consumed += 1
            yield json.dumps({"n": i}) + ",\n"
        yield '{"n": "last"}\n]\n'

    stream = array_items(lines())
    first = next(stream)
    assert isinstance(first, Item) and first.value == {"n": 0}
    assert consumed < 10, "elements are decoded as their lines arrive"
