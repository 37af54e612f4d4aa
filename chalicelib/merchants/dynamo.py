"""The DynamoDB implementation of :mod:`chalicelib.merchants.repository`: the only code that knows how
these records are stored (``store.models``), and where storage failures become domain outcomes."""


from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from chalicelib.accounts.dynamo import account_item
from chalicelib.accounts.model import Account
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.core.clock import utc_key
from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.model import ACTIVE, Merchant, Store
from chalicelib.merchants.repository import MerchantIdTaken, StoreIdTaken, merchant_not_found, store_not_found
from chalicelib.store import connection as db
from chalicelib.store.models import (
    AGG_SHARDS,
    MERCHANTS_INDEX_PK,
    AccountItem,
    BankMap,
    MerchantItem,
    StoreItem,
    TillItem,
    merchant_pk,
    store_index_pk,
    store_sk,
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


def store_from_item(item: StoreItem) -> Store:
    return Store(store_id=item.store_id, merchant_id=item.merchant_id, name_ja=item.name_ja, name_en=item.name_en,
                 mcc=item.mcc, city=item.city, status=item.status, created_at=item.created_at)


def store_item(s: Store) -> StoreItem:
    return StoreItem(merchant_pk(s.merchant_id), store_sk(s.store_id), store_id=s.store_id, merchant_id=s.merchant_id,
                     name_ja=s.name_ja, name_en=s.name_en, mcc=s.mcc, city=s.city, status=s.status,
                     created_at=s.created_at, gsi2pk=store_index_pk(s.store_id), gsi2sk="SHOP")


def _put_tills(tx: db.Transaction, store_id: str, status: str, now: dt.datetime, *, reserve: bool = False) -> None:
    """Every shard of a shop's till status; ``reserve``: shard 0 must not exist yet (the id is new)."""
    for shard in range(AGG_SHARDS):
        condition = TillItem.pk.does_not_exist() if reserve and shard == 0 else None
        tx.put(f"till{shard}", TillItem(till_pk(store_id), till_sk(shard), status=status, updated_at=now),
               condition=condition)


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
        # the default shop's till; its shard 0 also tells whether an added shop already has this id
        _put_tills(tx, merchant.merchant_id, merchant.status, merchant.created_at, reserve=True)
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            if exc.failed("login"):
                raise LoginIdTaken() from None
            if exc.failed("merchant") or exc.failed("till0"):
                raise MerchantIdTaken() from None
            raise

    def set_status(self, merchant_id: str, status: str, now: dt.datetime) -> Merchant:
        """The profile and every shard of the default shop's till status together (a payment checks one
        shard), then the till of each added shop, one transaction per shop (a transaction holds at most
        100 items). A run stopped half way leaves some added shops as they were; the operator's retry
        of the same suspension or reactivation writes them all again."""
        tx = db.Transaction()
        tx.update("merchant", MerchantItem(merchant_pk(merchant_id), "PROFILE"),
                  [MerchantItem.status.set(status), MerchantItem.updated_at.set(now)],
                  condition=MerchantItem.pk.exists())
        _put_tills(tx, merchant_id, status, now)
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            if exc.failed("merchant"):
                raise merchant_not_found() from None
            raise
        for shop in self.stores(merchant_id):
            shop_tx = db.Transaction()
            _put_tills(shop_tx, shop.store_id, shop.status if status == ACTIVE else status, now)
            shop_tx.commit()
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

    # -- shops ----------------------------------------------------------------------------------
    def stores(self, merchant_id: str) -> list[Store]:
        items = StoreItem.query(merchant_pk(merchant_id), StoreItem.sk.startswith("STORE#"), consistent_read=True)
        return sorted((store_from_item(i) for i in items), key=lambda s: (s.created_at, s.store_id))

    def get_store(self, store_id: str) -> Store | None:
        for item in StoreItem.gsi2.query(store_index_pk(store_id), limit=1):
            return store_from_item(item)
        return None

    def add_store(self, store: Store, payable: str) -> None:
        if store.store_id == store.merchant_id:  # its default shop: the checks below would name one item twice
            raise StoreIdTaken()
        tx = db.Transaction()
        tx.put("store", store_item(store), condition=StoreItem.pk.does_not_exist())
        tx.check("merchant", MerchantItem, merchant_pk(store.merchant_id), "PROFILE", MerchantItem.pk.exists())
        tx.check("id", MerchantItem, merchant_pk(store.store_id), "PROFILE", MerchantItem.pk.does_not_exist())
        _put_tills(tx, store.store_id, payable, store.created_at, reserve=True)
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            if exc.failed("merchant"):
                raise merchant_not_found() from None
            if exc.conditions & {"store", "id", "till0"}:
                raise StoreIdTaken() from None
            raise

    def set_store_status(self, store: Store, status: str, payable: str, now: dt.datetime) -> Store:
        tx = db.Transaction()
        tx.update("store", StoreItem(merchant_pk(store.merchant_id), store_sk(store.store_id)),
                  [StoreItem.status.set(status), StoreItem.updated_at.set(now)], condition=StoreItem.pk.exists())
        _put_tills(tx, store.store_id, payable, now)
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            if exc.failed("store"):
                raise store_not_found() from None
            raise
        return msgspec.structs.replace(store, status=status)
