"""Accounts of people who sign in with a login ID and password (merchants and operators).

Invariants:
- A login ID is unique, compared case-insensitively; only the scrypt hash of a password is stored.
- ``LoginFailures`` counts consecutive failed attempts of one login ID (existing or not) and, once
  the count reaches the limit, holds the instant until which the ID is locked.
"""

from __future__ import annotations

import datetime as dt

import msgspec

ROLES = ("merchant", "operator")


class Account(msgspec.Struct, frozen=True):
    login_id: str
    role: str
    merchant_id: str | None
    password_hash: str
    created_at: dt.datetime
    password_set_at: dt.datetime


class LoginFailures(msgspec.Struct, frozen=True):
    count: int = 0
    locked_until: dt.datetime | None = None

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now
