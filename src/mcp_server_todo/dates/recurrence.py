"""Recurring tasks: phrases and RFC 5545 rules, and the next occurrence of a series.

Pure: no I/O, "today" is passed in. dateutil's `rrule` is the engine; this module adds
what a task list needs around it:

* `parse_recur` reads a phrase ("every weekday", "every 2 weeks on monday", "monthly on
  the 15th", "every dec 24") or a raw rule ("FREQ=WEEKLY;BYDAY=MO", with or without an
  "RRULE:" prefix) and returns one normalized RRULE body: the same rule always gives the
  same string, so it can be stored and compared.
* `describe` turns a stored rule back into short text ("every 2 weeks on Monday").
* `next_due` / `advance` compute the next occurrence from the current `due`; `first_due`
  gives the first one for a task that has a rule but no due yet.

Series state lives in the stored values alone: the rule's DTSTART is always the task's
current `due` (never stored in the rule), and a COUNT counts the occurrences left from
the current one, inclusive. `advance` returns the rule to store with the next occurrence
(its COUNT reduced by the occurrences used up), so no separate counter is needed.

Tasks are day-grained or wall-clock: a floating date stays a date, a date-time keeps its
wall-clock time in its IANA zone across DST changes (09:00 stays 09:00). Rules that repeat
more often than daily are refused.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from ..errors import InvalidInput
from .catchup import next_occurrence
from .phrases import MONTHS, WEEKDAYS

__all__ = ["RECUR_MAX", "Advance", "advance", "check_until", "describe", "first_due", "next_due", "parse_recur"]

RECUR_MAX = 500
"""Longest accepted `recur` text (a phrase or a raw rule)."""

_EXAMPLES = (
    "use a phrase like 'every weekday', 'every 2 weeks on monday', 'monthly on the 15th', "
    "or an RRULE like FREQ=WEEKLY;BYDAY=MO"
)
_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_SUB_DAILY = ("HOURLY", "MINUTELY", "SECONDLY")
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WORKWEEK = ((None, 0), (None, 1), (None, 2), (None, 3), (None, 4))
_WEEKEND = ((None, 5), (None, 6))
# The longest gap between two occurrences a rule may ask for (INTERVAL per FREQ): 100 years.
_MAX_INTERVAL = {"DAILY": 36_500, "WEEKLY": 5_200, "MONTHLY": 1_200, "YEARLY": 100}
_REFERENCE_START = datetime(2000, 1, 1)  # a start for building a rule only to validate it


def _unknown(text: str) -> InvalidInput:
    return InvalidInput(f"recur {text!r} is not understood; {_EXAMPLES}")


def _sub_daily(text: str) -> InvalidInput:
    return InvalidInput(
        f"recur {text!r} repeats more often than once a day; a task recurs at most daily. "
        "Use 'daily' (FREQ=DAILY) and put the time of day in due, e.g. due 2026-12-24T09:00"
    )


# ---- the rule ------------------------------------------------------------------------

Until = date | datetime
"""An UNTIL value: a date, a floating (naive) date-time, or an aware UTC date-time."""


@dataclass(frozen=True)
class _Rule:
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
        UNTIL, which `_series` applies itself)."""
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
            parts.append("BYDAY=" + ",".join(f"{'' if n is None else n}{_CODES[wd]}" for n, wd in self.byday))
        if self.bysetpos:
            parts.append(f"BYSETPOS={','.join(map(str, self.bysetpos))}")
        if self.wkst != 0 or engine:
            parts.append(f"WKST={_CODES[self.wkst]}")
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


def _sorted_numbers(values: list[int]) -> tuple[int, ...]:
    """Positive values ascending, then negative ones from -1 down: 1,15,-1."""
    return tuple(sorted(set(values), key=lambda n: (n < 0, abs(n))))


def _sorted_days(values: list[tuple[int | None, int]]) -> tuple[tuple[int | None, int], ...]:
    return tuple(sorted(set(values), key=lambda d: (d[1], d[0] is not None, 0 if d[0] is None else d[0])))


# ---- raw RFC 5545 rules ----------------------------------------------------------------

_KEYS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_KEYS_MORE = ("BYSETPOS", "WKST")
_INT = re.compile(r"[+-]?\d{1,6}")
_BYDAY_ITEM = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_RANGES = {"BYMONTH": (1, 12, False), "BYWEEKNO": (1, 53, True), "BYYEARDAY": (1, 366, True)}
_RANGES |= {"BYMONTHDAY": (1, 31, True), "BYSETPOS": (1, 366, True)}


