"""Authentication: operator-issued tokens (hash only, revocation, user names) and the OAuth 2.1
resource server (JWT access tokens checked for signature, issuer, audience, expiry and scope;
protected-resource metadata; 401/403 with WWW-Authenticate). The tests sign their own tokens
with keys they generate; the JWKS is served by a tiny HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from support.http import MCP_HEADERS, bearer, dialog, http_server, initialize_body, mcp_client
from support.jwt_keys import ISSUER, Key

from mcp_server_todo.store.sqlite import SQLiteStore
from mcp_server_todo.transports.http.auth import (
    TOKEN_PREFIX,
    AuthConfigError,
    JWTVerifier,
    StoreTokenVerifier,
    check_user,
    create_token,
    scopes_of,
    token_hash,
)


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    return Key(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-1", "RS256")


@pytest.fixture(scope="module")
def ec_key() -> Key:
    return Key(ec.generate_private_key(ec.SECP256R1()), "ec-1", "ES256")


class Jwks:
    """Serves {"keys": [...]} at http://127.0.0.1:PORT/jwks.json and counts the fetches."""

    def __init__(self, keys: list[Key]) -> None:
        self.keys = keys
        self.fetches = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = json.dumps({"keys": [k.public_jwk() for k in outer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks(rsa_key: Key, ec_key: Key) -> Iterator[Jwks]:
    served = Jwks([rsa_key, ec_key])
    yield served
    served.close()


# ---- operator tokens ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_operator_tokens_are_stored_as_hashes_and_can_be_revoked(store: SQLiteStore, db_path: Path) -> None:
    token_id, token = create_token(store, "alice", "laptop")
    assert token.startswith(TOKEN_PREFIX) and len(token) >= 40
    raw = sqlite3.connect(db_path).execute("SELECT * FROM api_tokens").fetchall()
    assert token not in repr(raw) and token_hash(token) in repr(raw)

    verifier = StoreTokenVerifier(store.url, cache_seconds=0)
    try:
        found = await verifier.verify_token(token)
        assert found is not None
        assert (found.subject, found.client_id, found.claims) == ("alice", "alice", None)
        for bad in ("", token[:-1], token + "x", token[len(TOKEN_PREFIX) :], "todo_" + "a" * 43, "x" * 500):
            assert await verifier.verify_token(bad) is None, bad
        assert store.revoke_token(token_id) and not store.revoke_token(token_id)
        assert await verifier.verify_token(token) is None
    finally:
        verifier.close()


def test_user_names_cannot_pose_as_oauth_principals() -> None:
    assert check_user("alice@example.com") == "alice@example.com"
    for bad in ("", "a b", "https://issuer#sub", "tab\there", "x" * 201):
        with pytest.raises(ValueError):
            check_user(bad)


def test_scopes_from_scope_or_scp() -> None:
    assert scopes_of({"scope": "todo read"}) == ["todo", "read"]
    assert scopes_of({"scp": ["todo", "x"]}) == ["todo", "x"]
    assert scopes_of({"scp": "todo"}) == ["todo"]
    assert scopes_of({}) == []


# ---- JWT verification, in process ---------------------------------------------------------------

AUD = "http://127.0.0.1:9/mcp"


@pytest.mark.anyio
async def test_jwt_from_a_key_file(tmp_path: Path, rsa_key: Key, ec_key: Key) -> None:
    pem = tmp_path / "issuer.pem"
    pem.write_bytes(rsa_key.public_pem())
    verifier = JWTVerifier(issuer=ISSUER, audience=AUD, key_file=str(pem))
    token = rsa_key.sign(AUD, azp="my-client", scope="todo extra")
    found = await verifier.verify_token(token)
    assert found is not None
    assert found.subject == "user-1" and found.client_id == "my-client"
    assert found.scopes == ["todo", "extra"] and found.claims == {"iss": ISSUER}
    assert found.resource == AUD and found.expires_at is not None
    assert await verifier.verify_token(rsa_key.sign(AUD + "/")) is not None  # a trailing slash is the same URL
    assert await verifier.verify_token(ec_key.sign(AUD)) is None  # another key

    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [rsa_key.public_jwk(), ec_key.public_jwk()]}))
    both = JWTVerifier(issuer=ISSUER, audience=AUD, key_file=str(jwks_file))
    assert await both.verify_token(ec_key.sign(AUD)) is not None
    assert await both.verify_token(rsa_key.sign(AUD)) is not None


