"""How wallets, grants, payments, cancellations and idempotency records are stored.

Single table, overloaded keys (see infrastructure/resources.json):

- wallet:       pk WALLET#<consumer>,   sk WALLET
- grant:        pk GRANT#<grant_id>,    sk GRANT
- payment:      pk PAYMENT#<payment_id>, sk PAYMENT;
                gsi1 M#<merchant> / <utc>#<pid> (merchant history by time),
                gsi2 C#<consumer> / <utc>#<pid> (consumer history by time),
                gsi3 P#<period> / <merchant>#<utc>#<pid>#S (settlement events of the sale's period)
- cancellation: pk PAYMENT#<payment_id>, sk CANCEL;
                gsi3 P#<period> / <merchant>#<utc>#<pid>#C (in the period of the cancellation)
- idempotency:  pk IDEM#<consumer>#<key>, sk IDEM (expires through the table's TTL)

The stored record is not the domain object: these functions are the only translation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from chalicelib.core.clock import jst_iso, parse_utc_key, utc_key
from chalicelib.payments.wallet import Lot, Share, Wallet
from chalicelib.settlement.periods import period_of
from chalicelib.store.table import op_update

WALLET_SK = "WALLET"
PAYMENT_SK = "PAYMENT"
CANCEL_SK = "CANCEL"


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


def wallet_from_item(consumer_id: str, item: dict[str, Any] | None) -> Wallet:
    if item is None:
        return Wallet.empty(consumer_id)
    return Wallet(
        consumer_id=consumer_id,
        version=int(item.get("version", 0)),
        lots=tuple(Lot.from_item(raw) for raw in item.get("lots", [])),
        expired_points=int(item.get("expired_points", 0)),
    )


def wallet_write(wallet: Wallet, lots: Sequence[Lot], add_expired: int, now: dt.datetime) -> dict[str, Any]:
    """The wallet's new lots as a transaction item, conditional on the version that was read:
    if anything changed the wallet since (a payment, a grant, a refund), the transaction fails and
    the caller re-reads and re-plans, so no update is ever lost."""
    return op_update(
        wallet_pk(wallet.consumer_id), WALLET_SK,
        "SET lots = :lots, version = :next, updated_at = :t, "
        "expired_points = if_not_exists(expired_points, :zero) + :expired",
        condition="version = :v",
        values={":lots": [lot.to_item() for lot in lots], ":next": wallet.version + 1, ":v": wallet.version,
                ":t": utc_key(now), ":zero": 0, ":expired": add_expired},
    )


@dataclasses.dataclass(frozen=True)
class Payment:
    payment_id: str
    merchant_id: str
    consumer_id: str
    amount: int
    status: str  # "completed" | "cancelled"
    completed_at: dt.datetime
    cancelled_at: dt.datetime | None
    name_ja: str
    name_en: str
    shares: tuple[Share, ...]

    def to_api(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "merchant_id": self.merchant_id,
            "consumer_id": self.consumer_id,
            "name_ja": self.name_ja,
            "amount": self.amount,
            "status": self.status,
            "completed_at": jst_iso(self.completed_at),
            "cancelled_at": jst_iso(self.cancelled_at) if self.cancelled_at else None,
        }


def payment_item(p: Payment, idempotency_key: str) -> dict[str, Any]:
    at = utc_key(p.completed_at)
    return {
        "pk": payment_pk(p.payment_id),
        "sk": PAYMENT_SK,
        "kind": "sale",
        "payment_id": p.payment_id,
        "merchant_id": p.merchant_id,
        "consumer_id": p.consumer_id,
        "amount": p.amount,
        "status": p.status,
        "completed_at": at,
        "name_ja": p.name_ja,
        "name_en": p.name_en,
        "shares": [s.to_item() for s in p.shares],
        "idempotency_key": idempotency_key,
        "gsi1pk": merchant_history_pk(p.merchant_id),
        "gsi1sk": f"{at}#{p.payment_id}",
        "gsi2pk": consumer_history_pk(p.consumer_id),
        "gsi2sk": f"{at}#{p.payment_id}",
        "gsi3pk": period_events_pk(period_of(p.completed_at).id),
        "gsi3sk": f"{p.merchant_id}#{at}#{p.payment_id}#S",
    }


def payment_from_item(item: dict[str, Any]) -> Payment:
    cancelled = item.get("cancelled_at")
    return Payment(
        payment_id=item["payment_id"],
        merchant_id=item["merchant_id"],
        consumer_id=item["consumer_id"],
        amount=int(item["amount"]),
        status=item["status"],
        completed_at=parse_utc_key(item["completed_at"]),
        cancelled_at=parse_utc_key(cancelled) if cancelled else None,
        name_ja=item.get("name_ja", ""),
        name_en=item.get("name_en", ""),
        shares=tuple(Share.from_item(s) for s in item.get("shares", [])),
    )


def cancel_item(p: Payment, cancelled_at: dt.datetime, by: str) -> dict[str, Any]:
    """The cancellation as its own ledger row, in the period of its own timestamp (SPEC §7)."""
    at = utc_key(cancelled_at)
    return {
        "pk": payment_pk(p.payment_id),
        "sk": CANCEL_SK,
        "kind": "cancel",
        "payment_id": p.payment_id,
        "merchant_id": p.merchant_id,
        "consumer_id": p.consumer_id,
        "amount": p.amount,
        "cancelled_at": at,
        "completed_at": utc_key(p.completed_at),
        "cancelled_by": by,
        "gsi3pk": period_events_pk(period_of(cancelled_at).id),
        "gsi3sk": f"{p.merchant_id}#{at}#{p.payment_id}#C",
    }
