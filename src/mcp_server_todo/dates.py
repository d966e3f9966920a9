"""Dates and times: parsing `due` values in the user's zone, timestamps for the log."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput
from .model import Due
from .phrases import parse_phrase

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def utc_now() -> str:
    """Now, as ISO 8601 UTC with millisecond precision and a Z suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# A POSIX TZ rule ("UTC0", "CET-1CEST,M3.5.0,M10.5.0/3"): a name of 3+ letters (or <+03>), then an offset
_POSIX_TZ = re.compile(r"(?:[A-Za-z]{3,}|<[+-]?[A-Za-z0-9]+>)[+-]?\d.*")
_POSIX_UTC = re.compile(r"(?:UTC|GMT|UCT|Z|<\+?00>)[+-]?0{1,2}(?::00){0,2}", re.IGNORECASE)


def _named(name: str, source: str) -> tzinfo:
    try:
        return ZoneInfo(name.removeprefix(":"))
    except (ZoneInfoNotFoundError, ValueError):
        where = "" if source == "--tz" else f" (from {source})"
        raise InvalidInput(f"unknown time zone {name!r}{where}; use an IANA name like Europe/Paris") from None


def zone(name: str | None = None) -> tzinfo:
    """The zone named (--tz, tz=), else TODO_TZ, else TZ, else the system zone, else UTC.

    An unknown name is an error wherever it comes from (the same one as for --tz), never a
    silent fall back to another zone. The one exception is a POSIX rule in TZ ("UTC0",
    "EST5EDT,M3.2.0,M11.1.0"), which is the system's business and not a zone name: a UTC
    one means UTC, any other is passed over for the system zone (/etc/localtime)."""
    if name:
        return _named(name, "--tz")
    todo_tz = os.environ.get("TODO_TZ", "").strip()
    if todo_tz:
        return _named(todo_tz, "TODO_TZ")
    system_tz = os.environ.get("TZ", "").strip().removeprefix(":")
    localtime = "/etc/localtime"
    if system_tz.startswith("/"):  # TZ=:/usr/share/zoneinfo/Europe/Paris, a zone file
        localtime = system_tz
    elif system_tz and not _POSIX_TZ.fullmatch(system_tz):
        return _named(system_tz, "TZ")
    elif system_tz:
        try:
            return ZoneInfo(system_tz)  # EST5EDT is a zone name too
        except (ZoneInfoNotFoundError, ValueError):
            if _POSIX_UTC.fullmatch(system_tz):
                return UTC
    try:
        target = Path(localtime).resolve()
        parts = target.parts
        if "zoneinfo" in parts:
            return ZoneInfo("/".join(parts[parts.index("zoneinfo") + 1 :]))
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return UTC


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
    if _DATE_RE.match(text):
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
