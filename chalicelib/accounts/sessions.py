"""Who is calling, and the tokens that say so.

A merchant's or operator's token names a server-side session: ``s1.<login id, b64url>.<session id>.<mac>``.
The MAC (HMAC-SHA256 with the current or previous session key) lets a forged token be refused without
a read; the session record decides the rest (it can be ended at any moment). The CSRF token of a
cookie session is derived from its session id, so another session's token never matches.
Consumer tokens are RS256 JWTs from the identity provider (``consumer_jwt``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets

import msgspec

from chalicelib.accounts.keys import KeyRing, mac
from chalicelib.core.errors import Unauthenticated

INVALID = "セッションが無効です。もう一度ログインしてください。"


class Principal(msgspec.Struct, frozen=True):
    role: str  # "consumer" | "merchant" | "operator"
    subject: str  # login id, or consumer id
    merchant_id: str | None = None
    expires_at: dt.datetime | None = None
    session_id: str | None = None
    must_change_password: bool = False
    # merchant staff only (SPEC §6a): owner | manager | clerk, and the shops they may see (None: all)
    staff_id: str | None = None
    staff_role: str | None = None
    store_ids: tuple[str, ...] | None = None


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def session_token(keys: KeyRing, login_id: str, session_id: str) -> str:
    body = f"s1.{_b64(login_id)}.{session_id}"
    return f"{body}.{keys.sign_session(body)}"


def read_session_token(keys: KeyRing, token: str) -> tuple[str, str]:
    """(login id, session id) of a token whose signature holds; ``Unauthenticated`` otherwise."""
    parts = token.split(".")
    if len(token) > 512 or len(parts) != 4 or parts[0] != "s1":
        raise Unauthenticated(INVALID)
    body = ".".join(parts[:3])
    if not keys.session_signature_ok(body, parts[3]):
        raise Unauthenticated(INVALID)
    try:
        login_id = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthenticated(INVALID) from None
    return login_id, parts[2]


def csrf_token(keys: KeyRing, session_id: str) -> str:
    return mac(keys.session_keys[0], f"csrf|{session_id}")


def csrf_ok(keys: KeyRing, session_id: str, sent: str) -> bool:
    import hmac

    return any(hmac.compare_digest(mac(key, f"csrf|{session_id}"), sent) for key in keys.session_keys)
