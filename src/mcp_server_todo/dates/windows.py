"""Due values read by a person: relative wording ("due tomorrow 09:30", "3 days overdue")
and the windows behind the "today", "this week" and "overdue" filters.

Pure: `now` (aware) and the user's zone are always passed in. Days are the user's days:
a floating date ("2026-12-24") is a day in the user's zone, and a date-time counts on the
day it falls on in the user's zone (2026-11-26T01:00Z is the evening of the 25th in Los
Angeles). Day boundaries come from zoneinfo, so a day across a DST change is 23 or 25
hours long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from ..errors import InvalidInput
from .due import is_iso_date

__all__ = ["Window", "WindowKind", "humanize", "window"]

WindowKind = Literal["today", "this_week", "overdue"]

_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now


def _read(due: str) -> date | datetime:
    """A stored due value: a floating date, or an aware date-time."""
    text = due.strip()
    try:
        if is_iso_date(text):
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"due {due!r} is not an ISO date or date-time like 2026-12-24T17:00-08:00") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"due {due!r} has no UTC offset; give one, e.g. 2026-12-24T17:00-08:00")
    return moment


def humanize(due: str, tz: tzinfo, now: datetime) -> str:
    """A due value relative to `now`, in the user's zone `tz`:

    * "due today", "due today 17:00" (time of a date-time, in `tz`, 24-hour HH:MM),
      "overdue since 17:00" (today, and the time has passed)
    * "due tomorrow", "due tomorrow 09:30"
    * "due in 3 days" (2 to 6 days ahead)
    * "due Fri 27 Dec" (7 or more days ahead, the same year), "due 2027-01-05" (a later year)
    * "1 day overdue", "3 days overdue" (a past day)

    Days are counted as calendar days in `tz`; a date-time's day is its day in `tz`.
    `now` must be aware (ValueError otherwise); a malformed `due` raises InvalidInput.
    """
    local_now = _aware(now).astimezone(tz)
    today = local_now.date()
    value = _read(due)
    at: str | None = None
    if isinstance(value, datetime):
        local = value.astimezone(tz)
        day = local.date()
        at = f"{local.hour:02d}:{local.minute:02d}"
    else:
        day, local = value, None
    days = (day - today).days
    if days < 0:
        return "1 day overdue" if days == -1 else f"{-days} days overdue"
    if days == 0:
        if local is None:
            return "due today"
        return f"due today {at}" if local >= local_now else f"overdue since {at}"
    if days == 1:
        return "due tomorrow" if at is None else f"due tomorrow {at}"
    if days < 7:
        return f"due in {days} days"
    if day.year == today.year:
        return f"due {_DAY_ABBR[day.weekday()]} {day.day} {_MONTH_ABBR[day.month]}"
    return f"due {day.isoformat()}"


@dataclass(frozen=True)
class Window:
    """Bounds for a due filter, in the store's own terms.

    * `date_from`, `date_to`: inclusive bounds on a floating due date, ISO "YYYY-MM-DD"
      (the store's `due_date` for a task whose `due_utc` is NULL).
    * `utc_from`, `utc_to`: a half-open range [utc_from, utc_to) on a date-time's instant,
      ISO UTC "YYYY-MM-DDTHH:MM:SSZ" exactly like the store's `due_utc`, so plain string
      comparison is instant comparison.

    None means unbounded. A store applies it as

        (due_utc IS NULL AND due_date IS NOT NULL
             AND (date_from IS NULL OR due_date >= date_from)
             AND (date_to IS NULL OR due_date <= date_to))
        OR (due_utc IS NOT NULL
             AND (utc_from IS NULL OR due_utc >= utc_from)
             AND (utc_to IS NULL OR due_utc < utc_to))

    which `contains` implements for tests and in-memory stores. Tasks without a due are
    never in a window.
    """

    date_from: str | None
    date_to: str | None
    utc_from: str | None
    utc_to: str | None

    def contains(self, due_date: str | None, due_utc: str | None) -> bool:
        """Whether a task with these stored keys falls in the window (the contract above)."""
        if due_utc is not None:
            return (self.utc_from is None or due_utc >= self.utc_from) and (
                self.utc_to is None or due_utc < self.utc_to
            )
        if due_date is None:
            return False
        return (self.date_from is None or due_date >= self.date_from) and (
            self.date_to is None or due_date <= self.date_to
        )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _midnight(day: date, tz: tzinfo) -> datetime:
    """The instant `day` starts in `tz`. When midnight itself is skipped by a DST change
    (clocks jump 00:00 → 01:00), fold=0 reads it with the offset before the change, which
    is exactly the instant the day begins; when midnight repeats, the first one counts."""
    return datetime.combine(day, time(0), tzinfo=tz)


def window(kind: WindowKind, tz: tzinfo, now: datetime) -> Window:
    """The due window for a filter, in the user's zone `tz` at `now` (aware):

    * "today": the local day, [00:00, next 00:00) in `tz` (23 or 25 hours across a DST
      change); date_from = date_to = today.
    * "this_week": the ISO week, Monday 00:00 to the next Monday 00:00 in `tz`;
      date_from = Monday, date_to = Sunday.
    * "overdue": floating dates before today (date_to = yesterday) and date-times before
      `now` (utc_to = now, truncated to the second); both open-ended into the past.
      A floating date of today is not overdue; a date-time earlier today is.
    """
    local_now = _aware(now).astimezone(tz)
    today = local_now.date()
    if kind == "today":
        first, after = today, today + timedelta(days=1)
    elif kind == "this_week":
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    elif kind == "overdue":
        return Window(date_from=None, date_to=(today - timedelta(days=1)).isoformat(), utc_from=None, utc_to=_utc(now))
    else:
        raise ValueError(f"unknown window {kind!r}; use 'today', 'this_week' or 'overdue'")
    return Window(
        date_from=first.isoformat(),
        date_to=(after - timedelta(days=1)).isoformat(),
        utc_from=_utc(_midnight(first, tz)),
        utc_to=_utc(_midnight(after, tz)),
    )
