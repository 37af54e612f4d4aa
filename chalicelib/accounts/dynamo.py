"""The DynamoDB implementation of :mod:`chalicelib.accounts.repository`: the only code that knows how
these records are stored (``store.models``), and where storage failures become domain outcomes."""


from __future__ import annotations

import datetime as dt

from chalicelib.accounts.model import Account, LoginFailures
from chalicelib.accounts.repository import FAILURES_TTL, LoginIdTaken
from chalicelib.core.errors import NotFound
from chalicelib.store import connection as db
from chalicelib.store.models import AccountItem, LoginFailuresItem, login_pk


def account_item(account: Account) -> AccountItem:
    return AccountItem(
        login_pk(account.login_id), "ACCOUNT", login_id=account.login_id, role=account.role,
        merchant_id=account.merchant_id, password_hash=account.password_hash, created_at=account.created_at,
        password_set_at=account.password_set_at,
    )


def account_from_item(item: AccountItem) -> Account:
    return Account(login_id=item.login_id, role=item.role, merchant_id=item.merchant_id,
                   password_hash=item.password_hash, created_at=item.created_at,
                   password_set_at=item.password_set_at)


class DynamoAccountRepository:
    def get(self, login_id: str) -> Account | None:
        try:
            return account_from_item(AccountItem.get(login_pk(login_id), "ACCOUNT", consistent_read=True))
        except AccountItem.DoesNotExist:
            return None

    def failures(self, login_id: str) -> LoginFailures:
        try:
            item = LoginFailuresItem.get(login_pk(login_id), "FAILURES", consistent_read=True)
        except LoginFailuresItem.DoesNotExist:
            return LoginFailures()
        return LoginFailures(count=item.failures or 0, locked_until=item.locked_until)

    def add(self, account: Account) -> None:
        try:
            db.save(account_item(account), condition=AccountItem.pk.does_not_exist())
        except db.ConditionFailed:
            raise LoginIdTaken() from None

    def set_password_hash(self, login_id: str, password_hash: str, now: dt.datetime) -> None:
        item = AccountItem(login_pk(login_id), "ACCOUNT")
        try:
            db.update(item, [AccountItem.password_hash.set(password_hash), AccountItem.password_set_at.set(now)],
                      condition=AccountItem.pk.exists())
        except db.ConditionFailed:
            raise NotFound("アカウントが見つかりません。", param="login_id") from None

    def record_failure(self, login_id: str, now: dt.datetime, *, limit: int, lock: dt.timedelta) -> int:
        item = LoginFailuresItem(login_pk(login_id), "FAILURES")
        db.update(item, [LoginFailuresItem.failures.set((LoginFailuresItem.failures | 0) + 1),
                         LoginFailuresItem.ttl.set(now + FAILURES_TTL)])
        count = item.failures or 0
        if count >= limit:
            db.update(item, [LoginFailuresItem.locked_until.set(now + lock), LoginFailuresItem.failures.set(0)])
        return count

    def clear_failures(self, login_id: str) -> None:
        db.delete(LoginFailuresItem(login_pk(login_id), "FAILURES"))
