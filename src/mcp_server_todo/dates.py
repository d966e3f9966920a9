"""Dates and times: parsing `due` values in the user's zone, timestamps for the log."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput
from .model import Due

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


def parse_due(value: str, tz: tzinfo, *, today: date | None = None) -> Due:
    """Parse an ISO date (floating, no zone), an ISO date-time (a naive one is read in `tz`),
    or the words today / tomorrow."""
    text = value.strip()
    lowered = text.lower()
    if lowered in ("today", "tomorrow"):
        base = today or datetime.now(tz).date()
        day = base + timedelta(days=1 if lowered == "tomorrow" else 0)
        return Due(iso=day.isoformat(), date=day.isoformat(), utc=None)
    if _DATE_RE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise InvalidInput(f"due {value!r} is not a real date; use YYYY-MM-DD") from exc
        return Due(iso=day.isoformat(), date=day.isoformat(), utc=None)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise InvalidInput(
            f"due {value!r} is not understood; use a date like 2026-12-24, a date-time like "
            "2026-12-24T17:00 or 2026-12-24T17:00+01:00, or 'today' / 'tomorrow'"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return Due(
        iso=moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds"),
        date=moment.date().isoformat(),
        utc=_utc_iso(moment),
    )


def parse_due_bound(value: str, tz: tzinfo) -> Due:
    """A `due_before` bound: same forms as a due value."""
    return parse_due(value, tz)
