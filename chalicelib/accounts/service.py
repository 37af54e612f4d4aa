"""Login with a lockout that holds under concurrency; server-side sessions; password changes.

Invariants:
- Unknown login ID and wrong password answer the same (code, message, status, scrypt work), and both
  count towards the lockout of that ID, so the API cannot tell which IDs exist.
- A password is checked only after a check was *reserved* with a conditional write: at most
  ``MAX_CHECKS`` checks start in a 15-minute window however many requests arrive at once, and the
  failure that makes ``MAX_FAILURES`` locks the ID for 15 minutes (429 ``too_many_attempts``). A
  success clears the record only if no lock is in force (else the right password is refused too).
- A session is a record: logout, a password change, an operator's reset and a revocation end it at
  once. It slides with use (idle timeout) up to an absolute maximum. Creating one is conditional on the
  account's generation, which every "end all sessions" moves first.
- An account that must change its password can do nothing else (the HTTP edge enforces it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import msgspec

from chalicelib.accounts import passwords
from chalicelib.accounts.keys import KeyRing
from chalicelib.accounts.model import (
    ACTIVE,
    MAX_CHECKS,
    MAX_FAILURES,
    OWNER,
    OWNER_STAFF_ID,
    REVOKED,
    ROLES,
    WINDOW,
    Account,
    Session,
)
from chalicelib.accounts.repository import AccountRepository
from chalicelib.accounts.sessions import (
    INVALID,
    Principal,
    new_session_id,
    read_session_token,
    session_token,
)
from chalicelib.core.clock import Clock
from chalicelib.core.errors import TooManyAttempts, Unauthenticated, WriteRejected

LOGIN_FAILED = "ログインIDまたはパスワードが違います。"
ACCESS_REVOKED = "このアカウントは現在ご利用いただけません。商工会にお問い合わせください。"
DISABLED = "このアカウントは無効になっています。事業者の管理者(オーナー)にお問い合わせください。"
BUSY = "このログインIDへのログインが続いています。少し待ってからもう一度お試しください。"
REFRESH_EVERY = dt.timedelta(minutes=5)  # sliding costs one write per this, not one per request


class LoginResult(msgspec.Struct, frozen=True):
    token: str
    role: str
    expires_at: dt.datetime
    merchant_id: str | None
    login_id: str
    must_change_password: bool
    session_id: str
    staff_role: str | None = None
    staff_id: str | None = None


def new_account(*, login_id: str, role: str, password: str, merchant_id: str | None, now: dt.datetime,
                must_change_password: bool = False) -> Account:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return Account(login_id=login_id, role=role, merchant_id=merchant_id,
                   password_hash=passwords.hash_password(password), created_at=now, password_set_at=now,
                   must_change_password=must_change_password)


class SessionService:
    """Issues, checks, slides and ends sessions."""

    def __init__(self, repo: AccountRepository, clock: Clock, keys: Callable[[], KeyRing], *,
                 idle: dt.timedelta, maximum: dt.timedelta) -> None:
        self.repo = repo
        self.clock = clock
        self.keys = keys
        self.idle = idle
        self.maximum = maximum

    def start(self, account: Account, now: dt.datetime) -> LoginResult:
        session = Session(session_id=new_session_id(), login_id=account.login_id, role=account.role,
                          merchant_id=account.merchant_id, must_change_password=account.must_change_password,
                          generation=account.generation, created_at=now, refreshed_at=now,
                          expires_at=min(now + self.idle, now + self.maximum), absolute_expires_at=now + self.maximum,
                          staff_id=account.effective_staff_id, staff_role=account.effective_staff_role,
                          store_ids=account.store_ids)
        self.repo.add_session(session)
        return LoginResult(token=session_token(self.keys(), account.login_id, session.session_id), role=account.role,
                           expires_at=session.expires_at, merchant_id=account.merchant_id,
                           login_id=account.login_id, must_change_password=account.must_change_password,
                           session_id=session.session_id, staff_role=account.effective_staff_role,
                           staff_id=account.effective_staff_id)

    def verify(self, token: str) -> Principal:
        """The principal of a live session (one read); ``Unauthenticated`` for anything else."""
        login_id, session_id = read_session_token(self.keys(), token)
        session = self.repo.session(login_id, session_id)
        now = self.clock.now()
        if session is None or not session.valid_at(now):
            raise Unauthenticated("セッションの有効期限が切れたか、終了しました。もう一度ログインしてください。")
        expires = session.expires_at
        if now - session.refreshed_at >= REFRESH_EVERY:
            expires = min(now + self.idle, session.absolute_expires_at)
            self.repo.touch_session(login_id, session_id, now, expires)
        staff_role = session.staff_role or (OWNER if session.role == "merchant" else None)
        staff_id = session.staff_id or (OWNER_STAFF_ID if session.role == "merchant" else None)
        return Principal(role=session.role, subject=session.login_id, merchant_id=session.merchant_id,
                         expires_at=expires, session_id=session_id,
                         must_change_password=session.must_change_password, staff_id=staff_id,
                         staff_role=staff_role, store_ids=session.store_ids)

    def end(self, principal: Principal) -> None:
        if principal.session_id:
            self.repo.end_session(principal.subject, principal.session_id)


class LoginService:
    def __init__(self, repo: AccountRepository, clock: Clock, sessions: SessionService) -> None:
        self.repo = repo
        self.clock = clock
        self.sessions = sessions

    def _reserve_check(self, login_id: str) -> None:
        now = self.clock.now()
        for _ in range(8):
            seen = self.repo.attempts(login_id)
            if seen.locked(now):
                raise TooManyAttempts()
            if seen.open_at(now) and seen.checks >= MAX_CHECKS:
                raise TooManyAttempts(BUSY)
            if self.repo.start_check(login_id, seen, now, WINDOW, MAX_CHECKS):
                return
        raise TooManyAttempts(BUSY)  # the record keeps moving: many tries at once

    def check_password(self, login_id: str, password: str) -> Account:
        """The account whose password this is, with the check reserved and counted; else the error."""
        self._reserve_check(login_id)
        account = self.repo.get(login_id)
        if account is None:
            passwords.burn_dummy_verification(password)
            ok = False
        else:
            ok = passwords.verify_password(password, account.password_hash)
        if not ok:
            after = self.repo.record_failure(login_id, self.clock.now(), WINDOW, MAX_FAILURES)
            if after.failures >= MAX_FAILURES:
                raise TooManyAttempts()
            raise Unauthenticated(LOGIN_FAILED)
        if not self.repo.record_success(login_id, MAX_FAILURES):
            raise TooManyAttempts()  # a lock came into force meanwhile: the right password waits too
        assert account is not None
        return account

    def login(self, login_id: str, password: str) -> LoginResult:
        account = self.check_password(login_id, password)
        for _ in range(3):
            if account.status != ACTIVE:
                raise Unauthenticated(ACCESS_REVOKED)
            if account.disabled:
                raise Unauthenticated(DISABLED)
            try:
                return self.sessions.start(account, self.clock.now())
            except WriteRejected:
                # the account changed between the check and the session (revoked, password changed):
                # decide again on what it is now
                fresh = self.repo.get(account.login_id)
                if fresh is None or fresh.password_hash != account.password_hash:
                    raise Unauthenticated(LOGIN_FAILED) from None
                account = fresh
        raise Unauthenticated(INVALID)


class AccountService:
    """Accounts as the operator and the people themselves change them."""

    def __init__(self, repo: AccountRepository, clock: Clock, login: LoginService | None = None) -> None:
        self.repo = repo
        self.clock = clock
        self.login = login

    def create(self, *, login_id: str, role: str, password: str, merchant_id: str | None,
               now: dt.datetime | None = None, must_change_password: bool = False) -> Account:
        account = new_account(login_id=login_id, role=role, password=password, merchant_id=merchant_id,
                              now=now or self.clock.now(), must_change_password=must_change_password)
        self.repo.add(account)
        return account

    def reset_password(self, login_id: str, password: str) -> Account:
        """An operator's reset: a new initial password that must be changed; every session ends."""
        account = self.repo.set_password(login_id, passwords.hash_password(password), self.clock.now(),
                                         must_change=True)
        self.repo.end_sessions(login_id)
        self.repo.clear_attempts(login_id)  # a reset also lifts a lock: the shop asked to get back in
        return account

    def change_password(self, principal: Principal, current: str, new: str) -> LoginResult:
        """The person's own change: checked against the current password (counted like a login), the
        rules, then every session ends and a new one starts for this caller."""
        if self.login is None:
            raise RuntimeError("change_password needs the login service")
        account = self.login.check_password(principal.subject, current)
        passwords.check_new_password(new, account.login_id)
        if current == new:
            from chalicelib.core.errors import InvalidRequest

            raise InvalidRequest("今のパスワードと違うパスワードにしてください。", param="new_password")
        updated = self.repo.set_password(account.login_id, passwords.hash_password(new), self.clock.now(),
                                         must_change=False)
        self.repo.end_sessions(account.login_id)
        return self.login.sessions.start(updated, self.clock.now())

    def revoke(self, login_id: str) -> None:
        """No more logins, and every session ends now (status first: a racing login cannot slip in)."""
        self.repo.set_status(login_id, REVOKED, self.clock.now())
        self.repo.end_sessions(login_id)

    def restore(self, login_id: str) -> None:
        self.repo.set_status(login_id, ACTIVE, self.clock.now())
