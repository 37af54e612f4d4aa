"""Every item type of the single table, and the one place that knows their keys.

Key layout (``pk`` | ``sk`` | indexes, where ``gsiN`` = ``gsiNpk`` / ``gsiNsk``; ``k`` is a shard):

- account: ``LOGIN#<login id, lower>`` | ``ACCOUNT`` | gsi1 ``STAFF#<merchant>`` / ``<staff id>`` (staff
  only, sparse); password checks: same pk | ``ATTEMPTS``; sessions: same pk | ``SESSION#<id>`` (TTL)
- audit entry: ``AUDIT#M#<merchant>#<UTC month>`` (or ``AUDIT#OPS#<UTC month>`` for entries of no
  merchant) | ``<utc>#<audit id>`` | gsi1 ``AUDIT#ALL#<UTC month>`` / ``<utc>#<audit id>`` (TTL 3 years)
- merchant: ``MERCHANT#<merchant>`` | ``PROFILE`` | gsi1 ``MERCHANTS`` / ``<created>#<merchant>``
- shop (added; a merchant's default shop is the merchant itself and has no item): ``MERCHANT#<merchant>`` |
  ``STORE#<store>`` | gsi2 ``SHOP#<store>`` / ``SHOP`` (the lookup by shop id)
- till status: ``STORE#<store>`` | ``TILL#<k>`` (a payment checks one shard, at random; ``TILL#0`` also
  reserves the id: a merchant or a shop is created only where it does not exist yet)
- wallet: ``WALLET#<consumer>`` | ``WALLET`` | gsi4 ``WALLETS#<k>`` / ``<consumer>`` (keys only, sparse)
- grant: ``GRANT#<grant id>`` | ``GRANT``
- payment (sale): ``PAYMENT#<payment id>`` | ``PAYMENT`` | gsi1 ``M#<merchant>#<JST day>`` / ``<utc>#<id>``,
  gsi2 ``C#<consumer>`` / ``<utc>#<id>``, gsi3 ``E#<merchant>`` / ``<utc>#<id>#S``
- cancellation: ``PAYMENT#<payment id>`` | ``CANCEL`` | gsi3 ``E#<merchant>`` / ``<utc>#<id>#C``
- idempotency: ``IDEM#<consumer>#<key>`` | ``IDEM`` (TTL)
- day totals: ``AGG#<merchant>`` | ``D#<day>#<store>#<k>``
- period totals: ``AGG#<merchant>`` | ``P#<period>#<store>#<k>`` | gsi1 ``PAGG#<period>`` / ``<merchant>#<store>#<k>``
- grant totals: ``AGG#GRANTS`` | ``D#<day>#<k>``
- claim batch: ``CLAIMBATCH#<batch>`` | ``BATCH`` | gsi1 ``CLAIMBATCHES`` / ``<utc>#<batch>``
- claim code: ``CLAIM#<keyed hash of the code>`` | ``CODE``; once claimed, same pk | ``USED`` | gsi1
  ``CLAIMED#<batch>`` / ``<index>`` (the batch's claimed codes in one Query)
- claim totals: ``AGG#CLAIMS`` | ``B#<batch>#<k>``; claim tries: ``CLAIMTRY#<consumer>`` | ``TRIES`` (TTL)
- period: ``PERIOD#<period>`` | ``PERIOD`` | gsi1 ``PERIODS`` / ``<period>``
- payout: ``PAYOUT#<period>`` | ``M#<merchant>`` | gsi1 ``PAYOUTS#<merchant>`` / ``<period>``,
  gsi2 ``PAYOUTS#failed`` / ``<period>#<merchant>`` (while failed)
- transfer batch: ``BATCH#<period>`` | ``BATCH``; transfer lock: ``TRANSFER#LOCK`` | ``LOCK``
- close cursor: ``SETTLEMENT#CURSOR`` | ``CURSOR``

Totals, till status and the wallets index are split over shards so that no single item is written
by every payment of a busy shop (or of the whole town): a writer picks any shard, readers add them.

Models are storage records, not domain objects: each capability's repository translates.
Numbers are :class:`IntegerAttribute` (ints only) and instants :class:`InstantAttribute` (aware only).
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.store.attributes import DateAttribute, InstantAttribute, IntegerAttribute
from chalicelib.store.connection import Item


def _index(number: int, keys_only: bool = False) -> GlobalSecondaryIndex[Any]:
    """An index object for ``gsi<number>`` (a fresh class per model: PynamoDB binds it to one model)."""
    projection = KeysOnlyProjection() if keys_only else AllProjection()
    meta = type("Meta", (), {"index_name": f"gsi{number}", "projection": projection})
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


def session_sk(session_id: str) -> str:
    return "SESSION#" + session_id


def staff_index_pk(merchant_id: str) -> str:
    return "STAFF#" + merchant_id


def audit_pk(merchant_id: str | None, month: str) -> str:
    """The partition of one merchant's audit entries of one UTC month (``YYYY-MM``)."""
    return f"AUDIT#M#{merchant_id}#{month}" if merchant_id else f"AUDIT#OPS#{month}"


