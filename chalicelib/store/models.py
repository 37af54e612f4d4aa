"""Every item type of the single table, and the one place that knows their keys.

Key layout (``pk`` / ``sk``; ``gsiN`` = ``gsiNpk`` / ``gsiNsk``):

================  =============================  ===========  ==============================================
item              pk                             sk           indexes
================  =============================  ===========  ==============================================
account           ``LOGIN#<login id, lower>``    ``ACCOUNT``
login failures    ``LOGIN#<login id, lower>``    ``FAILURES``
merchant          ``MERCHANT#<merchant>``        ``PROFILE``  gsi1 ``MERCHANTS`` / ``<created>#<merchant>``
wallet            ``WALLET#<consumer>``          ``WALLET``
grant             ``GRANT#<grant id>``           ``GRANT``
payment (sale)    ``PAYMENT#<payment id>``       ``PAYMENT``  gsi1 ``M#<merchant>`` / ``<utc>#<id>`` (history);
                                                              gsi2 ``C#<consumer>`` / ``<utc>#<id>``;
                                                              gsi3 ``P#<period>`` / ``<merchant>#<utc>#<id>#S``
cancellation      ``PAYMENT#<payment id>``       ``CANCEL``   gsi3 ``P#<period>`` / ``<merchant>#<utc>#<id>#C``
idempotency       ``IDEM#<consumer>#<key>``      ``IDEM``     (TTL)
period            ``PERIOD#<period>``            ``PERIOD``   gsi1 ``PERIODS`` / ``<period>``
payout            ``PAYOUT#<period>``            ``M#<merch>`` gsi1 ``PAYOUTS#<merchant>`` / ``<period>``;
                                                              gsi2 ``PAYOUTS#failed`` / ``<period>#<merchant>``
close cursor      ``SETTLEMENT#CURSOR``          ``CURSOR``
================  =============================  ===========  ==============================================

Models are storage records, not domain objects: each capability's repository translates.
Numbers are :class:`IntegerAttribute` (ints only) and instants :class:`InstantAttribute` (aware only).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.attributes import DateAttribute, InstantAttribute, IntegerAttribute
from chalicelib.store.connection import Item


def _index(number: int) -> GlobalSecondaryIndex[Any]:
    """An index object for ``gsi<number>`` (a fresh class per model: PynamoDB binds it to one model)."""
    meta = type("Meta", (), {"index_name": f"gsi{number}", "projection": AllProjection()})
    attrs = {
        "Meta": meta,
        f"gsi{number}pk": UnicodeAttribute(hash_key=True),
        f"gsi{number}sk": UnicodeAttribute(range_key=True),
    }
    cls = type(f"Gsi{number}", (GlobalSecondaryIndex,), attrs)
    return cls()  # type: ignore[no-any-return]


# -- keys -----------------------------------------------------------------------------------------
def login_pk(login_id: str) -> str:
    return "LOGIN#" + login_id.strip().lower()


def merchant_pk(merchant_id: str) -> str:
    return "MERCHANT#" + merchant_id


def wallet_pk(consumer_id: str) -> str:
    return "WALLET#" + consumer_id


def grant_pk(grant_id: str) -> str:
    return "GRANT#" + grant_id


def payment_pk(payment_id: str) -> str:
    return "PAYMENT#" + payment_id


def idem_pk(consumer_id: str, key: str) -> str:
    return f"IDEM#{consumer_id}#{key}"


def merchant_history_pk(merchant_id: str) -> str:
    return "M#" + merchant_id


def consumer_history_pk(consumer_id: str) -> str:
    return "C#" + consumer_id


def period_events_pk(period_id: str) -> str:
    return "P#" + period_id


def period_pk(period_id: str) -> str:
    return "PERIOD#" + period_id


def payouts_pk(period_id: str) -> str:
    return "PAYOUT#" + period_id


def payout_sk(merchant_id: str) -> str:
    return "M#" + merchant_id


MERCHANTS_INDEX_PK = "MERCHANTS"
PERIODS_INDEX_PK = "PERIODS"
FAILED_PAYOUTS_PK = "PAYOUTS#failed"
CURSOR_PK, CURSOR_SK = "SETTLEMENT#CURSOR", "CURSOR"


def merchant_payouts_pk(merchant_id: str) -> str:
    return "PAYOUTS#" + merchant_id


# -- accounts -------------------------------------------------------------------------------------
class AccountItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="ACCOUNT")
    login_id = UnicodeAttribute()
    role = UnicodeAttribute()
    merchant_id = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute()
    created_at = InstantAttribute()
    password_set_at = InstantAttribute()


class LoginFailuresItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="FAILURES")
    failures = IntegerAttribute(attr_name="count", default=0)  # `count` is a Model method
    locked_until = InstantAttribute(null=True)
    ttl = TTLAttribute(null=True)


# -- merchants ------------------------------------------------------------------------------------
class BankMap(MapAttribute[str, Any]):  # type: ignore[misc]
    bank_code = UnicodeAttribute()
    branch_code = UnicodeAttribute()
    account_type = IntegerAttribute()
    account_number = UnicodeAttribute()
    holder_kana = UnicodeAttribute()


class MerchantItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="PROFILE")
    merchant_id = UnicodeAttribute()
    name_ja = UnicodeAttribute()
    name_en = UnicodeAttribute()
    mcc = UnicodeAttribute()
    city = UnicodeAttribute()
    status = UnicodeAttribute()
    login_id = UnicodeAttribute()
    bank = BankMap()  # type: ignore[no-untyped-call]
    created_at = InstantAttribute()
    updated_at = InstantAttribute(null=True)
    gsi1pk = UnicodeAttribute(default=MERCHANTS_INDEX_PK)
    gsi1sk = UnicodeAttribute()
    gsi1 = _index(1)


# -- wallets, grants, payments --------------------------------------------------------------------
class LotMap(MapAttribute[str, Any]):  # type: ignore[misc]
    """One lot of a wallet, or one share of a payment (the lot it came from)."""

    id = UnicodeAttribute()
    exp = InstantAttribute()
    pts = IntegerAttribute()


class WalletItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="WALLET")
    consumer_id = UnicodeAttribute(null=True)
    lots = ListAttribute(of=LotMap, default=list)
    version = IntegerAttribute(default=0)
    expired_points = IntegerAttribute(default=0)
    updated_at = InstantAttribute(null=True)


class GrantItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="GRANT")
    kind = UnicodeAttribute(default="grant")
    grant_id = UnicodeAttribute()
    consumer_id = UnicodeAttribute()
    points = IntegerAttribute()
    expires_on = DateAttribute()
    expires_at = InstantAttribute()
    granted_at = InstantAttribute()


class LedgerItem(Item):
    """A payment (``kind = sale``) or its cancellation (``kind = cancel``): the settlement's events."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    payment_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    consumer_id = UnicodeAttribute()
    amount = IntegerAttribute()
    completed_at = InstantAttribute()
    gsi3pk = UnicodeAttribute()
    gsi3sk = UnicodeAttribute()
    gsi3 = _index(3)


