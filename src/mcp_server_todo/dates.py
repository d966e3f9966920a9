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


def zone(name: str | None = None) -> tzinfo:
    """The zone named, else TODO_TZ, else TZ, else the system zone, else UTC."""
    for candidate in (name, os.environ.get("TODO_TZ"), os.environ.get("TZ")):
        if candidate:
            try:
                return ZoneInfo(candidate.removeprefix(":"))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                if candidate is name:
                    raise InvalidInput(f"unknown time zone {name!r}; use an IANA name like Europe/Paris") from exc
    try:
        target = Path("/etc/localtime").resolve()
        parts = target.parts
        if "zoneinfo" in parts:
            return ZoneInfo("/".join(parts[parts.index("zoneinfo") + 1 :]))
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return UTC


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_due(value: str, tz: tzinfo, *, now: datetime | None = None) -> Due:
    """Parse an ISO date (floating, no zone), an ISO date-time (a naive one is read in `tz`)
    or a phrase ("tomorrow 5pm", "next friday", "in 3 days", "end of month", "dec 24")."""
    text = value.strip()
    if _DATE_RE.match(text):
        try:
            return _floating(date.fromisoformat(text))
        except ValueError as exc:
            raise InvalidInput(f"due {value!r} is not a real date; use YYYY-MM-DD, e.g. 2026-12-24") from exc
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        found = parse_phrase(text, (now or datetime.now(tz)).astimezone(tz))
        if found is None:
            raise InvalidInput(
                f"due {value!r} is not understood; use a date like 2026-12-24, a date-time like "
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
    return parse_due(value, tz)
