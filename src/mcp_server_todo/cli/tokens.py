"""`mcp-server-todo token create|list|revoke`: the bearer tokens of `serve --http --auth tokens`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from ..store import TokenStore


def _create(store: TokenStore, args: argparse.Namespace) -> None:
    from ..transports.http.auth import create_token

    try:
        token_id, token = create_token(store, args.user, args.label)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    print(token)
    print(f"Token {token_id} for {args.user}; shown only now (the store keeps its hash).", file=sys.stderr)


def _list(store: TokenStore, args: argparse.Namespace) -> None:
    rows = [("ID", "USER", "LABEL", "CREATED", "STATUS")]
    rows += [(str(t.id), t.user, t.label, t.created_at, "revoked" if t.revoked else "active") for t in store.tokens()]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _revoke(store: TokenStore, args: argparse.Namespace) -> None:
    if not store.revoke_token(args.id):
        raise NotFound(f"no active token {args.id}; run `mcp-server-todo token list`")
    print(f"Revoked token {args.id}")


ACTIONS: dict[str, Callable[[TokenStore, argparse.Namespace], None]] = {
    "create": _create,
    "list": _list,
    "revoke": _revoke,
}


def token_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..config import Config
    from ..store import open_token_store

    store = open_token_store(Config.resolve(db).store_url)
    try:
        ACTIONS[args.token_command](store, args)
    finally:
        store.close()
    return 0
