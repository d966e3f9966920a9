"""Session limits for stateful Streamable HTTP: one user cannot take every session.

The SDK's session manager caps the sessions of the whole server (10,000 by default) and answers
503 at the cap, with no `Retry-After`, for everyone, until sessions go idle (30 minutes): one
token holder who opens sessions in a loop locks every other user out. `SessionLimits` sits in
front of the manager's request handler (inside its body limit, after authentication) and admits
a request that would open a session only while

- its owner (server/context.py `owner_of_token`: from the verified token, never from a header)
  has fewer than `--max-sessions-per-user` sessions open or opening: else **429**, and
- the server has fewer than `--max-sessions`: else **503** (the server is full, not the user's
  fault).

Both answers carry `Retry-After`: the seconds until the first of the counted sessions would
expire if it stays idle (`--session-idle-timeout`), at least 1. A session frees its slot when it
ends in any way (DELETE, idle timeout, a failed opening request): the count is the sessions the
manager still holds. Requests within an open session, and the 2026-07-28 generation (no
sessions), pass untouched. Stateless servers (`--stateless`) have no sessions and no limits.

Stdlib only at import time (options.py reads the flags here before the SDK is loaded).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
from collections import Counter
from typing import TYPE_CHECKING

from ...logs import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

log = logging.getLogger(__name__)

MAX_SESSIONS = 1000
MAX_SESSIONS_PER_USER = 20
SESSION_IDLE_TIMEOUT = 1800.0
SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """`--max-sessions`, `--max-sessions-per-user`, `--session-idle-timeout` (env TODO_*)."""
    group.add_argument(
        "--max-sessions",
        type=int,
        default=os.environ.get("TODO_MAX_SESSIONS", str(MAX_SESSIONS)),
        metavar="N",
        help=f"open sessions for the whole server; more get 503 (env TODO_MAX_SESSIONS; {MAX_SESSIONS})",
    )
    group.add_argument(
        "--max-sessions-per-user",
        type=int,
        default=os.environ.get("TODO_MAX_SESSIONS_PER_USER", str(MAX_SESSIONS_PER_USER)),
        metavar="N",
        help=f"open sessions per user; more get 429 (env TODO_MAX_SESSIONS_PER_USER; {MAX_SESSIONS_PER_USER})",
    )
    group.add_argument(
        "--session-idle-timeout",
        type=float,
        default=os.environ.get("TODO_SESSION_IDLE_TIMEOUT", str(int(SESSION_IDLE_TIMEOUT))),
        metavar="SECONDS",
        help="end a session with no request for this long (env TODO_SESSION_IDLE_TIMEOUT; "
        f"{int(SESSION_IDLE_TIMEOUT)})",
    )


def check_session_limits(max_sessions: int, per_user: int, idle_timeout: float) -> None:
    """ValueError (a usage error) for limits that cannot work."""
    if max_sessions < 1:
        raise ValueError(f"--max-sessions must be at least 1, not {max_sessions}")
    if per_user < 1:  # above --max-sessions it simply never applies first
        raise ValueError(f"--max-sessions-per-user must be at least 1, not {per_user}")
    if not (math.isfinite(idle_timeout) and idle_timeout > 0):
        raise ValueError(f"--session-idle-timeout must be a positive number of seconds, not {idle_timeout}")


class SessionLimits:
    """ASGI middleware in the session manager's request slot (see the module docstring)."""

    def __init__(self, app: ASGIApp, manager: StreamableHTTPSessionManager, max_sessions: int, per_user: int) -> None:
        from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

        self.app = app
        self.manager = manager
        self.max_sessions = max_sessions
        self.per_user = per_user
        self.idle_timeout = manager.session_idle_timeout or SESSION_IDLE_TIMEOUT
        self._handshake = {version.encode("latin-1") for version in HANDSHAKE_PROTOCOL_VERSIONS}
        self._owners: dict[str, str] = {}  # session id -> owner, for the sessions this let in
        self._opening: Counter[str] = Counter()  # owner -> opening requests being served

    def opens_session(self, scope: Scope) -> bool:
        """A request the manager would answer by opening a session: stateful generation (no
        protocol version header, or a handshake one) and no session id."""
        version = None
        for key, value in scope.get("headers", []):
            if key == SESSION_HEADER:
                return False
            if key == VERSION_HEADER and version is None:  # the first one, as the SDK routes on
                version = bytes(value)
        return version is None or version in self._handshake

    def open_sessions(self, owner: str) -> tuple[int, int]:
        """(the owner's sessions, all sessions), open or being opened; ended ones forgotten."""
        from ...server import sdk_seams

        live = sdk_seams.open_sessions(self.manager)
        for session_id in [sid for sid in self._owners if sid not in live]:
            del self._owners[session_id]
        # each request counts once: as opening until its answer names its session, then as that
        # session (the manager admits a session before it answers, so `live` already has it)
        opening = sum(self._opening.values())
        mine = sum(1 for who in self._owners.values() if who == owner) + self._opening[owner]
        return mine, max(len(live), len(self._owners) + opening)

    def retry_after(self, owner: str | None) -> int:
        """Seconds until the first counted session would end if it stays idle (at least 1)."""
        import anyio

        from ...server import sdk_seams

        now = anyio.current_time()
        soonest = self.idle_timeout
        for session_id, transport in sdk_seams.open_sessions(self.manager).items():
            if owner is not None and self._owners.get(session_id) != owner:
                continue
            scope = transport.idle_scope
            if scope is not None and math.isfinite(scope.deadline):
                soonest = min(soonest, scope.deadline - now)
        return max(1, math.ceil(soonest))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.opens_session(scope):
            await self.app(scope, receive, send)
            return
        owner = owner_of_scope(scope)
        mine, total = self.open_sessions(owner)
        if mine >= self.per_user:
            log.warning("refused a new session: its user has %d open (--max-sessions-per-user)", mine)
            wait = self.retry_after(owner)
            text = (
                f"Too many open sessions for this user ({self.per_user}): end one (DELETE it) or retry after {wait} s"
            )
            await refuse(send, 429, text, wait)
            return
        if total >= self.max_sessions:
            log.warning("refused a new session: %d sessions are open (--max-sessions)", total)
            wait = self.retry_after(None)
            await refuse(send, 503, f"The server has too many open sessions; retry after {wait} s", wait)
            return

        opening = True

        def opened() -> None:
            nonlocal opening
            if opening:
                opening = False
                self._opening[owner] -= 1
                if self._opening[owner] <= 0:
                    del self._opening[owner]

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                for key, value in message.get("headers", []):
                    if message["status"] < 400 and bytes(key).lower() == SESSION_HEADER:
                        self._owners[bytes(value).decode("latin-1")] = owner
                opened()  # from here on counted as its session (if it got one), never twice
            await send(message)

        self._opening[owner] += 1
        try:
            await self.app(scope, receive, recording_send)
        finally:
            opened()


def owner_of_scope(scope: Scope) -> str:
    """The owner the request will act as: from the token the SDK's bearer middleware verified
    (`scope["user"]`), the local user without authentication."""
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

    from ...server import owner_of_token

    user = scope.get("user")
    return owner_of_token(user.access_token if isinstance(user, AuthenticatedUser) else None)


async def refuse(send: Send, status: int, text: str, retry_after: int) -> None:
    """A JSON-RPC error without id (as the SDK's own refusals) with `Retry-After`."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": text}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install(manager: StreamableHTTPSessionManager, max_sessions: int, per_user: int) -> SessionLimits:
    """Put `SessionLimits` in front of the manager's request handler (inside its body limit)."""
    from ...server import sdk_seams

    return sdk_seams.wrap_request_handler(
        manager, lambda handler: SessionLimits(handler, manager, max_sessions, per_user)
    )