def _parse_raw(text: str) -> _Rule:
    """A raw rule body ("FREQ=WEEKLY;BYDAY=MO"), an optional "RRULE:" prefix allowed."""
    body = text.strip()
    upper = body.upper()
    if "DTSTART" in upper:
        raise InvalidInput(
            f"recur {text!r} contains DTSTART; send only the rule, e.g. FREQ=WEEKLY;BYDAY=MO. "
            "The task's due is where the series starts"
        )
    if re.search(r"\b(EXDATE|RDATE|EXRULE)\b", upper) or "\n" in body or "\r" in body:
        raise InvalidInput(
            f"recur {text!r} has more than one rule line; send one RRULE body, e.g. FREQ=WEEKLY;BYDAY=MO"
        )
    if upper.startswith("RRULE:"):
        body = body[len("RRULE:") :].strip()
    fields: dict[str, str] = {}
    for part in body.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not name or not value:
            raise _unknown(text)
        if name in fields:
            raise InvalidInput(f"recur {text!r} gives {name} twice; give each part once")
        if name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            raise InvalidInput(
                f"recur {text!r} sets a time of day ({name}); recur only says which days. Put the time in due "
                "(e.g. due 2026-12-24T09:00) and drop BYHOUR, BYMINUTE and BYSECOND"
            )
        if name not in _KEYS and name not in _KEYS_MORE:
            raise InvalidInput(
                f"recur {text!r}: {name} is not a supported RRULE part; use FREQ, INTERVAL, COUNT, UNTIL, "
                "BYDAY, BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO, BYSETPOS or WKST"
            )
        fields[name] = value
    if "FREQ" not in fields:
        if not fields:
            raise _unknown(text)
        raise InvalidInput(f"recur {text!r} has no FREQ; start it with FREQ=DAILY, WEEKLY, MONTHLY or YEARLY")
    freq = fields["FREQ"]
    if freq in _SUB_DAILY:
        raise _sub_daily(text)
    if freq not in _FREQS:
        raise InvalidInput(f"recur {text!r}: FREQ={freq} is not valid; use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY")

    def number(name: str) -> int | None:
        if name not in fields:
            return None
        if not re.fullmatch(r"\d{1,6}", fields[name]) or int(fields[name]) < 1:
            raise InvalidInput(f"recur {text!r}: {name} must be a positive whole number; got {fields[name]}")
        return int(fields[name])

    def numbers(name: str) -> tuple[int, ...]:
        if name not in fields:
            return ()
        low, high, negative = _RANGES[name]
        found: list[int] = []
        for item in fields[name].split(","):
            item = item.strip()
            value = int(item) if _INT.fullmatch(item) else 0
            if not (low <= value <= high or (negative and -high <= value <= -low)):
                allowed = f"{low}..{high}" + (f" or -{high}..-{low}" if negative else "")
                raise InvalidInput(f"recur {text!r}: {name} value {item!r} is out of range; use {allowed}")
            found.append(value)
        return _sorted_numbers(found)

    days: list[tuple[int | None, int]] = []
    for item in fields.get("BYDAY", "").split(",") if "BYDAY" in fields else []:
        match = _BYDAY_ITEM.fullmatch(item.strip())
        if not match:
            raise InvalidInput(f"recur {text!r}: BYDAY value {item!r} is not valid; use days like MO,TU or 1MO, -1FR")
        ordinal = int(match.group(1)) if match.group(1) else None
        if ordinal is not None and not (1 <= abs(ordinal) <= 53):
            raise InvalidInput(f"recur {text!r}: BYDAY value {item!r} is out of range; use 1MO..5MO or -1MO..-5MO")
        days.append((ordinal, _CODES.index(match.group(2))))
    wkst = fields.get("WKST", "MO")
    if wkst not in _CODES:
        raise InvalidInput(f"recur {text!r}: WKST={wkst} is not a day; use MO, TU, WE, TH, FR, SA or SU")
    return _Rule(
        freq=freq,
        interval=number("INTERVAL") or 1,
        bymonth=numbers("BYMONTH"),
        byweekno=numbers("BYWEEKNO"),
        byyearday=numbers("BYYEARDAY"),
        bymonthday=numbers("BYMONTHDAY"),
        byday=_sorted_days(days),
        bysetpos=numbers("BYSETPOS"),
        wkst=_CODES.index(wkst),
        count=number("COUNT"),
        until=_parse_until(fields["UNTIL"], text) if "UNTIL" in fields else None,
    )


