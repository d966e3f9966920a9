"""Reminders: `parse_reminder` reads one as a person or a model writes it, `clean_reminders`
a task's list, `describe_reminder` the short form a task line shows.

A reminder is stored normalized, in one of two forms:

* relative to the due date, an RFC 5545 duration: "-PT30M" (30 minutes before), "-P1D",
  "PT0S" (at due), "PT10M" (10 minutes after); written "30 minutes before", "1 day before",
  "2 hours before", "at due", "10 minutes after" (or the duration itself);
* an instant in UTC, "2026-12-07T08:00:00Z"; written as a due value is ("tomorrow 9am",
  "2026-12-07 08:00"), read in the user's zone. A date alone has no time to remind at.

A relative reminder needs a due date: on a task without one it is refused, saying what to do.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from ..errors import InvalidInput
from .due import parse_due

REMINDERS_MAX = 10
REMINDER_TEXT_MAX = 100
OFFSET_MAX = 366 * 86400
"""The furthest a relative reminder may be from the due date: a year."""

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_WORDS = re.compile(
    r"(\d{1,6})\s*(weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m)\s+(before|after)(?:\s+(?:the\s+)?due)?"
)
_AT_DUE = frozenset({"at due", "at due time", "at the due time", "when due", "on due"})
_DURATION = re.compile(r"([+-]?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_EXAMPLES = "use '30 minutes before', '1 day before', 'at due', or a time like 'tomorrow 9am'"


def is_relative(reminder: str) -> bool:
    """Whether a normalized reminder is relative to the due date (a duration)."""
    return reminder.lstrip("+-").startswith("P")


def offset_seconds(reminder: str) -> int:
    """A relative reminder's offset from the due date in seconds (negative: before)."""
    match = _DURATION.fullmatch(reminder)
    if match is None or reminder.lstrip("+-") in ("P", "PT") or reminder.endswith("T"):
        raise InvalidInput(f"reminder {reminder!r} is not a duration like -PT30M; {_EXAMPLES}")
    weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups()[1:])
    total = weeks * 604800 + days * 86400 + hours * 3600 + minutes * 60 + seconds
    return -total if match.group(1) == "-" else total


def duration(seconds: int) -> str:
    """The normalized RFC 5545 duration of an offset: -PT30M, -P1D, -P2W, PT0S, -P1DT2H."""
    if seconds == 0:
        return "PT0S"
    sign, rest = ("-" if seconds < 0 else ""), abs(seconds)
    if rest % 604800 == 0:
        return f"{sign}P{rest // 604800}W"
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return f"{sign}P{f'{days}D' if days else ''}{'T' + clock if clock else ''}"


def _relative(seconds: int, value: str) -> str:
    if abs(seconds) > OFFSET_MAX:
        raise InvalidInput(f"reminder {value!r} is more than a year from the due date; use at most 366 days")
    return duration(seconds)


def parse_reminder(value: str, tz: tzinfo, *, now: datetime | None = None) -> str:
    """One reminder, normalized (see the module docstring); a clear error for anything else."""
    if not isinstance(value, str):
        raise InvalidInput(f"a reminder must be text like '30 minutes before'; got {value!r}")
    text = " ".join(value.strip().lower().split())
    if not text:
        raise InvalidInput(f"a reminder is empty; {_EXAMPLES}")
    if len(text) > REMINDER_TEXT_MAX or not text.isprintable():
        raise InvalidInput(f"reminder {value[:40]!r} is not understood; {_EXAMPLES}")
    if text in _AT_DUE:
        return "PT0S"
    words = _WORDS.fullmatch(text)
    if words is not None:
        count, unit, side = int(words.group(1)), words.group(2), words.group(3)
        seconds = count * _UNIT_SECONDS["m" if unit.startswith("mi") else unit[0]]
        return _relative(-seconds if side == "before" else seconds, value)
    if _DURATION.fullmatch(text.upper()) and text.lstrip("+-").startswith("p"):
        return _relative(offset_seconds(text.upper()), value)
    if "before" in text or "after" in text:
        raise InvalidInput(f"reminder {value!r} is not understood; {_EXAMPLES}")
    try:
        moment = parse_due(text, tz, now=now, what="reminder")
    except InvalidInput as exc:
        if "not understood" in str(exc):
            raise InvalidInput(f"reminder {value!r} is not understood; {_EXAMPLES}") from None
        raise
    if moment.utc is None:
        raise InvalidInput(f"reminder {value!r} is a day without a time; add one, e.g. '{text} 9am'")
    return moment.utc


def parse_reminders(values: list[str], tz: tzinfo, *, now: datetime | None = None) -> list[str]:
    """A task's reminders, each normalized, duplicates dropped, at most REMINDERS_MAX."""
    if not isinstance(values, list):
        raise InvalidInput("remind must be a list of reminders, e.g. ['30 minutes before']")
    found = list(dict.fromkeys(parse_reminder(value, tz, now=now) for value in values))
    if len(found) > REMINDERS_MAX:
        raise InvalidInput(f"{len(found)} reminders given; a task has at most {REMINDERS_MAX}")
    return found


def check_reminders(reminders: list[str], due: str | None) -> None:
    """A relative reminder needs a due date to be relative to."""
    if due is None and any(is_relative(r) for r in reminders):
        shown = describe_reminder(next(r for r in reminders if is_relative(r)))
        raise InvalidInput(
            f"reminder '{shown}' is relative to the due date and the task has none; set due too, "
            "give a time instead (e.g. 'tomorrow 9am'), or clear reminders with remind=[]"
        )


def kept_on_next(reminders: list[str]) -> list[str]:
    """What the next occurrence of a recurring task keeps: the relative reminders (an instant
    was for this occurrence)."""
    return [r for r in reminders if is_relative(r)]


def describe_reminder(reminder: str) -> str:
    """The short form a task line shows: "30m before", "1d before", "at due", "10m after",
    or the instant as stored ("2026-12-07 08:00Z")."""
    if not is_relative(reminder):
        return reminder.replace("T", " ").replace(":00Z", "Z")
    seconds = offset_seconds(reminder)
    if seconds == 0:
        return "at due"
    rest, parts = abs(seconds), []
    for unit, size in _UNIT_SECONDS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return f"{''.join(parts)} {'before' if seconds < 0 else 'after'}"
