"""The DynamoDB implementation of :mod:`chalicelib.accounts.repository`.

An account, its password-check record and its sessions share the partition ``LOGIN#<login id>``:
ending every session of an account is one strongly consistent Query and its deletes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from chalicelib.accounts.model import ACTIVE, Account, Attempts, Session
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.core.errors import NotFound, WriteRejected
from chalicelib.store import connection as db
from chalicelib.store.models import AccountItem, AttemptsItem, SessionItem, login_pk, session_sk, staff_index_pk

SESSION_TTL_GRACE = dt.timedelta(days=1)


def account_item(account: Account) -> AccountItem:
    staff = account.staff_id is not None and account.merchant_id is not None
    return AccountItem(
        login_pk(account.login_id), "ACCOUNT", login_id=account.login_id, role=account.role,
        merchant_id=account.merchant_id, password_hash=account.password_hash, created_at=account.created_at,
        password_set_at=account.password_set_at, must_change_password=account.must_change_password,
        status=account.status, generation=account.generation, staff_id=account.staff_id,
        staff_role=account.staff_role, store_ids=list(account.store_ids) if account.store_ids is not None else None,
        name=account.name or None, disabled=account.disabled or None,
        gsi1pk=staff_index_pk(account.merchant_id) if staff and account.merchant_id else None,
        gsi1sk=account.staff_id if staff else None,
    )


def _stores(stored: list[Any] | None) -> tuple[str, ...] | None:
    return tuple(str(s) for s in stored) if stored is not None else None


def account_from_item(item: AccountItem) -> Account:
    return Account(login_id=item.login_id, role=item.role, merchant_id=item.merchant_id,
                   password_hash=item.password_hash, created_at=item.created_at, password_set_at=item.password_set_at,
                   must_change_password=bool(item.must_change_password), status=item.status or ACTIVE,
                   generation=item.generation or 0, staff_id=item.staff_id, staff_role=item.staff_role,
                   store_ids=_stores(item.store_ids), name=item.name or "", disabled=bool(item.disabled))


def session_from_item(item: SessionItem) -> Session:
    return Session(session_id=item.sk.removeprefix("SESSION#"), login_id=item.login_id, role=item.role,
                   merchant_id=item.merchant_id, must_change_password=bool(item.must_change_password),
                   generation=item.generation or 0, created_at=item.created_at, refreshed_at=item.refreshed_at,
                   expires_at=item.expires_at, absolute_expires_at=item.absolute_expires_at,
                   staff_id=item.staff_id, staff_role=item.staff_role,
                   store_ids=_stores(item.store_ids))


class DynamoAccountRepository:
    # -- accounts -------------------------------------------------------------------------------
    def get(self, login_id: str) -> Account | None:
        try:
            return account_from_item(AccountItem.get(login_pk(login_id), "ACCOUNT", consistent_read=True))
        except AccountItem.DoesNotExist:
            return None

    def add(self, account: Account) -> None:
        try:
            db.save(account_item(account), condition=AccountItem.pk.does_not_exist())
        except db.ConditionFailed:
            raise LoginIdTaken() from None

    def _change(self, login_id: str, actions: list[object], now: dt.datetime) -> Account:
        item = AccountItem(login_pk(login_id), "ACCOUNT")
        try:
            db.update(item, [*actions, AccountItem.generation.set((AccountItem.generation | 0) + 1),  # type: ignore[list-item]
                             AccountItem.updated_at.set(now)], condition=AccountItem.pk.exists())
        except db.ConditionFailed:
            raise NotFound("アカウントが見つかりません。", param="login_id") from None
        return account_from_item(item)

    def set_password(self, login_id: str, password_hash: str, now: dt.datetime, *, must_change: bool) -> Account:
        return self._change(login_id, [AccountItem.password_hash.set(password_hash),
                                       AccountItem.password_set_at.set(now),
                                       AccountItem.must_change_password.set(must_change)], now)

    def set_status(self, login_id: str, status: str, now: dt.datetime) -> Account:
        return self._change(login_id, [AccountItem.status.set(status)], now)

    def set_disabled(self, login_id: str, disabled: bool, now: dt.datetime) -> Account:
        return self._change(login_id, [AccountItem.disabled.set(disabled)], now)

    # -- merchant staff -------------------------------------------------------------------------
    def staff(self, merchant_id: str) -> list[Account]:
        return [account_from_item(i) for i in AccountItem.query(staff_index_pk(merchant_id), index_name="gsi1")]

    def staff_member(self, merchant_id: str, staff_id: str) -> Account | None:
        for found in AccountItem.query(staff_index_pk(merchant_id), AccountItem.gsi1sk == staff_id,
                                       index_name="gsi1"):
            # the index is eventually consistent: the account itself decides
            account = self.get(found.login_id)
            if account is not None and account.merchant_id == merchant_id and account.staff_id == staff_id:
                return account
        return None

    def replace(self, old_login_id: str, account: Account) -> None:
        tx = db.Transaction()
        tx.put("login", account_item(account), condition=AccountItem.pk.does_not_exist())
        tx.delete("old", AccountItem(login_pk(old_login_id), "ACCOUNT"))
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            if exc.failed("login"):
                raise LoginIdTaken() from None
            raise

    # -- password guessing ------------------------------------------------------------------------
    def attempts(self, login_id: str) -> Attempts:
        try:
            item = AttemptsItem.get(login_pk(login_id), "ATTEMPTS", consistent_read=True)
        except AttemptsItem.DoesNotExist:
            return Attempts()
        return Attempts(checks=item.checks or 0, failures=item.failures or 0, window_until=item.window_until)

    def start_check(self, login_id: str, seen: Attempts, now: dt.datetime, window: dt.timedelta,
                    max_checks: int) -> bool:
        try:
            if seen.open_at(now):
                # one more check in the window we saw, while it has room and no lock
                db.update(AttemptsItem(login_pk(login_id), "ATTEMPTS"), [AttemptsItem.checks.add(1)],
                          condition=(AttemptsItem.window_until == seen.window_until)
                          & (AttemptsItem.checks < max_checks) & (AttemptsItem.failures == seen.failures))
            else:
                # a new window, replacing only the record we saw (none, or one whose window was over)
                previous = (AttemptsItem.pk.does_not_exist() if seen.window_until is None
                            else AttemptsItem.window_until == seen.window_until)
                until = now + window
                db.save(AttemptsItem(login_pk(login_id), "ATTEMPTS", checks=1, failures=0, window_until=until,
                                     ttl=until + dt.timedelta(days=1)), condition=previous)
        except db.ConditionFailed:
            return False
        return True

    def record_failure(self, login_id: str, now: dt.datetime, window: dt.timedelta, max_failures: int) -> Attempts:
        item = AttemptsItem(login_pk(login_id), "ATTEMPTS")
        db.update(item, [AttemptsItem.failures.add(1)])
        if (item.failures or 0) >= max_failures:
            # locked for a whole window from the failure that reached the limit
            db.update(item, [AttemptsItem.window_until.set(now + window),
                             AttemptsItem.ttl.set(now + window + dt.timedelta(days=1))])
        return Attempts(checks=item.checks or 0, failures=item.failures or 0, window_until=item.window_until)

    def record_success(self, login_id: str, max_failures: int) -> bool:
        try:
            db.delete(AttemptsItem(login_pk(login_id), "ATTEMPTS"),
                      condition=AttemptsItem.pk.does_not_exist() | (AttemptsItem.failures < max_failures))
        except db.ConditionFailed:
            return False  # a lock came into force meanwhile: never cleared by a success
        return True

    def clear_attempts(self, login_id: str) -> None:
        db.delete(AttemptsItem(login_pk(login_id), "ATTEMPTS"))

    # -- sessions -------------------------------------------------------------------------------
    def add_session(self, session: Session) -> None:
        tx = db.Transaction()
        tx.put("session", SessionItem(
            login_pk(session.login_id), session_sk(session.session_id), login_id=session.login_id, role=session.role,
            merchant_id=session.merchant_id, must_change_password=session.must_change_password,
            generation=session.generation, created_at=session.created_at, refreshed_at=session.refreshed_at,
            expires_at=session.expires_at, absolute_expires_at=session.absolute_expires_at,
            ttl=session.absolute_expires_at + SESSION_TTL_GRACE, staff_id=session.staff_id,
            staff_role=session.staff_role,
            store_ids=list(session.store_ids) if session.store_ids is not None else None),
            condition=SessionItem.pk.does_not_exist())
        # A revocation or a password change moves the generation before it ends the sessions: a login
        # that read the account before that cannot leave a session behind.
        same_generation = (AccountItem.generation == session.generation) if session.generation else (
            AccountItem.generation.does_not_exist() | (AccountItem.generation == 0))
        active = ((AccountItem.status.does_not_exist() | (AccountItem.status == ACTIVE))
                  & (AccountItem.disabled.does_not_exist() | (AccountItem.disabled == False)))  # noqa: E712
        tx.check("account", AccountItem, login_pk(session.login_id), "ACCOUNT", condition=same_generation & active)
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise WriteRejected(exc.conditions) from None

    def session(self, login_id: str, session_id: str) -> Session | None:
        try:
            return session_from_item(SessionItem.get(login_pk(login_id), session_sk(session_id), consistent_read=True))
        except SessionItem.DoesNotExist:
            return None

    def touch_session(self, login_id: str, session_id: str, now: dt.datetime, expires_at: dt.datetime) -> None:
        with contextlib.suppress(db.ConditionFailed):  # ended meanwhile: stays ended
            db.update(SessionItem(login_pk(login_id), session_sk(session_id)),
                      [SessionItem.refreshed_at.set(now), SessionItem.expires_at.set(expires_at)],
                      condition=SessionItem.pk.exists())

    def end_session(self, login_id: str, session_id: str) -> None:
        db.delete(SessionItem(login_pk(login_id), session_sk(session_id)))

    def end_sessions(self, login_id: str) -> int:
        ended = 0
        for item in SessionItem.query(login_pk(login_id), SessionItem.sk.startswith("SESSION#"), consistent_read=True):
            db.delete(item)
            ended += 1
        return ended
