"""`mcp-server-todo token create|list|revoke`: the bearer tokens of `serve --http --auth tokens`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from ..store import TokenStore


def _create(store: TokenStore, args: argparse.Namespace) -> None:
    from ..transports.http.auth import TOKEN_PREFIX, create_token

    feed = getattr(args, "feed", False)
    if getattr(args, "url", None) and not feed:
        raise InvalidInput("--url is for feed tokens: add --feed")
    label = args.label if not feed else f"feed: {args.label}" if args.label else "feed"
    try:
        base = server_base(args.url) if feed else ""
        token_id, token = create_token(store, args.user, label, FEED_PREFIX if feed else TOKEN_PREFIX)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if feed:
        print(f"{base}/dav/feed/{token}/feed.ics")
        print(
            f"Feed token {token_id} for {args.user}: the URL is the password, shown only now. "
            f"Tasks as VTODOs: .../tasks.ics. Stop it with `mcp-server-todo token revoke {token_id}`.",
            file=sys.stderr,
        )
        return
    print(token)
    print(f"Token {token_id} for {args.user}; shown only now (the store keeps its hash).", file=sys.stderr)


FEED_PREFIX = "feed_"  # dav/feed.py FEED_PREFIX, without loading the dav package here


def server_base(url: str | None) -> str:
    """The server's address for a feed URL: `--url`, else TODO_PUBLIC_URL without its path, else
    the loopback address on TODO_PORT (8000)."""
    from urllib.parse import urlsplit

    given = url or os.environ.get("TODO_PUBLIC_URL")
    if not given:
        return f"http://127.0.0.1:{os.environ.get('TODO_PORT') or 8000}"
    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--url {given!r} is not an http(s) URL")
    path = "" if url is None else parts.path.rstrip("/").removesuffix("/dav")
    return f"{parts.scheme}://{parts.netloc}{path}"


def _list(store: TokenStore, args: argparse.Namespace) -> None:
    if getattr(args, "json", False):
        import json

        for t in store.tokens():
            entry = {"id": t.id, "user": t.user, "label": t.label, "created": t.created_at}
            print(json.dumps({**entry, "status": "revoked" if t.revoked else "active"}, ensure_ascii=False))
        return
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
