"""A merchant (事業者, the unit that is paid) and its shops (店舗): names, QR fields, status and the
bank account it is paid to.

Invariants:
- Only an ``active`` merchant can be paid. Suspension is a status change, never a deletion: past
  payments, cancellations and payouts keep pointing at the merchant.
- The QR payload is derived from the stored merchant (id, names, MCC, city) and the configured
  scheme GUID; decoding a scanned payload never trusts its names, only its merchant id.
- A merchant has one or more shops. Its default shop is not stored: it is derived from the merchant
  (same id, names, MCC and status), so every merchant registered before shops existed has it with no
  migration and every QR code already printed keeps naming it. Added shops are stored, each with an
  id of the same style that is unique among merchants and shops; the QR's merchant-id field names
  the shop.
- A shop can be paid only while both it and its merchant are active.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.qr import MerchantQR

ACTIVE, SUSPENDED, REVOKED = "active", "suspended", "revoked"


class Merchant(msgspec.Struct, frozen=True):
    merchant_id: str
    name_ja: str
    name_en: str
    mcc: str
    city: str
    status: str
    login_id: str
    bank: BankAccount
    created_at: dt.datetime
    access: str = ACTIVE  # REVOKED: its people cannot sign in until the operator restores it

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def qr(self) -> MerchantQR:
        return MerchantQR(merchant_id=self.merchant_id, name_en=self.name_en, name_ja=self.name_ja,
                          mcc=self.mcc, city=self.city)


class Store(msgspec.Struct, frozen=True):
    """A shop (店舗) of a merchant: what a QR code names and a payment is made at."""

    store_id: str
    merchant_id: str
    name_ja: str
    name_en: str
    mcc: str
    city: str
    status: str
    created_at: dt.datetime

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def is_default(self) -> bool:
        return self.store_id == self.merchant_id

    def qr(self) -> MerchantQR:
        return MerchantQR(merchant_id=self.store_id, name_en=self.name_en, name_ja=self.name_ja,
                          mcc=self.mcc, city=self.city)


def default_store(merchant: Merchant) -> Store:
    """The shop every merchant has: its id is the merchant id and it shares the merchant's status."""
    return Store(store_id=merchant.merchant_id, merchant_id=merchant.merchant_id, name_ja=merchant.name_ja,
                 name_en=merchant.name_en, mcc=merchant.mcc, city=merchant.city, status=merchant.status,
                 created_at=merchant.created_at)
