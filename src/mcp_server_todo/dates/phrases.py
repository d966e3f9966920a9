"""Natural date phrases, read in the user's time zone: "tomorrow 5pm", "next friday",
"in 3 days", "end of month", "dec 24", "monday at 9:30". Pure: `now` is passed in.

A phrase without a time gives a floating date (a day, no zone); with a time it gives a
wall-clock time in the zone, which zoneinfo turns into the right offset on either side
of a DST change.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta

WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}
MONTHS = {
    name: index + 1
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years", "hour": "hours", "minute": "minutes"}

_TIME = re.compile(
    r"(?:\s*(?:at|@)\s*|\s+|^)(?P<time>noon|midnight|(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?)$"
)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _split_time(text: str) -> tuple[str, time | None]:
    match = _TIME.search(text)
    if not match:
        return text, None
    rest = text[: match.start()].strip()
    token = match.group("time")
    if token == "noon":
        return rest, time(12, 0)
    if token == "midnight":
        return rest, time(0, 0)
    hour, minute, ampm = int(match.group("h")), int(match.group("m") or 0), match.group("ampm")
    lead = text[match.start() : match.start("time")]
    if ampm is None and match.group("m") is None and "at" not in lead and "@" not in lead:
        # a bare number is a time only after "at" ("friday at 5"), not "in 3" or "dec 24"
        return text, None
    if ampm:
        if not 1 <= hour <= 12:
            return text, None
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    if hour > 23 or minute > 59:
        return text, None
    return rest, time(hour, minute)


def _day(text: str, today: date) -> date | None:
    words = text.split()
    if not words:
        return today
    if text in ("today", "now"):
        return today
    if text in ("tomorrow", "tmr", "tmrw"):
        return today + timedelta(days=1)
    if text == "yesterday":
        return today - timedelta(days=1)
    if text == "day after tomorrow":
        return today + timedelta(days=2)
    if text in ("end of week", "end of the week", "this weekend", "weekend"):
        offset = (6 - today.weekday()) if text.startswith("end") else (5 - today.weekday()) % 7
        return today + timedelta(days=offset)
    if text in ("end of month", "end of the month", "eom"):
        return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    if text in ("end of year", "end of the year", "eoy"):
        return date(today.year, 12, 31)
    if text == "next week":
        return today + timedelta(days=7 - today.weekday())
    if text == "next month":
        return add_months(today, 1).replace(day=1)
    if text == "next year":
        return date(today.year + 1, 1, 1)
    if words[0] in ("next", "this", "on", "coming") and len(words) == 2 and words[1] in WEEKDAYS:
        target = WEEKDAYS[words[1]]
        ahead = (target - today.weekday()) % 7
        if words[0] == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    if len(words) == 1 and words[0] in WEEKDAYS:
        return today + timedelta(days=(WEEKDAYS[words[0]] - today.weekday()) % 7)
    if words[0] == "in" and len(words) == 3:
        count = _NUMBERS.get(words[1]) or (int(words[1]) if words[1].isdigit() else None)
        unit = _UNITS.get(words[2].rstrip("s"))
        if count is not None and unit in ("days", "weeks"):
            return today + timedelta(**{unit: count})
        if count is not None and unit == "months":
            return add_months(today, count)
        if count is not None and unit == "years":
            return add_months(today, 12 * count)
    return _calendar_day(words, today)


def _calendar_day(words: list[str], today: date) -> date | None:
    """ "dec 24", "24 dec", "december 24 2027", "24th of december"."""
    words = [w.rstrip(",") for w in words if w not in ("of", "the")]
    month = day_number = year = None
    for word in words:
        if word in MONTHS and month is None:
            month = MONTHS[word]
        elif re.fullmatch(r"\d{1,2}(st|nd|rd|th)?", word) and day_number is None:
            day_number = int(re.sub(r"\D", "", word))
        elif re.fullmatch(r"\d{4}", word) and year is None:
            year = int(word)
        else:
            return None
    if month is None or day_number is None:
        return None
    try:
        found = date(year or today.year, month, day_number)
        if year is None and found < today:
            found = date(today.year + 1, month, day_number)
    except ValueError:
        return None
    return found


def parse_phrase(text: str, now: datetime) -> date | datetime | None:
    """A date (floating) or an aware datetime in `now`'s zone; None if not understood."""
    phrase = re.sub(r"\s+", " ", text.strip().lower())
    today = now.date()
    relative = re.fullmatch(r"in (\d+|an?|one|two|three) (hour|minute)s?", phrase)
    if relative:
        count = _NUMBERS.get(relative.group(1)) or int(relative.group(1))
        moment = now + timedelta(**{_UNITS[relative.group(2)]: count})
        return moment.replace(second=0, microsecond=0)
    rest, at = _split_time(phrase)
    day = _day(rest, today)
    if day is None:
        return None
    if at is None:
        return day
    assert now.tzinfo is not None
    return datetime.combine(day, at, tzinfo=now.tzinfo)
