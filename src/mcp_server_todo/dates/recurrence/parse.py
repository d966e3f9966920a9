"""`parse_recur`: a phrase or a raw rule → the one normalized RRULE body, after the checks
on how parts combine and that the series occurs at all; `parse_rule` for the other modules."""

from __future__ import annotations

import calendar
from datetime import datetime

from ...errors import InvalidInput
from .phrases import phrase_rule
from .rfc5545 import parse_raw
from .rule import EXAMPLES, Rule, build_series

RECUR_MAX = 500
"""Longest accepted `recur` text (a phrase or a raw rule)."""

# The longest gap between two occurrences a rule may ask for (INTERVAL per FREQ): 100 years.
_MAX_INTERVAL = {"DAILY": 36_500, "WEEKLY": 5_200, "MONTHLY": 1_200, "YEARLY": 100}
_REFERENCE_START = datetime(2000, 1, 1)  # a start for building a rule only to validate it


def _check(rule: Rule, text: str) -> Rule:
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
        build_series(rule, _REFERENCE_START, None)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"recur {text!r} is not a valid rule ({exc}); {EXAMPLES}") from None
    return rule


def parse_rule(text: str) -> Rule:
    """A phrase or a raw rule → a checked `Rule` (InvalidInput otherwise); `parse_recur` without COUNT_MAX."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"recur is empty; {EXAMPLES}")
    if len(stripped) > RECUR_MAX:
        raise InvalidInput(f"recur is {len(stripped)} characters; the limit is {RECUR_MAX}. {EXAMPLES}")
    if "\x00" in stripped:
        raise InvalidInput("recur contains a NUL character (\\u0000); remove it")
    upper = stripped.upper()
    raw = "=" in stripped or upper.startswith(("RRULE:", "DTSTART"))
    return _check(parse_raw(stripped) if raw else phrase_rule(stripped), text)


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
    rule = parse_rule(text)
    if rule.count is not None and rule.count > COUNT_MAX:
        # a series with several occurrences a period is caught up by stepping, which COUNT bounds
        raise InvalidInput(f"recur {text!r}: COUNT is at most {COUNT_MAX:,}; use UNTIL for a longer series")
    return rule.body()


COUNT_MAX = 10_000
"""The longest COUNT a new rule may have: catching up such a series steps at most this many
occurrences (rules stored before this limit keep working)."""
