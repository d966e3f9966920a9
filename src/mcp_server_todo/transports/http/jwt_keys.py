"""The signing keys behind `--auth oauth`: a local key file (PEM public key or certificate, JWK
or JWKS), or the issuer's JWKS URL (`Jwks`: cached, refetched for an unknown key id at most every
`JWKS_MIN_REFRESH` seconds), and which algorithms each key may verify (asymmetric only).

Stdlib only at import time (PyJWT and cryptography are loaded when keys are read).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

JWKS_MAX_AGE = 300.0
JWKS_MIN_REFRESH = 30.0


class AuthConfigError(ValueError):
    """The OAuth settings cannot work (bad key file, no key source...)."""


def load_key_file(path: str) -> list[Any]:
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


class Jwks:
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
        return pick(self._keys, kid)

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
                return pick(self._keys, kid)
            finally:
                self._fetched = time.monotonic()
            return pick(self._keys, kid)


def pick(keys: Sequence[Any], kid: str | None) -> Any | None:
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def algorithms(key: Any) -> list[str]:
    """The algorithms a key may verify (never HMAC, never none)."""
    kty = key.key_type
    if kty == "RSA":
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    if kty == "EC":
        return ["ES256", "ES384", "ES512"]
    if kty == "OKP":
        return ["EdDSA"]
    return []
