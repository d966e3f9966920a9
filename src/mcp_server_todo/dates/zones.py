"""Time zones and the clock: the one parser of zone names (`named_zone`), the user's zone
(`zone`: --tz, TODO_TZ, TZ, the system zone) and `utc_now` for timestamps."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InvalidInput


def utc_now() -> str:
    """Now, as ISO 8601 UTC with millisecond precision and a Z suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# A POSIX TZ rule ("UTC0", "CET-1CEST,M3.5.0,M10.5.0/3"): a name of 3+ letters (or <+03>), then an offset
_POSIX_TZ = re.compile(r"(?:[A-Za-z]{3,}|<[+-]?[A-Za-z0-9]+>)[+-]?\d.*")
_POSIX_UTC = re.compile(r"(?:UTC|GMT|UCT|Z|<\+?00>)[+-]?0{1,2}(?::00){0,2}", re.IGNORECASE)


def find_zone(name: str) -> ZoneInfo | None:
    """The IANA zone called `name` ("Europe/Paris"), or None when there is no such zone (an
    unknown name, an empty one, a path): the one place a zone name is looked up."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def named_zone(name: str, source: str = "--tz") -> ZoneInfo:
    """The zone `name` (a leading ":", as in TZ=:Europe/Paris, is allowed), or InvalidInput
    saying where the name came from (`source`: --tz, TODO_TZ, TZ) and what to use instead."""
    found = find_zone(name.removeprefix(":"))
    if found is None:
        where = "" if source == "--tz" else f" (from {source})"
        raise InvalidInput(f"unknown time zone {name!r}{where}; use an IANA name like Europe/Paris")
    return found


def zone(name: str | None = None) -> tzinfo:
    """The zone named (--tz, tz=), else TODO_TZ, else TZ, else the system zone, else UTC.

    An unknown name is an error wherever it comes from (the same one as for --tz), never a
    silent fall back to another zone. The one exception is a POSIX rule in TZ ("UTC0",
    "EST5EDT,M3.2.0,M11.1.0"), which is the system's business and not a zone name: a UTC
    one means UTC, any other is passed over for the system zone (/etc/localtime)."""
    if name:
        return named_zone(name)
    todo_tz = os.environ.get("TODO_TZ", "").strip()
    if todo_tz:
        return named_zone(todo_tz, "TODO_TZ")
    system_tz = os.environ.get("TZ", "").strip().removeprefix(":")
    localtime = "/etc/localtime"
    if system_tz.startswith("/"):  # TZ=:/usr/share/zoneinfo/Europe/Paris, a zone file
        localtime = system_tz
    elif system_tz and not _POSIX_TZ.fullmatch(system_tz):
        return named_zone(system_tz, "TZ")
    elif system_tz:
        found = find_zone(system_tz)  # EST5EDT is a zone name too
        if found is not None:
            return found
        if _POSIX_UTC.fullmatch(system_tz):
            return UTC
    try:
        parts = Path(localtime).resolve().parts
    except (OSError, ValueError):
        return UTC
    if "zoneinfo" in parts:
        return find_zone("/".join(parts[parts.index("zoneinfo") + 1 :])) or UTC
    return UTC
