"""Who is calling over HTTP: the two token verifiers behind `serve --http --auth tokens|oauth`.

Both implement the SDK's `TokenVerifier` (`async verify_token(token) -> AccessToken | None`).
The SDK's bearer middleware answers 401 with `WWW-Authenticate` when they return None, and 403
`insufficient_scope` when a required scope is missing. The owner of every request is then
derived from the AccessToken (server/context.py `owner_of_request`): its subject, prefixed with
`ISSUER#` when it carries an `iss` claim.

- `StoreTokenVerifier` (tokens): operator-issued tokens (`mcp-server-todo token create USER`),
  `todo_` + 43 random URL-safe characters. The store keeps only their SHA-256 (the tokens are
  random, so a plain hash is enough: nothing to brute-force). Owner = the token's user.
- `JWTVerifier` (oauth): the MCP authorization spec's resource server. JWT access tokens from
  an external authorization server, checked for signature (asymmetric algorithms only: the
  keys come from the issuer's JWKS URL or a local key file), `iss`, `aud` (this server's
  resource URL), `exp`/`nbf` (with `leeway` seconds, `--oauth-leeway`), and `sub`: a non-empty
  string, or the token is refused. Owner = `ISSUER#sub`, never `client_id` or `azp` (those name
  the app, not the person). The SDK's bearer middleware checks `expires_at` once more, without
  leeway, so the AccessToken reports the last second the token is accepted: `exp + leeway`.

Tokens never reach a log record. Stdlib only at import time (the SDK and PyJWT are loaded when a
verifier is built), so `mcp-server-todo token ...` starts fast.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken

    from .store import TokenStore

log = logging.getLogger(__name__)

TOKEN_PREFIX = "todo_"
TOKEN_SCOPES = ["todo"]
CACHE_SECONDS = 2.0
"""How long a verified operator token is trusted without asking the store again (a revoked token
stops working within this time)."""

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30
JWKS_MAX_AGE = 300.0
JWKS_MIN_REFRESH = 30.0
_USER = re.compile(r"^[^\s#\x00-\x1f\x7f]{1,200}$")


# -- operator-issued tokens ---------------------------------------------------------------


def new_token() -> str:
    """A fresh random token (256 bits of entropy)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user(user: str) -> str:
    """A user name for `token create`: 1-200 characters, no spaces, control characters or '#'
    ('#' separates an OAuth issuer from its subject in owner names)."""
    if not _USER.match(user):
        raise ValueError(f"invalid user name {user!r}: use 1-200 characters without spaces or '#'")
    return user


def create_token(store: TokenStore, user: str, label: str = "") -> tuple[int, str]:
    """Store the hash of a new token for `user`; returns (id, token). The token is not kept."""
    token = new_token()
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    token_id = store.add_token(check_user(user), token_hash(token), label, created)
    return token_id, token


