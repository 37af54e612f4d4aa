"""Merchant registration, listing, suspension and QR lookup.

Invariants:
- A merchant and its console login are created together in one transaction; the initial password
  is returned once (for the printed letter) and only its scrypt hash is stored.
- Only an ``active`` merchant can be paid. Suspension is a status change, never a deletion: past
  payments, cancellations and payouts keep pointing at the merchant.
- The QR payload is derived from the stored merchant (id, names, MCC, city) and the configured
  scheme GUID; decoding a scanned payload never trusts its names, only its merchant id.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.accounts import passwords
from chalicelib.accounts.service import AccountRepository
from chalicelib.core.clock import Clock, utc_key
from chalicelib.core.errors import InvalidRequest, MerchantUnavailable, NotFound
from chalicelib.core.ids import new_id, new_secret_password
from chalicelib.payments.qr import (
    MerchantQR,
    decode_merchant_qr,
    encode_merchant_qr,
    validate_name_en,
    validate_name_ja,
)
from chalicelib.settlement.bank import BankAccount, parse_bank_account
from chalicelib.store.table import ConditionFailed, Table, TransactionConflict, op_put

ACTIVE, SUSPENDED = "active", "suspended"


def merchant_pk(merchant_id: str) -> str:
    return "MERCHANT#" + merchant_id


@dataclasses.dataclass(frozen=True)
class Merchant:
    merchant_id: str
    name_ja: str
    name_en: str
    mcc: str
    city: str
    status: str
    login_id: str
    bank: BankAccount
    created_at: str

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def qr(self) -> MerchantQR:
        return MerchantQR(merchant_id=self.merchant_id, name_en=self.name_en, name_ja=self.name_ja,
                          mcc=self.mcc, city=self.city)

    def to_public(self) -> dict[str, Any]:
        return {"merchant_id": self.merchant_id, "name_ja": self.name_ja, "name_en": self.name_en}

    def to_admin(self) -> dict[str, Any]:
        return {
            **self.to_public(),
            "mcc": self.mcc,
            "city": self.city,
            "status": self.status,
            "login_id": self.login_id,
            "bank": self.bank.to_dict(),
            "created_at": self.created_at,
        }


def merchant_from_item(item: dict[str, Any]) -> Merchant:
    return Merchant(
        merchant_id=item["merchant_id"], name_ja=item["name_ja"], name_en=item["name_en"],
        mcc=item["mcc"], city=item["city"], status=item["status"], login_id=item["login_id"],
        bank=parse_bank_account(item["bank"]), created_at=item["created_at"],
    )


@dataclasses.dataclass(frozen=True)
class Registration:
    merchant: Merchant
    initial_password: str
    qr_payload: str


def validate_mcc(value: Any) -> str:
    if value is None:
        return "5999"
    if not isinstance(value, str) or len(value) != 4 or not value.isdigit():
        raise InvalidRequest("mcc は4桁の数字にしてください(例: 5812)。", param="mcc")
    return value


class MerchantService:
    def __init__(self, table: Table, accounts: AccountRepository, clock: Clock, *, guid: str, city: str) -> None:
        self.table = table
        self.accounts = accounts
        self.clock = clock
        self.guid = guid
        self.city = city

    # -- registration -------------------------------------------------------------------------
    def register(
        self, *, name_ja: Any, name_en: Any, mcc: Any, bank: Any,
        merchant_id: str | None = None, login_id: str | None = None, password: str | None = None,
    ) -> Registration:
        try:
            clean_ja = validate_name_ja(name_ja if isinstance(name_ja, str) else "")
        except ValueError as exc:
            raise InvalidRequest(f"name_ja: {exc}", param="name_ja") from None
        try:
            clean_en = validate_name_en(name_en if isinstance(name_en, str) else "")
        except ValueError as exc:
            raise InvalidRequest(f"name_en: {exc}", param="name_en") from None
        account = parse_bank_account(bank)
        now = self.clock.now()
        mid = merchant_id or "M" + new_id(9)
        login = login_id or mid
        initial = password or new_secret_password()
        merchant = Merchant(
            merchant_id=mid, name_ja=clean_ja, name_en=clean_en, mcc=validate_mcc(mcc), city=self.city,
            status=ACTIVE, login_id=login, bank=account, created_at=utc_key(now),
        )
        payload = encode_merchant_qr(merchant.qr(), guid=self.guid)
        item = {
            "pk": merchant_pk(mid), "sk": "PROFILE", "merchant_id": mid, "name_ja": clean_ja,
            "name_en": clean_en, "mcc": merchant.mcc, "city": self.city, "status": ACTIVE,
            "login_id": login, "bank": account.to_dict(), "created_at": merchant.created_at,
            "gsi1pk": "MERCHANTS", "gsi1sk": f"{merchant.created_at}#{mid}",
        }
        login_item = self.accounts.account_put_op_item(
            login_id=login, role="merchant", password_hash=passwords.hash_password(initial),
            merchant_id=mid, now=now,
        )
        try:
            self.table.transact([
                op_put(item, condition="attribute_not_exists(pk)"),
                op_put(login_item, condition="attribute_not_exists(pk)"),
            ])
        except TransactionConflict as exc:
            if exc.failed(1):
                raise InvalidRequest("このログインIDはすでに使われています。", param="login_id") from None
            raise InvalidRequest("この店舗IDはすでに登録されています。", param="merchant_id") from None
        return Registration(merchant=merchant, initial_password=initial, qr_payload=payload)

    # -- reads --------------------------------------------------------------------------------
    def get(self, merchant_id: str) -> Merchant:
        if not merchant_id or len(merchant_id) > 64:
            raise NotFound("店舗が見つかりません。", param="merchant_id")
        item = self.table.get(merchant_pk(merchant_id), "PROFILE")
        if item is None:
            raise NotFound("店舗が見つかりません。", param="merchant_id")
        return merchant_from_item(item)

    def page(
        self, *, limit: int = 100, start_key: dict[str, Any] | None = None
    ) -> tuple[list[Merchant], dict[str, Any] | None]:
        page = self.table.query_page(
            index="gsi1", key_condition="gsi1pk = :p", values={":p": "MERCHANTS"},
            limit=limit, start_key=start_key,
        )
        return [merchant_from_item(i) for i in page.items], page.last_key

    def all(self) -> list[Merchant]:
        return [merchant_from_item(i) for i in self.table.query(
            index="gsi1", key_condition="gsi1pk = :p", values={":p": "MERCHANTS"})]

    def qr_payload(self, merchant: Merchant) -> str:
        return encode_merchant_qr(merchant.qr(), guid=self.guid)

    def lookup_qr(self, payload: str) -> Merchant:
        decoded = decode_merchant_qr(payload, guid=self.guid)
        return self.require_active(decoded.merchant_id)

    def require_active(self, merchant_id: str) -> Merchant:
        try:
            merchant = self.get(merchant_id)
        except NotFound:
            raise MerchantUnavailable("このお店は登録されていません。", param="merchant_id") from None
        if not merchant.active:
            raise MerchantUnavailable()
        return merchant

    # -- changes ------------------------------------------------------------------------------
    def set_status(self, merchant_id: str, status: str) -> Merchant:
        try:
            item = self.table.update(
                merchant_pk(merchant_id), "PROFILE",
                update="SET #s = :s, updated_at = :t",
                condition="attribute_exists(pk)",
                names={"#s": "status"},
                values={":s": status, ":t": utc_key(self.clock.now())},
            )
        except ConditionFailed:
            raise NotFound("店舗が見つかりません。", param="merchant_id") from None
        assert item is not None
        return merchant_from_item(item)

    def reset_password(self, merchant_id: str) -> tuple[Merchant, str]:
        merchant = self.get(merchant_id)
        password = new_secret_password()
        self.accounts.set_password(merchant.login_id, password, self.clock.now())
        return merchant, password
