"""The application's signing keys, read at run time from the secret store (never the environment).

The secret (Secrets Manager, JSON) holds::

    {"session_keys": ["<current>", "<previous>", ...], "cursor_key": "...", "claim_key": "..."}

or, as a deployment creates it, ``{"master": "<64 random characters>"}`` from which each key is derived.

- Session tokens are signed with the first session key and verified with any of them, so the key can
  rotate: put a new key first, keep the old one second until every session signed with it has expired
  (12 hours), then drop it.
- Pagination cursors and claim codes have keys of their own: a key leaked from one use cannot forge
  the others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import msgspec

MIN_KEY_CHARS = 32


class KeyRingError(ValueError):
    pass


class KeyRing(msgspec.Struct, frozen=True):
    session_keys: tuple[str, ...]
    cursor_key: str
    claim_key: str

    @classmethod
    def from_secret(cls, value: Mapping[str, Any]) -> KeyRing:
        if "session_keys" not in value and isinstance(value.get("master"), str):
            # A fresh deployment's secret is one generated value; each use gets a key derived from it.
            # To rotate the session key, write session_keys (new first, old second) into the secret.
            master = value["master"]
            value = {"session_keys": [mac(master, "session-key", 48)], "cursor_key": mac(master, "cursor-key", 48),
                     "claim_key": mac(master, "claim-key", 48), **value}
        sessions = value.get("session_keys")
        if not isinstance(sessions, list) or not sessions:
            raise KeyRingError("the secret needs a non-empty list session_keys")
        keys = tuple(str(k) for k in sessions)
        cursor, claim = str(value.get("cursor_key", "")), str(value.get("claim_key", ""))
        for name, key in [*(("session_keys", k) for k in keys), ("cursor_key", cursor), ("claim_key", claim)]:
            if len(key) < MIN_KEY_CHARS:
                raise KeyRingError(f"{name} must be at least {MIN_KEY_CHARS} characters")
        return cls(session_keys=keys, cursor_key=cursor, claim_key=claim)

    def sign_session(self, message: str) -> str:
        return mac(self.session_keys[0], message)

    def session_signature_ok(self, message: str, signature: str) -> bool:
        """True when any current or previous session key made ``signature`` (constant time each)."""
        return any(hmac.compare_digest(mac(key, message), signature) for key in self.session_keys)


def mac(key: str, message: str, length: int = 32) -> str:
    digest = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
