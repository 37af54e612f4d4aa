"""Consumer bearer tokens: RS256 JWTs from the stage's Cognito user pool (and, on the local stage
only, from the development issuer that tests use).

Checks, per SPEC §8:
- Only RS256 with a ``kid`` (no ``none``, no HS256 with the public key as a secret).
- The issuer decides the verifier: the pool's issuer (``https://cognito-idp.<region>.amazonaws.com/
  <pool id>``), or the development issuer when it is enabled. Any other ``iss`` is refused.
- Cognito tokens are checked by their own kind: an ID token (``token_use`` ``id``) must name the app
  client in ``aud``; an access token (``token_use`` ``access``) names it in ``client_id`` and has no
  ``aud``. ``exp``, ``iat``, ``iss`` and ``sub`` are required; ``sub`` is the consumer id.
- Keys come from the pool's JWKS through PyJWT's ``PyJWKClient``: the key set is cached (hours), an
  unknown ``kid`` refreshes it at most once a minute (so a stream of made-up ``kid`` values cannot
  make the API call the identity provider at will), and a key set that cannot be fetched answers
  503 ``service_unavailable`` — except that keys fetched before keep verifying through an outage.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError

from chalicelib.accounts.sessions import Principal
from chalicelib.core.errors import ServiceUnavailable, Unauthenticated

CONSUMER_ID_MAX = 64
MAX_TOKEN_CHARS = 8192
KEY_SET_LIFESPAN = 6 * 3600.0  # Cognito rotates keys rarely; an unknown kid refreshes sooner
UNKNOWN_KID_REFRESH = 60.0  # at most one refresh a minute for a kid not in the set
RETRY_AFTER_FAILURE = 10.0  # after a failed fetch, answer 503 at once for this long
FETCH_TIMEOUT = 3.0
INVALID = "トークンが無効です。もう一度ログインしてください。"


class FileKeys:
    """The development issuer's key set, read from the file it writes (local stage only)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                try:
                    with open(self._path, encoding="utf-8") as fh:
                        doc = json.load(fh)
                except (OSError, ValueError):
                    raise ServiceUnavailable() from None
                self._keys = {k["kid"]: jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(k))
                              for k in doc.get("keys", []) if k.get("kty") == "RSA" and k.get("kid")}
            key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(INVALID)
        return key


class RemoteKeys:
    """A JWKS URL through ``PyJWKClient``, with the limits described in the module docstring."""

    def __init__(self, url: str, *, monotonic: Callable[[], float] = time.monotonic,
                 client: PyJWKClient | None = None) -> None:
        self._client = client or PyJWKClient(url, cache_jwk_set=True, lifespan=KEY_SET_LIFESPAN,
                                             cooldown_duration=UNKNOWN_KID_REFRESH, timeout=FETCH_TIMEOUT)
        self._now = monotonic
        self._lock = threading.Lock()
        self._known: dict[str, Any] = {}  # kid -> key of the last key set fetched (kept through outages)
        self._last_fetch: float | None = None
        self._failed_at: float | None = None
        self.fetches = 0

    def _fetch(self) -> None:
        now = self._now()
        if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE:
            raise ServiceUnavailable()
        self.fetches += 1
        try:
            key_set = self._client.get_jwk_set(refresh=True)
        except (PyJWKClientConnectionError, PyJWKClientError, jwt.PyJWKSetError, ValueError):
            self._failed_at = now
            raise ServiceUnavailable() from None
        self._failed_at = None
        self._last_fetch = now
        self._known = {k.key_id: k.key for k in key_set.keys if k.key_id and k.key_type == "RSA"}

    def key(self, kid: str) -> Any:
        with self._lock:
            now = self._now()
            if self._last_fetch is None:
                self._fetch()
            elif now - self._last_fetch >= KEY_SET_LIFESPAN:
                try:
                    self._fetch()
                except ServiceUnavailable:
                    if kid not in self._known:
                        raise
            if kid not in self._known:
                assert self._last_fetch is not None
                if now - self._last_fetch < UNKNOWN_KID_REFRESH:
                    raise Unauthenticated(INVALID)
                self._fetch()
            key = self._known.get(kid)
        if key is None:
            raise Unauthenticated(INVALID)
        return key


class CognitoIssuer:
    """Verifies the ID and access tokens of one user pool's app client."""

    def __init__(self, *, issuer: str, client_id: str, keys: RemoteKeys | FileKeys) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.keys = keys

    def verify(self, token: str, kid: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token, key=self.keys.key(kid), algorithms=["RS256"], issuer=self.issuer,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            leeway=5)
        use = claims.get("token_use")
        if use == "id":
            aud = claims.get("aud")
            if aud != self.client_id and not (isinstance(aud, list) and aud == [self.client_id]):
                raise Unauthenticated(INVALID)
        elif use == "access":
            if claims.get("client_id") != self.client_id or "aud" in claims:
                raise Unauthenticated(INVALID)
        else:
            raise Unauthenticated(INVALID)
        return claims


class DevIssuer:
    """The local stage's development issuer (``POST /v1/dev/token``): an ``aud``-bound access token."""

    def __init__(self, *, issuer: str, audience: str, keys: FileKeys) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys

    def verify(self, token: str, kid: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(token, key=self.keys.key(kid), algorithms=["RS256"],
                                            audience=self.audience, issuer=self.issuer,
                                            options={"require": ["exp", "sub", "iss", "aud"]})
        return claims


class ConsumerTokens:
    """The stage's trusted issuers, chosen by the token's (unverified) ``iss``, then fully checked."""

    def __init__(self, issuers: list[CognitoIssuer | DevIssuer]) -> None:
        self.issuers = {i.issuer: i for i in issuers if i.issuer}

    def verify(self, token: str) -> Principal:
        try:
            header, unverified = _peek(token)
            if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
                raise Unauthenticated("トークンの形式が正しくありません。")
            verifier = self.issuers.get(str(unverified.get("iss", "")))
            if verifier is None:
                raise Unauthenticated(INVALID)
            claims = verifier.verify(token, header["kid"])  # the full check: signature and claims
        except jwt.PyJWTError:
            raise Unauthenticated(INVALID) from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not 1 <= len(sub) <= CONSUMER_ID_MAX or not sub.isprintable():
            raise Unauthenticated(INVALID)
        return Principal(role="consumer", subject=sub)


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims, unverified, only to choose the verifier (which then checks everything).
    Decoded here once, cheaply: PyJWT's own unverified parse costs as much as the whole check."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > MAX_TOKEN_CHARS:
        raise Unauthenticated("トークンの形式が正しくありません。")
    try:
        header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
    except (ValueError, TypeError):
        raise Unauthenticated("トークンの形式が正しくありません。") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthenticated("トークンの形式が正しくありません。")
    return header, claims
