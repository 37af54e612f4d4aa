"""Where merchants are kept: the port, and its DynamoDB implementation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol

from chalicelib.accounts.model import Account
from chalicelib.core.errors import InvalidRequest, NotFound
from chalicelib.merchants.model import Merchant, Store


class MerchantIdTaken(InvalidRequest):
    default_message = "この店舗IDはすでに登録されています。"

    def __init__(self) -> None:
        super().__init__(param="merchant_id")


class StoreIdTaken(InvalidRequest):
    default_message = "この店舗IDはすでに使われています。"

    def __init__(self) -> None:
        super().__init__(param="store_id")


def merchant_not_found() -> NotFound:
    return NotFound("店舗が見つかりません。", param="merchant_id")


def store_not_found() -> NotFound:
    return NotFound("店舗が見つかりません。", param="store_id")


class MerchantRepository(Protocol):
    def get(self, merchant_id: str) -> Merchant | None: ...

    def page(self, *, limit: int, after: dict[str, Any] | None) -> tuple[list[Merchant], dict[str, Any] | None]:
        """Merchants in registration order; ``after`` is the key a previous page returned."""

    def all(self) -> Iterator[Merchant]: ...

    def add(self, merchant: Merchant, owner: Account) -> None:
        """Store a merchant and its console login together, or neither (``MerchantIdTaken`` also when
        a shop has the id, ``LoginIdTaken``)."""

    def set_status(self, merchant_id: str, status: str, now: dt.datetime) -> Merchant:
        """``NotFound`` for an unknown merchant. The payable status of every shop of the merchant
        follows (a suspended merchant's shops cannot be paid; reactivation restores each shop's own)."""

    def set_access(self, merchant_id: str, access: str, now: dt.datetime) -> Merchant: ...

    def set_login_id(self, merchant_id: str, login_id: str, now: dt.datetime) -> Merchant: ...

    # -- shops (the default shop is derived from the merchant and never stored) -------------------
    def stores(self, merchant_id: str) -> list[Store]:
        """The merchant's added shops, in the order they were added (one consistent read)."""

    def get_store(self, store_id: str) -> Store | None:
        """An added shop by its id (None for a default shop or an unknown id)."""

    def add_store(self, store: Store, payable: str) -> None:
        """Store a new shop of an existing merchant with its till status ``payable`` (``NotFound``
        for an unknown merchant, ``StoreIdTaken`` when a merchant or shop has the id)."""

    def set_store_status(self, store: Store, status: str, payable: str, now: dt.datetime) -> Store:
        """The shop's own status and its till status ``payable`` together."""
