"""A merchant's staff: each person their own login, a role and a shop scope (SPEC §6a).

Invariants:
- Only the owner manages staff (the HTTP edge checks the role); every change names the merchant, and
  a staff id of another merchant is not found (404), never touched.
- A new member gets a private login ID and a random initial password, returned once, which must be
  changed at the first login (the same mechanism as a merchant's first login).
- Disabling moves the account's generation and then ends every session: the old token answers 401
  at once, and a login racing the disable cannot leave a session behind (``add_session`` is
  conditional on the generation and on the account not being disabled).
- A merchant always keeps an active owner: the last one cannot be disabled (409 ``conflict``).
- The merchant's first login has no staff record: it is the owner, with staff id ``owner``.
- An owner always has every shop (it manages staff and reads the whole log); only managers and clerks
  are given a shop list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import msgspec

from chalicelib.accounts import passwords
from chalicelib.accounts.model import OWNER, OWNER_STAFF_ID, STAFF_ROLES, Account
from chalicelib.accounts.repository import AccountRepository
from chalicelib.accounts.scope import check_store_ids
from chalicelib.core.clock import Clock
from chalicelib.core.errors import Conflict, InvalidRequest, NotFound
from chalicelib.core.ids import new_id, new_login_id, new_secret_password

LAST_OWNER = "有効なオーナーがいなくなるため、このオーナーは無効にできません。"


def staff_not_found() -> NotFound:
    return NotFound("スタッフが見つかりません。", param="staff_id")


class NewStaff(msgspec.Struct, frozen=True):
    account: Account
    initial_password: str


class StaffService:
    def __init__(self, repo: AccountRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    def add(self, *, merchant_id: str, name: str, role: str, store_ids: Collection[str] | None,
            merchant_stores: frozenset[str]) -> NewStaff:
        if role not in STAFF_ROLES:
            raise InvalidRequest("role は owner / manager / clerk のいずれかです。", param="role")
        if role == OWNER and store_ids is not None:
            # an owner manages staff and reads the whole log: a shop list would mean nothing
            raise InvalidRequest("オーナーはすべての店舗を担当します。店舗は選ばないでください。", param="store_ids")
        clean = " ".join(name.split())
        if not clean or not clean.isprintable():
            raise InvalidRequest("名前を入力してください。", param="name")
        try:
            scope = check_store_ids(store_ids, merchant_stores)
        except ValueError as exc:
            text = f"この事業者の店舗ではありません: {str(exc)[:32]}" if str(exc) else "店舗を1つ以上選んでください。"
            raise InvalidRequest(text, param="store_ids") from None
        now = self.clock.now()
        password = new_secret_password()
        account = Account(login_id=new_login_id(), role="merchant", merchant_id=merchant_id,
                          password_hash=passwords.hash_password(password), created_at=now, password_set_at=now,
                          must_change_password=True, staff_id="S" + new_id(9), staff_role=role,
                          store_ids=scope, name=clean)
        self.repo.add(account)
        return NewStaff(account=account, initial_password=password)

    def members(self, merchant_id: str, owner_login_id: str) -> list[Account]:
        """Everyone who signs in for this merchant: its first login (the owner) first, then its staff in
        the order they were added."""
        first = self.repo.get(owner_login_id)
        staff = sorted(self.repo.staff(merchant_id), key=lambda a: (a.created_at, a.staff_id or ""))
        return ([first] if first is not None and first.staff_id is None else []) + staff

    def member(self, merchant_id: str, owner_login_id: str, staff_id: str) -> Account:
        if staff_id == OWNER_STAFF_ID:
            account = self.repo.get(owner_login_id)
        elif 0 < len(staff_id) <= 32:
            account = self.repo.staff_member(merchant_id, staff_id)
        else:
            account = None
        if account is None or account.merchant_id != merchant_id:
            raise staff_not_found()
        return account

    def set_disabled(self, merchant_id: str, owner_login_id: str, staff_id: str, disabled: bool) -> Account:
        member = self.member(merchant_id, owner_login_id, staff_id)
        if disabled and member.effective_staff_role == OWNER and not member.disabled:
            others = [a for a in self.members(merchant_id, owner_login_id)
                      if a.login_id != member.login_id and a.effective_staff_role == OWNER and a.can_sign_in]
            if not others:
                raise Conflict(LAST_OWNER, param="staff_id")
        now: dt.datetime = self.clock.now()
        updated = self.repo.set_disabled(member.login_id, disabled, now)
        if disabled:
            self.repo.end_sessions(member.login_id)
        return updated

    def reset_password(self, merchant_id: str, owner_login_id: str, staff_id: str) -> tuple[Account, str]:
        """A new initial password, to change at the next login; every session of the member ends."""
        member = self.member(merchant_id, owner_login_id, staff_id)
        password = new_secret_password()
        updated = self.repo.set_password(member.login_id, passwords.hash_password(password), self.clock.now(),
                                         must_change=True)
        self.repo.end_sessions(member.login_id)
        self.repo.clear_attempts(member.login_id)
        return updated, password