def _parse_until(value: str, text: str) -> Until:
    """UNTIL as RFC 5545 (20261231, 20261231T170000, 20261231T170000Z) or ISO (2026-12-31,
    2026-12-31T17:00Z); an offset other than UTC is converted to UTC."""
    value = value.strip()
    try:
        if re.fullmatch(r"\d{8}", value):
            return datetime.strptime(value, "%Y%m%d").date()
        match = re.fullmatch(r"(\d{8}T\d{6})(Z?)", value, re.IGNORECASE)
        if match:
            moment = datetime.strptime(match.group(1).upper(), "%Y%m%dT%H%M%S")
            return moment.replace(tzinfo=UTC) if match.group(2) else moment
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.upper())
        moment = moment.replace(microsecond=0)
        return moment if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        pass
    raise InvalidInput(f"recur {text!r}: UNTIL {value!r} is not a date; use UNTIL=20261231 or UNTIL=20261231T235959Z")


def _check(rule: _Rule, text: str) -> _Rule:
    """RFC 5545's constraints on combining parts, dateutil's own validation, and a series
    that occurs at all (BYMONTH=2;BYMONTHDAY=30 never does)."""
    if rule.count is not None and rule.until is not None:
        raise InvalidInput(f"recur {text!r} has both COUNT and UNTIL; keep one of them")
    if rule.interval < 1:
        raise InvalidInput(f"recur {text!r}: the interval must be at least 1 (every 1 day, every 2 weeks...)")
    if rule.interval > _MAX_INTERVAL[rule.freq]:
        raise InvalidInput(
            f"recur {text!r}: INTERVAL={rule.interval} is too long; a task recurs at least every 100 years"
        )
    if rule.byweekno and rule.freq != "YEARLY":
        raise InvalidInput(f"recur {text!r}: BYWEEKNO needs FREQ=YEARLY")
    if rule.byyearday and rule.freq in ("DAILY", "WEEKLY", "MONTHLY"):
        raise InvalidInput(f"recur {text!r}: BYYEARDAY needs FREQ=YEARLY")
    if rule.bymonthday and rule.freq == "WEEKLY":
        raise InvalidInput(f"recur {text!r}: BYMONTHDAY does not go with FREQ=WEEKLY; use FREQ=MONTHLY")
    if any(n is not None for n, _ in rule.byday):
        if rule.freq not in ("MONTHLY", "YEARLY") or (rule.freq == "YEARLY" and rule.byweekno):
            raise InvalidInput(
                f"recur {text!r}: a numbered BYDAY like 1MO or -1FR needs FREQ=MONTHLY (or YEARLY); "
                "for every Monday use BYDAY=MO"
            )
        if (rule.freq == "MONTHLY" or rule.bymonth) and any(n is not None and abs(n) > 5 for n, _ in rule.byday):
            raise InvalidInput(f"recur {text!r}: a month has at most 5 of a weekday; use 1..5 or -1..-5 in BYDAY")
    if rule.bysetpos and not (rule.byday or rule.bymonthday or rule.bymonth or rule.byyearday or rule.byweekno):
        raise InvalidInput(f"recur {text!r}: BYSETPOS needs another BYxxx part to pick from, e.g. BYDAY=MO,TU,WE,TH,FR")
    # a set of one day (DAILY), or of the BYDAY days of one week, has no 2nd position: such a rule
    # never occurs, and dateutil would scan to the year 9999 (seconds) to find that out
    most = 1 if rule.freq == "DAILY" else (len(rule.byday) or 1) if rule.freq == "WEEKLY" else None
    if most is not None and rule.bysetpos and all(abs(pos) > most for pos in rule.bysetpos):
        raise InvalidInput(f"recur {text!r} never happens: BYSETPOS picks from at most {most} day(s) per set")
    if rule.bymonth and rule.bymonthday:
        longest = max(29 if month == 2 else calendar.monthrange(2001, month)[1] for month in rule.bymonth)
        if all(abs(day) > longest for day in rule.bymonthday):
            raise InvalidInput(f"recur {text!r} never happens (no such date); check BYMONTH and BYMONTHDAY")
    try:
        _series(rule, _REFERENCE_START, None)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"recur {text!r} is not a valid rule ({exc}); {_EXAMPLES}") from None
    return rule


