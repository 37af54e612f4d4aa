"""Opaque pagination cursors: a DynamoDB key, serialized and signed.

Signing stops a client from forging a start key that points into another merchant's or consumer's
partition; a cursor is also bound to the scope (route + principal + filters) it was issued for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.core.errors import InvalidRequest


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_cursor(secret: str, scope: str, key: dict[str, Any] | None) -> str | None:
    if key is None:
        return None
    body = _b64(json.dumps(key, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret.encode(), f"{scope}|{body}".encode(), hashlib.sha256).digest()[:16]
    return f"{body}.{_b64(mac)}"


def decode_cursor(secret: str, scope: str, cursor: str | None) -> dict[str, Any] | None:
    if cursor is None or cursor == "":
        return None
    bad = InvalidRequest("cursor が正しくありません。", param="cursor")
    if len(cursor) > 2048 or cursor.count(".") != 1:
        raise bad
    body, mac = cursor.split(".")
    expected = hmac.new(secret.encode(), f"{scope}|{body}".encode(), hashlib.sha256).digest()[:16]
    try:
        given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
        if not hmac.compare_digest(expected, given):
            raise bad
        key = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise bad from None
    if not isinstance(key, dict):
        raise bad
    return key
