"""Who is calling: bearer tokens and console session cookies, and the role each route demands.

- ``Authorization: Bearer <token>``: a consumer RS256 JWT, or a merchant/operator session token.
- Console pages may use the session cookie instead. A state-changing request authenticated by cookie
  must also carry ``X-CSRF-Token``: a value derived from *its* session, so another session's token
  (or a cross-site form, which cannot read it) is refused with 403.
- Cookies are ``HttpOnly`` (the session), ``SameSite=Strict``, and on every stage but local
  ``Secure`` with the ``__Host-`` prefix (bound to this host, path ``/``, never set over plain HTTP).
No token → 401 ``unauthenticated``; a valid token of another role → 403 ``forbidden``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from chalicelib.accounts.keys import KeyRing
from chalicelib.accounts.sessions import Principal, csrf_ok
from chalicelib.config import Settings
from chalicelib.core.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from chalicelib.accounts.consumer_jwt import ConsumerTokens

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Sessions(Protocol):
    def verify(self, token: str) -> Principal: ...


def cookie_names(settings: Settings) -> tuple[str, str]:
    """(session cookie, CSRF cookie) for the stage."""
    if settings.is_local:
        return "session", "csrf"
    return "__Host-session", "__Host-csrf"


def cookie(settings: Settings, name: str, value: str, max_age: int, *, http_only: bool) -> str:
    secure = "" if settings.is_local else "; Secure"
    flags = "; HttpOnly" if http_only else ""
    return f"{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}{flags}"


def parse_cookies(header: str | None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            cookies[name] = value
    return cookies


def session_cookie(headers: Mapping[str, str], settings: Settings) -> str | None:
    return parse_cookies(headers.get("cookie")).get(cookie_names(settings)[0]) or None


def authenticate(headers: Mapping[str, str], method: str, *, settings: Settings, sessions: Sessions,
                 keys: Callable[[], KeyRing], consumers: Callable[[], ConsumerTokens]) -> Principal:
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Authorization ヘッダーは 'Bearer <token>' の形にしてください。")
        if token.startswith("s1."):
            return sessions.verify(token)
        return consumers().verify(token)  # an RS256 JWT of the stage's identity provider
    from_cookie = session_cookie(headers, settings)
    if not from_cookie:
        raise Unauthenticated()
    principal = sessions.verify(from_cookie)
    if method.upper() not in SAFE_METHODS:
        sent = headers.get("x-csrf-token", "")
        if principal.session_id is None or not sent or not csrf_ok(keys(), principal.session_id, sent):
            raise Forbidden("CSRFトークンが一致しません。ページを再読み込みしてください。")
    return principal


def require_role(principal: Principal, *roles: str) -> Principal:
    if principal.role not in roles:
        raise Forbidden()
    return principal