def audit_all_pk(month: str) -> str:
    """The index partition of every audit entry of one UTC month (the operator's read)."""
    return "AUDIT#ALL#" + month


def merchant_pk(merchant_id: str) -> str:
    return "MERCHANT#" + merchant_id


def store_sk(store_id: str) -> str:
    return "STORE#" + store_id


def store_index_pk(store_id: str) -> str:
    return "SHOP#" + store_id


def wallet_pk(consumer_id: str) -> str:
    return "WALLET#" + consumer_id


def grant_pk(grant_id: str) -> str:
    return "GRANT#" + grant_id


def payment_pk(payment_id: str) -> str:
    return "PAYMENT#" + payment_id


def idem_pk(consumer_id: str, key: str) -> str:
    return f"IDEM#{consumer_id}#{key}"


def merchant_day_pk(merchant_id: str, day: dt.date) -> str:
    """The history index partition of one merchant's JST day."""
    return f"M#{merchant_id}#{day.isoformat()}"


def events_pk(merchant_id: str) -> str:
    """The index partition of a merchant's sales and cancellations, by their own time."""
    return "E#" + merchant_id


def agg_pk(merchant_id: str) -> str:
    return "AGG#" + merchant_id


def day_agg_sk(day: str, store_id: str, shard: int) -> str:
    return f"D#{day}#{store_id}#{shard}"


def period_agg_sk(period_id: str, store_id: str, shard: int) -> str:
    return f"P#{period_id}#{store_id}#{shard}"


def period_aggs_pk(period_id: str) -> str:
    return "PAGG#" + period_id


def till_pk(store_id: str) -> str:
    return "STORE#" + store_id


def till_sk(shard: int) -> str:
    return f"TILL#{shard}"


def wallets_index_pk(consumer_id: str) -> str:
    return f"WALLETS#{zlib.crc32(consumer_id.encode('utf-8')) % WALLET_INDEX_SHARDS}"


def claim_batch_pk(batch_id: str) -> str:
    return "CLAIMBATCH#" + batch_id


def claim_pk(code_hash: str) -> str:
    return "CLAIM#" + code_hash


def claimed_index_pk(batch_id: str) -> str:
    return "CLAIMED#" + batch_id


def claim_agg_sk(batch_id: str, shard: int) -> str:
    return f"B#{batch_id}#{shard}"


def claim_tries_pk(consumer_id: str) -> str:
    return "CLAIMTRY#" + consumer_id


def batch_pk(period_id: str) -> str:
    return "BATCH#" + period_id


def consumer_history_pk(consumer_id: str) -> str:
    return "C#" + consumer_id


def period_pk(period_id: str) -> str:
    return "PERIOD#" + period_id


def payouts_pk(period_id: str) -> str:
    return "PAYOUT#" + period_id


def payout_sk(merchant_id: str) -> str:
    return "M#" + merchant_id