def _series(rule: _Rule, start: datetime, until: datetime | None) -> rrule:
    """The dateutil series from `start` (naive wall-clock: the zone is put back by `_show`),
    stopped after `until` (inclusive). Built lazily; nothing is computed until iterated.

    A rule that can never match again from `start` (FREQ=DAILY;INTERVAL=7;BYDAY=MO from a
    Tuesday) makes dateutil scan to the year 9999 before it gives up: under a second, and
    only for such contrived rules; the impossible dates (BYMONTH=2;BYMONTHDAY=30) are
    refused by `_check` up front."""
    built = rrulestr(rule.body(engine=True), dtstart=start)
    assert isinstance(built, rrule)
    return built if until is None else built.replace(until=until)


# ---- phrases -----------------------------------------------------------------------------

_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_COUNT_WORDS |= {"nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_NUMBER = r"\d{1,5}|other|" + "|".join(_COUNT_WORDS)
_ADVERBS = {
    "daily": ("DAILY", 1),
    "weekly": ("WEEKLY", 1),
    "fortnightly": ("WEEKLY", 2),
    "monthly": ("MONTHLY", 1),
    "quarterly": ("MONTHLY", 3),
    "yearly": ("YEARLY", 1),
    "annually": ("YEARLY", 1),
}
_UNIT_FREQ = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_ORDINALS |= {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}
_ORDINALS |= {"second to last": -2, "second-to-last": -2, "second last": -2, "next to last": -2}
_ORDINAL = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_TIME_OF_DAY = re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d{2}\b|\b(?:noon|midnight)\b")
_SUB_DAILY_WORDS = re.compile(r"\b(hourly|minutely|secondly|hours?|hrs?|minutes?|mins?|seconds|secs?)\b")


def _interval(word: str | None) -> int:
    if word is None:
        return 1
    if word == "other":
        return 2
    return _COUNT_WORDS.get(word) or int(word)


def _weekday(word: str) -> int | None:
    if word in WEEKDAYS:
        return WEEKDAYS[word]
    if word.endswith("s") and word[:-1] in WEEKDAYS:
        return WEEKDAYS[word[:-1]]
    return None


def _days(spec: str) -> list[tuple[int | None, int]] | None:
    """ "monday and thursday", "mon and wed and fri", "weekdays", "weekend"."""
    found: list[tuple[int | None, int]] = []
    for item in spec.split(" and "):
        item = item.strip().removeprefix("the ").removeprefix("on ")
        if item in ("weekday", "weekdays", "workday", "workdays", "business day", "business days"):
            found.extend(_WORKWEEK)
        elif item in ("weekend", "weekends"):
            found.extend(_WEEKEND)
        elif (day := _weekday(item)) is not None:
            found.append((None, day))
        else:
            return None
    return found or None


def _month_spec(spec: str, *, bare: bool = False) -> _Rule | None:
    """What a month's occurrence is: "the 15th", "the 1st and 15th", "the last day",
    "the first monday", "the last friday", "the last weekday" (as a MONTHLY rule)."""
    spec = re.sub(r" of (?:the|every|each) month$| of month$", "", spec)
    monthdays: list[int] = []
    days: list[tuple[int | None, int]] = []
    setpos: list[int] = []
    items = spec.split(" and ")
    for item in items:
        item = item.strip().removeprefix("the ")
        if item in ("last day", "final day"):
            monthdays.append(-1)
        elif item == "first day":
            monthdays.append(1)
        elif m := re.fullmatch(r"(second to last|second-to-last|second last|next to last) day", item):
            monthdays.append(-2)
        elif m := re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?(?: day)?", item):
            if bare and not m.group(2):
                return None
            if not 1 <= int(m.group(1)) <= 31:
                return None
            monthdays.append(int(m.group(1)))
        elif m := re.fullmatch(rf"({_ORDINAL}) (weekday|workday|business day)", item):
            if len(items) != 1 or abs(_ORDINALS[m.group(1)]) != 1:
                return None
            days.extend(_WORKWEEK)
            setpos.append(_ORDINALS[m.group(1)])
        elif m := re.fullmatch(rf"({_ORDINAL}) (\w+)", item):
            day = _weekday(m.group(2))
            if day is None:
                return None
            days.append((_ORDINALS[m.group(1)], day))
        else:
            return None
    if monthdays and days:
        return None  # RFC 5545 would intersect them ("the 13th and a Friday"), not what was meant
    return _Rule("MONTHLY", bymonthday=_sorted_numbers(monthdays), byday=_sorted_days(days), bysetpos=tuple(setpos))


def _year_spec(spec: str) -> _Rule | None:
    """One calendar day: "dec 24", "december 24th", "24 dec", "the 24th of december"."""
    words = [w for w in spec.split() if w not in ("the", "of", "on")]
    if len(words) != 2:
        return None
    month = next((MONTHS[w] for w in words if w in MONTHS), None)
    day_word = next((w for w in words if re.fullmatch(r"\d{1,2}(st|nd|rd|th)?", w)), None)
    if month is None or day_word is None:
        return None
    day = int(re.sub(r"\D", "", day_word))
    if not 1 <= day <= (29 if month == 2 else calendar.monthrange(2001, month)[1]):
        return None
    return _Rule("YEARLY", bymonth=(month,), bymonthday=(day,))


def _with_spec(freq: str, interval: int, spec: str | None) -> _Rule | None:
    if spec is None:
        return _Rule(freq, interval)
    found: _Rule | None = None
    if freq == "WEEKLY":
        days = _days(spec)
        found = _Rule("WEEKLY", byday=_sorted_days(days)) if days else None
    elif freq == "MONTHLY":
        found = _month_spec(spec)
    elif freq == "YEARLY":
        found = _year_spec(spec)
    return None if found is None else replace(found, interval=interval)


def _bare_spec(spec: str, interval: int = 1) -> _Rule | None:
    """ "every <spec>" without a unit: days of the week, a day of the month, a date."""
    days = _days(spec)
    if days:
        return _Rule("WEEKLY", interval=interval, byday=_sorted_days(days))
    if interval != 1:
        return None
    return _month_spec(spec, bare=True) or _year_spec(spec)


def _core(phrase: str) -> _Rule | None:
    if m := re.fullmatch(r"(daily|weekly|fortnightly|monthly|quarterly|yearly|annually)(?: (?:on|in) (.+))?", phrase):
        freq, interval = _ADVERBS[m.group(1)]
        return _with_spec(freq, interval, m.group(2))
    if m := re.fullmatch(r"(?:every|each) (.+)", phrase):
        rest = m.group(1)
        if m := re.fullmatch(rf"(?:({_NUMBER}) )?(day|week|month|year)s?(?: (?:on|in) (.+))?", rest):
            return _with_spec(_UNIT_FREQ[m.group(2)], _interval(m.group(1)), m.group(3))
        if (m := re.fullmatch(rf"({_NUMBER}) (.+)", rest)) and (found := _bare_spec(m.group(2), _interval(m.group(1)))):
            return found  # "every other monday"
        return _bare_spec(rest)
    if m := re.fullmatch(r"(?:on )?(.+) of (?:every|each) month", phrase):
        return _month_spec(m.group(1))
    plural = phrase.removeprefix("on ")
    if all(word.endswith("s") for word in plural.split(" and ")) and (days := _days(plural)):
        return _Rule("WEEKLY", byday=_sorted_days(days))
    return None


def _parse_phrase(text: str) -> _Rule:
    phrase = " ".join(text.lower().split()).strip(" .")
    count: int | None = None
    until: Until | None = None
    if m := re.fullmatch(r"(.+?)[,\s]+(?:for\s+)?(\d{1,5}) (?:times?|occurrences?)", phrase):
        phrase, count = m.group(1), int(m.group(2))
        if count < 1:
            raise InvalidInput(f"recur {text!r}: the number of times must be at least 1")
    elif m := re.fullmatch(r"(.+?)[,\s]+once", phrase):
        phrase, count = m.group(1), 1
    if m := re.fullmatch(r"(.+?)[,\s]+until\s+(\S+)", phrase):
        phrase, until = m.group(1), _parse_until(m.group(2), text)
    phrase = re.sub(r"\s*,\s*(?:and\s+)?|\s*&\s*|\s+and\s+", " and ", phrase).strip()
    rule = _core(phrase)
    if rule is None:
        if _SUB_DAILY_WORDS.search(phrase):
            raise _sub_daily(text)
        if _TIME_OF_DAY.search(phrase):
            raise InvalidInput(
                f"recur {text!r} includes a time of day; recur only says which days. Put the time in due "
                "(e.g. due 2026-12-24T09:00) and send recur without it, e.g. 'every weekday'"
            )
        raise _unknown(text)
    return replace(rule, count=count, until=until)


def _parse(text: str) -> _Rule:
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"recur is empty; {_EXAMPLES}")
    if len(stripped) > RECUR_MAX:
        raise InvalidInput(f"recur is {len(stripped)} characters; the limit is {RECUR_MAX}. {_EXAMPLES}")
    if "\x00" in stripped:
        raise InvalidInput("recur contains a NUL character (\\u0000); remove it")
    upper = stripped.upper()
    if "=" in stripped or upper.startswith(("RRULE:", "DTSTART")):
        rule = _parse_raw(stripped)
    else:
        rule = _parse_phrase(stripped)
    return _check(rule, text)


