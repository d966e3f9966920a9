"""`describe`: a stored rule back into short text ("every 2 weeks on Monday", "monthly on the
15th, 10 times"), or the normalized rule when words would not say it exactly."""

from __future__ import annotations

import functools
from datetime import datetime

from ...errors import InvalidInput
from .parse import parse_rule
from .rule import WEEKEND, WORKWEEK, Rule

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


def _describe_core(rule: Rule) -> str | None:
    iv = rule.interval
    if rule.byweekno or rule.byyearday or rule.wkst != 0:
        return None
    if rule.bysetpos and not (rule.byday == WORKWEEK and rule.freq == "MONTHLY" and len(rule.bysetpos) == 1):
        return None
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[rule.freq]
    every = f"every {unit}" if iv == 1 else f"every {iv} {unit}s"
    if not (rule.bymonth or rule.bymonthday or rule.byday):
        return every
    if rule.freq == "WEEKLY" and not rule.bymonth and all(n is None for n, _ in rule.byday):
        if iv == 1 and rule.byday == WORKWEEK:
            return "every weekday"
        if iv == 1 and rule.byday == WEEKEND:
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
    """Short human text for a rule (see `_describe`). A stored rule (a raw RRULE body, the same
    few on page after page of a listing) is described once and remembered: the words depend on
    the rule's text alone."""
    if "=" in rule and len(rule) <= _CACHED_MAX:
        return _described(rule)
    return _describe(rule)


_CACHED_MAX = 300
"""Longer rules are described afresh (the cache holds short keys only)."""


@functools.lru_cache(maxsize=1024)
def _described(rule: str) -> str:
    return _describe(rule)


def _describe(rule: str) -> str:
    """Short human text for a rule: "every weekday", "every 2 weeks on Monday", "monthly on
    the 15th", "every year on Dec 24", with ", 10 times" or " until 2026-12-31" when the
    series ends. Falls back to the normalized rule (or the text given, if it is not a
    valid rule). `parse_recur(describe(r)) == r` for every rule described in words."""
    try:
        parsed = parse_rule(rule)
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
