"""The merge of a task into its CalDAV client's VTODO (transports/dav/vtodo.py): the client's
bytes while nothing changed, only the changed properties after an edit, its alarms kept."""

from __future__ import annotations

from icalendar import Calendar, Component

from mcp_server_todo.model import Priority, Status, Task
from mcp_server_todo.transports.dav.vtodo import read_body, served_text, task_fields

PHONE = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//phone//EN\r\n"
    "BEGIN:VTODO\r\n"
    "UID:9F3C-PHONE\r\n"
    "DTSTAMP:20261201T090000Z\r\n"
    "CREATED:20261201T090000Z\r\n"
    "SEQUENCE:4\r\n"
    "SUMMARY:Buy milk\r\n"
    "LOCATION:Corner shop\r\n"
    "GEO:48.85;2.35\r\n"
    "X-APPLE-SORT-ORDER:17\r\n"
    "PRIORITY:2\r\n"
    "CATEGORIES:errand\r\n"
    "DUE;TZID=Europe/Berlin:20261207T090000\r\n"
    "RELATED-TO;RELTYPE=DEPENDS-ON:somewhere-else\r\n"
    "STATUS:NEEDS-ACTION\r\n"
    "BEGIN:VALARM\r\n"
    "UID:ALARM-1\r\n"
    "X-WR-ALARMUID:ALARM-1\r\n"
    "ACTION:DISPLAY\r\n"
    "DESCRIPTION:Milk!\r\n"
    "TRIGGER;RELATED=END:-PT30M\r\n"
    "END:VALARM\r\n"
    "BEGIN:VALARM\r\n"
    "ACTION:AUDIO\r\n"
    "TRIGGER;VALUE=DATE-TIME:20261207T070000Z\r\n"
    "END:VALARM\r\n"
    "END:VTODO\r\n"
    "END:VCALENDAR\r\n"
)


def phone_task(**changes: object) -> Task:
    """The task a PUT of PHONE stored (as the service normalizes it), then `changes`."""
    task = Task(
        id=1,
        title="Buy milk",
        uid="9F3C-PHONE",
        priority=Priority.high,
        tags=["errand"],
        due="2026-12-07T09:00+01:00",
        due_tz="Europe/Berlin",
        reminders=["-PT30M", "2026-12-07T07:00:00Z"],
        created_at="2026-12-01T09:00:00Z",
        updated_at="2026-12-01T09:00:00Z",
        ical=PHONE,
    )
    return task.model_copy(update=changes)


def todo(text: str) -> Component:
    (found,) = Calendar.from_ical(text).walk("VTODO")
    return found


def unknown(uid: str) -> bool:
    return False


def test_a_task_unchanged_since_the_put_is_served_as_the_client_sent_it() -> None:
    assert served_text(phone_task(), {1: "9F3C-PHONE"}, unknown) == PHONE
    record = read_body(PHONE)
    fields, status = task_fields(record, "inbox")
    assert status is Status.pending and fields["due_tz"] == "Europe/Berlin" and fields["priority"] == "high"
    assert fields["remind"] == ["-PT30M", "2026-12-07T07:00:00Z"], "any ACTION's trigger is a reminder"


def test_an_mcp_title_edit_changes_the_summary_and_keeps_the_rest() -> None:
    edited = phone_task(title="Buy oat milk", updated_at="2026-12-02T10:00:00Z")
    served = todo(served_text(edited, {1: "9F3C-PHONE"}, unknown))
    assert str(served["SUMMARY"]) == "Buy oat milk"
    assert served.decoded("LAST-MODIFIED").isoformat() == "2026-12-02T10:00:00+00:00"
    for name, value in [("LOCATION", "Corner shop"), ("X-APPLE-SORT-ORDER", "17"), ("SEQUENCE", "4")]:
        assert str(served[name]) == value, name
    assert served["GEO"].to_ical() == "48.85;2.35"
    assert served["DUE"].params["TZID"] == "Europe/Berlin" and served["PRIORITY"] == 2, "unchanged: as sent"
    assert str(served["RELATED-TO"]) == "somewhere-else", "a relation to a UID no task has is kept"
    alarms = served.walk("VALARM")
    assert [str(a["ACTION"]) for a in alarms] == ["DISPLAY", "AUDIO"]
    assert str(alarms[0]["X-WR-ALARMUID"]) == "ALARM-1" and str(alarms[0]["DESCRIPTION"]) == "Milk!"


def test_reminders_edited_over_mcp_remove_and_add_valarms_only_as_needed() -> None:
    edited = phone_task(reminders=["2026-12-07T07:00:00Z", "-P1D"])
    served = todo(served_text(edited, {1: "9F3C-PHONE"}, unknown))
    alarms = served.walk("VALARM")
    assert [str(a["ACTION"]) for a in alarms] == ["AUDIO", "DISPLAY"], "the removed one gone, the kept one as sent"
    assert alarms[1]["TRIGGER"].to_ical() == b"-P1D" and "X-WR-ALARMUID" not in alarms[1]
    assert str(served["SUMMARY"]) == "Buy milk" and str(served["LOCATION"]) == "Corner shop"


def test_status_due_priority_and_relations_are_replaced_when_they_change() -> None:
    done = phone_task(
        status=Status.done,
        completed_at="2026-12-03T08:00:00Z",
        priority=Priority.low,
        due="2026-12-08",
        due_tz=None,
        reminders=["2026-12-07T07:00:00Z"],
        parent_id=5,
    )
    served = todo(served_text(done, {1: "9F3C-PHONE", 5: "PARENT-UID"}, lambda uid: uid == "PARENT-UID"))
    assert str(served["STATUS"]) == "COMPLETED" and served.decoded("COMPLETED").isoformat().startswith("2026-12-03")
    assert served["PRIORITY"] == 9 and served.decoded("DUE").isoformat() == "2026-12-08"
    related = served["RELATED-TO"]
    assert sorted(str(r) for r in related) == ["PARENT-UID", "somewhere-else"]
    assert [str(a["ACTION"]) for a in served.walk("VALARM")] == ["AUDIO"]


def test_a_task_without_a_client_vtodo_or_with_a_broken_one_is_served_from_the_model() -> None:
    for ical in (None, "BEGIN:VCALENDAR\r\nnot a calendar", PHONE.replace("BEGIN:VTODO", "BEGIN:VEVENT", 1)):
        served = served_text(phone_task(ical=ical), {1: "9F3C-PHONE"}, unknown)
        assert "LOCATION" not in served and "X-TODO-PROJECT:inbox" in served
        assert todo(served)["DUE"].params["TZID"] == "Europe/Berlin", "the zone kept as due_tz"