def parse_recur(text: str) -> str:
    """A phrase or a raw RFC 5545 rule → the normalized RRULE body (no "RRULE:" prefix,
    no DTSTART), parts in a fixed order: FREQ, INTERVAL, BYMONTH, BYWEEKNO, BYYEARDAY,
    BYMONTHDAY, BYDAY, BYSETPOS, WKST, COUNT, UNTIL. Defaults are dropped (INTERVAL=1,
    WKST=MO), list values are sorted and deduplicated (days Monday first), UNTIL is
    written as 20261231 or 20261231T170000Z.

    Phrases (case and spacing free): "daily", "every 3 days", "every weekday", "every
    weekend", "weekly", "every 2 weeks on monday", "every mon and thu", "every monday,
    wednesday and friday", "every other monday", "monthly", "every 3 months", "quarterly",
    "monthly on the 15th", "monthly on the 1st and 15th", "monthly on the last day",
    "every last friday", "monthly on the first monday", "monthly on the last weekday",
    "the 15th of every month", "yearly", "annually", "every dec 24", "every year on
    december 24"; any of them may end in ", 10 times" (COUNT) or "until 2026-12-31" (UNTIL).

    Raises InvalidInput, saying what to send instead, for anything else: garbage, rules
    more frequent than daily (HOURLY, BYHOUR, "every 2 hours"), DTSTART or EXDATE inside,
    COUNT with UNTIL, COUNT over `COUNT_MAX`, and rules that never occur.
    """
    rule = _parse(text)
    if rule.count is not None and rule.count > COUNT_MAX:
        # a series with several occurrences a period is caught up by stepping, which COUNT bounds
        raise InvalidInput(f"recur {text!r}: COUNT is at most {COUNT_MAX:,}; use UNTIL for a longer series")
    return rule.body()


