"""Due dates: ISO forms and phrases, read in the user's zone (pure functions, fixed `now`)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.dates import parse_due, parse_phrase
from mcp_server_todo.errors import InvalidInput

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=LA)  # a Wednesday


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("today", date(2026, 11, 25)),
        ("Tomorrow", date(2026, 11, 26)),
        ("tomorrow 5pm", datetime(2026, 11, 26, 17, 0, tzinfo=LA)),
        ("tomorrow at 17:00", datetime(2026, 11, 26, 17, 0, tzinfo=LA)),
        ("friday", date(2026, 11, 27)),
        ("next friday", date(2026, 11, 27)),
        ("wednesday", date(2026, 11, 25)),
        ("next wednesday", date(2026, 12, 2)),
        ("in 3 days", date(2026, 11, 28)),
        ("in 2 weeks", date(2026, 12, 9)),
        ("in a month", date(2026, 12, 25)),
        ("end of month", date(2026, 11, 30)),
        ("end of week", date(2026, 11, 29)),
        ("next week", date(2026, 11, 30)),
        ("next month", date(2026, 12, 1)),
        ("dec 24", date(2026, 12, 24)),
        ("24th of December", date(2026, 12, 24)),
        ("december 24 2027", date(2027, 12, 24)),
        ("nov 1", date(2027, 11, 1)),
        ("monday 9:30am", datetime(2026, 11, 30, 9, 30, tzinfo=LA)),
        ("friday at 5", datetime(2026, 11, 27, 5, 0, tzinfo=LA)),
        ("noon", datetime(2026, 11, 25, 12, 0, tzinfo=LA)),
        ("in 2 hours", datetime(2026, 11, 25, 12, 30, tzinfo=LA)),
    ],
)
def test_phrases(phrase: str, expected: date | datetime) -> None:
    assert parse_phrase(phrase, NOW) == expected


@pytest.mark.parametrize("phrase", ["someday", "13pm", "in 3", "jan 32", "friday 25:00", ""])
def test_phrases_not_understood(phrase: str) -> None:
    assert parse_phrase(phrase, NOW) is None or phrase == ""


def test_due_values_are_stored_unambiguously() -> None:
    floating = parse_due("2026-12-24", LA, now=NOW)
    assert (floating.iso, floating.date, floating.utc) == ("2026-12-24", "2026-12-24", None)
    wall = parse_due("2026-12-24T17:00", LA, now=NOW)
    assert (wall.iso, wall.utc) == ("2026-12-24T17:00-08:00", "2026-12-25T01:00:00Z")
    explicit = parse_due("2026-12-24T17:00+01:00", LA, now=NOW)
    assert explicit.utc == "2026-12-24T16:00:00Z"
    phrase = parse_due("tomorrow 5pm", LA, now=NOW)
    assert (phrase.iso, phrase.utc) == ("2026-11-26T17:00-08:00", "2026-11-27T01:00:00Z")


def test_wall_clock_times_follow_dst() -> None:
    before = parse_due("2026-03-07T09:00", LA, now=NOW)  # PST
    after = parse_due("2026-03-09T09:00", LA, now=NOW)  # PDT
    assert before.iso.endswith("-08:00") and after.iso.endswith("-07:00")
    assert (before.utc, after.utc) == ("2026-03-07T17:00:00Z", "2026-03-09T16:00:00Z")


@pytest.mark.parametrize("value", ["2026-13-45", "2026-02-30", "someday", "12/24"])
def test_bad_due_values_say_what_to_use(value: str) -> None:
    with pytest.raises(InvalidInput, match="2026-12-24"):
        parse_due(value, LA, now=NOW)
