"""Recurrence phrases: "every weekday", "every 2 weeks on monday", "monthly on the 15th",
"every dec 24", with ", 10 times" or "until 2026-12-31", read into a `Rule`."""

from __future__ import annotations

import calendar
import re
from dataclasses import replace

from ...errors import InvalidInput
from ..phrases import MONTHS, WEEKDAYS
from .rfc5545 import parse_until
from .rule import WEEKEND, WORKWEEK, Rule, Until, not_understood, sorted_days, sorted_numbers, too_often

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
            found.extend(WORKWEEK)
        elif item in ("weekend", "weekends"):
            found.extend(WEEKEND)
        elif (day := _weekday(item)) is not None:
            found.append((None, day))
        else:
            return None
    return found or None


def _month_spec(spec: str, *, bare: bool = False) -> Rule | None:
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
            days.extend(WORKWEEK)
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
    return Rule("MONTHLY", bymonthday=sorted_numbers(monthdays), byday=sorted_days(days), bysetpos=tuple(setpos))


def _year_spec(spec: str) -> Rule | None:
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
    return Rule("YEARLY", bymonth=(month,), bymonthday=(day,))


def _with_spec(freq: str, interval: int, spec: str | None) -> Rule | None:
    if spec is None:
        return Rule(freq, interval)
    found: Rule | None = None
    if freq == "WEEKLY":
        days = _days(spec)
        found = Rule("WEEKLY", byday=sorted_days(days)) if days else None
    elif freq == "MONTHLY":
        found = _month_spec(spec)
    elif freq == "YEARLY":
        found = _year_spec(spec)
    return None if found is None else replace(found, interval=interval)


def _bare_spec(spec: str, interval: int = 1) -> Rule | None:
    """ "every <spec>" without a unit: days of the week, a day of the month, a date."""
    days = _days(spec)
    if days:
        return Rule("WEEKLY", interval=interval, byday=sorted_days(days))
    if interval != 1:
        return None
    return _month_spec(spec, bare=True) or _year_spec(spec)


def _core(phrase: str) -> Rule | None:
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
        return Rule("WEEKLY", byday=sorted_days(days))
    return None


def phrase_rule(text: str) -> Rule:
    """A recurrence phrase → its `Rule` (not yet checked as a whole); InvalidInput if not understood."""
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
        phrase, until = m.group(1), parse_until(m.group(2), text)
    phrase = re.sub(r"\s*,\s*(?:and\s+)?|\s*&\s*|\s+and\s+", " and ", phrase).strip()
    rule = _core(phrase)
    if rule is None:
        if _SUB_DAILY_WORDS.search(phrase):
            raise too_often(text)
        if _TIME_OF_DAY.search(phrase):
            raise InvalidInput(
                f"recur {text!r} includes a time of day; recur only says which days. Put the time in due "
                "(e.g. due 2026-12-24T09:00) and send recur without it, e.g. 'every weekday'"
            )
        raise not_understood(text)
    return replace(rule, count=count, until=until)
