"""Reminders: the parser (dates/reminders.py), pure; and the service on SQLite and PostgreSQL
(real databases): adding, replacing, clearing, undo and history, the due-date rule, recurring
tasks and a shared project's copies."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.dates.reminders import (
    describe_reminder,
    duration,
    offset_seconds,
    parse_reminder,
    parse_reminders,
)
from mcp_server_todo.errors import InvalidInput
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import Store

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    ("text", "stored", "shown"),
    [
        ("30 minutes before", "-PT30M", "30m before"),
        ("1 day before", "-P1D", "1d before"),
        ("2 hours before", "-PT2H", "2h before"),
        ("90 min before due", "-PT1H30M", "1h30m before"),
        ("2 weeks before", "-P2W", "2w before"),
        ("  At   Due ", "PT0S", "at due"),
        ("10 minutes after", "PT10M", "10m after"),
        ("-pt15m", "-PT15M", "15m before"),
        ("-P1DT2H", "-P1DT2H", "1d2h before"),
        ("-P7D", "-P1W", "1w before"),
        ("tomorrow 9am", "2026-12-07T08:00:00Z", "2026-12-07 08:00Z"),  # 9:00 in Paris
        ("2026-12-07 08:00", "2026-12-07T07:00:00Z", "2026-12-07 07:00Z"),
        ("2026-12-07T08:00:00Z", "2026-12-07T08:00:00Z", "2026-12-07 08:00Z"),
    ],
)
def test_reminders_are_read_in_the_users_zone_and_stored_normalized(text: str, stored: str, shown: str) -> None:
    assert parse_reminder(text, PARIS, now=NOW) == stored
    assert describe_reminder(stored) == shown
    assert parse_reminder(stored, PARIS, now=NOW) == stored, "a stored reminder reads back as itself"


@pytest.mark.parametrize("seconds", [0, -60, -1800, -86400, -90061, 604800, -1209600, 3600])
def test_durations_round_trip(seconds: int) -> None:
    assert offset_seconds(duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is empty"),
        ("soon", "not understood"),
        ("3 fortnights before", "not understood"),
        ("400 days before", "more than a year"),
        ("tomorrow", "without a time"),
        ("P", "not a duration"),
        ("x" * 300, "not understood"),
        ("2026-02-30 09:00", "reminder"),
    ],
)
def test_bad_reminders_say_what_to_use(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_reminder(text, PARIS, now=NOW)


def test_a_list_drops_duplicates_and_holds_at_most_ten() -> None:
    assert parse_reminders(["1 hour before", "-PT1H", "60 minutes before"], PARIS, now=NOW) == ["-PT1H"]
    with pytest.raises(InvalidInput, match="at most 10"):
        parse_reminders([f"{n} minutes before" for n in range(1, 12)], PARIS, now=NOW)
    with pytest.raises(InvalidInput, match="a list"):
        parse_reminders("1 hour before", PARIS, now=NOW)  # type: ignore[arg-type]


# ---- the service, on both backends ------------------------------------------------------


def service(store: Store, owner: str = "alice") -> TodoService:
    return TodoService(store, owner=owner, tz=PARIS, now=lambda: NOW)


def test_remind_is_set_replaced_cleared_and_undone_like_any_field(backend: Store) -> None:
    svc = service(backend)
    task = svc.add("dentist", due="2026-12-24T17:00", remind=["30 minutes before", "tomorrow 9am"])
    assert task.reminders == ["-PT30M", "2026-12-07T08:00:00Z"]
    assert svc.update(task.id, remind=["1 day before"]).reminders == ["-P1D"]
    assert svc.update(task.id, title="dentist!").reminders == ["-P1D"], "other updates keep them"
    assert svc.update(task.id, remind=[]).reminders == []
    svc.undo()
    assert svc.get(task.id).reminders == ["-P1D"]
    history = svc.history(task.id)
    # newest first: the undo (back to one day before), the clear, the title change
    assert [c.after.reminders for c in history if c.after is not None][:3] == [["-P1D"], [], ["-P1D"]]


def test_a_relative_reminder_needs_a_due_date(backend: Store) -> None:
    svc = service(backend)
    with pytest.raises(InvalidInput, match="set due too"):
        svc.add("no date", remind=["1 hour before"])
    task = svc.add("timed", remind=["tomorrow 9am"])
    with pytest.raises(InvalidInput, match=r"remind=\[\]"):
        svc.update(task.id, remind=["at due"])
    assert svc.update(task.id, remind=["at due"], due="2026-12-10").reminders == ["PT0S"]
    with pytest.raises(InvalidInput, match="has none"):
        svc.update(task.id, due="")
    assert svc.update(task.id, due="", remind=[]).due is None
    with pytest.raises(InvalidInput, match=r"item 2: .*set due too"):
        svc.add_many([{"title": "a", "due": "tomorrow", "remind": ["at due"]}, {"title": "b", "remind": ["at due"]}])


def test_the_next_occurrence_keeps_relative_reminders_only(backend: Store) -> None:
    svc = service(backend)
    task = svc.add("standup", due="2026-12-07T09:00", recur="daily", remind=["15 minutes before", "tomorrow 8am"])
    (nxt,) = svc.complete_many([task.id]).created
    assert nxt.reminders == ["-PT15M"]


def test_a_shared_projects_copies_carry_the_reminders(backend: Store) -> None:
    alice, bob = service(backend, "alice"), service(backend, "bob")
    alice.add("report", project="work", due="2026-12-10", remind=["1 day before"])
    alice.share_project("work", "bob")
    (copy,) = bob.list_tasks(project="alice/work").items
    assert copy.reminders == ["-P1D"]
    bob.update(copy.id, remind=["2 days before"])
    (mine,) = alice.list_tasks(project="work").items
    assert mine.reminders == ["-P2D"]
