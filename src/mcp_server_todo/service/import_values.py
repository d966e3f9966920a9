"""An imported file's values as stored: due dates and their zones, timestamps kept at the
stored precision when they agree, cleaned projects, tags and rules (memoised), and the key
of a task in a file without ids (see `transfer.py`)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, tzinfo
from typing import TypeVar

from ..dates import find_zone, parse_due
from ..errors import InvalidInput
from ..model import clean_project, clean_tags

KEY_NAMESPACE = uuid.UUID("0b5a3f6e-2f8d-4d47-9c7e-5a1d2b3c4e5f")
_K = TypeVar("_K")
_V = TypeVar("_V")


def _file_zone(name: str) -> tzinfo:
    """The zone a file names for a due (the one zone parser: `dates.find_zone`)."""
    found = find_zone(name)
    if found is None:
        raise InvalidInput(f"tz {name!r} is not an IANA time zone (like Europe/Paris)")
    return found


def normal_due(value: str, zone_name: str | None, tz: tzinfo) -> tuple[str | None, str | None]:
    """A due from a file (ISO date or date-time) as stored: (due, due_tz)."""
    text = value.strip()
    if not text:
        return None, None
    if not text[:4].isdigit():
        raise InvalidInput(f"due {value!r} is not an ISO date (YYYY-MM-DD) or date-time")
    zone = _file_zone(zone_name) if zone_name else tz
    due = parse_due(text, zone)  # a date-time without offset is wall-clock time in its zone
    if due.utc is None or zone_name is None:
        return due.iso, due.tz
    moment = datetime.fromisoformat(due.utc.replace("Z", "+00:00")).astimezone(zone)
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds"), zone_name


def _stamp_parts(value: str) -> tuple[datetime, str]:
    """A timestamp from a file → (UTC moment, precision "day" | "second" | "milli")."""
    text = value.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC), "day"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return moment, "milli" if moment.microsecond else "second"


def _canonical(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def merge_stamp(stored_value: str | None, given: str | None, what: str) -> str | None:
    """The timestamp to keep: the file's, unless it agrees with the stored one at the file's
    precision (then the stored one, which may be more precise). None: not given."""
    if given is None:
        return stored_value
    try:
        moment, precision = _stamp_parts(given)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+14:00 is before the year 1 in UTC
        raise InvalidInput(f"{what} {given!r} is not a date or ISO timestamp") from None
    if stored_value is not None:
        old = datetime.fromisoformat(stored_value.replace("Z", "+00:00"))
        cut = {"day": old.date() == moment.date(), "second": old.replace(microsecond=0) == moment}
        if cut.get(precision, _canonical(old) == _canonical(moment)):
            return stored_value
    return _canonical(moment)


def same_moment(stored_due: str | None, given: str | None) -> bool:
    """Both date-times naming the same instant: the file wrote it in another zone or offset
    (iCalendar in UTC, Taskwarrior in the user's zone), and the stored text is kept."""
    if stored_due is None or given is None or len(stored_due) == 10 or len(given) == 10:
        return False
    return datetime.fromisoformat(stored_due) == datetime.fromisoformat(given)


class Cleaned:
    """Validated values, remembered: a file repeats its projects, tags and rules thousands
    of times. Bounded, so a file of all-different values does not grow it without end."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self.projects: dict[str, str] = {}
        self.tags: dict[tuple[str, ...], list[str]] = {}
        self.rules: dict[str, str | None] = {}

    @staticmethod
    def _remember(memo: dict[_K, _V], key: _K, value: _V) -> _V:
        if len(memo) < Cleaned.LIMIT:
            memo[key] = value
        return value

    def project(self, value: str) -> str:
        found = self.projects.get(value)
        return found if found is not None else self._remember(self.projects, value, clean_project(value))

    def tag_list(self, values: list[str]) -> list[str]:
        key = tuple(values)
        found = self.tags.get(key)
        if found is None:
            found = self._remember(self.tags, key, clean_tags(values))
        return list(found)

    def rule(self, value: str) -> str | None:
        if not value.strip():
            return None
        if value in self.rules:
            return self.rules[value]
        from ..dates.recurrence import parse_recur

        rule: str | None = parse_recur(value)
        return self._remember(self.rules, value, rule)


def derived_key(fmt: str, source: str, occurrence: int) -> str:
    """The stable key of a task in a file without ids: same content, same key."""
    return uuid.uuid5(KEY_NAMESPACE, f"{fmt}\x1e{source}\x1e{occurrence}").hex