COUNT_MAX = 10_000
"""The longest COUNT a new rule may have: catching up such a series steps at most this many
occurrences (rules stored before this limit keep working)."""


# ---- describing ----------------------------------------------------------------------------


def _ordinal_word(n: int) -> str:
    if n == -1:
        return "last"
    if n == -2:
        return "second to last"
    if n < 0:
        return ""
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, "")


def _nth(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _describe_core(rule: _Rule) -> str | None:
    iv = rule.interval
    if rule.byweekno or rule.byyearday or rule.wkst != 0:
        return None
    if rule.bysetpos and not (rule.byday == _WORKWEEK and rule.freq == "MONTHLY" and len(rule.bysetpos) == 1):
        return None
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[rule.freq]
    every = f"every {unit}" if iv == 1 else f"every {iv} {unit}s"
    if not (rule.bymonth or rule.bymonthday or rule.byday):
        return every
    if rule.freq == "WEEKLY" and not rule.bymonth and all(n is None for n, _ in rule.byday):
        if iv == 1 and rule.byday == _WORKWEEK:
            return "every weekday"
        if iv == 1 and rule.byday == _WEEKEND:
            return "every weekend"
        names = _join([_DAY_NAMES[wd] for _, wd in rule.byday])
        return f"every {names}" if iv == 1 else f"{every} on {names}"
    if rule.freq == "MONTHLY" and not rule.bymonth:
        lead = "monthly" if iv == 1 else every
        if rule.bymonthday and not rule.byday:
            if any(n < -2 for n in rule.bymonthday):
                return None
            days = [_nth(n) if n > 0 else f"{_ordinal_word(n)} day" for n in rule.bymonthday]
            return f"{lead} on the " + _join(days)
        if rule.bysetpos:
            return f"{lead} on the {_ordinal_word(rule.bysetpos[0])} weekday" if abs(rule.bysetpos[0]) == 1 else None
        if rule.byday and not rule.bymonthday and all(n is not None and _ordinal_word(n) for n, _ in rule.byday):
            return f"{lead} on the " + _join([f"{_ordinal_word(n or 0)} {_DAY_NAMES[wd]}" for n, wd in rule.byday])
        return None
    if rule.freq == "YEARLY" and len(rule.bymonth) == 1 and len(rule.bymonthday) == 1 and not rule.byday:
        if rule.bymonthday[0] < 0:
            return None
        return f"{every} on {_MONTH_ABBR[rule.bymonth[0]]} {rule.bymonthday[0]}"
    return None


def describe(rule: str) -> str:
    """Short human text for a rule: "every weekday", "every 2 weeks on Monday", "monthly on
    the 15th", "every year on Dec 24", with ", 10 times" or " until 2026-12-31" when the
    series ends. Falls back to the normalized rule (or the text given, if it is not a
    valid rule). `parse_recur(describe(r)) == r` for every rule described in words."""
    try:
        parsed = _parse(rule)
    except InvalidInput:
        return rule.strip()
    text = _describe_core(parsed)
    if text is None:
        return parsed.body()
    if parsed.count is not None:
        text += ", once" if parsed.count == 1 else f", {parsed.count} times"
    if parsed.until is not None:
        until = parsed.until
        if isinstance(until, datetime):
            shown = until.isoformat(timespec="seconds").replace("+00:00", "Z")
        else:
            shown = until.isoformat()
        text += f" until {shown}"
    return text


# ---- occurrences -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advance:
    """The next occurrence of a series: its `due` (same form as the current one), the
    `rule` to store with it (COUNT reduced by `used`; otherwise unchanged, normalized), and
    `used`, how many occurrences the step consumed: 1 for the completed one, plus one for
    each occurrence skipped because it was already before `today` (exact with COUNT; for a
    series without COUNT more than `catchup.BUDGET` occurrences behind, a lower bound)."""

    due: str
    rule: str
    used: int


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}; use an IANA name like Europe/Paris") from None


