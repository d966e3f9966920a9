"""The page cursor of `list_items`: where the next page starts (the store's keyset), the
time the first page was asked (so "today" does not move between pages), and a fingerprint
of the query (a cursor is refused with other filters). Opaque to the client; a forged one is
refused before it reaches the store."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidInput
from ..model import ID_MAX, ListQuery

KEY_LENGTHS = {"created": 1, "due": 2, "priority": 3, "urgency": 2}
"""How many values a page's sort key has (the store's keyset), to refuse a forged cursor."""


def query_fingerprint(q: ListQuery, due: str | None) -> str:
    key = repr((q.status, q.project, q.tag, q.due_before, due, q.text, q.parent_id, q.sort))
    return hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def encode_cursor(after: list[Any], now: str, fingerprint: str) -> str:
    raw = json.dumps([2, after, now, fingerprint], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_CURSOR_NOW_MIN = datetime(1900, 1, 1, tzinfo=UTC)
_CURSOR_NOW_MAX = datetime(9000, 1, 1, tzinfo=UTC)


def _key_value_ok(value: Any) -> bool:
    """A sort key value as a page returns it: an id or priority within SQL's bigint, a finite
    urgency, a short due key (a forged 10**30 or NaN must not reach the store)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -ID_MAX <= value <= ID_MAX
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < 1e12
    return isinstance(value, str) and len(value) <= 40


def decode_cursor(cursor: str, fingerprint: str) -> tuple[list[Any], str]:
    try:
        version, after, now, expected = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(now)
        # the query's "now", with an offset, far enough inside Python's range for the week and
        # day windows around it in any zone (a cursor this server made holds the time of a call)
        if moment.tzinfo is None or not _CURSOR_NOW_MIN <= moment <= _CURSOR_NOW_MAX:
            raise ValueError(now)
        if version != 2 or not isinstance(after, list) or not all(_key_value_ok(v) for v in after):
            raise ValueError(cursor)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidInput("cursor is not one this server returned; call list_items without a cursor") from None
    if expected != fingerprint:
        raise InvalidInput("cursor belongs to a different query; pass the same filters as the call that returned it")
    return after, now
