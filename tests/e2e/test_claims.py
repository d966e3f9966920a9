"""Crafted OAuth claims (issue 11, points 6 and 7), through the real server over HTTP.

- A token from the trusted issuer without a usable `sub` (empty, missing, not a string, blank,
  with control characters, too long) is refused with 401 whatever its `client_id`/`azp` say.
- The owner is always `ISSUER#SUB`: a subject `local` or one shaped like another issuer's owner
  (`https://other.example#alice`) gets its own, empty list, never the stdio/CLI user's.
- `--oauth-leeway` (default 30 s) holds end to end, past the SDK's own expiry check: a token
  expired 20 s ago works, 40 s ago gets 401, and with `--oauth-leeway 0` the 20 s one gets 401.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp.server.auth.provider import AccessToken
from support.env import subprocess_env
from support.http import MCP_HEADERS, HttpServer, bearer, http_server, initialize_body, mcp_client
from support.jwt_keys import ISSUER, Key

from mcp_server_todo.server import owner_of_token
from mcp_server_todo.store import LOCAL_OWNER
from mcp_server_todo.transports.http import HttpOptions, add_arguments
from mcp_server_todo.transports.http.auth import JWTVerifier

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CRAFTED: dict[str, dict[str, Any]] = {
    "empty sub, client_id local": {"sub": "", "client_id": "local"},
    "empty sub, azp local": {"sub": "", "azp": "local"},
    "missing sub, client_id local": {"sub": None, "client_id": "local"},
    "missing sub, azp local": {"sub": None, "azp": "local"},
    "blank sub": {"sub": "   ", "client_id": "local"},
    "numeric sub": {"sub": 0, "client_id": "local"},
    "list sub": {"sub": ["local"], "azp": "local"},
    "object sub": {"sub": {"id": "local"}},
    "boolean sub": {"sub": True},
    "NUL in sub": {"sub": "local\x00"},
    "line break in sub": {"sub": "alice\nbob"},
    "sub over 255 characters": {"sub": "a" * 256},
}
"""Claims that name nobody: each token is refused (401)."""

OWNERS: dict[str, tuple[dict[str, Any], str]] = {
    "sub local": ({"sub": "local", "client_id": "local"}, f"{ISSUER}#local"),
    "another issuer's prefix": (
        {"sub": "https://other.example#alice", "azp": "local"},
        ISSUER + "#https://other.example#alice",
    ),
    "client_id is not the owner": ({"sub": "alice", "client_id": "bob"}, f"{ISSUER}#alice"),
}
"""Claims that name somebody, and whom: always `ISSUER#SUB`."""


@pytest.fixture(scope="module")
def key() -> Key:
    return Key(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-claims", "RS256")


@pytest.fixture
def key_file(key: Key, tmp_path: Path) -> Path:
    path = tmp_path / "issuer.pem"
    path.write_bytes(key.public_pem())
    return path


def oauth_server(db: Path, home: Path, key_file: Path, *extra: str) -> AbstractContextManager[HttpServer]:
    return http_server(db, home, "--auth", "oauth", "--oauth-issuer", ISSUER, "--oauth-key-file", str(key_file), *extra)


def post_initialize(server: HttpServer, token: str) -> httpx2.Response:
    return httpx2.post(server.url, json=initialize_body(), headers={**MCP_HEADERS, **bearer(token)}, timeout=30)


def owners_in(db: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT owner FROM tasks")}
    finally:
        conn.close()


# ---- in process: the verifier and the owner rule --------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("why", list(CRAFTED))
async def test_the_verifier_refuses_tokens_that_name_nobody(why: str, key: Key, key_file: Path) -> None:
    verifier = JWTVerifier(issuer=ISSUER, audience="http://127.0.0.1:9/mcp", key_file=str(key_file))
    assert await verifier.verify_token(key.sign("http://127.0.0.1:9/mcp", **CRAFTED[why])) is None


@pytest.mark.anyio
@pytest.mark.parametrize("why", list(OWNERS))
async def test_the_owner_is_always_issuer_and_subject(why: str, key: Key, key_file: Path) -> None:
    claims, owner = OWNERS[why]
    verifier = JWTVerifier(issuer=ISSUER, audience="http://127.0.0.1:9/mcp", key_file=str(key_file))
    token = await verifier.verify_token(key.sign("http://127.0.0.1:9/mcp", **claims))
    assert token is not None
    assert owner_of_token(token) == owner != LOCAL_OWNER


def test_a_token_without_a_subject_names_no_owner() -> None:
    # a verifier that forgot the subject: its client_id must not become the owner
    for subject in (None, ""):
        with pytest.raises(PermissionError):
            owner_of_token(AccessToken(token="t", client_id="local", scopes=[], subject=subject))
    # operator tokens (--auth tokens): the user name, which cannot hold '#'
    assert owner_of_token(AccessToken(token="t", client_id="alice", scopes=["todo"], subject="alice")) == "alice"
    assert owner_of_token(None) == LOCAL_OWNER


# ---- over HTTP -------------------------------------------------------------------------------------


def test_crafted_claims_over_http(key: Key, key_file: Path, db_path: Path, isolated_env: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "add", "--db", str(db_path), "local secret"],
        check=True,
        env=subprocess_env(isolated_env),
        capture_output=True,
        timeout=60,
    )
    with oauth_server(db_path, isolated_env, key_file) as server:
        for why, claims in CRAFTED.items():
            reply = post_initialize(server, key.sign(server.url, **claims))
            assert reply.status_code == 401, (why, reply.status_code, reply.text)
            assert 'error="invalid_token"' in reply.headers["www-authenticate"], why

        async def act(claims: dict[str, Any], mode: str) -> list[str]:
            with anyio.fail_after(30):
                async with mcp_client(server.url, key.sign(server.url, **claims), mode=mode) as client:
                    seen = await client.call_tool("list_items", {})
                    added = await client.call_tool("new_item", {"title": "mine"})
                    assert not added.is_error, added
                    return [task["title"] for task in seen.structured_content["items"]]

        for mode in ("legacy", "2026-07-28"):
            for why, (claims, _owner) in OWNERS.items():
                # their own list (empty, then the task added before), never the local user's "local secret"
                assert set(anyio.run(act, claims, mode)) <= {"mine"}, (why, mode)
        assert "Traceback" not in server.stderr()
    assert owners_in(db_path) == {LOCAL_OWNER} | {owner for _claims, owner in OWNERS.values()}


def expired(key: Key, audience: str, seconds_ago: int) -> str:
    now = int(time.time())
    return key.sign(audience, iat=now - 600, exp=now - seconds_ago)


def test_the_default_leeway_holds_end_to_end(key: Key, key_file: Path, db_path: Path, isolated_env: Path) -> None:
    with oauth_server(db_path, isolated_env, key_file) as server:
        assert post_initialize(server, expired(key, server.url, 20)).status_code == 200
        assert post_initialize(server, expired(key, server.url, 40)).status_code == 401


def test_no_leeway_when_it_is_zero(key: Key, key_file: Path, db_path: Path, isolated_env: Path) -> None:
    with oauth_server(db_path, isolated_env, key_file, "--oauth-leeway", "0") as server:
        assert post_initialize(server, key.sign(server.url)).status_code == 200
        assert post_initialize(server, expired(key, server.url, 20)).status_code == 401


def parse(*argv: str) -> HttpOptions:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return HttpOptions.from_args(parser.parse_args(list(argv)))


def test_leeway_flag_environment_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse().oauth_leeway == 30
    monkeypatch.setenv("TODO_OAUTH_LEEWAY", "5")
    assert parse().oauth_leeway == 5
    assert parse("--oauth-leeway", "0").oauth_leeway == 0
    for bad in ("-1", "601"):
        with pytest.raises(ValueError, match="--oauth-leeway must be 0 to 600 seconds"):
            parse("--oauth-leeway", bad).check()
    oauth = ("--auth", "oauth", "--oauth-key-file", "k.pem", "--oauth-issuer")
    with pytest.raises(ValueError, match="cannot contain '#'"):
        parse(*oauth, "https://issuer.example#x").check()
