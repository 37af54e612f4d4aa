"""The development token issuer of the local stage (never enabled in dev/prod).

It creates an RSA key pair on first use, publishes the public half as a JWKS file the verifier
reads, and signs short-lived RS256 tokens for a given consumer id. The private key lives only in the
git-ignored ``.local/`` folder of the machine running the local stack.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "dev-issuer-1"
_lock = threading.Lock()


def ensure_keys(key_path: str, jwks_path: str) -> None:
    with _lock:
        if os.path.exists(key_path) and os.path.exists(jwks_path):
            return
        os.makedirs(os.path.dirname(os.path.abspath(key_path)), exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
        with open(jwks_path, "w", encoding="utf-8") as fh:
            json.dump({"keys": [jwk]}, fh)


def issue_token(
    key_path: str, *, consumer_id: str, issuer: str, audience: str, now: dt.datetime, ttl_seconds: int = 3600
) -> str:
    with open(key_path, "rb") as fh:
        key = serialization.load_pem_private_key(fh.read(), password=None)
    claims = {
        "sub": consumer_id,
        "iss": issuer,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl_seconds,
        "token_use": "access",
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})  # type: ignore[arg-type]
