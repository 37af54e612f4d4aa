"""An in-memory :class:`~chalicelib.accounts.repository.AccountRepository` for unit tests."""

from __future__ import annotations

import datetime as dt

import msgspec

from chalicelib.accounts.model import ACTIVE, Account, Attempts, Session
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.core.errors import NotFound, WriteRejected


def _key(login_id: str) -> str:
    return login_id.strip().lower()


class FakeAccountRepository:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.attempt_records: dict[str, Attempts] = {}
        self.sessions: dict[tuple[str, str], Session] = {}

    def get(self, login_id: str) -> Account | None:
        return self.accounts.get(_key(login_id))

    def add(self, account: Account) -> None:
        if _key(account.login_id) in self.accounts:
            raise LoginIdTaken()
        self.accounts[_key(account.login_id)] = account

    def _change(self, login_id: str, **changes: object) -> Account:
        account = self.get(login_id)
        if account is None:
            raise NotFound("アカウントが見つかりません。", param="login_id")
        updated = msgspec.structs.replace(account, generation=account.generation + 1, **changes)
        self.accounts[_key(login_id)] = updated
        return updated

    def set_password(self, login_id: str, password_hash: str, now: dt.datetime, *, must_change: bool) -> Account:
        return self._change(login_id, password_hash=password_hash, password_set_at=now,
                            must_change_password=must_change)

    def set_status(self, login_id: str, status: str, now: dt.datetime) -> Account:
        return self._change(login_id, status=status)

    def set_disabled(self, login_id: str, disabled: bool, now: dt.datetime) -> Account:
        return self._change(login_id, disabled=disabled)

    def staff(self, merchant_id: str) -> list[Account]:
        return sorted((a for a in self.accounts.values() if a.merchant_id == merchant_id and a.staff_id),
                      key=lambda a: a.staff_id or "")

    def staff_member(self, merchant_id: str, staff_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.merchant_id == merchant_id and a.staff_id == staff_id),
                    None)

    def replace(self, old_login_id: str, account: Account) -> None:
        if _key(account.login_id) in self.accounts:
            raise LoginIdTaken()
        self.accounts.pop(_key(old_login_id), None)
        self.accounts[_key(account.login_id)] = account

    def attempts(self, login_id: str) -> Attempts:
        return self.attempt_records.get(_key(login_id), Attempts())

    def start_check(self, login_id: str, seen: Attempts, now: dt.datetime, window: dt.timedelta,
                    max_checks: int) -> bool:
        current = self.attempts(login_id)
        if current != seen:
            return False
        if seen.open_at(now):
            if seen.checks >= max_checks or seen.locked(now):
                return False
            self.attempt_records[_key(login_id)] = msgspec.structs.replace(seen, checks=seen.checks + 1)
        else:
            self.attempt_records[_key(login_id)] = Attempts(checks=1, failures=0, window_until=now + window)
        return True

    def record_failure(self, login_id: str, now: dt.datetime, window: dt.timedelta, max_failures: int) -> Attempts:
        current = self.attempts(login_id)
        failures = current.failures + 1
        until = now + window if failures >= max_failures or current.window_until is None else current.window_until
        updated = Attempts(checks=current.checks, failures=failures, window_until=until)
        self.attempt_records[_key(login_id)] = updated
        return updated

    def record_success(self, login_id: str, max_failures: int) -> bool:
        current = self.attempts(login_id)
        if current.failures >= max_failures:
            return False
        self.attempt_records.pop(_key(login_id), None)
        return True

    def clear_attempts(self, login_id: str) -> None:
        self.attempt_records.pop(_key(login_id), None)

    def add_session(self, session: Session) -> None:
        account = self.get(session.login_id)
        if (account is None or account.status != ACTIVE or account.disabled
                or account.generation != session.generation):
            raise WriteRejected({"account"})
        self.sessions[(_key(session.login_id), session.session_id)] = session

    def session(self, login_id: str, session_id: str) -> Session | None:
        return self.sessions.get((_key(login_id), session_id))

    def touch_session(self, login_id: str, session_id: str, now: dt.datetime, expires_at: dt.datetime) -> None:
        key = (_key(login_id), session_id)
        if key in self.sessions:
            self.sessions[key] = msgspec.structs.replace(self.sessions[key], refreshed_at=now, expires_at=expires_at)

    def end_session(self, login_id: str, session_id: str) -> None:
        self.sessions.pop((_key(login_id), session_id), None)

    def end_sessions(self, login_id: str) -> int:
        keys = [k for k in self.sessions if k[0] == _key(login_id)]
        for key in keys:
            del self.sessions[key]
        return len(keys)
