"""API tokens for `serve --http --auth tokens`: the SQL of the operator's `api_tokens` table
(no owner, no policy: the operator manages them) and `TokenTable`, the `TokenStore` half that
both backends' Store classes inherit.

A backend gives `TokenTable` one thing, `_token_conn(write)`: a transaction of its own kind
(begun, committed or rolled back by the backend) yielding the DB-API connection it runs on.
The two dialects differ only in the user column's name (`user` in SQLite; `username` in
PostgreSQL, where `user` is a reserved word) and in the placeholders (`?`, `%s`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ..dates import utc_now
from . import TokenInfo, queries

_ADD = "INSERT INTO api_tokens ({user}, token_hash, label, created_at) VALUES (?, ?, ?, ?) RETURNING id"
_LIST = "SELECT id, {user}, label, created_at, revoked_at IS NOT NULL FROM api_tokens ORDER BY id"
_REVOKE = "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
_USER_FOR = "SELECT {user} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"


@dataclass(frozen=True)
class TokenSQL:
    """The token statements in one dialect."""

    add: str
    listing: str
    revoke: str
    user_for: str


def _dialect(user_column: str, spell: Callable[[str], str]) -> TokenSQL:
    return TokenSQL(*(spell(sql.format(user=user_column)) for sql in (_ADD, _LIST, _REVOKE, _USER_FOR)))


SQLITE = _dialect("user", str)
POSTGRES = _dialect("username", queries.pg)


class TokenTable:
    """The `TokenStore` methods, over the backend's `_token_conn` and `_token_sql`."""

    _token_sql: TokenSQL

    def _token_conn(self, write: bool) -> AbstractContextManager[Any]:
        """A transaction (a write transaction if `write`) yielding its connection."""
        raise NotImplementedError

    def add_token(self, user: str, token_hash: str, label: str, created_at: str) -> int:
        with self._token_conn(True) as conn:
            row = conn.execute(self._token_sql.add, (user, token_hash, label, created_at)).fetchone()
        assert row is not None
        return int(row[0])

    def tokens(self) -> list[TokenInfo]:
        with self._token_conn(False) as conn:
            rows = conn.execute(self._token_sql.listing).fetchall()
        return [TokenInfo(id=r[0], user=r[1], label=r[2], created_at=r[3], revoked=bool(r[4])) for r in rows]

    def revoke_token(self, token_id: int) -> bool:
        """True if a token was revoked (False: no such token, or already revoked)."""
        with self._token_conn(True) as conn:
            revoked = conn.execute(self._token_sql.revoke, (utc_now(), token_id)).rowcount > 0
        return bool(revoked)

    def user_for_token(self, token_hash: str) -> str | None:
        """The user of a valid (not revoked) token with this hash."""
        with self._token_conn(False) as conn:
            row = conn.execute(self._token_sql.user_for, (token_hash,)).fetchone()
        return None if row is None else str(row[0])
