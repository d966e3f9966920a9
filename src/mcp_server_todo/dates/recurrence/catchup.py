"""The next occurrence of a series far behind today, computed rather than iterated.

`recurrence.advance` needs the first occurrence after the current `due` that falls on or
after `today`. Stepping dateutil's series from a `due` of 0001-01-01 visits 740,000 days
(about 4 s of CPU per task). This module steps at most `BUDGET` occurrences; if the series
is still behind, it jumps: it starts the series again a whole number of INTERVAL periods
later, one or two periods before today, and steps from there.

Why the jump gives the same answer. dateutil builds a series period by period (a day, a
week starting on WKST, a month, a year), every INTERVAL periods from the one holding the
start, and keeps the candidates of each period that the BYxxx parts select. Restarting at
the first instant of a period k*INTERVAL periods later (same time of day) selects the same
periods from there on, and every candidate of that period is at or after the new start, so
the new series is exactly the old one from that instant on. The BYxxx defaults dateutil
takes from the start (MONTHLY: the start's day of month, WEEKLY: its weekday, YEARLY: its
month and day) are written into the rule first so that they do not move with it. UNTIL is
an instant, unaffected.

What is counted. `used` (the completed occurrence plus each one skipped) is exact when the
answer is found within the budget, and when each period holds exactly one occurrence (no
BYxxx part, and a start that is valid in every month or year: day 1-28, not February 29):
then k*INTERVAL periods skip k - 1 occurrences. A COUNT series of another shape keeps
stepping, as before: COUNT bounds its work. Without COUNT, nothing is counted down and
`used` is then a lower bound (nothing reads it but COUNT's bookkeeping).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from .rule import Rule, build_series

__all__ = ["BUDGET", "next_occurrence"]

BUDGET = 1000
"""Occurrences stepped one by one before jumping (about 5 ms)."""


def next_occurrence(
    rule: Rule, start: datetime, until: datetime | None, today: date, *, budget: int = BUDGET
) -> tuple[datetime, int] | None:
    """The first occurrence after `start` dated on or after `today`, and the occurrences used
    (see the module docstring); None when the series ends first. `start` and `until` are
    naive wall-clock times. Raises ValueError or OverflowError past the year 9999."""
    used = 1
    skipped: list[datetime] = []
    series = iter(build_series(rule, start, until))
    for occurrence in series:
        if occurrence <= start:
            continue
        if rule.count is not None and used >= rule.count:
            return None
        if occurrence.date() >= today:
            return occurrence, used
        used += 1
        skipped.append(occurrence)
        if len(skipped) >= budget:
            break
    else:
        return None
    jump = _jump(rule, start, today)
    if jump is not None:
        explicit, restart, between = jump
        if between is None and rule.count is not None:
            jump = None  # cannot count what is skipped: keep stepping (COUNT bounds it)
        else:
            # exact, or (no COUNT) the occurrences seen before the restart: a lower bound
            used = 1 + (between if between is not None else sum(1 for seen in skipped if seen < restart))
            series = iter(build_series(explicit, restart, until))
    for occurrence in series:
        if rule.count is not None and used >= rule.count:
            return None
        if occurrence.date() >= today:
            return occurrence, used
        used += 1
    return None


def _jump(rule: Rule, start: datetime, today: date) -> tuple[Rule, datetime, int | None] | None:
    """(the rule with its defaults written out, a restart k*INTERVAL periods later dated
    before `today`, the occurrences strictly between `start` and it when that is known),
    or None when no whole period fits between `start` and `today`."""
    n = rule.interval
    day = start.date()
    if rule.freq == "DAILY":
        periods = (today - day).days
    elif rule.freq == "WEEKLY":
        day = day - timedelta(days=(day.weekday() - rule.wkst) % 7)
        periods = (today - day).days // 7
    elif rule.freq == "MONTHLY":
        periods = (today.year - day.year) * 12 + today.month - day.month
    else:
        periods = today.year - day.year
    k = periods // n - 1
    if k < 1:
        return None
    step = k * n
    if rule.freq == "DAILY":
        restart = day + timedelta(days=step)
    elif rule.freq == "WEEKLY":
        restart = day + timedelta(weeks=step)
    elif rule.freq == "MONTHLY":
        month = day.year * 12 + day.month - 1 + step
        restart = date(month // 12, month % 12 + 1, 1)
    else:
        restart = date(day.year + step, 1, 1)
    explicit = _explicit(rule, start)
    return explicit, datetime.combine(restart, start.time()), k - 1 if _one_per_period(rule, start) else None


def _explicit(rule: Rule, start: datetime) -> Rule:
    """`rule` with the BYxxx parts dateutil would take from `start` written out."""
    if rule.byweekno or rule.byyearday or rule.bymonthday or rule.byday:
        return rule
    if rule.freq == "YEARLY":
        return replace(rule, bymonth=rule.bymonth or (start.month,), bymonthday=(start.day,))
    if rule.freq == "MONTHLY":
        return replace(rule, bymonthday=(start.day,))
    if rule.freq == "WEEKLY":
        return replace(rule, byday=((None, start.weekday()),))
    return rule


def _one_per_period(rule: Rule, start: datetime) -> bool:
    if rule.bymonth or rule.byweekno or rule.byyearday or rule.bymonthday or rule.byday or rule.bysetpos:
        return False
    if rule.freq == "MONTHLY":
        return start.day <= 28
    if rule.freq == "YEARLY":
        return (start.month, start.day) != (2, 29)
    return True