class PaymentItem(LedgerItem, discriminator="sale"):
    status = UnicodeAttribute()
    cancelled_at = InstantAttribute(null=True)
    cancelled_by = UnicodeAttribute(null=True)
    name_ja = UnicodeAttribute(default="")
    name_en = UnicodeAttribute(default="")
    shares = ListAttribute(of=LotMap, default=list)
    idempotency_key = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    gsi1 = _index(1)
    gsi2 = _index(2)


class CancelItem(LedgerItem, discriminator="cancel"):
    cancelled_at = InstantAttribute()
    cancelled_by = UnicodeAttribute()


class IdempotencyItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="IDEM")
    fingerprint = UnicodeAttribute()
    status = IntegerAttribute()
    response = UnicodeAttribute()
    payment_id = UnicodeAttribute(null=True)
    created_at = InstantAttribute(null=True)
    ttl = TTLAttribute(null=True)


# -- settlement -----------------------------------------------------------------------------------
class PeriodItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="PERIOD")
    period_id = UnicodeAttribute()
    state = UnicodeAttribute()
    closed_at = InstantAttribute(null=True)
    updated_at = InstantAttribute(null=True)
    payouts_count = IntegerAttribute(null=True)
    payouts_total = IntegerAttribute(null=True)
    sales_points = IntegerAttribute(null=True)
    cancel_points = IntegerAttribute(null=True)
    gsi1pk = UnicodeAttribute(default=PERIODS_INDEX_PK)
    gsi1sk = UnicodeAttribute()
    gsi1 = _index(1)


class PayoutItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="payout")
    period_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    name_ja = UnicodeAttribute(default="")
    sales_count = IntegerAttribute()
    sales_points = IntegerAttribute()
    cancel_count = IntegerAttribute()
    cancel_points = IntegerAttribute()
    carried_in = IntegerAttribute()
    net = IntegerAttribute()
    payout = IntegerAttribute()
    carry_out = IntegerAttribute()
    transfer_date = DateAttribute()
    processing_start_date = DateAttribute()
    status = UnicodeAttribute()
    created_at = InstantAttribute()
    exported_at = InstantAttribute(null=True)
    status_changed_at = InstantAttribute(null=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi1 = _index(1)
    gsi2 = _index(2)


class CursorItem(Item):
    pk = UnicodeAttribute(hash_key=True, default=CURSOR_PK)
    sk = UnicodeAttribute(range_key=True, default=CURSOR_SK)
    last_closed = UnicodeAttribute()
