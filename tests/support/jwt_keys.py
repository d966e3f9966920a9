"""Signing keys for OAuth tests: a private key with its id and algorithm, its public JWK and PEM,
and access tokens it signs (issuer `ISSUER`, five minutes, scope `todo` unless told otherwise)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://issuer.test"


@dataclass
class Key:
    private: Any
    kid: str
    alg: str

    def public_jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.alg.startswith(("RS", "PS")) else ECAlgorithm
        jwk = dict(algorithm.to_jwk(self.private.public_key(), as_dict=True))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.alg}

    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def sign(self, audience: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "sub": "user-1", "aud": audience, "iat": now, "exp": now + 300, "scope": "todo"}
        body.update(claims)
        for key in [k for k, v in body.items() if v is None]:
            del body[key]
        return jwt.encode(body, self.private, algorithm=self.alg, headers={"kid": self.kid})
