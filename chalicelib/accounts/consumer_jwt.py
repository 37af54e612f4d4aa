"""Consumer bearer tokens: RS256 JWTs from the configured OIDC issuer (Cognito in production).

Only RS256 is accepted (no ``none``, no HS256 with the public key as secret). ``iss`` and ``aud``
must match the configuration, ``exp`` must be in the future, and ``sub`` becomes the pseudonymous
consumer id. Keys come from a JWKS document: a file (local stage: the development issuer writes
it) or a URL (fetched once per cold start and on an unknown ``kid``).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import jwt

from chalicelib.accounts.sessions import Principal
from chalicelib.core.errors import Unauthenticated

CONSUMER_ID_MAX = 64


class JwksKeys:
    def __init__(self, *, path: str = "", url: str = "") -> None:
        self._path = path
        self._url = url
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Any]:
        if self._path:
            with open(self._path, encoding="utf-8") as fh:
                doc = json.load(fh)
        elif self._url:
            with urllib.request.urlopen(self._url, timeout=3) as resp:  # noqa: S310 - configured https URL
                doc = json.load(resp)
        else:
            raise Unauthenticated("トークンを検証できません。")
        keys: dict[str, Any] = {}
        for jwk in doc.get("keys", []):
            if jwk.get("kty") == "RSA" and jwk.get("kid"):
                keys[jwk["kid"]] = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
        return keys

    def get(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                self._keys = self._load()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("トークンの署名鍵が不明です。")
        return key


def verify_consumer_token(token: str, *, keys: JwksKeys, issuer: str, audience: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise Unauthenticated("トークンの形式が正しくありません。")
        claims = jwt.decode(
            token,
            key=keys.get(header["kid"]),
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError:
        raise Unauthenticated("トークンが無効です。") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 1 <= len(sub) <= CONSUMER_ID_MAX or not sub.isprintable():
        raise Unauthenticated("トークンが無効です。")
    return Principal(role="consumer", subject=sub)
