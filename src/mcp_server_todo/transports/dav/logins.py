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

Attempts still being checked count too (`begin`, `end`), so a parallel burst cannot pass the
check all at once: while the failures plus the attempts in flight reach a limit, the next attempt
waits (on the event loop) for one of them to end, then is checked again. So the 11th concurrent
bad login of one name gets 429, and the 11th concurrent good one goes on once the first is in.
Credentials that logged in are trusted for the window (`trusted`): their requests are not
counted while they run, so a client syncing with many parallel requests never waits for them.

Tokens are 256-bit random strings (`token create`): the limit is about load, not about making
guessing harder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import time
from collections import deque

LOGIN_DELAY = 1.0
MAX_LOGIN_DELAY = 30.0
WINDOW = 60.0
PER_LOGIN = 10
PER_CLIENT = 50
_MAX_KEYS = 10_000
BUSY = 0
"""`FailedLogins.begin`: wait for an attempt being checked to end, then ask again."""
BUSY_WAIT = 30.0
"""How long an attempt waits for others being checked before it gets 429 (a stuck check)."""


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
        self._good: dict[bytes, float] = {}  # digests of credentials that logged in, and when
        self._pending: dict[tuple[str, str | None], int] = {}  # attempts being checked now

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

    def begin(self, client: str, login: str) -> int | None:
        """Check an attempt and, when it may go on, count it as pending until `end`: seconds to
        wait (429), `BUSY` (the failures plus the attempts still being checked reach a limit:
        wait for one of those to end, then ask again), or None (go on). No await runs between
        the check and the count, so concurrent attempts see each other."""
        wait = self.retry_after(client, login)
        if wait is not None:
            return wait
        now, keys = time.monotonic(), self._keys(client, login)
        if any(len(self._recent(key, now)) + self._pending.get(key, 0) >= limit for key, limit in keys):
            return BUSY
        for key, _ in keys:
            self._pending[key] = self._pending.get(key, 0) + 1
        return None

    def end(self, client: str, login: str, authorization: bytes | None) -> None:
        """The attempt `begin` let go on was answered: a failure (`authorization` None) is
        counted, a login that worked makes its credentials trusted for the window."""
        for key, _ in self._keys(client, login):
            left = self._pending.get(key, 0) - 1
            if left > 0:
                self._pending[key] = left
            else:
                self._pending.pop(key, None)
        if authorization is None:
            self.failed(client, login)
            return
        if len(self._good) > _MAX_KEYS:
            self._good.clear()
        self._good[hashlib.sha256(authorization).digest()] = time.monotonic()

    def _keys(self, client: str, login: str) -> tuple[tuple[tuple[str, str | None], int], ...]:
        return ((client, login), self.per_login), ((client, None), self.per_client)

    def trusted(self, authorization: bytes) -> bool:
        """Whether these credentials logged in within the window (their requests are not pending)."""
        digest = hashlib.sha256(authorization).digest()
        at = self._good.get(digest)
        if at is not None and at <= time.monotonic() - self.window:
            del self._good[digest]
            return False
        return at is not None
