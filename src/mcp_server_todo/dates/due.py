"""Due values: `parse_due` reads an ISO date, an ISO date-time or a phrase in the user's
zone; the ISO date pattern (`is_iso_date`) every module uses; the range a date-time may take."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

from ..errors import InvalidInput
from ..model import Due
from .phrases import parse_phrase

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
"""The one ISO date pattern, YYYY-MM-DD: what tells a floating date from a date-time."""


def is_iso_date(text: str) -> bool:
    """Whether `text` is written as an ISO date, YYYY-MM-DD (not whether that day exists)."""
    return ISO_DATE.fullmatch(text) is not None


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


INSTANT_MIN = datetime(1, 1, 2, tzinfo=UTC)
INSTANT_MAX = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)
"""A date-time's instant stays a day inside Python's range, so it can be shown in any zone."""


def _out_of_range(what: str, value: str) -> InvalidInput:
    return InvalidInput(
        f"{what} {value!r} is out of range; use a date between 0001-01-02 and 9999-12-30, e.g. 2026-12-24"
    )


def parse_due(value: str, tz: tzinfo, *, now: datetime | None = None, what: str = "due") -> Due:
    """Parse an ISO date (floating, no zone), an ISO date-time (a naive one is read in `tz`)
    or a phrase ("tomorrow 5pm", "next friday", "in 3 days", "end of month", "dec 24").
    `what` names the field in errors (due, due_before)."""
    text = value.strip()
    if is_iso_date(text):
        try:
            return _floating(date.fromisoformat(text))
        except ValueError as exc:
            raise InvalidInput(f"{what} {value!r} is not a real date; use YYYY-MM-DD, e.g. 2026-12-24") from exc
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        try:
            found = parse_phrase(text, (now or datetime.now(tz)).astimezone(tz))
        except (ValueError, OverflowError):  # "in 10000 years", "in 3650000 days"
            raise _out_of_range(what, value) from None
        if found is None:
            raise InvalidInput(
                f"{what} {value!r} is not understood; use a date like 2026-12-24, a date-time like "
                "2026-12-24T17:00, or a phrase like 'tomorrow 5pm', 'next friday', 'in 3 days'"
            ) from None
        if not isinstance(found, datetime):
            return _floating(found)
        moment = found
    zone_name = None
    if moment.tzinfo is None or moment.tzinfo is tz:
        # a wall-clock time in the user's zone: keep the zone's name so it stays 09:00 across DST
        moment = moment.replace(tzinfo=tz)
        zone_name = getattr(tz, "key", None)
    try:
        in_range = INSTANT_MIN <= moment <= INSTANT_MAX
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the year 1 in UTC
        in_range = False
    if not in_range:
        raise _out_of_range(what, value)
    return Due(
        iso=moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds"),
        date=moment.date().isoformat(),
        utc=_utc_iso(moment),
        tz=zone_name,
    )


def _floating(day: date) -> Due:
    return Due(iso=day.isoformat(), date=day.isoformat(), utc=None)


def parse_due_bound(value: str, tz: tzinfo) -> Due:
    """A `due_before` bound: same forms as a due value."""
    return parse_due(value, tz, what="due_before")
