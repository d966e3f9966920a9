"""Who is calling over HTTP with `--auth oauth`: `JWTVerifier`, the MCP authorization spec's
resource server.

It implements the SDK's `TokenVerifier` (`async verify_token(token) -> AccessToken | None`).
JWT access tokens from an external authorization server are checked for signature (asymmetric
algorithms only: the keys come from the issuer's JWKS URL or a local key file), `iss`, `aud`
(this server's resource URL), `exp`/`nbf` (with `leeway` seconds, `--oauth-leeway`), and `sub`:
a non-empty string, or the token is refused. Owner = `ISSUER#sub`, never `client_id` or `azp`
(those name the app, not the person). The SDK's bearer middleware checks `expires_at` once
more, without leeway, so the AccessToken reports the last second the token is accepted:
`exp + leeway`.

Tokens never reach a log record. Stdlib only at import time (the SDK and PyJWT are loaded when
a verifier is built).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken

log = logging.getLogger(__name__)

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30
JWKS_MAX_AGE = 300.0
JWKS_MIN_REFRESH = 30.0


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
