"""Where merchants are kept: the port, and its DynamoDB implementation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol

from chalicelib.accounts.model import Account
from chalicelib.core.errors import InvalidRequest, NotFound
from chalicelib.merchants.model import Merchant


class MerchantIdTaken(InvalidRequest):
    default_message = "この店舗IDはすでに登録されています。"

    def __init__(self) -> None:
        super().__init__(param="merchant_id")


def merchant_not_found() -> NotFound:
    return NotFound("店舗が見つかりません。", param="merchant_id")


class MerchantRepository(Protocol):
    def get(self, merchant_id: str) -> Merchant | None: ...

    def page(self, *, limit: int, after: dict[str, Any] | None) -> tuple[list[Merchant], dict[str, Any] | None]:
        """Merchants in registration order; ``after`` is the key a previous page returned."""

    def all(self) -> Iterator[Merchant]: ...

    def add(self, merchant: Merchant, owner: Account) -> None:
        """Store a merchant and its console login together, or neither (``MerchantIdTaken``,
        ``LoginIdTaken``)."""

    def set_status(self, merchant_id: str, status: str, now: dt.datetime) -> Merchant:
        """``NotFound`` for an unknown merchant."""

    def set_access(self, merchant_id: str, access: str, now: dt.datetime) -> Merchant: ...

    def set_login_id(self, merchant_id: str, login_id: str, now: dt.datetime) -> Merchant: ...
