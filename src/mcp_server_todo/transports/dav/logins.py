"""Failed CalDAV logins: answered late on the event loop, and bounded per client.

Radicale's own `auth.delay` sleeps in the WSGI worker thread that checked the password: a
burst of bad logins took a2wsgi's ten threads and stalled every other user's requests. Radicale
runs with delay 0; `DavApp` (app.py) holds a failed login's 401 for `delay` seconds with an
async sleep, after the thread is free, so the wait costs a timer and not a thread.

`FailedLogins` bounds guessing: a client address gets `PER_LOGIN` failures per user name and
`PER_CLIENT` failures in all within `WINDOW` seconds; after that its logins (for that name, or
for any name) get **429** with `Retry-After`, without being checked, until the oldest failure
leaves the window. A good login does not reset the count. The key is the address uvicorn
reports (forwarded headers only from `FORWARDED_ALLOW_IPS`), so a guesser elsewhere cannot lock
a user out of their own address. A request without credentials (a client's first probe, which
gets the Basic challenge) is neither delayed nor counted.

Tokens are 256-bit random strings (`token create`): the limit is about load, not about making
guessing harder.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections import deque

LOGIN_DELAY = 1.0
MAX_LOGIN_DELAY = 30.0
WINDOW = 60.0
PER_LOGIN = 10
PER_CLIENT = 50
_MAX_KEYS = 10_000


def basic_login(authorization: bytes | None) -> str | None:
    """The user name of a Basic `Authorization` header; None without credentials. A header that
    does not decode still names someone (""): it is a failed login if Radicale refuses it."""
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(b" ")
    if scheme.lower() != b"basic":
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


class FailedLogins:
    """Failure times per (client, login) and per client, within the last `window` seconds."""

    def __init__(self, per_login: int = PER_LOGIN, per_client: int = PER_CLIENT, window: float = WINDOW) -> None:
        self.per_login = per_login
        self.per_client = per_client
        self.window = window
        self._times: dict[tuple[str, str | None], deque[float]] = {}

    def _recent(self, key: tuple[str, str | None], now: float) -> deque[float]:
        times = self._times.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._times[key]
        return times

    def retry_after(self, client: str, login: str) -> int | None:
        """Seconds until this client may try this login again; None: it may now."""
        now = time.monotonic()
        waits = [
            times[-limit] + self.window - now
            for key, limit in (((client, login), self.per_login), ((client, None), self.per_client))
            if len(times := self._recent(key, now)) >= limit
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, client: str, login: str) -> None:
        """Count one failed login."""
        now = time.monotonic()
        if len(self._times) > _MAX_KEYS:  # a flood of names or addresses: forget, do not grow
            self._times.clear()
        for key in ((client, login), (client, None)):
            self._recent(key, now)
            self._times.setdefault(key, deque(maxlen=max(self.per_login, self.per_client))).append(now)