def _wall(due: str, due_tz: str | None) -> tuple[datetime, tzinfo | None]:
    """The current occurrence as a naive wall-clock datetime and the zone to put the next
    one in (None for a floating date)."""
    text = due.strip()
    if _DATE_RE.fullmatch(text):
        try:
            return datetime.combine(date.fromisoformat(text), time()), None
        except ValueError:
            raise InvalidInput(f"due {due!r} is not a real date; use YYYY-MM-DD") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"due {due!r} is not an ISO date or date-time like 2026-12-24T17:00-08:00") from None
    moment = moment.replace(microsecond=0)
    naive = moment.replace(tzinfo=None)
    if due_tz is None:
        if moment.tzinfo is None:
            raise InvalidInput(f"due {due!r} has no UTC offset and no zone; give one, e.g. 2026-12-24T17:00-08:00")
        return naive, timezone(moment.utcoffset() or timedelta(0))
    zone = _zone(due_tz)
    if moment.tzinfo is None:
        return naive, zone
    # Keep the wall-clock time written in `due` when it is a reading of `due_tz` (either side
    # of a fold, or the pre-transition offset Python gives a time in a gap); otherwise read
    # the instant in the zone.
    offset = moment.utcoffset()
    if any(naive.replace(tzinfo=zone, fold=fold).utcoffset() == offset for fold in (0, 1)):
        return naive, zone
    return moment.astimezone(zone).replace(tzinfo=None), zone


def _until_wall(until: Until, zone: tzinfo | None) -> datetime:
    """UNTIL as a naive wall-clock bound comparable with the series (inclusive)."""
    if not isinstance(until, datetime):
        return datetime.combine(until, time(23, 59, 59))
    if until.tzinfo is None or zone is None:
        return until.replace(tzinfo=None)
    return until.astimezone(zone).replace(tzinfo=None)


