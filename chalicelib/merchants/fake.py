"""An in-memory :class:`~chalicelib.merchants.repository.MerchantRepository` for unit tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from chalicelib.accounts.fake import FakeAccountRepository
from chalicelib.accounts.model import Account
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.merchants.model import Merchant
from chalicelib.merchants.repository import MerchantIdTaken, merchant_not_found


class FakeMerchantRepository:
    def __init__(self, accounts: FakeAccountRepository | None = None) -> None:
        self.accounts = accounts or FakeAccountRepository()
        self.merchants: dict[str, Merchant] = {}

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
        if merchant.merchant_id in self.merchants:
            raise MerchantIdTaken()
        self.merchants[merchant.merchant_id] = merchant
        self.accounts.add(owner)

    def set_status(self, merchant_id: str, status: str, now: dt.datetime) -> Merchant:
        merchant = self.merchants.get(merchant_id)
        if merchant is None:
            raise merchant_not_found()
        self.merchants[merchant_id] = msgspec.structs.replace(merchant, status=status)
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
