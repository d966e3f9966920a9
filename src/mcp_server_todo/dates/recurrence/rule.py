"""A recurrence rule as data (`Rule`: one RRULE body, normalized), the dateutil series it
gives from a start (`build_series`), and what every part of the package shares: the day
codes, the errors for a rule not understood or too frequent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dateutil.rrule import rrule, rrulestr

from ...errors import InvalidInput

EXAMPLES = (
    "use a phrase like 'every weekday', 'every 2 weeks on monday', 'monthly on the 15th', "
    "or an RRULE like FREQ=WEEKLY;BYDAY=MO"
)

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORKWEEK = ((None, 0), (None, 1), (None, 2), (None, 3), (None, 4))
WEEKEND = ((None, 5), (None, 6))


def not_understood(text: str) -> InvalidInput:
    """The error for a `recur` that is neither a phrase nor a rule we read."""
    return InvalidInput(f"recur {text!r} is not understood; {EXAMPLES}")


def too_often(text: str) -> InvalidInput:
    """The error for a rule that repeats more often than daily."""
    return InvalidInput(
        f"recur {text!r} repeats more often than once a day; a task recurs at most daily. "
        "Use 'daily' (FREQ=DAILY) and put the time of day in due, e.g. due 2026-12-24T09:00"
    )


# ---- the rule ------------------------------------------------------------------------

Until = date | datetime
"""An UNTIL value: a date, a floating (naive) date-time, or an aware UTC date-time."""


@dataclass(frozen=True)
class Rule:
    """One RRULE, parsed: list parts sorted and deduplicated, so equal rules are equal."""

    freq: str
    interval: int = 1
    bymonth: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    byyearday: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byday: tuple[tuple[int | None, int], ...] = ()  # (ordinal or None, weekday 0=Monday)
    bysetpos: tuple[int, ...] = ()
    wkst: int = 0
    count: int | None = None
    until: Until | None = None

    def body(self, *, engine: bool = False) -> str:
        """The normalized RRULE body. `engine=True`: what dateutil is given (WKST always
        explicit so the result never depends on `calendar.firstweekday()`; no COUNT or
        UNTIL, which `build_series` applies itself)."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        for name, values in (
            ("BYMONTH", self.bymonth),
            ("BYWEEKNO", self.byweekno),
            ("BYYEARDAY", self.byyearday),
            ("BYMONTHDAY", self.bymonthday),
        ):
            if values:
                parts.append(f"{name}={','.join(map(str, values))}")
        if self.byday:
            parts.append("BYDAY=" + ",".join(f"{'' if n is None else n}{DAY_CODES[wd]}" for n, wd in self.byday))
        if self.bysetpos:
            parts.append(f"BYSETPOS={','.join(map(str, self.bysetpos))}")
        if self.wkst != 0 or engine:
            parts.append(f"WKST={DAY_CODES[self.wkst]}")
        if not engine:
            if self.count is not None:
                parts.append(f"COUNT={self.count}")
            if self.until is not None:
                parts.append(f"UNTIL={_until_text(self.until)}")
        return ";".join(parts)


def _until_text(until: Until) -> str:
    # not strftime: glibc writes the year 1 as "1", and UNTIL=10101 is not a date
    day = f"{until.year:04d}{until.month:02d}{until.day:02d}"
    if not isinstance(until, datetime):
        return day
    return f"{day}T{until.hour:02d}{until.minute:02d}{until.second:02d}" + ("Z" if until.tzinfo is not None else "")


def sorted_numbers(values: list[int]) -> tuple[int, ...]:
    """Positive values ascending, then negative ones from -1 down: 1,15,-1."""
    return tuple(sorted(set(values), key=lambda n: (n < 0, abs(n))))


def sorted_days(values: list[tuple[int | None, int]]) -> tuple[tuple[int | None, int], ...]:
    """BYDAY values by weekday, Monday first; a plain day before its numbered ones."""
    return tuple(sorted(set(values), key=lambda d: (d[1], d[0] is not None, 0 if d[0] is None else d[0])))


def build_series(rule: Rule, start: datetime, until: datetime | None) -> rrule:
    """The dateutil series from `start` (naive wall-clock: the zone is put back by `advance`),
    stopped after `until` (inclusive). Built lazily; nothing is computed until iterated.

    A rule that can never match again from `start` (FREQ=DAILY;INTERVAL=7;BYDAY=MO from a
    Tuesday) makes dateutil scan to the year 9999 before it gives up: under a second, and
    only for such contrived rules; the impossible dates (BYMONTH=2;BYMONTHDAY=30) are
    refused by `parse_recur` up front."""
    built = rrulestr(rule.body(engine=True), dtstart=start)
    assert isinstance(built, rrule)
    return built if until is None else built.replace(until=until)