AGG_SHARDS = 8  # totals and till status: a payment touches one shard of each, picked at random
WALLET_INDEX_SHARDS = 16
GRANTS_AGG_PK = "AGG#GRANTS"
CLAIMS_AGG_PK = "AGG#CLAIMS"
CLAIM_BATCHES_INDEX_PK = "CLAIMBATCHES"
TRANSFER_LOCK_PK, TRANSFER_LOCK_SK = "TRANSFER#LOCK", "LOCK"
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
    must_change_password = BooleanAttribute(null=True)
    status = UnicodeAttribute(null=True)  # absent on accounts written before revocation existed: active
    generation = IntegerAttribute(null=True)
    updated_at = InstantAttribute(null=True)
    staff_id = UnicodeAttribute(null=True)  # absent: the merchant's first login, which reads as its owner
    staff_role = UnicodeAttribute(null=True)
    store_ids = ListAttribute(of=UnicodeAttribute, null=True)  # absent: every shop
    name = UnicodeAttribute(null=True)
    disabled = BooleanAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)  # staff only: the merchant's staff list is one Query
    gsi1sk = UnicodeAttribute(null=True)
    gsi1 = _index(1)


class AttemptsItem(Item):
    """Password checks started and failed for one login ID in the current window."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="ATTEMPTS")
    checks = IntegerAttribute(default=0)
    failures = IntegerAttribute(default=0)
    window_until = InstantAttribute()
    ttl = TTLAttribute(null=True)


class SessionItem(Item):
    pk = UnicodeAttribute(hash_key=True)  # the account's partition: every session of it in one Query
    sk = UnicodeAttribute(range_key=True)  # SESSION#<id>
    login_id = UnicodeAttribute()
    role = UnicodeAttribute()
    merchant_id = UnicodeAttribute(null=True)
    must_change_password = BooleanAttribute(default=False)
    generation = IntegerAttribute(default=0)
    created_at = InstantAttribute()
    refreshed_at = InstantAttribute()
    expires_at = InstantAttribute()
    absolute_expires_at = InstantAttribute()
    ttl = TTLAttribute(null=True)
    staff_id = UnicodeAttribute(null=True)
    staff_role = UnicodeAttribute(null=True)
    store_ids = ListAttribute(of=UnicodeAttribute, null=True)


class AuditItem(Item):
    """One audit entry: written once (conditional put), never updated or deleted by the application."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    audit_id = UnicodeAttribute()
    at = InstantAttribute()
    actor = UnicodeAttribute()
    actor_role = UnicodeAttribute(null=True)
    action = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    merchant_id = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi1 = _index(1)
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
    access = UnicodeAttribute(null=True)  # absent: active
    bank = BankMap()  # type: ignore[no-untyped-call]
    created_at = InstantAttribute()
    updated_at = InstantAttribute(null=True)
    gsi1pk = UnicodeAttribute(default=MERCHANTS_INDEX_PK)
    gsi1sk = UnicodeAttribute()
    gsi1 = _index(1)


class StoreItem(Item):
    """An added shop, beside its merchant's profile: the merchant's shops are one Query."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    store_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    name_ja = UnicodeAttribute()
    name_en = UnicodeAttribute()
    mcc = UnicodeAttribute()
    city = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = InstantAttribute()
    updated_at = InstantAttribute(null=True)
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute(default="SHOP")
    gsi2 = _index(2)


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
    gsi4pk = UnicodeAttribute(null=True)  # set once, when the wallet is created: the ledger's list of wallets
    gsi4sk = UnicodeAttribute(null=True)
    gsi4 = _index(4, keys_only=True)


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


class ClaimBatchItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="BATCH")
    batch_id = UnicodeAttribute()
    codes_count = IntegerAttribute()
    points = IntegerAttribute()
    expires_on = DateAttribute()
    expires_at = InstantAttribute()
    created_at = InstantAttribute()
    state = UnicodeAttribute()  # writing | ready
    gsi1pk = UnicodeAttribute(default=CLAIM_BATCHES_INDEX_PK)
    gsi1sk = UnicodeAttribute()
    gsi1 = _index(1)


class ClaimCodeItem(Item):
    """One code of a batch, known by its keyed hash; written once with the batch, never changed."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="CODE")
    batch_id = UnicodeAttribute()
    index = IntegerAttribute()
    points = IntegerAttribute()
    expires_at = InstantAttribute()


