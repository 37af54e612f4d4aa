"""An in-memory :class:`~chalicelib.merchants.repository.MerchantRepository` for unit tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from chalicelib.accounts.fake import FakeAccountRepository
from chalicelib.accounts.model import Account
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.merchants.model import ACTIVE, Merchant, Store
from chalicelib.merchants.repository import MerchantIdTaken, StoreIdTaken, merchant_not_found, store_not_found


class FakeMerchantRepository:
    def __init__(self, accounts: FakeAccountRepository | None = None) -> None:
        self.accounts = accounts or FakeAccountRepository()
        self.merchants: dict[str, Merchant] = {}
        self.shops: dict[str, Store] = {}
        self.tills: dict[str, str] = {}  # store id -> payable status (what a payment checks)

    def get(self, merchant_id: str) -> Merchant | None:
        return self.merchants.get(merchant_id)

    def _ordered(self) -> list[Merchant]:
        return sorted(self.merchants.values(), key=lambda m: (m.created_at, m.merchant_id))

    def page(self, *, limit: int, after: dict[str, Any] | None) -> tuple[list[Merchant], dict[str, Any] | None]:
        ordered = self._ordered()
        start = 0
        if after is not None:
            start = next((i + 1 for i, m in enumerate(ordered) if m.merchant_id == after["merchant_id"]), len(ordered))
        chunk = ordered[start:start + limit]
        more = start + limit < len(ordered)
        return chunk, ({"merchant_id": chunk[-1].merchant_id} if chunk and more else None)

    def all(self) -> Iterator[Merchant]:
        yield from self._ordered()

    def add(self, merchant: Merchant, owner: Account) -> None:
        if self.accounts.get(owner.login_id) is not None:
            raise LoginIdTaken()
        if merchant.merchant_id in self.merchants or merchant.merchant_id in self.shops:
            raise MerchantIdTaken()
        self.merchants[merchant.merchant_id] = merchant
        self.tills[merchant.merchant_id] = merchant.status
        self.accounts.add(owner)

    def set_status(self, merchant_id: str, status: str, now: dt.datetime) -> Merchant:
        merchant = self.merchants.get(merchant_id)
        if merchant is None:
            raise merchant_not_found()
        self.merchants[merchant_id] = msgspec.structs.replace(merchant, status=status)
        self.tills[merchant_id] = status
        for shop in self.stores(merchant_id):
            self.tills[shop.store_id] = shop.status if status == ACTIVE else status
        return self.merchants[merchant_id]

    def set_access(self, merchant_id: str, access: str, now: dt.datetime) -> Merchant:
        merchant = self.merchants.get(merchant_id)
        if merchant is None:
            raise merchant_not_found()
        self.merchants[merchant_id] = msgspec.structs.replace(merchant, access=access)
        return self.merchants[merchant_id]

    def set_login_id(self, merchant_id: str, login_id: str, now: dt.datetime) -> Merchant:
        merchant = self.merchants.get(merchant_id)
        if merchant is None:
            raise merchant_not_found()
        self.merchants[merchant_id] = msgspec.structs.replace(merchant, login_id=login_id)
        return self.merchants[merchant_id]

    # -- shops ----------------------------------------------------------------------------------
    def payable(self, store_id: str) -> bool:
        """What a payment's condition check reads: the shop's till status (never written: active)."""
        return self.tills.get(store_id, ACTIVE) == ACTIVE and (store_id in self.merchants or store_id in self.shops)

    def stores(self, merchant_id: str) -> list[Store]:
        return sorted((s for s in self.shops.values() if s.merchant_id == merchant_id),
                      key=lambda s: (s.created_at, s.store_id))

    def get_store(self, store_id: str) -> Store | None:
        return self.shops.get(store_id)

    def add_store(self, store: Store, payable: str) -> None:
        if store.merchant_id not in self.merchants:
            raise merchant_not_found()
        if store.store_id in self.merchants or store.store_id in self.shops:
            raise StoreIdTaken()
        self.shops[store.store_id] = store
        self.tills[store.store_id] = payable

    def set_store_status(self, store: Store, status: str, payable: str, now: dt.datetime) -> Store:
        if store.store_id not in self.shops:
            raise store_not_found()
        self.shops[store.store_id] = msgspec.structs.replace(self.shops[store.store_id], status=status)
        self.tills[store.store_id] = payable
        return self.shops[store.store_id]
