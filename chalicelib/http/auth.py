"""Who is calling: bearer tokens and console session cookies, and the role each route demands.

- ``Authorization: Bearer <token>``: a consumer RS256 JWT, or a merchant/operator session token.
- Console pages may use the ``session`` cookie instead (HttpOnly, SameSite=Strict). A state-changing
  request authenticated by cookie must also carry ``X-CSRF-Token`` equal to the ``csrf`` cookie
  (double submit), so a cross-site form cannot use the shopkeeper's session.
No token → 401 ``unauthenticated``; a valid token of another role → 403 ``forbidden``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.accounts.sessions import Principal, verify_session
from chalicelib.config import Settings
from chalicelib.core.clock import Clock
from chalicelib.core.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from chalicelib.accounts.consumer_jwt import JwksKeys

SESSION_COOKIE = "session"
CSRF_COOKIE = "csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def parse_cookies(header: str | None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            cookies[name] = value
    return cookies


def authenticate(
    headers: Mapping[str, str], method: str, *, settings: Settings, clock: Clock, jwks: JwksKeys
) -> Principal:
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Authorization ヘッダーは 'Bearer <token>' の形にしてください。")
        if token.startswith("v1."):
            return verify_session(settings.session_secret, token, clock.now())
        from chalicelib.accounts.consumer_jwt import verify_consumer_token  # RS256: consumer routes only

        return verify_consumer_token(
            token, keys=jwks, issuer=settings.consumer_jwt_issuer, audience=settings.consumer_jwt_audience
        )
    cookies = parse_cookies(headers.get("cookie"))
    cookie_token = cookies.get(SESSION_COOKIE)
    if not cookie_token:
        raise Unauthenticated()
    principal = verify_session(settings.session_secret, cookie_token, clock.now())
    if method.upper() not in SAFE_METHODS:
        sent = headers.get("x-csrf-token", "")
        expected = cookies.get(CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Forbidden("CSRFトークンが一致しません。ページを再読み込みしてください。")
    return principal


def require_role(principal: Principal, *roles: str) -> Principal:
    if principal.role not in roles:
        raise Forbidden()
    return principal
