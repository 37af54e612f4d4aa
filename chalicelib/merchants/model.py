"""A merchant (加盟店): names, QR fields, status and the bank account it is paid to.

Invariants:
- Only an ``active`` merchant can be paid. Suspension is a status change, never a deletion: past
  payments, cancellations and payouts keep pointing at the merchant.
- The QR payload is derived from the stored merchant (id, names, MCC, city) and the configured
  scheme GUID; decoding a scanned payload never trusts its names, only its merchant id.
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