class ClaimUsedItem(Item):
    """The mark that a code was claimed: put once, in the claim's transaction, on its absence."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="USED")
    batch_id = UnicodeAttribute()
    index = IntegerAttribute()
    points = IntegerAttribute()
    consumer_id = UnicodeAttribute()
    claimed_at = InstantAttribute()
    expires_at = InstantAttribute(null=True)  # the code's (and its lot's) expiry
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi1 = _index(1)


class ClaimAggItem(Item):
    pk = UnicodeAttribute(hash_key=True, default=CLAIMS_AGG_PK)
    sk = UnicodeAttribute(range_key=True)
    batch_id = UnicodeAttribute(null=True)
    claimed_count = IntegerAttribute(null=True)
    claimed_points = IntegerAttribute(null=True)


class ClaimTriesItem(Item):
    """A consumer's claim attempts in the current window: reserved before a code is looked at."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="TRIES")
    tries = IntegerAttribute(default=0)
    window_until = InstantAttribute()
    ttl = TTLAttribute(null=True)


class LedgerItem(Item):
    """A payment (``kind = sale``) or its cancellation (``kind = cancel``): the settlement's events."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    payment_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)  # absent on rows written before shops: the default shop
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
    batch_id = UnicodeAttribute(null=True)  # the period whose transfer file last carried it
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi1 = _index(1)
    gsi2 = _index(2)


class TillItem(Item):
    """One shard of a shop's payable status, checked by payments instead of the profile itself."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    updated_at = InstantAttribute(null=True)


class DayAggItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    day = UnicodeAttribute(null=True)
    sales_count = IntegerAttribute(null=True)
    sales_points = IntegerAttribute(null=True)
    cancelled_count = IntegerAttribute(null=True)
    cancelled_points = IntegerAttribute(null=True)
    cancel_count = IntegerAttribute(null=True)
    cancel_points = IntegerAttribute(null=True)


class PeriodAggItem(Item):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    period_id = UnicodeAttribute(null=True)
    sales_count = IntegerAttribute(null=True)
    sales_points = IntegerAttribute(null=True)
    cancelled_count = IntegerAttribute(null=True)
    cancelled_points = IntegerAttribute(null=True)
    cancel_count = IntegerAttribute(null=True)
    cancel_points = IntegerAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi1 = _index(1)


class GrantAggItem(Item):
    pk = UnicodeAttribute(hash_key=True, default=GRANTS_AGG_PK)
    sk = UnicodeAttribute(range_key=True)
    grants_count = IntegerAttribute(null=True)
    points = IntegerAttribute(null=True)


class TransferBatchItem(Item):
    """A period's bank transfer file: the payouts it pays, frozen when it is first generated."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="BATCH")
    period_id = UnicodeAttribute()
    state = UnicodeAttribute()  # generating | ready
    payouts = ListAttribute(of=UnicodeAttribute)  # "<period>#<merchant>" of each payout in the file
    file_key = UnicodeAttribute()
    transfers = IntegerAttribute(default=0)
    total = IntegerAttribute(default=0)
    created_at = InstantAttribute()
    ready_at = InstantAttribute(null=True)


class TransferLockItem(Item):
    """Held while a transfer file is generated: payout marks wait for it (they answer 409)."""

    pk = UnicodeAttribute(hash_key=True, default=TRANSFER_LOCK_PK)
    sk = UnicodeAttribute(range_key=True, default=TRANSFER_LOCK_SK)
    period_id = UnicodeAttribute(null=True)
    until = InstantAttribute(null=True)


class CursorItem(Item):
    pk = UnicodeAttribute(hash_key=True, default=CURSOR_PK)
    sk = UnicodeAttribute(range_key=True, default=CURSOR_SK)
    last_closed = UnicodeAttribute()
