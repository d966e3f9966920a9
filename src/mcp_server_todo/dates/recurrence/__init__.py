"""Recurring tasks: phrases and RFC 5545 rules, and the next occurrence of a series.

Pure: no I/O, "today" is passed in. dateutil's `rrule` is the engine; this package adds
what a task list needs around it (rule: the data; rfc5545 and phrases: reading it;
parse: checking it; describe: words for it; advance and catchup: the next occurrence):

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

from .advance import Advance, advance, check_until, first_due, next_due
from .describe import describe
from .parse import COUNT_MAX, RECUR_MAX, parse_recur

__all__ = [
    "COUNT_MAX",
    "RECUR_MAX",
    "Advance",
    "advance",
    "check_until",
    "describe",
    "first_due",
    "next_due",
    "parse_recur",
]
