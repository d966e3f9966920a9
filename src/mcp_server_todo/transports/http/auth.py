"""Who is calling over HTTP: the two token verifiers behind `serve --http --auth tokens|oauth`,
and `auth_settings`, which picks one and the SDK's auth settings to go with it.

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
  keys come from the issuer's JWKS URL or a local key file, jwt_keys.py), `iss`, `aud` (this
  server's resource URL), `exp`/`nbf` (with `leeway` seconds, `--oauth-leeway`), and `sub`: a non-empty
  string, or the token is refused. Owner = `ISSUER#sub`, never `client_id` or `azp` (those name
  the app, not the person). The SDK's bearer middleware checks `expires_at` once more, without
  leeway, so the AccessToken reports the last second the token is accepted: `exp + leeway`.

Tokens never reach a log record. Stdlib only at import time (the SDK and PyJWT are loaded when a
verifier is built), so `mcp-server-todo token ...` starts fast.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .jwt_keys import AuthConfigError, Jwks, algorithms, load_key_file, pick

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken
    from mcp.server.auth.settings import AuthSettings

    from ...config import Config
    from ...store import TokenStore
    from .options import HttpOptions

log = logging.getLogger(__name__)

TOKEN_PREFIX = "todo_"
TOKEN_SCOPES = ["todo"]
CACHE_SECONDS = 2.0
"""How long a verified operator token is trusted without asking the store again (a revoked token
stops working within this time)."""

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30
_USER = re.compile(r"^[^\s#\x00-\x1f\x7f]{1,200}$")


# -- operator-issued tokens ---------------------------------------------------------------


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    """A fresh random token (256 bits of entropy); feed tokens have their own prefix (dav/feed.py)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user(user: str) -> str:
    """A user name for `token create`: 1-200 characters, no spaces, control characters or '#'
    ('#' separates an OAuth issuer from its subject in owner names)."""
    if not _USER.match(user):
        raise ValueError(f"invalid user name {user!r}: use 1-200 characters without spaces or '#'")
    return user


def create_token(store: TokenStore, user: str, label: str = "", prefix: str = TOKEN_PREFIX) -> tuple[int, str]:
    """Store the hash of a new token for `user`; returns (id, token). The token is not kept."""
    token = new_token(prefix)
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
                from ...store import open_token_store

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

    def user_of(self, token: str) -> str | None:
        """The token's user, or None; blocking, for a worker thread (CalDAV's Basic auth)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        return self._lookup(token_hash(token))

    async def _user_for(self, digest: str) -> str | None:
        """On the event loop when the store answers without waiting (SQLite, the usual case),
        else on a worker thread."""
        import anyio

        from ...store import WouldBlock, nowait

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
        self._jwks = Jwks(jwks_url) if jwks_url else None
        self._static = load_key_file(key_file) if key_file else []

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
        allowed = algorithms(key)
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
            return self._static[0] if len(self._static) == 1 else pick(self._static, kid)
        found = self._jwks.cached(kid)
        if found is not None:
            return found
        import anyio

        return await anyio.to_thread.run_sync(self._jwks.fetch_for, kid)


def auth_settings(
    config: Config, options: HttpOptions
) -> tuple[StoreTokenVerifier | JWTVerifier | None, AuthSettings | None]:
    """The token verifier and the SDK's auth settings for `--auth` (None, None for `none`)."""
    from mcp.server.auth.settings import AuthSettings

    from .options import url_host

    if options.auth == "tokens":
        # no authorization server to point clients to: no protected-resource metadata either
        base = f"http://{url_host(options.host)}:{options.port}"
        return StoreTokenVerifier(config.store_url), AuthSettings(issuer_url=base, resource_server_url=None)  # type: ignore[arg-type]
    if options.auth == "oauth":
        assert options.oauth_issuer is not None
        verifier = JWTVerifier(
            issuer=options.oauth_issuer,
            audience=options.resource_url,
            jwks_url=options.oauth_jwks_url,
            key_file=options.oauth_key_file,
            leeway=options.oauth_leeway,
        )
        settings = AuthSettings(
            issuer_url=options.oauth_issuer,  # type: ignore[arg-type]
            resource_server_url=options.resource_url,  # type: ignore[arg-type]
            required_scopes=list(options.oauth_scopes) or None,
            validate_token_resource=True,
        )
        return verifier, settings
    return None, None
