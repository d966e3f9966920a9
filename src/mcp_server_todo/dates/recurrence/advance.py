"""The next occurrence of a series: `advance` (and `next_due`) from the current `due`, in
its zone across DST changes, COUNT counted down; `first_due` for a task with no due yet;
`check_until` refuses a rule that would end before its first occurrence."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from ...errors import InvalidInput
from ..due import is_iso_date
from ..zones import named_zone
from .catchup import next_occurrence
from .parse import parse_rule
from .rule import Until, build_series


@dataclass(frozen=True)
class Advance:
    """The next occurrence of a series: its `due` (same form as the current one), the
    `rule` to store with it (COUNT reduced by `used`; otherwise unchanged, normalized), and
    `used`, how many occurrences the step consumed: 1 for the completed one, plus one for
    each occurrence skipped because it was already before `today` (exact with COUNT; for a
    series without COUNT more than `catchup.BUDGET` occurrences behind, a lower bound)."""

    due: str
    rule: str
    used: int


def _wall(due: str, due_tz: str | None) -> tuple[datetime, tzinfo | None]:
    """The current occurrence as a naive wall-clock datetime and the zone to put the next
    one in (None for a floating date)."""
    text = due.strip()
    if is_iso_date(text):
        try:
            return datetime.combine(date.fromisoformat(text), time()), None
        except ValueError:
            raise InvalidInput(f"due {due!r} is not a real date; use YYYY-MM-DD") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"due {due!r} is not an ISO date or date-time like 2026-12-24T17:00-08:00") from None
    moment = moment.replace(microsecond=0)
    naive = moment.replace(tzinfo=None)
    if due_tz is None:
        if moment.tzinfo is None:
            raise InvalidInput(f"due {due!r} has no UTC offset and no zone; give one, e.g. 2026-12-24T17:00-08:00")
        return naive, timezone(moment.utcoffset() or timedelta(0))
    zone = named_zone(due_tz)
    if moment.tzinfo is None:
        return naive, zone
    # Keep the wall-clock time written in `due` when it is a reading of `due_tz` (either side
    # of a fold, or the pre-transition offset Python gives a time in a gap); otherwise read
    # the instant in the zone.
    offset = moment.utcoffset()
    if any(naive.replace(tzinfo=zone, fold=fold).utcoffset() == offset for fold in (0, 1)):
        return naive, zone
    return moment.astimezone(zone).replace(tzinfo=None), zone


def _until_wall(until: Until, zone: tzinfo | None) -> datetime:
    """UNTIL as a naive wall-clock bound comparable with the series (inclusive)."""
    if not isinstance(until, datetime):
        return datetime.combine(until, time(23, 59, 59))
    if until.tzinfo is None or zone is None:
        return until.replace(tzinfo=None)
    return until.astimezone(zone).replace(tzinfo=None)


def _show(wall: datetime, zone: tzinfo | None) -> str:
    if zone is None:
        return wall.date().isoformat()
    moment = wall.replace(tzinfo=zone)
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


def advance(rule: str, due: str, due_tz: str | None, today: date) -> Advance | None:
    """The occurrence after the current `due`, or None when the series has ended.

    The series starts at `due` (its DTSTART). The next occurrence is the first one strictly
    after `due`; if that is before `today` (the task is several periods overdue), the ones
    before `today` are skipped: the result is the first occurrence on or after `today`
    (a daily task 5 days overdue comes back today). For a date-time, "before today" compares
    the occurrence's calendar day in its own zone with `today`.

    `due` is a floating date ("2026-12-24", and the result is one too) or an ISO date-time
    with offset; then `due_tz` is the IANA zone its wall-clock time belongs to and the
    result keeps that wall-clock time with the offset of its own day (09:00-08:00 before a
    DST change, 09:00-07:00 after), or `due_tz` is None and the offset is kept as a fixed
    zone. A wall-clock time that falls in a DST gap keeps the pre-transition offset, as
    Python and `dates.parse_due` do (02:30-08:00 on 2026-03-08 in Los Angeles).

    COUNT counts occurrences from the current `due`, inclusive: COUNT=1 means this is the
    last one. Each occurrence consumed (completed or skipped) uses one up, and the returned
    `rule` carries the COUNT that is left. UNTIL is inclusive; a date UNTIL means the end
    of that day.
    """
    parsed = parse_rule(rule)
    start, zone = _wall(due, due_tz)
    until = None if parsed.until is None else _until_wall(parsed.until, zone)
    try:
        found = next_occurrence(parsed, start, until, today)  # computed, not stepped, when far behind
    except (ValueError, OverflowError):  # past year 9999
        return None
    if found is None:
        return None
    occurrence, used = found
    count = None if parsed.count is None else parsed.count - used
    return Advance(due=_show(occurrence, zone), rule=replace(parsed, count=count).body(), used=used)


def check_until(rule: str, due: str) -> None:
    """Refuse a rule whose UNTIL is before the day of `due` (an ISO date or date-time): such
    a series ends at once, which is never what "daily until 0001-01-01" meant. A date-time
    UNTIL (UTC) is given a day of slack for the due's own zone."""
    until = parse_rule(rule).until
    if until is None or not is_iso_date(due.strip()[:10]):
        return
    day = date.fromisoformat(due.strip()[:10])
    slack = 1 if isinstance(until, datetime) else 0
    if (day - (until.date() if isinstance(until, datetime) else until)).days > slack:
        raise InvalidInput(
            f"recur {rule!r}: UNTIL {until.isoformat()} is before the due date {day.isoformat()}, so the series "
            "would end at once; give a later UNTIL or none"
        )


def next_due(rule: str, due: str, due_tz: str | None, today: date, *, completed_count: int = 0) -> str | None:
    """The `due` of the occurrence after `due`, or None when the series has ended; see
    `advance` for the rules. `completed_count` is for a caller that keeps the rule as first
    given and counts completions itself: the rule's COUNT is then the whole series and
    `completed_count` the occurrences already used before the current one. A caller that
    stores `advance(...).rule` after each step leaves it at 0 (the recommended way)."""
    if completed_count < 0:
        raise ValueError("completed_count must be >= 0")
    if completed_count:
        parsed = parse_rule(rule)
        if parsed.count is not None:
            if parsed.count - completed_count < 1:
                return None
            rule = replace(parsed, count=parsed.count - completed_count).body()
    step = advance(rule, due, due_tz, today)
    return None if step is None else step.due


def first_due(rule: str, today: date) -> str:
    """The first occurrence on or after `today`, as a floating date: the due for a task
    given a rule but no due ("every monday" on a Wednesday → next Monday; "daily" → today).
    Raises InvalidInput when the rule's UNTIL is already past."""
    parsed = parse_rule(rule)
    start = datetime.combine(today, time())
    until = None if parsed.until is None else _until_wall(parsed.until, None)
    try:
        found = next(iter(build_series(parsed, start, until)), None)
    except (ValueError, OverflowError):
        found = None
    if found is None:
        raise InvalidInput(
            f"recur {rule!r} has no occurrence on or after {today.isoformat()} (its UNTIL has passed); "
            "give a later UNTIL or none"
        )
    return found.date().isoformat()
