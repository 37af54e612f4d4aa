"""An in-memory :class:`~chalicelib.accounts.repository.AccountRepository` for unit tests."""

from __future__ import annotations

import datetime as dt

import msgspec

from chalicelib.accounts.model import Account, LoginFailures
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.core.errors import NotFound


def _key(login_id: str) -> str:
    return login_id.strip().lower()


class FakeAccountRepository:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.failure_counts: dict[str, LoginFailures] = {}

    def get(self, login_id: str) -> Account | None:
        return self.accounts.get(_key(login_id))

    def failures(self, login_id: str) -> LoginFailures:
        return self.failure_counts.get(_key(login_id), LoginFailures())

    def add(self, account: Account) -> None:
        if _key(account.login_id) in self.accounts:
            raise LoginIdTaken()
        self.accounts[_key(account.login_id)] = account

    def set_password_hash(self, login_id: str, password_hash: str, now: dt.datetime) -> None:
        account = self.get(login_id)
        if account is None:
            raise NotFound("アカウントが見つかりません。", param="login_id")
        self.accounts[_key(login_id)] = msgspec.structs.replace(account, password_hash=password_hash,
                                                               password_set_at=now)

    def record_failure(self, login_id: str, now: dt.datetime, *, limit: int, lock: dt.timedelta) -> int:
        current = self.failures(login_id)
        count = current.count + 1
        if count >= limit:
            self.failure_counts[_key(login_id)] = LoginFailures(0, now + lock)
        else:
            self.failure_counts[_key(login_id)] = LoginFailures(count, current.locked_until)
        return count

    def clear_failures(self, login_id: str) -> None:
        self.failure_counts.pop(_key(login_id), None)
