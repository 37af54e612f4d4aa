"""Payments, cancellations, grants and idempotency records as the domain sees them.

Invariants (all amounts ``int`` points):
- A payment's ``shares`` say which lot each of its points came from and add up to its ``amount``;
  a cancellation returns exactly those shares.
- A payment is ``completed`` or ``cancelled``; ``cancelled_at`` is set exactly when cancelled.
- A cancellation is a ledger event of its own (a reversal row), stamped with its own time, never an
  edit of the sale's amount (SPEC §7: it belongs to the period of its own timestamp).
"""

from __future__ import annotations

import datetime as dt

import msgspec

from chalicelib.payments.wallet import Share

COMPLETED, CANCELLED = "completed", "cancelled"


class Payment(msgspec.Struct, frozen=True):
    payment_id: str
    merchant_id: str
    consumer_id: str
    amount: int
    status: str  # COMPLETED | CANCELLED
    completed_at: dt.datetime
    cancelled_at: dt.datetime | None
    name_ja: str
    name_en: str
    shares: tuple[Share, ...]
    store_id: str = ""  # the shop it was paid at; the merchant's default shop has the merchant's id

    def __post_init__(self) -> None:
        if not self.store_id:
            msgspec.structs.force_setattr(self, "store_id", self.merchant_id)

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def store_name(self) -> str:
        """The shop's name as paid (a payment from before shops: its merchant's, the default shop's)."""
        return self.name_ja


class LedgerEvent(msgspec.Struct, frozen=True):
    """A settlement event: a sale at its payment time or a cancellation at its own time."""

    kind: str  # "sale" | "cancel"
    payment_id: str
    merchant_id: str
    amount: int
    at: dt.datetime
    store_id: str = ""


class Grant(msgspec.Struct, frozen=True):
    grant_id: str
    consumer_id: str
    points: int
    expires_on: dt.date

    def same_as(self, other: Grant) -> bool:
        return (self.consumer_id, self.points, self.expires_on) == (other.consumer_id, other.points, other.expires_on)


class IdempotencyRecord(msgspec.Struct, frozen=True):
    """What a payment request answered, kept so that a retry gets the same answer (Stripe-like)."""

    consumer_id: str
    key: str
    fingerprint: str
    status: int
    response: str  # the JSON body as sent
    payment_id: str | None
    created_at: dt.datetime


class ClaimBatch(msgspec.Struct, frozen=True, kw_only=True):
    """A batch of one-time claim codes, each worth ``points``, claimable until the end of ``expires_on``
    (JST). ``ready`` once every code item is written; ``claimed_*`` from the claim totals."""

    batch_id: str
    count: int
    points: int
    expires_on: dt.date
    expires_at: dt.datetime
    created_at: dt.datetime
    ready: bool = False
    claimed_count: int = 0
    claimed_points: int = 0

    def same_as(self, count: int, points: int, expires_on: dt.date) -> bool:
        return (self.count, self.points, self.expires_on) == (count, points, expires_on)

    @property
    def issued_points(self) -> int:
        return self.count * self.points


class ClaimCode(msgspec.Struct, frozen=True, kw_only=True):
    """One stored code (known by its keyed hash only) and, once claimed, who claimed it and when."""

    code_hash: str
    batch_id: str
    index: int
    points: int
    expires_at: dt.datetime
    claimed_by: str | None = None
    claimed_at: dt.datetime | None = None


class ClaimTries(msgspec.Struct, frozen=True):
    """A consumer's claim attempts in the current window (failed ones stay counted)."""

    tries: int = 0
    window_until: dt.datetime | None = None

    def open_at(self, now: dt.datetime) -> bool:
        return self.window_until is not None and now < self.window_until
