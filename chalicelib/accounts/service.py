"""Login for merchants and operators, with lockout.

Invariants:
- The response to an unknown login ID and to a wrong password is identical (same code, message,
  status, and the same scrypt work), and both count towards the lockout of that login ID, so the
  API cannot be used to discover which IDs exist.
- 5 consecutive failures lock the ID for 15 minutes (429 ``too_many_attempts``); while locked even
  the right password is refused. A success clears the count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from chalicelib.accounts import passwords
from chalicelib.accounts.sessions import Principal, issue_session
from chalicelib.core.clock import Clock, parse_utc_key, utc_key
from chalicelib.core.errors import InvalidRequest, TooManyAttempts, Unauthenticated
from chalicelib.store.table import ConditionFailed, Table

MAX_FAILURES = 5
LOCK_MINUTES = 15
LOGIN_FAILED = "ログインIDまたはパスワードが違います。"


def login_key(login_id: str) -> str:
    return "LOGIN#" + login_id.strip().lower()


@dataclasses.dataclass(frozen=True)
class LoginResult:
    token: str
    role: str
    expires_at: dt.datetime
    merchant_id: str | None
    login_id: str


class AccountRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def load(self, login_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The account and its failure counter, in one consistent Query of their shared partition."""
        account = failures = None
        for item in self.table.query(
            key_condition="pk = :pk", values={":pk": login_key(login_id)}, consistent=True
        ):
            if item["sk"] == "ACCOUNT":
                account = item
            elif item["sk"] == "FAILURES":
                failures = item
        return account, failures

    def account_put_op_item(
        self, *, login_id: str, role: str, password_hash: str, merchant_id: str | None, now: dt.datetime
    ) -> dict[str, Any]:
        return {
            "pk": login_key(login_id),
            "sk": "ACCOUNT",
            "login_id": login_id,
            "role": role,
            "merchant_id": merchant_id,
            "password_hash": password_hash,
            "created_at": utc_key(now),
            "password_set_at": utc_key(now),
        }

    def create(self, *, login_id: str, role: str, password: str, merchant_id: str | None, now: dt.datetime) -> None:
        item = self.account_put_op_item(
            login_id=login_id, role=role, password_hash=passwords.hash_password(password),
            merchant_id=merchant_id, now=now,
        )
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed:
            raise InvalidRequest("このログインIDはすでに使われています。", param="login_id") from None

    def set_password(self, login_id: str, password: str, now: dt.datetime) -> None:
        try:
            self.table.update(
                login_key(login_id), "ACCOUNT",
                update="SET password_hash = :h, password_set_at = :t",
                condition="attribute_exists(pk)",
                values={":h": passwords.hash_password(password), ":t": utc_key(now)},
                return_new=False,
            )
        except ConditionFailed:
            raise InvalidRequest("アカウントが見つかりません。", param="login_id") from None
        self.clear_failures(login_id)

    def record_failure(self, login_id: str, now: dt.datetime) -> int:
        item = self.table.update(
            login_key(login_id), "FAILURES",
            update="SET #c = if_not_exists(#c, :zero) + :one, #ttl = :ttl",
            names={"#c": "count", "#ttl": "ttl"},
            values={":zero": 0, ":one": 1, ":ttl": int(now.timestamp()) + 86400},
        )
        count = int((item or {}).get("count", 1))
        if count >= MAX_FAILURES:
            until = now + dt.timedelta(minutes=LOCK_MINUTES)
            self.table.update(
                login_key(login_id), "FAILURES",
                update="SET locked_until = :u, #c = :zero",
                names={"#c": "count"},
                values={":u": utc_key(until), ":zero": 0},
                return_new=False,
            )
        return count

    def clear_failures(self, login_id: str) -> None:
        self.table.delete(login_key(login_id), "FAILURES")


class LoginService:
    def __init__(self, repo: AccountRepository, clock: Clock, secret: str, ttl_seconds: int) -> None:
        self.repo = repo
        self.clock = clock
        self.secret = secret
        self.ttl_seconds = ttl_seconds

    def login(self, login_id: str, password: str) -> LoginResult:
        now = self.clock.now()
        account, failures = self.repo.load(login_id)
        if failures and failures.get("locked_until") and parse_utc_key(failures["locked_until"]) > now:
            raise TooManyAttempts()
        if account is None:
            passwords.burn_dummy_verification(password)
            ok = False
        else:
            ok = passwords.verify_password(password, str(account["password_hash"]))
        if not ok:
            count = self.repo.record_failure(login_id, now)
            if count >= MAX_FAILURES:
                raise TooManyAttempts()
            raise Unauthenticated(LOGIN_FAILED)
        assert account is not None
        if failures:
            self.repo.clear_failures(login_id)
        principal = Principal(role=str(account["role"]), subject=str(account["login_id"]),
                              merchant_id=account.get("merchant_id"))
        token, expires = issue_session(self.secret, principal, now, self.ttl_seconds)
        return LoginResult(token=token, role=principal.role, expires_at=expires,
                           merchant_id=principal.merchant_id, login_id=principal.subject)
