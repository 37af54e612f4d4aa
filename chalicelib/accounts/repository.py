"""Where accounts and login failures are kept: the port, and its DynamoDB implementation."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from chalicelib.accounts.model import Account, LoginFailures
from chalicelib.core.errors import InvalidRequest

FAILURES_TTL = dt.timedelta(days=1)


class LoginIdTaken(InvalidRequest):
    default_message = "このログインIDはすでに使われています。"

    def __init__(self) -> None:
        super().__init__(param="login_id")


class AccountRepository(Protocol):
    def get(self, login_id: str) -> Account | None: ...

    def failures(self, login_id: str) -> LoginFailures: ...

    def add(self, account: Account) -> None:
        """Store a new account; :class:`LoginIdTaken` when the ID exists."""

    def set_password_hash(self, login_id: str, password_hash: str, now: dt.datetime) -> None:
        """Replace the hash of an existing account (``NotFound`` otherwise)."""

    def record_failure(self, login_id: str, now: dt.datetime, *, limit: int, lock: dt.timedelta) -> int:
        """Count one failure; at ``limit`` lock the ID until ``now + lock`` and restart the count.
        Returns the count reached by this failure."""

    def clear_failures(self, login_id: str) -> None: ...