class StoreTokenVerifier:
    """`--auth tokens`: a bearer token is valid while its hash is in the store, not revoked.

    It opens its own handle on the store (the server's lifespan opens another); a verified
    token is remembered for `CACHE_SECONDS` so a busy client costs one lookup per few seconds."""

    def __init__(self, store_url: str, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.store_url = store_url
        self.cache_seconds = cache_seconds
        self._store: TokenStore | None = None
        self._open_lock = threading.Lock()
        self._cache: dict[str, tuple[str, float]] = {}

    def _opened(self) -> TokenStore:
        with self._open_lock:
            if self._store is None:
                from .store import open_token_store

                self._store = open_token_store(self.store_url)
            return self._store

    def _lookup(self, digest: str) -> str | None:
        return self._opened().user_for_token(digest)

    async def verify_token(self, token: str) -> AccessToken | None:
        from mcp.server.auth.provider import AccessToken

        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = token_hash(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            user: str | None = cached[0]
        else:
            user = await self._user_for(digest)
            if user is None:
                self._cache.pop(digest, None)
                return None
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (user, now + self.cache_seconds)
        assert user is not None
        return AccessToken(token=token, client_id=user, scopes=list(TOKEN_SCOPES), subject=user)

    async def _user_for(self, digest: str) -> str | None:
        """On the event loop when the store answers without waiting (SQLite, the usual case),
        else on a worker thread."""
        import anyio

        from .store import WouldBlock, nowait

        if self._store is not None:
            try:
                with nowait():
                    return self._lookup(digest)
            except WouldBlock:
                pass
        return await anyio.to_thread.run_sync(self._lookup, digest)

    def close(self) -> None:
        with self._open_lock:
            if self._store is not None:
                self._store.close()
                self._store = None


# -- OAuth 2.1 resource server: JWT access tokens ------------------------------------------


class AuthConfigError(ValueError):
    """The OAuth settings cannot work (bad key file, no key source...)."""


def _load_key_file(path: str) -> list[Any]:
    """PyJWK keys from a PEM public key (or certificate), a JWK or a JWKS file."""
    import jwt
    from jwt.algorithms import has_crypto

    if not has_crypto:
        raise AuthConfigError("--oauth-key-file needs the cryptography package (pip install 'pyjwt[crypto]')")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthConfigError(f"cannot read the key file {path}: {exc.strerror or exc}") from exc
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            data = json.loads(text)
            if "keys" in data:
                return list(jwt.PyJWKSet.from_dict(data).keys)
            return [jwt.PyJWK(data)]
        return [jwt.PyJWK(_pem_to_jwk(text.encode()))]
    except (ValueError, jwt.PyJWKError, jwt.PyJWKSetError) as exc:
        raise AuthConfigError(f"the key file {path} holds no usable public key: {exc}") from exc


def _pem_to_jwk(pem: bytes) -> dict[str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    if b"BEGIN CERTIFICATE" in pem:
        key: Any = x509.load_pem_x509_certificate(pem).public_key()
    else:
        key = load_pem_public_key(pem)
    if isinstance(key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise ValueError(f"unsupported key type {type(key).__name__}")
    return dict(jwk)


class _Jwks:
    """The issuer's signing keys from its JWKS URL: cached for `JWKS_MAX_AGE`, fetched again
    for an unknown key id at most every `JWKS_MIN_REFRESH` seconds (a stream of made-up key
    ids cannot turn into a stream of fetches)."""

    def __init__(self, url: str) -> None:
        import jwt

        self.url = url
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=10)
        self._keys: list[Any] = []
        self._fetched = -1e9
        self._lock = threading.Lock()

    def cached(self, kid: str | None) -> Any | None:
        if time.monotonic() - self._fetched > JWKS_MAX_AGE:
            return None
        return _pick(self._keys, kid)

    def fetch_for(self, kid: str | None) -> Any | None:
        """Blocking (run it on a worker thread)."""
        import jwt

        with self._lock:
            found = self.cached(kid)
            if found is not None:
                return found
            if time.monotonic() - self._fetched < JWKS_MIN_REFRESH and self._keys:
                return None
            try:
                data = self._client.fetch_data()
                self._keys = list(jwt.PyJWKSet.from_dict(data).keys)
            except (jwt.PyJWKClientError, jwt.PyJWKSetError) as exc:
                log.warning("cannot fetch the issuer's signing keys from %s: %s", self.url, exc)
                return _pick(self._keys, kid)
            finally:
                self._fetched = time.monotonic()
            return _pick(self._keys, kid)


def _pick(keys: Sequence[Any], kid: str | None) -> Any | None:
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def _algorithms(key: Any) -> list[str]:
    """The algorithms a key may verify (never HMAC, never none)."""
    kty = key.key_type
    if kty == "RSA":
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    if kty == "EC":
        return ["ES256", "ES384", "ES512"]
    if kty == "OKP":
        return ["EdDSA"]
    return []


def scopes_of(claims: dict[str, Any]) -> list[str]:
    """`scope` (space-separated, RFC 9068) or `scp` (a list or a string, as some issuers send)."""
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return []


SUBJECT_MAX = 255
"""OpenID Connect Core: a `sub` "MUST NOT exceed 255 ASCII characters"."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def subject_of(claims: dict[str, Any]) -> str | None:
    """The token's `sub` if it can name a person: a non-blank string of at most SUBJECT_MAX
    characters without control characters. Anything else (missing, empty, a number, a list)
    gives None and the token is refused: the owner is never guessed from another claim."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > SUBJECT_MAX or _CONTROL.search(sub):
        return None
    return sub


class JWTVerifier:
    """`--auth oauth`: JWT access tokens issued by `issuer` for `audience` (this server's
    resource URL), signed with a key from `jwks_url` or `key_file`."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        key_file: str | None = None,
        leeway: int = LEEWAY_SECONDS,
    ) -> None:
        import jwt  # noqa: F401 - fail early if PyJWT is missing

        if bool(jwks_url) == bool(key_file):
            raise AuthConfigError("--auth oauth needs exactly one of --oauth-jwks-url and --oauth-key-file")
        self.issuer = issuer
        self.audience = audience.rstrip("/")
        self.leeway = leeway
        self._jwks = _Jwks(jwks_url) if jwks_url else None
        self._static = _load_key_file(key_file) if key_file else []

    async def verify_token(self, token: str) -> AccessToken | None:
        import jwt
        from mcp.server.auth.provider import AccessToken

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            log.info("rejected a bearer token: %s", exc)
            return None
        alg = header.get("alg")
        if alg not in ASYMMETRIC:
            log.info("rejected a bearer token: algorithm %r is not accepted", alg)
            return None
        kid = header.get("kid")
        key = await self._key(kid if isinstance(kid, str) else None)
        if key is None:
            log.info("rejected a bearer token: no signing key with id %r", kid)
            return None
        allowed = _algorithms(key)
        if alg not in allowed:
            log.info("rejected a bearer token: algorithm %s does not fit its key", alg)
            return None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=[self.audience, self.audience + "/"],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            log.info("rejected a bearer token: %s", exc)
            return None
        subject = subject_of(claims)
        if subject is None:
            log.info("rejected a bearer token: its sub claim is not a usable subject")
            return None
        client_id = claims.get("client_id") or claims.get("azp") or subject
        return AccessToken(
            token=token,
            client_id=str(client_id),  # the app, for the SDK's session binding; never an owner
            scopes=scopes_of(claims),
            # the SDK's bearer middleware rejects `expires_at < now` with no leeway of its own
            expires_at=int(claims["exp"]) + self.leeway,
            resource=self.audience,
            subject=subject,
            claims={"iss": claims["iss"]},
        )

    async def _key(self, kid: str | None) -> Any | None:
        if self._jwks is None:
            return self._static[0] if len(self._static) == 1 else _pick(self._static, kid)
        found = self._jwks.cached(kid)
        if found is not None:
            return found
        import anyio

        return await anyio.to_thread.run_sync(self._jwks.fetch_for, kid)