def _show(wall: datetime, zone: tzinfo | None) -> str:
    if zone is None:
        return wall.date().isoformat()
    moment = wall.replace(tzinfo=zone)
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


def advance(rule: str, due: str, due_tz: str | None, today: date) -> Advance | None:
    """The occurrence after the current `due`, or None when the series has ended.

    The series starts at `due` (its DTSTART). The next occurrence is the first one strictly
    after `due`; if that is before `today` (the task is several periods overdue), the ones
    before `today` are skipped: the result is the first occurrence on or after `today`
    (a daily task 5 days overdue comes back today). For a date-time, "before today" compares
    the occurrence's calendar day in its own zone with `today`.

    `due` is a floating date ("2026-12-24", and the result is one too) or an ISO date-time
    with offset; then `due_tz` is the IANA zone its wall-clock time belongs to and the
    result keeps that wall-clock time with the offset of its own day (09:00-08:00 before a
    DST change, 09:00-07:00 after), or `due_tz` is None and the offset is kept as a fixed
    zone. A wall-clock time that falls in a DST gap keeps the pre-transition offset, as
    Python and `dates.parse_due` do (02:30-08:00 on 2026-03-08 in Los Angeles).

    COUNT counts occurrences from the current `due`, inclusive: COUNT=1 means this is the
    last one. Each occurrence consumed (completed or skipped) uses one up, and the returned
    `rule` carries the COUNT that is left. UNTIL is inclusive; a date UNTIL means the end
    of that day.
    """
    parsed = _parse(rule)
    start, zone = _wall(due, due_tz)
    until = None if parsed.until is None else _until_wall(parsed.until, zone)
    try:
        found = next_occurrence(parsed, start, until, today)  # computed, not stepped, when far behind
    except (ValueError, OverflowError):  # past year 9999
        return None
    if found is None:
        return None
    occurrence, used = found
    count = None if parsed.count is None else parsed.count - used
    return Advance(due=_show(occurrence, zone), rule=replace(parsed, count=count).body(), used=used)


def check_until(rule: str, due: str) -> None:
    """Refuse a rule whose UNTIL is before the day of `due` (an ISO date or date-time): such
    a series ends at once, which is never what "daily until 0001-01-01" meant. A date-time
    UNTIL (UTC) is given a day of slack for the due's own zone."""
    until = _parse(rule).until
    if until is None or not _DATE_RE.fullmatch(due.strip()[:10]):
        return
    day = date.fromisoformat(due.strip()[:10])
    slack = 1 if isinstance(until, datetime) else 0
    if (day - (until.date() if isinstance(until, datetime) else until)).days > slack:
        raise InvalidInput(
            f"recur {rule!r}: UNTIL {until.isoformat()} is before the due date {day.isoformat()}, so the series "
            "would end at once; give a later UNTIL or none"
        )


def next_due(rule: str, due: str, due_tz: str | None, today: date, *, completed_count: int = 0) -> str | None:
    """The `due` of the occurrence after `due`, or None when the series has ended; see
    `advance` for the rules. `completed_count` is for a caller that keeps the rule as first
    given and counts completions itself: the rule's COUNT is then the whole series and
    `completed_count` the occurrences already used before the current one. A caller that
    stores `advance(...).rule` after each step leaves it at 0 (the recommended way)."""
    if completed_count < 0:
        raise ValueError("completed_count must be >= 0")
    if completed_count:
        parsed = _parse(rule)
        if parsed.count is not None:
            if parsed.count - completed_count < 1:
                return None
            rule = replace(parsed, count=parsed.count - completed_count).body()
    step = advance(rule, due, due_tz, today)
    return None if step is None else step.due


def first_due(rule: str, today: date) -> str:
    """The first occurrence on or after `today`, as a floating date: the due for a task
    given a rule but no due ("every monday" on a Wednesday → next Monday; "daily" → today).
    Raises InvalidInput when the rule's UNTIL is already past."""
    parsed = _parse(rule)
    start = datetime.combine(today, time())
    until = None if parsed.until is None else _until_wall(parsed.until, None)
    try:
        found = next(iter(_series(parsed, start, until)), None)
    except (ValueError, OverflowError):
        found = None
    if found is None:
        raise InvalidInput(
            f"recur {rule!r} has no occurrence on or after {today.isoformat()} (its UNTIL has passed); "
            "give a later UNTIL or none"
        )
    return found.date().isoformat()
