"""Signed, short-lived session tokens for merchants and operators (HMAC-SHA256, stdlib).

Token: ``v1.<payload b64url>.<mac b64url>``; payload is compact JSON {sub, role, mid, exp, iat,
jti}. The MAC covers the version and payload. A token is refused when the MAC does not match, when
it expired (clock passed in), or when its fields have the wrong types. Consumer tokens are not of
this kind: consumers present RS256 JWTs from an OIDC issuer (``consumer_jwt``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets

import msgspec

from chalicelib.core.errors import Unauthenticated

ROLES = ("merchant", "operator")


class Principal(msgspec.Struct, frozen=True):
    role: str  # "consumer" | "merchant" | "operator"
    subject: str  # login id, or consumer id
    merchant_id: str | None = None
    expires_at: dt.datetime | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_session(secret: str, principal: Principal, now: dt.datetime, ttl_seconds: int) -> tuple[str, dt.datetime]:
    expires = now + dt.timedelta(seconds=ttl_seconds)
    payload = {
        "sub": principal.subject,
        "role": principal.role,
        "mid": principal.merchant_id,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(9),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"v1.{body}".encode(), hashlib.sha256).digest()
    return f"v1.{body}.{_b64(mac)}", expires


def verify_session(secret: str, token: str, now: dt.datetime) -> Principal:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "v1" or len(token) > 2048:
        raise Unauthenticated("セッションが無効です。もう一度ログインしてください。")
    expected = hmac.new(secret.encode(), f"v1.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(parts[2])
        if not hmac.compare_digest(expected, given):
            raise ValueError("mac")
        payload = json.loads(_unb64(parts[1]))
        role, sub, exp, mid = payload["role"], payload["sub"], payload["exp"], payload.get("mid")
        if role not in ROLES or not isinstance(sub, str) or not isinstance(exp, int):
            raise ValueError("fields")
        if mid is not None and not isinstance(mid, str):
            raise ValueError("mid")
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("セッションが無効です。もう一度ログインしてください。") from None
    expires = dt.datetime.fromtimestamp(exp, dt.UTC)
    if now >= expires:
        raise Unauthenticated("セッションの有効期限が切れました。もう一度ログインしてください。")
    return Principal(role=role, subject=sub, merchant_id=mid, expires_at=expires)
