"""Raw RFC 5545 rules: "FREQ=WEEKLY;BYDAY=MO" (an "RRULE:" prefix allowed) read into a
`Rule`, every part checked on its own, and UNTIL in RFC 5545 or ISO form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from ...errors import InvalidInput
from ..due import is_iso_date
from .rule import DAY_CODES, Rule, Until, not_understood, sorted_days, sorted_numbers, too_often

_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_SUB_DAILY = ("HOURLY", "MINUTELY", "SECONDLY")
_KEYS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_KEYS_MORE = ("BYSETPOS", "WKST")
_INT = re.compile(r"[+-]?\d{1,6}")
_BYDAY_ITEM = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_RANGES = {"BYMONTH": (1, 12, False), "BYWEEKNO": (1, 53, True), "BYYEARDAY": (1, 366, True)}
_RANGES |= {"BYMONTHDAY": (1, 31, True), "BYSETPOS": (1, 366, True)}


def parse_raw(text: str) -> Rule:
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
            raise not_understood(text)
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
            raise not_understood(text)
        raise InvalidInput(f"recur {text!r} has no FREQ; start it with FREQ=DAILY, WEEKLY, MONTHLY or YEARLY")
    freq = fields["FREQ"]
    if freq in _SUB_DAILY:
        raise too_often(text)
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
        return sorted_numbers(found)

    days: list[tuple[int | None, int]] = []
    for item in fields.get("BYDAY", "").split(",") if "BYDAY" in fields else []:
        match = _BYDAY_ITEM.fullmatch(item.strip())
        if not match:
            raise InvalidInput(f"recur {text!r}: BYDAY value {item!r} is not valid; use days like MO,TU or 1MO, -1FR")
        ordinal = int(match.group(1)) if match.group(1) else None
        if ordinal is not None and not (1 <= abs(ordinal) <= 53):
            raise InvalidInput(f"recur {text!r}: BYDAY value {item!r} is out of range; use 1MO..5MO or -1MO..-5MO")
        days.append((ordinal, DAY_CODES.index(match.group(2))))
    wkst = fields.get("WKST", "MO")
    if wkst not in DAY_CODES:
        raise InvalidInput(f"recur {text!r}: WKST={wkst} is not a day; use MO, TU, WE, TH, FR, SA or SU")
    return Rule(
        freq=freq,
        interval=number("INTERVAL") or 1,
        bymonth=numbers("BYMONTH"),
        byweekno=numbers("BYWEEKNO"),
        byyearday=numbers("BYYEARDAY"),
        bymonthday=numbers("BYMONTHDAY"),
        byday=sorted_days(days),
        bysetpos=numbers("BYSETPOS"),
        wkst=DAY_CODES.index(wkst),
        count=number("COUNT"),
        until=parse_until(fields["UNTIL"], text) if "UNTIL" in fields else None,
    )


def parse_until(value: str, text: str) -> Until:
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
        if is_iso_date(value):
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.upper())
        moment = moment.replace(microsecond=0)
        return moment if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        pass
    raise InvalidInput(f"recur {text!r}: UNTIL {value!r} is not a date; use UNTIL=20261231 or UNTIL=20261231T235959Z")
