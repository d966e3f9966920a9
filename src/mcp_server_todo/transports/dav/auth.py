"""Radicale's auth plugin (rights: Radicale's own `owner_only`): HTTP Basic with a token from `token create` as the
password (an app password), or the local user on a loopback `--auth none` server.

The token is checked as for /mcp (its hash names the user, while not revoked), and the login
must be that user: a token cannot open another user's principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from radicale import auth as radicale_auth

from ...store import LOCAL_OWNER


class TodoAuth(radicale_auth.BaseAuth):
    """`user_for_token(token)` names the token's user or None (set by app.py); None for the
    attribute itself means `--auth none`: every request is the local user."""

    user_for_token: Callable[[str], str | None] | None = None

    def get_external_login(self, environ: Any) -> tuple[()] | tuple[str, str]:
        if type(self).user_for_token is None:
            return (LOCAL_OWNER, "")
        return ()

    def _login(self, login: str, password: str) -> str:
        lookup = type(self).user_for_token
        if lookup is None:
            return LOCAL_OWNER
        user = lookup(password)
        return login if user is not None and user == login else ""