def test_bad_oauth_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError):
        JWTVerifier(issuer=ISSUER, audience=AUD)
    with pytest.raises(AuthConfigError):
        JWTVerifier(issuer=ISSUER, audience=AUD, key_file=str(tmp_path / "missing.pem"))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(AuthConfigError, match="no usable public key"):
        JWTVerifier(issuer=ISSUER, audience=AUD, key_file=str(junk))


@pytest.mark.anyio
async def test_jwt_checks(rsa_key: Key, ec_key: Key, jwks: Jwks) -> None:
    verifier = JWTVerifier(issuer=ISSUER, audience=AUD, jwks_url=jwks.url)
    now = int(time.time())
    other = Key(rsa.generate_private_key(public_exponent=65537, key_size=2048), rsa_key.kid, "RS256")
    assert await verifier.verify_token(rsa_key.sign(AUD)) is not None
    assert await verifier.verify_token(ec_key.sign(AUD)) is not None
    refused = {
        "expired": rsa_key.sign(AUD, iat=now - 600, exp=now - 120),
        "not yet valid": rsa_key.sign(AUD, nbf=now + 600),
        "wrong audience": rsa_key.sign("https://other.example/mcp"),
        "wrong issuer": rsa_key.sign(AUD, iss="https://evil.example"),
        "no subject": rsa_key.sign(AUD, sub=None),
        "no expiry": rsa_key.sign(AUD, exp=None),
        "bad signature": other.sign(AUD),
        "unknown key id": Key(other.private, "nope", "RS256").sign(AUD),
        "HS256 with the public key": jwt.encode(
            {"iss": ISSUER, "sub": "x", "aud": AUD, "exp": now + 60}, "s" * 64, algorithm="HS256"
        ),
        "alg none": jwt.encode({"iss": ISSUER, "sub": "x", "aud": AUD, "exp": now + 60}, None, algorithm="none"),
        "garbage": "not.a.jwt",
    }
    for why, token in refused.items():
        assert await verifier.verify_token(token) is None, why
    # made-up key ids do not turn into a fetch each
    assert jwks.fetches <= 2, jwks.fetches


# ---- the real server in OAuth mode -------------------------------------------------------------------


def oauth_args(jwks: Jwks) -> list[str]:
    return ["--auth", "oauth", "--oauth-issuer", ISSUER, "--oauth-jwks-url", jwks.url, "--oauth-scope", "todo"]


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_oauth_resource_server_end_to_end(
    rsa_key: Key, jwks: Jwks, db_path: Path, isolated_env: Path, tmp_path: Path
) -> None:
    with http_server(db_path, isolated_env, *oauth_args(jwks)) as server:
        resource = server.url
        # RFC 9728 metadata, at the path-inserted URL and at the root
        for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
            meta = httpx2.get(server.base + path)
            assert meta.status_code == 200, path
            data = meta.json()
            assert data["resource"] == resource and data["authorization_servers"] == [ISSUER], data
            assert data["scopes_supported"] == ["todo"]

        def post(token: str | None) -> httpx2.Response:
            return httpx2.post(server.url, json=initialize_body(), headers={**MCP_HEADERS, **bearer(token)})

        now = int(time.time())
        assert post(rsa_key.sign(resource)).status_code == 200
        for why, token in {
            "no token": None,
            "expired": rsa_key.sign(resource, iat=now - 600, exp=now - 120),
            "wrong audience": rsa_key.sign("https://other.example/mcp"),
            "wrong issuer": rsa_key.sign(resource, iss="https://evil.example"),
            "bad signature": Key(
                rsa.generate_private_key(public_exponent=65537, key_size=2048), rsa_key.kid, "RS256"
            ).sign(resource),
        }.items():
            reply = post(token)
            assert reply.status_code == 401, why
            challenge = reply.headers["www-authenticate"]
            assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, why
            assert f'resource_metadata="{server.base}/.well-known/oauth-protected-resource/mcp"' in challenge, why
        scopeless = post(rsa_key.sign(resource, scope="read"))
        assert scopeless.status_code == 403
        assert 'error="insufficient_scope"' in scopeless.headers["www-authenticate"]

        token = rsa_key.sign(resource, sub="user-42", azp="desktop")

        async def run() -> None:
            with anyio.fail_after(30):
                async with mcp_client(server.url, token, mode="auto") as client:
                    await dialog(client)

        anyio.run(run)
        assert token not in server.stderr()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        owners = {row[0] for row in conn.execute("SELECT owner FROM tasks")}
    finally:
        conn.close()
    assert owners == {f"{ISSUER}#user-42"}  # the issuer's subject, not the client
