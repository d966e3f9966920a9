"""Recurrence: phrases and raw RRULEs normalized, described, and stepped to the next
occurrence (pure functions, fixed dates; expected values worked out by hand)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from mcp_server_todo.dates.recurrence import Advance, advance, describe, first_due, next_due, parse_recur
from mcp_server_todo.errors import InvalidInput

WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
LA = "America/Los_Angeles"
BERLIN = "Europe/Berlin"

PHRASES = [
    ("daily", "FREQ=DAILY"),
    ("every day", "FREQ=DAILY"),
    ("Every  Day ", "FREQ=DAILY"),
    ("each day", "FREQ=DAILY"),
    ("every 3 days", "FREQ=DAILY;INTERVAL=3"),
    ("every other day", "FREQ=DAILY;INTERVAL=2"),
    ("every 1 day", "FREQ=DAILY"),
    ("every weekday", WEEKDAYS),
    ("EVERY WEEKDAY", WEEKDAYS),
    ("weekdays", WEEKDAYS),
    ("every workday", WEEKDAYS),
    ("every weekend", "FREQ=WEEKLY;BYDAY=SA,SU"),
    ("weekly", "FREQ=WEEKLY"),
    ("every week", "FREQ=WEEKLY"),
    ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
    ("every two weeks", "FREQ=WEEKLY;INTERVAL=2"),
    ("fortnightly", "FREQ=WEEKLY;INTERVAL=2"),
    ("every 2 weeks on monday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
    ("every other monday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
    ("weekly on tuesday and thursday", "FREQ=WEEKLY;BYDAY=TU,TH"),
    ("every monday", "FREQ=WEEKLY;BYDAY=MO"),
    ("every Sunday", "FREQ=WEEKLY;BYDAY=SU"),
    ("every mon and thu", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("every thu and mon", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("every monday, wednesday and friday", "FREQ=WEEKLY;BYDAY=MO,WE,FR"),
    ("every monday, wednesday, and friday", "FREQ=WEEKLY;BYDAY=MO,WE,FR"),
    ("every mon,wed,fri", "FREQ=WEEKLY;BYDAY=MO,WE,FR"),
    ("mondays and thursdays", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("monthly", "FREQ=MONTHLY"),
    ("every month", "FREQ=MONTHLY"),
    ("every 3 months", "FREQ=MONTHLY;INTERVAL=3"),
    ("quarterly", "FREQ=MONTHLY;INTERVAL=3"),
    ("monthly on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("every month on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("monthly on 15", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("every 15th", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("the 15th of every month", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("monthly on the 1st and 15th", "FREQ=MONTHLY;BYMONTHDAY=1,15"),
    ("every 3 months on the 1st", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1"),
    ("monthly on the last day", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("every last day of the month", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("the last day of every month", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("monthly on the second to last day", "FREQ=MONTHLY;BYMONTHDAY=-2"),
    ("every last friday", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("monthly on the last friday", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("monthly on the first monday", "FREQ=MONTHLY;BYDAY=1MO"),
    ("every first monday", "FREQ=MONTHLY;BYDAY=1MO"),
    ("every 2nd tuesday", "FREQ=MONTHLY;BYDAY=2TU"),
    ("monthly on the first monday and the third monday", "FREQ=MONTHLY;BYDAY=1MO,3MO"),
    ("monthly on the last weekday", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"),
    ("yearly", "FREQ=YEARLY"),
    ("annually", "FREQ=YEARLY"),
    ("every year", "FREQ=YEARLY"),
    ("every 2 years", "FREQ=YEARLY;INTERVAL=2"),
    ("every dec 24", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24"),
    ("every 24 dec", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24"),
    ("every year on december 24", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24"),
    ("yearly on the 24th of december", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24"),
    ("every feb 29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
    ("every day, 10 times", "FREQ=DAILY;COUNT=10"),
    ("every weekday for 5 times", WEEKDAYS + ";COUNT=5"),
    ("daily until 2026-12-31", "FREQ=DAILY;UNTIL=20261231"),
    ("every monday until 2027-01-31T17:00Z", "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270131T170000Z"),
]


@pytest.mark.parametrize(("phrase", "rule"), PHRASES)
def test_phrases(phrase: str, rule: str) -> None:
    assert parse_recur(phrase) == rule


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("rrule:freq=weekly;byday=mo", "FREQ=WEEKLY;BYDAY=MO"),
        (" FREQ=WEEKLY ; BYDAY=FR,MO,MO ; ", "FREQ=WEEKLY;BYDAY=MO,FR"),
        ("BYDAY=MO;FREQ=WEEKLY;INTERVAL=1;WKST=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=SU,TU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1,15,1", "FREQ=MONTHLY;BYMONTHDAY=1,15,-1"),
        ("FREQ=MONTHLY;BYDAY=+1MO", "FREQ=MONTHLY;BYDAY=1MO"),
        ("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR"),
        ("FREQ=YEARLY;BYMONTHDAY=24;BYMONTH=12", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24"),
        ("FREQ=YEARLY;BYDAY=-1MO;BYMONTH=5", "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO"),
        ("FREQ=DAILY;COUNT=10", "FREQ=DAILY;COUNT=10"),
        ("COUNT=10;FREQ=DAILY;INTERVAL=2", "FREQ=DAILY;INTERVAL=2;COUNT=10"),
        ("FREQ=DAILY;UNTIL=20261231", "FREQ=DAILY;UNTIL=20261231"),
        ("FREQ=DAILY;UNTIL=20261231T235959Z", "FREQ=DAILY;UNTIL=20261231T235959Z"),
        ("FREQ=DAILY;UNTIL=2026-12-31", "FREQ=DAILY;UNTIL=20261231"),
        ("FREQ=DAILY;UNTIL=2026-12-31T17:00-08:00", "FREQ=DAILY;UNTIL=20270101T010000Z"),
        ("FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO", "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO"),
        ("FREQ=YEARLY;BYYEARDAY=100", "FREQ=YEARLY;BYYEARDAY=100"),
    ],
)
def test_raw_rules_are_normalized(raw: str, rule: str) -> None:
    assert parse_recur(raw) == rule
    assert parse_recur(rule) == rule  # normalizing is idempotent


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "every blue moon",
            "recur 'every blue moon' is not understood; use a phrase like 'every weekday', "
            "'every 2 weeks on monday', 'monthly on the 15th', or an RRULE like FREQ=WEEKLY;BYDAY=MO",
        ),
        ("", "recur is empty; use a phrase like 'every weekday'"),
        ("   ", "recur is empty"),
        ("every 2 hours", "recur 'every 2 hours' repeats more often than once a day"),
        ("hourly", "repeats more often than once a day; a task recurs at most daily"),
        ("every 30 minutes", "repeats more often than once a day"),
        ("FREQ=HOURLY", "recur 'FREQ=HOURLY' repeats more often than once a day"),
        ("FREQ=MINUTELY;INTERVAL=5", "repeats more often than once a day"),
        ("RRULE:FREQ=SECONDLY", "repeats more often than once a day"),
        ("FREQ=DAILY;BYHOUR=9", "sets a time of day (BYHOUR)"),
        ("every day at 9am", "includes a time of day; recur only says which days. Put the time in due"),
        ("every monday 17:00", "includes a time of day"),
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "contains DTSTART; send only the rule"),
        ("DTSTART=20260101;FREQ=DAILY", "contains DTSTART"),
        ("RRULE:FREQ=DAILY\nEXDATE:20260102", "more than one rule line"),
        ("FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY is not valid; use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("BYDAY=MO", "has no FREQ; start it with FREQ=DAILY"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY value 'XX' is not valid"),
        ("FREQ=WEEKLY;BYDAY=", "is not understood"),
        ("FREQ=WEEKLY;COLOR=BLUE", "COLOR is not a supported RRULE part"),
        ("FREQ=WEEKLY;FREQ=DAILY", "gives FREQ twice"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a positive whole number; got 0"),
        ("FREQ=DAILY;INTERVAL=-2", "INTERVAL must be a positive whole number"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a positive whole number; got 0"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231", "has both COUNT and UNTIL; keep one of them"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL 'TOMORROW' is not a date"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY value '32' is out of range; use 1..31 or -31..-1"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH value '13' is out of range; use 1..12"),
        ("FREQ=WEEKLY;BYDAY=1MO", "a numbered BYDAY like 1MO or -1FR needs FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "a month has at most 5 of a weekday"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY does not go with FREQ=WEEKLY"),
        ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO needs FREQ=YEARLY"),
        ("FREQ=WEEKLY;BYSETPOS=1", "BYSETPOS needs another BYxxx part"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never happens (no such date)"),
        ("FREQ=DAILY;BYMONTH=4,6;BYMONTHDAY=31", "never happens"),
        ("FREQ=YEARLY;INTERVAL=101", "INTERVAL=101 is too long"),
        ("every 0 days", "the interval must be at least 1"),
        ("every feb 30", "is not understood"),
        ("every 15", "is not understood"),
        ("every day and the 15th", "is not understood"),
        ("monthly on the 13th and friday", "is not understood"),
        ("x" * 501, "recur is 501 characters; the limit is 500"),
    ],
)
def test_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_recur(text)
    assert message in str(caught.value)


def test_an_impossible_rule_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidInput):
        parse_recur("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("FREQ=DAILY", "every day"),
        ("FREQ=DAILY;INTERVAL=3", "every 3 days"),
        (WEEKDAYS, "every weekday"),
        ("FREQ=WEEKLY;BYDAY=SA,SU", "every weekend"),
        ("FREQ=WEEKLY", "every week"),
        ("FREQ=WEEKLY;INTERVAL=2", "every 2 weeks"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "every 2 weeks on Monday"),
        ("FREQ=WEEKLY;BYDAY=MO", "every Monday"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "every Monday and Thursday"),
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "every Monday, Wednesday and Friday"),
        ("FREQ=MONTHLY", "every month"),
        ("FREQ=MONTHLY;INTERVAL=3", "every 3 months"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "monthly on the 15th"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,2,3,11,22,-1", "monthly on the 1st, 2nd, 3rd, 11th, 22nd and last day"),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", "every 3 months on the 1st"),
        ("FREQ=MONTHLY;BYMONTHDAY=-2", "monthly on the second to last day"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "monthly on the last Friday"),
        ("FREQ=MONTHLY;BYDAY=1MO", "monthly on the first Monday"),
        ("FREQ=MONTHLY;BYDAY=1MO,3MO", "monthly on the first Monday and third Monday"),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "monthly on the last weekday"),
        ("FREQ=YEARLY", "every year"),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24", "every year on Dec 24"),
        ("FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "every 2 years on Feb 29"),
        ("FREQ=DAILY;COUNT=10", "every day, 10 times"),
        ("FREQ=DAILY;COUNT=1", "every day, once"),
        ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231", "every Monday until 2026-12-31"),
        ("FREQ=DAILY;UNTIL=20261231T235959Z", "every day until 2026-12-31T23:59:59Z"),
    ],
)
def test_describe_and_round_trip(rule: str, text: str) -> None:
    assert describe(rule) == text
    assert parse_recur(text) == rule


@pytest.mark.parametrize(("phrase", "rule"), PHRASES)
def test_every_phrase_describes_back_to_the_same_rule(phrase: str, rule: str) -> None:
    assert parse_recur(describe(rule)) == rule


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR"),
        ("FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO", "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO"),
        ("FREQ=WEEKLY;WKST=SU;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO;WKST=SU"),
        ("rrule:freq=daily;byday=mo,tu", "FREQ=DAILY;BYDAY=MO,TU"),
        ("not a rule", "not a rule"),
    ],
)
def test_describe_falls_back_to_the_rule(rule: str, text: str) -> None:
    assert describe(rule) == text


# ---- next occurrence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "due", "today", "expected"),
    [
        ("FREQ=DAILY", "2026-11-25", date(2026, 11, 25), "2026-11-26"),
        ("FREQ=DAILY;INTERVAL=3", "2026-11-25", date(2026, 11, 25), "2026-11-28"),
        ("FREQ=DAILY", "2026-12-31", date(2026, 12, 31), "2027-01-01"),
        ("FREQ=WEEKLY", "2026-11-25", date(2026, 11, 25), "2026-12-02"),
        ("FREQ=WEEKLY;INTERVAL=2", "2026-11-25", date(2026, 11, 25), "2026-12-09"),
        (WEEKDAYS, "2026-11-25", date(2026, 11, 25), "2026-11-26"),  # Wednesday -> Thursday
        (WEEKDAYS, "2026-11-27", date(2026, 11, 27), "2026-11-30"),  # Friday -> Monday
        (WEEKDAYS, "2026-11-28", date(2026, 11, 28), "2026-11-30"),  # moved to a Saturday -> Monday
        ("FREQ=WEEKLY;BYDAY=SA,SU", "2026-11-29", date(2026, 11, 29), "2026-12-05"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "2026-11-26", date(2026, 11, 26), "2026-11-30"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "2026-11-30", date(2026, 11, 30), "2026-12-14"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "2026-01-15", date(2026, 1, 15), "2026-02-15"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "2026-12-15", date(2026, 12, 15), "2027-01-15"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "2026-01-20", date(2026, 1, 20), "2026-02-15"),  # moved off the 15th
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "2026-01-15", date(2026, 1, 15), "2026-02-01"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-01-31", date(2026, 1, 31), "2026-02-28"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-02-28", date(2026, 2, 28), "2026-03-31"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "2028-01-31", date(2028, 1, 31), "2028-02-29"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-04-30", date(2026, 4, 30), "2026-05-31"),
        # RFC 5545: "monthly" from the 31st skips months without one (use "on the last day" to clamp)
        ("FREQ=MONTHLY", "2026-01-31", date(2026, 1, 31), "2026-03-31"),
        ("FREQ=MONTHLY", "2026-01-15", date(2026, 1, 15), "2026-02-15"),
        ("FREQ=MONTHLY;INTERVAL=3", "2026-11-15", date(2026, 11, 15), "2027-02-15"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "2026-11-27", date(2026, 11, 27), "2026-12-25"),
        ("FREQ=MONTHLY;BYDAY=1MO", "2026-11-02", date(2026, 11, 2), "2026-12-07"),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2026-11-30", date(2026, 11, 30), "2026-12-31"),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2026-12-31", date(2026, 12, 31), "2027-01-29"),
        ("FREQ=YEARLY", "2026-12-24", date(2026, 12, 24), "2027-12-24"),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24", "2026-12-24", date(2026, 12, 24), "2027-12-24"),
        ("FREQ=YEARLY", "2028-02-29", date(2028, 2, 29), "2032-02-29"),  # RFC 5545: Feb 29 only
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1", "2028-02-29", date(2028, 2, 29), "2029-02-28"),
    ],
)
def test_next_due_of_a_floating_date(rule: str, due: str, today: date, expected: str) -> None:
    assert next_due(rule, due, None, today) == expected


@pytest.mark.parametrize(
    ("rule", "due", "today", "expected", "used"),
    [
        # five days overdue: comes back today, not four days ago
        ("FREQ=DAILY", "2026-11-20", date(2026, 11, 25), "2026-11-25", 5),
        ("FREQ=DAILY;INTERVAL=3", "2026-11-20", date(2026, 11, 25), "2026-11-26", 2),
        ("FREQ=WEEKLY", "2026-11-04", date(2026, 11, 25), "2026-11-25", 3),
        ("FREQ=WEEKLY", "2026-11-04", date(2026, 11, 26), "2026-12-02", 4),
        (WEEKDAYS, "2026-11-20", date(2026, 11, 28), "2026-11-30", 6),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "2026-01-15", date(2026, 3, 16), "2026-04-15", 3),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24", "2024-12-24", date(2026, 11, 25), "2026-12-24", 2),
        # not overdue: a due in the future steps one period, whatever today is
        ("FREQ=DAILY", "2026-12-01", date(2026, 11, 25), "2026-12-02", 1),
    ],
)
def test_an_overdue_series_skips_forward_to_today(rule: str, due: str, today: date, expected: str, used: int) -> None:
    assert advance(rule, due, None, today) == Advance(due=expected, rule=rule, used=used)
    assert next_due(rule, due, None, today) == expected


@pytest.mark.parametrize(
    ("due", "due_tz", "expected"),
    [
        # Los Angeles: spring forward on 2026-03-08, fall back on 2026-11-01; 09:00 stays 09:00
        ("2026-03-07T09:00-08:00", LA, "2026-03-08T09:00-07:00"),
        ("2026-03-08T09:00-07:00", LA, "2026-03-09T09:00-07:00"),
        ("2026-10-31T09:00-07:00", LA, "2026-11-01T09:00-08:00"),
        ("2026-11-01T09:00-08:00", LA, "2026-11-02T09:00-08:00"),
        # Berlin: 2026-03-29 and 2026-10-25
        ("2026-03-28T09:00+01:00", BERLIN, "2026-03-29T09:00+02:00"),
        ("2026-10-24T09:00+02:00", BERLIN, "2026-10-25T09:00+01:00"),
        ("2026-10-24T23:30+02:00", BERLIN, "2026-10-25T23:30+01:00"),
        # other zones, no DST
        ("2026-11-25T09:00+00:00", "UTC", "2026-11-26T09:00+00:00"),
        ("2026-11-25T09:00Z", "UTC", "2026-11-26T09:00+00:00"),
        ("2026-11-25T17:00+05:30", "Asia/Kolkata", "2026-11-26T17:00+05:30"),
        ("2026-11-25T17:00+14:00", "Pacific/Kiritimati", "2026-11-26T17:00+14:00"),
        ("2026-12-31T23:45+14:00", "Pacific/Kiritimati", "2027-01-01T23:45+14:00"),
        # no zone: the offset is kept as a fixed zone
        ("2026-03-07T09:00-08:00", None, "2026-03-08T09:00-08:00"),
        ("2026-11-25T17:00+05:30", None, "2026-11-26T17:00+05:30"),
        # an instant written in another offset is read as wall-clock time in its zone
        ("2026-11-26T01:00Z", LA, "2026-11-26T17:00-08:00"),
        # seconds are kept when present
        ("2026-11-25T09:00:30-08:00", LA, "2026-11-26T09:00:30-08:00"),
        # 02:30 does not exist on 2026-03-08 in LA: Python's pre-transition offset, and the
        # series keeps 02:30 afterwards
        ("2026-03-07T02:30-08:00", LA, "2026-03-08T02:30-08:00"),
        ("2026-03-08T02:30-08:00", LA, "2026-03-09T02:30-07:00"),
        # 01:30 happens twice on 2026-11-01 in LA: the first one (fold=0) is used
        ("2026-10-31T01:30-07:00", LA, "2026-11-01T01:30-07:00"),
        ("2026-11-01T01:30-08:00", LA, "2026-11-02T01:30-08:00"),
    ],
)
def test_next_due_of_a_date_time_keeps_its_wall_clock(due: str, due_tz: str | None, expected: str) -> None:
    assert next_due("FREQ=DAILY", due, due_tz, date(2026, 1, 1)) == expected


def test_weekly_date_time_across_dst() -> None:
    rule = parse_recur("every monday")
    assert next_due(rule, "2026-03-02T17:30-08:00", LA, date(2026, 3, 2)) == "2026-03-09T17:30-07:00"
    assert next_due(rule, "2026-10-26T17:30+01:00", BERLIN, date(2026, 10, 26)) == "2026-11-02T17:30+01:00"
    assert next_due(rule, "2026-03-23T08:00+01:00", BERLIN, date(2026, 3, 23)) == "2026-03-30T08:00+02:00"


def test_overdue_date_time_skips_forward_in_its_zone() -> None:
    assert next_due("FREQ=DAILY", "2026-11-20T09:00-08:00", LA, date(2026, 11, 25)) == "2026-11-25T09:00-08:00"
    # across the DST change while overdue
    assert next_due("FREQ=DAILY", "2026-03-01T09:00-08:00", LA, date(2026, 3, 10)) == "2026-03-10T09:00-07:00"


def test_count_counts_from_the_current_occurrence() -> None:
    first = advance("FREQ=DAILY;COUNT=3", "2026-11-25", None, date(2026, 11, 25))
    assert first == Advance(due="2026-11-26", rule="FREQ=DAILY;COUNT=2", used=1)
    second = advance(first.rule, first.due, None, date(2026, 11, 26))
    assert second == Advance(due="2026-11-27", rule="FREQ=DAILY;COUNT=1", used=1)
    assert advance(second.rule, second.due, None, date(2026, 11, 27)) is None
    assert next_due("FREQ=DAILY;COUNT=1", "2026-11-27", None, date(2026, 11, 27)) is None


def test_count_with_completed_count_instead_of_rewriting_the_rule() -> None:
    assert next_due("FREQ=DAILY;COUNT=3", "2026-11-25", None, date(2026, 11, 25)) == "2026-11-26"
    assert next_due("FREQ=DAILY;COUNT=3", "2026-11-26", None, date(2026, 11, 26), completed_count=1) == "2026-11-27"
    assert next_due("FREQ=DAILY;COUNT=3", "2026-11-27", None, date(2026, 11, 27), completed_count=2) is None
    with pytest.raises(ValueError):
        next_due("FREQ=DAILY", "2026-11-25", None, date(2026, 11, 25), completed_count=-1)


def test_skipped_occurrences_use_up_the_count() -> None:
    assert advance("FREQ=DAILY;COUNT=10", "2026-11-20", None, date(2026, 11, 25)) == Advance(
        due="2026-11-25", rule="FREQ=DAILY;COUNT=5", used=5
    )
    assert advance("FREQ=DAILY;COUNT=3", "2026-11-20", None, date(2026, 11, 25)) is None


@pytest.mark.parametrize(
    ("rule", "due", "due_tz", "expected"),
    [
        ("FREQ=DAILY;UNTIL=20261126", "2026-11-25", None, "2026-11-26"),
        ("FREQ=DAILY;UNTIL=20261126", "2026-11-26", None, None),
        ("FREQ=WEEKLY;UNTIL=20261201", "2026-11-25", None, None),
        ("FREQ=WEEKLY;UNTIL=20261202", "2026-11-25", None, "2026-12-02"),
        # UNTIL is inclusive; a date-time UNTIL is an instant (17:00Z is 09:00 in LA)
        ("FREQ=DAILY;UNTIL=20261127T170000Z", "2026-11-26T09:00-08:00", LA, "2026-11-27T09:00-08:00"),
        ("FREQ=DAILY;UNTIL=20261127T165959Z", "2026-11-26T09:00-08:00", LA, None),
        # a date UNTIL with a date-time series: the end of that day
        ("FREQ=DAILY;UNTIL=20261127", "2026-11-26T23:00-08:00", LA, "2026-11-27T23:00-08:00"),
        ("FREQ=DAILY;UNTIL=20261127", "2026-11-27T23:00-08:00", LA, None),
    ],
)
def test_until_ends_the_series(rule: str, due: str, due_tz: str | None, expected: str | None) -> None:
    assert next_due(rule, due, due_tz, date(2026, 11, 25)) == expected


def test_until_passed_while_overdue_ends_the_series() -> None:
    assert next_due("FREQ=DAILY;UNTIL=20261122", "2026-11-20", None, date(2026, 11, 25)) is None


def test_next_due_accepts_phrases_and_raw_rules() -> None:
    assert next_due("every weekday", "2026-11-27", None, date(2026, 11, 27)) == "2026-11-30"
    assert next_due("RRULE:FREQ=WEEKLY;BYDAY=MO", "2026-11-27", None, date(2026, 11, 27)) == "2026-11-30"


@pytest.mark.parametrize(
    ("due", "due_tz", "message"),
    [
        ("2026-02-30", None, "due '2026-02-30' is not a real date"),
        ("next friday", None, "is not an ISO date or date-time"),
        ("2026-11-25T09:00", None, "has no UTC offset and no zone"),
        ("2026-11-25T09:00-08:00", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
    ],
)
def test_next_due_rejects_bad_values(due: str, due_tz: str | None, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        next_due("FREQ=DAILY", due, due_tz, date(2026, 11, 25))
    assert message in str(caught.value)


def test_a_naive_date_time_with_a_zone_is_read_in_that_zone() -> None:
    assert next_due("FREQ=DAILY", "2026-03-07T09:00", LA, date(2026, 3, 7)) == "2026-03-08T09:00-07:00"


def test_a_rule_that_cannot_match_again_ends_instead_of_hanging() -> None:
    started = time.perf_counter()
    # every 7 days on Mondays, from a Tuesday: never again
    assert next_due("FREQ=DAILY;INTERVAL=7;BYDAY=MO", "2026-11-24", None, date(2026, 11, 24)) is None
    assert time.perf_counter() - started < 5


# ---- first occurrence ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "today", "expected"),
    [
        ("daily", date(2026, 11, 25), "2026-11-25"),
        ("every monday", date(2026, 11, 25), "2026-11-30"),
        ("every wednesday", date(2026, 11, 25), "2026-11-25"),
        ("every weekday", date(2026, 11, 28), "2026-11-30"),
        ("monthly on the 15th", date(2026, 11, 25), "2026-12-15"),
        ("monthly on the 15th", date(2026, 11, 15), "2026-11-15"),
        ("monthly on the last day", date(2026, 2, 3), "2026-02-28"),
        ("every last friday", date(2026, 11, 28), "2026-12-25"),
        ("every dec 24", date(2026, 12, 25), "2027-12-24"),
        ("every feb 29", date(2026, 3, 1), "2028-02-29"),
        ("monthly", date(2026, 11, 25), "2026-11-25"),
        ("FREQ=DAILY;UNTIL=20261125", date(2026, 11, 25), "2026-11-25"),
    ],
)
def test_first_due(rule: str, today: date, expected: str) -> None:
    assert first_due(rule, today) == expected


def test_first_due_of_an_ended_series_is_an_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        first_due("FREQ=DAILY;UNTIL=20261124", date(2026, 11, 25))
    assert "has no occurrence on or after 2026-11-25 (its UNTIL has passed)" in str(caught.value)


def test_a_stored_rule_is_described_once_and_remembered() -> None:
    import importlib

    describing = importlib.import_module("mcp_server_todo.dates.recurrence.describe")

    rule = "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU"
    first = describing.describe(rule)
    hits = describing._described.cache_info().hits
    assert describing.describe(rule) == first == "every 3 weeks on Tuesday"
    assert describing._described.cache_info().hits == hits + 1, "a listing re-describes the same rules"
    assert describing.describe("every day") == "every day", "a phrase is described afresh"
