"""Time handling, pure (no I/O, "now" and the zone are passed in), one concern a module:

* `zones`: the one parser of zone names (`named_zone`, `find_zone`), the user's zone
  (`zone`) and `utc_now` for timestamps;
* `due`: `parse_due` (an ISO date, an ISO date-time or a phrase, in the user's zone) and
  the one ISO date pattern (`is_iso_date`);
* `phrases`: natural-language dates ("tomorrow 5pm", "next friday", "dec 24");
* `windows`: the "today", "this week" and "overdue" windows, and `humanize` ("due tomorrow");
* `recurrence`: recurring rules (parse, describe, advance). Not re-exported here, because
  it loads dateutil: import it as `from mcp_server_todo.dates import recurrence` when used.
"""

from .due import INSTANT_MAX, INSTANT_MIN, ISO_DATE, is_iso_date, parse_due, parse_due_bound
from .phrases import parse_phrase
from .windows import Window, WindowKind, humanize, window
from .zones import find_zone, named_zone, utc_now, zone

__all__ = [
    "INSTANT_MAX",
    "INSTANT_MIN",
    "ISO_DATE",
    "Window",
    "WindowKind",
    "find_zone",
    "humanize",
    "is_iso_date",
    "named_zone",
    "parse_due",
    "parse_due_bound",
    "parse_phrase",
    "utc_now",
    "window",
    "zone",
]
