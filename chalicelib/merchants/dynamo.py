"""The DynamoDB implementation of :mod:`chalicelib.merchants.repository`: the only code that knows how
these records are stored (``store.models``), and where storage failures become domain outcomes."""


from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from chalicelib.accounts.dynamo import account_item
from chalicelib.accounts.model import Account
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.core.clock import utc_key
from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.model import ACTIVE, Merchant
from chalicelib.merchants.repository import MerchantIdTaken, merchant_not_found
from chalicelib.store import connection as db
from chalicelib.store.models import (
    AGG_SHARDS,
    MERCHANTS_INDEX_PK,
    AccountItem,
    BankMap,
    MerchantItem,
    TillItem,
    merchant_pk,
    till_pk,
    till_sk,
)


def _bank_map(bank: BankAccount) -> BankMap:
    return BankMap(bank_code=bank.bank_code, branch_code=bank.branch_code,  # type: ignore[no-untyped-call]
                   account_type=bank.account_type, account_number=bank.account_number, holder_kana=bank.holder_kana)


def merchant_from_item(item: MerchantItem) -> Merchant:
    b = item.bank
    return Merchant(
        merchant_id=item.merchant_id, name_ja=item.name_ja, name_en=item.name_en, mcc=item.mcc, city=item.city,
        status=item.status, login_id=item.login_id, created_at=item.created_at, access=item.access or ACTIVE,
        bank=BankAccount(bank_code=b.bank_code, branch_code=b.branch_code, account_type=b.account_type,
                         account_number=b.account_number, holder_kana=b.holder_kana),
    )


def merchant_item(m: Merchant) -> MerchantItem:
    return MerchantItem(
        merchant_pk(m.merchant_id), "PROFILE", merchant_id=m.merchant_id, name_ja=m.name_ja, name_en=m.name_en,
        mcc=m.mcc, city=m.city, status=m.status, login_id=m.login_id, bank=_bank_map(m.bank), access=m.access,
        created_at=m.created_at, gsi1pk=MERCHANTS_INDEX_PK, gsi1sk=f"{utc_key(m.created_at)}#{m.merchant_id}",
    )


class DynamoMerchantRepository:
    def get(self, merchant_id: str) -> Merchant | None:
        try:
            return merchant_from_item(MerchantItem.get(merchant_pk(merchant_id), "PROFILE", consistent_read=True))
        except MerchantItem.DoesNotExist:
            return None

    def page(self, *, limit: int, after: dict[str, Any] | None) -> tuple[list[Merchant], dict[str, Any] | None]:
        items, last = db.page(MerchantItem.query(MERCHANTS_INDEX_PK, index_name="gsi1", limit=limit,
                                                 page_size=limit + 1, last_evaluated_key=after), limit)
        return [merchant_from_item(i) for i in items], last

    def all(self) -> Iterator[Merchant]:
        for item in MerchantItem.query(MERCHANTS_INDEX_PK, index_name="gsi1"):
            yield merchant_from_item(item)

    def add(self, merchant: Merchant, owner: Account) -> None:
        tx = db.Transaction()
        tx.put("merchant", merchant_item(merchant), condition=MerchantItem.pk.does_not_exist())
        tx.put("login", account_item(owner), condition=AccountItem.pk.does_not_exist())
        for shard in range(AGG_SHARDS):
            tx.put(f"till{shard}", TillItem(till_pk(merchant.merchant_id), till_sk(shard), status=merchant.status,
                                            updated_at=merchant.created_at))
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            if exc.failed("login"):
                raise LoginIdTaken() from None
            if exc.failed("merchant"):
                raise MerchantIdTaken() from None
            raise

    def set_status(self, merchant_id: str, status: str, now: dt.datetime) -> Merchant:
        """The profile and every shard of the till status together: a payment checks one shard."""
        tx = db.Transaction()
        tx.update("merchant", MerchantItem(merchant_pk(merchant_id), "PROFILE"),
                  [MerchantItem.status.set(status), MerchantItem.updated_at.set(now)],
                  condition=MerchantItem.pk.exists())
        for shard in range(AGG_SHARDS):
            tx.put(f"till{shard}", TillItem(till_pk(merchant_id), till_sk(shard), status=status, updated_at=now))
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            if exc.failed("merchant"):
                raise merchant_not_found() from None
            raise
        merchant = self.get(merchant_id)
        assert merchant is not None  # merchants are never deleted
        return merchant

    def _update(self, merchant_id: str, actions: list[Any]) -> Merchant:
        item = MerchantItem(merchant_pk(merchant_id), "PROFILE")
        try:
            db.update(item, actions, condition=MerchantItem.pk.exists())
        except db.ConditionFailed:
            raise merchant_not_found() from None
        return merchant_from_item(item)

    def set_access(self, merchant_id: str, access: str, now: dt.datetime) -> Merchant:
        return self._update(merchant_id, [MerchantItem.access.set(access), MerchantItem.updated_at.set(now)])

    def set_login_id(self, merchant_id: str, login_id: str, now: dt.datetime) -> Merchant:
        return self._update(merchant_id, [MerchantItem.login_id.set(login_id), MerchantItem.updated_at.set(now)])
