"""Due values for people: relative wording and filter windows, in the user's zone, at a
fixed `now` (expected values worked out by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.dates import Window, WindowKind, humanize, window
from mcp_server_todo.errors import InvalidInput

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
SANTIAGO = ZoneInfo("America/Santiago")
# Wednesday 2026-11-25 10:30 in Los Angeles = 18:30Z = Thursday 00:00 in Kolkata = Thursday 08:30 in Kiritimati
NOW = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ("2026-11-25", "due today"),
        ("2026-11-25T17:00-08:00", "due today 17:00"),
        ("2026-11-26T01:00Z", "due today 17:00"),  # a date-time's day is its day in the user's zone
        ("2026-11-26T02:00+01:00", "due today 17:00"),
        ("2026-11-25T10:30-08:00", "due today 10:30"),  # exactly now: not yet overdue
        ("2026-11-25T10:29-08:00", "overdue since 10:29"),
        ("2026-11-25T00:00-08:00", "overdue since 00:00"),
        ("2026-11-25T23:59-08:00", "due today 23:59"),
        ("2026-11-26", "due tomorrow"),
        ("2026-11-26T09:30-08:00", "due tomorrow 09:30"),
        ("2026-11-26T00:00-08:00", "due tomorrow 00:00"),
        ("2026-11-27", "due in 2 days"),
        ("2026-11-28T09:00-08:00", "due in 3 days"),
        ("2026-12-01", "due in 6 days"),
        ("2026-12-02", "due Wed 2 Dec"),
        ("2026-12-31", "due Thu 31 Dec"),
        ("2027-01-05", "due 2027-01-05"),
        ("2027-01-05T09:00-08:00", "due 2027-01-05"),
        ("2026-11-24", "1 day overdue"),
        ("2026-11-24T23:59-08:00", "1 day overdue"),
        ("2026-11-22", "3 days overdue"),
        ("2025-11-25", "365 days overdue"),
    ],
)
def test_humanize_in_los_angeles(due: str, expected: str) -> None:
    assert humanize(due, LA, NOW) == expected


def test_humanize_does_not_depend_on_the_zone_of_now() -> None:
    for now in (NOW, NOW.astimezone(LA), NOW.astimezone(KIRITIMATI)):
        assert humanize("2026-11-26T01:00Z", LA, now) == "due today 17:00"


@pytest.mark.parametrize(
    ("due", "zone", "expected"),
    [
        # the same instant: 01:00 tomorrow in Los Angeles, 23:00 today in Kiritimati
        ("2026-11-26T09:00Z", LA, "due tomorrow 01:00"),
        ("2026-11-26T09:00Z", KIRITIMATI, "due today 23:00"),
        ("2026-11-26T09:00Z", KOLKATA, "due today 14:30"),
        ("2026-11-26T09:00Z", UTC, "due tomorrow 09:00"),
        # the same floating day
        ("2026-11-26", LA, "due tomorrow"),
        ("2026-11-26", KIRITIMATI, "due today"),
        ("2026-11-26", KOLKATA, "due today"),  # midnight has just struck in Kolkata
        ("2026-11-26", UTC, "due tomorrow"),
        ("2026-11-25", KIRITIMATI, "1 day overdue"),
        ("2026-11-25", UTC, "due today"),
        # an instant already past in every zone
        ("2026-11-25T18:00Z", LA, "overdue since 10:00"),
        ("2026-11-25T18:00Z", KOLKATA, "1 day overdue"),  # 23:30 yesterday there
        ("2026-11-25T18:00Z", KIRITIMATI, "overdue since 08:00"),
        ("2026-11-25T18:00Z", UTC, "overdue since 18:00"),
    ],
)
def test_humanize_across_zones(due: str, zone: tzinfo, expected: str) -> None:
    assert humanize(due, zone, NOW) == expected


def test_humanize_on_a_dst_day() -> None:
    # 2026-03-08 in LA: 23 hours; 09:00 is 16:00Z (after the change), 01:00 is 09:00Z (before)
    now = datetime(2026, 3, 8, 8, 0, tzinfo=LA)
    assert humanize("2026-03-08T16:00Z", LA, now) == "due today 09:00"
    assert humanize("2026-03-08T09:00Z", LA, now) == "overdue since 01:00"
    assert humanize("2026-03-09T06:59Z", LA, now) == "due today 23:59"
    assert humanize("2026-03-09T07:00Z", LA, now) == "due tomorrow 00:00"


@pytest.mark.parametrize(
    ("due", "message"),
    [("next friday", "is not an ISO date or date-time"), ("2026-11-25T09:00", "has no UTC offset")],
)
def test_humanize_rejects_bad_values(due: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        humanize(due, LA, NOW)
    assert message in str(caught.value)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        humanize("2026-11-25", LA, datetime(2026, 11, 25, 10, 30))
    with pytest.raises(ValueError):
        window("today", LA, datetime(2026, 11, 25, 10, 30))


# ---- windows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (UTC, Window("2026-11-25", "2026-11-25", "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")),
        (ZoneInfo("UTC"), Window("2026-11-25", "2026-11-25", "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")),
        (LA, Window("2026-11-25", "2026-11-25", "2026-11-25T08:00:00Z", "2026-11-26T08:00:00Z")),
        (KOLKATA, Window("2026-11-26", "2026-11-26", "2026-11-25T18:30:00Z", "2026-11-26T18:30:00Z")),
        (KIRITIMATI, Window("2026-11-26", "2026-11-26", "2026-11-25T10:00:00Z", "2026-11-26T10:00:00Z")),
    ],
)
def test_today_window(zone: tzinfo, expected: Window) -> None:
    assert window("today", zone, NOW) == expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (UTC, Window("2026-11-23", "2026-11-29", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z")),
        (LA, Window("2026-11-23", "2026-11-29", "2026-11-23T08:00:00Z", "2026-11-30T08:00:00Z")),
        (KOLKATA, Window("2026-11-23", "2026-11-29", "2026-11-22T18:30:00Z", "2026-11-29T18:30:00Z")),
        (KIRITIMATI, Window("2026-11-23", "2026-11-29", "2026-11-22T10:00:00Z", "2026-11-29T10:00:00Z")),
    ],
)
def test_this_week_window(zone: tzinfo, expected: Window) -> None:
    assert window("this_week", zone, NOW) == expected


def test_this_week_starts_on_monday_and_ends_on_sunday() -> None:
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=LA)
    sunday = datetime(2026, 11, 29, 23, 59, tzinfo=LA)
    for now in (monday, sunday):
        assert window("this_week", LA, now) == Window(
            "2026-11-23", "2026-11-29", "2026-11-23T08:00:00Z", "2026-11-30T08:00:00Z"
        )
    next_monday = datetime(2026, 11, 30, 0, 0, tzinfo=LA)
    assert window("this_week", LA, next_monday).date_from == "2026-11-30"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (UTC, Window(None, "2026-11-24", None, "2026-11-25T18:30:00Z")),
        (LA, Window(None, "2026-11-24", None, "2026-11-25T18:30:00Z")),
        (KOLKATA, Window(None, "2026-11-25", None, "2026-11-25T18:30:00Z")),
        (KIRITIMATI, Window(None, "2026-11-25", None, "2026-11-25T18:30:00Z")),
    ],
)
def test_overdue_window(zone: tzinfo, expected: Window) -> None:
    assert window("overdue", zone, NOW) == expected


def test_overdue_bound_is_truncated_to_the_second() -> None:
    now = datetime(2026, 11, 25, 10, 30, 45, 900_000, tzinfo=LA)
    assert window("overdue", LA, now).utc_to == "2026-11-25T18:30:45Z"


@pytest.mark.parametrize(
    ("kind", "zone", "now", "expected"),
    [
        # Los Angeles springs forward on 2026-03-08: a 23-hour day
        (
            "today",
            LA,
            datetime(2026, 3, 8, 12, 0, tzinfo=LA),
            Window("2026-03-08", "2026-03-08", "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z"),
        ),
        # ... and falls back on 2026-11-01: a 25-hour day
        (
            "today",
            LA,
            datetime(2026, 11, 1, 12, 0, tzinfo=LA),
            Window("2026-11-01", "2026-11-01", "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z"),
        ),
        (
            "this_week",
            LA,
            datetime(2026, 3, 8, 12, 0, tzinfo=LA),
            Window("2026-03-02", "2026-03-08", "2026-03-02T08:00:00Z", "2026-03-09T07:00:00Z"),
        ),
        (
            "today",
            BERLIN,
            datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN),
            Window("2026-03-29", "2026-03-29", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        ),
        (
            "today",
            BERLIN,
            datetime(2026, 10, 25, 12, 0, tzinfo=BERLIN),
            Window("2026-10-25", "2026-10-25", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
        ),
        # Santiago skips midnight itself on 2026-09-06 (00:00 -> 01:00): the day starts at 01:00 -03
        (
            "today",
            SANTIAGO,
            datetime(2026, 9, 6, 12, 0, tzinfo=SANTIAGO),
            Window("2026-09-06", "2026-09-06", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"),
        ),
    ],
)
def test_windows_on_dst_days(kind: WindowKind, zone: tzinfo, now: datetime, expected: Window) -> None:
    assert window(kind, zone, now) == expected


def test_an_unknown_window_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        window("next_week", LA, NOW)  # type: ignore[arg-type]


def test_window_contains_follows_the_store_contract() -> None:
    today = window("today", LA, NOW)
    assert today.contains("2026-11-25", None)
    assert not today.contains("2026-11-24", None)
    assert not today.contains("2026-11-26", None)
    assert today.contains("2026-11-25", "2026-11-25T08:00:00Z")  # 00:00 in LA: in
    assert today.contains("2026-11-26", "2026-11-26T07:59:59Z")  # 23:59:59 in LA: in (due_date is not used)
    assert not today.contains("2026-11-26", "2026-11-26T08:00:00Z")  # next midnight: out (half-open)
    assert not today.contains("2026-11-25", "2026-11-25T07:59:59Z")
    assert not today.contains(None, None)
    overdue = window("overdue", LA, NOW)
    assert overdue.contains("2020-01-01", None)
    assert not overdue.contains("2026-11-25", None)  # a floating today is not overdue
    assert overdue.contains("2026-11-25", "2026-11-25T18:29:59Z")
    assert not overdue.contains("2026-11-25", "2026-11-25T18:30:00Z")


@pytest.mark.parametrize("zone", [UTC, LA, BERLIN, KOLKATA, KIRITIMATI])
def test_humanize_agrees_with_the_windows(zone: tzinfo) -> None:
    """Every 30 minutes across three days: 'today' wording iff in the today window,
    'overdue' wording iff in the overdue window."""
    today = window("today", zone, NOW)
    overdue = window("overdue", zone, NOW)
    start = NOW - timedelta(days=1, hours=12)
    for step in range(0, 3 * 48):
        instant = (start + timedelta(minutes=30 * step)).astimezone(zone)
        utc = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # the store's due_utc
        day = instant.date().isoformat()
        for due, due_date, due_utc in ((instant.isoformat(timespec="minutes"), day, utc), (day, day, None)):
            words = humanize(due, zone, NOW)
            assert today.contains(due_date, due_utc) == words.startswith(("due today", "overdue since")), due
            assert overdue.contains(due_date, due_utc) == ("overdue" in words), due
