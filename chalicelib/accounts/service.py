"""Login for merchants and operators, with lockout; creating accounts and setting passwords.

Invariants:
- The response to an unknown login ID and to a wrong password is identical (same code, message,
  status, and the same scrypt work), and both count towards the lockout of that login ID, so the
  API cannot be used to discover which IDs exist.
- 5 consecutive failures lock the ID for 15 minutes (429 ``too_many_attempts``); while locked even
  the right password is refused. A success clears the count.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from chalicelib.accounts import passwords
from chalicelib.accounts.model import ROLES, Account
from chalicelib.accounts.repository import AccountRepository
from chalicelib.accounts.sessions import Principal, issue_session
from chalicelib.core.clock import Clock
from chalicelib.core.errors import TooManyAttempts, Unauthenticated

MAX_FAILURES = 5
LOCK = dt.timedelta(minutes=15)
LOGIN_FAILED = "ログインIDまたはパスワードが違います。"


class LoginResult(msgspec.Struct, frozen=True):
    token: str
    role: str
    expires_at: dt.datetime
    merchant_id: str | None
    login_id: str


def new_account(*, login_id: str, role: str, password: str, merchant_id: str | None, now: dt.datetime) -> Account:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return Account(login_id=login_id, role=role, merchant_id=merchant_id,
                   password_hash=passwords.hash_password(password), created_at=now, password_set_at=now)


class AccountService:
    def __init__(self, repo: AccountRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    def create(self, *, login_id: str, role: str, password: str, merchant_id: str | None,
               now: dt.datetime | None = None) -> Account:
        account = new_account(login_id=login_id, role=role, password=password, merchant_id=merchant_id,
                              now=now or self.clock.now())
        self.repo.add(account)
        return account

    def set_password(self, login_id: str, password: str) -> None:
        self.repo.set_password_hash(login_id, passwords.hash_password(password), self.clock.now())
        self.repo.clear_failures(login_id)


class LoginService:
    def __init__(self, repo: AccountRepository, clock: Clock, secret: str, ttl_seconds: int) -> None:
        self.repo = repo
        self.clock = clock
        self.secret = secret
        self.ttl_seconds = ttl_seconds

    def login(self, login_id: str, password: str) -> LoginResult:
        now = self.clock.now()
        failures = self.repo.failures(login_id)
        if failures.locked(now):
            raise TooManyAttempts()
        account = self.repo.get(login_id)
        if account is None:
            passwords.burn_dummy_verification(password)
            ok = False
        else:
            ok = passwords.verify_password(password, account.password_hash)
        if not ok:
            if self.repo.record_failure(login_id, now, limit=MAX_FAILURES, lock=LOCK) >= MAX_FAILURES:
                raise TooManyAttempts()
            raise Unauthenticated(LOGIN_FAILED)
        assert account is not None
        if failures.count:
            self.repo.clear_failures(login_id)
        principal = Principal(role=account.role, subject=account.login_id, merchant_id=account.merchant_id)
        token, expires = issue_session(self.secret, principal, now, self.ttl_seconds)
        return LoginResult(token=token, role=principal.role, expires_at=expires,
                           merchant_id=principal.merchant_id, login_id=principal.subject)
