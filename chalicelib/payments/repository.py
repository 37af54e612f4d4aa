"""Where wallets, grants, payments, cancellations, their running totals and idempotency records are kept.

The port (:class:`PaymentRepository`) speaks domain objects and raises
:class:`~chalicelib.core.errors.WriteRejected` naming the conditions that failed; ``dynamo`` is
the only code that knows how they are stored, ``fake`` keeps them in memory for unit tests.

Each ``commit_*`` is one ``TransactWriteItems``: all of its writes happen or none does, and the
totals of :mod:`chalicelib.payments.aggregates` move in the same transaction as their rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from chalicelib.payments.aggregates import Counts
from chalicelib.payments.model import (
    ClaimBatch,
    ClaimCode,
    ClaimTries,
    Grant,
    IdempotencyRecord,
    LedgerEvent,
    Payment,
)
from chalicelib.payments.wallet import Lot, Wallet

IDEMPOTENCY_TTL = dt.timedelta(days=7)
Key = dict[str, Any]
Stores = frozenset[str] | None  # a filter by shop: None is every shop of the merchant


class PaymentRepository(Protocol):
    # -- reads ----------------------------------------------------------------------------------
    def wallet(self, consumer_id: str) -> Wallet: ...

    def payment(self, payment_id: str) -> Payment | None: ...

    def grant(self, grant_id: str) -> Grant | None: ...

    def idempotency(self, consumer_id: str, key: str) -> IdempotencyRecord | None: ...

    def consumer_payments(self, consumer_id: str, *, limit: int, after: Key | None
                          ) -> tuple[list[Payment], Key | None]:
        """Newest first."""

    def day_payments(self, merchant_id: str, day: dt.date, start: dt.datetime, end: dt.datetime, *,
                     newest_first: bool, limit: int | None = None, after: Key | None = None,
                     status: str | None = None, stores: Stores = None) -> tuple[list[Payment], Key | None]:
        """A merchant's payments made in ``[start, end)``, which lies within the JST ``day``; ``limit``
        None reads them all; ``status`` keeps only completed or only cancelled ones; ``stores`` only
        those of these shops (None: every shop). The key is None when nothing is left."""

    def span_counts(self, merchant_id: str, day: dt.date, start: dt.datetime, end: dt.datetime,
                    stores: Stores = None) -> Counts:
        """Sales and cancelled sales among the payments of ``[start, end)`` within the JST ``day``,
        counted from the rows (the edges of a minute-precise range)."""

    def day_counts(self, merchant_id: str, first: dt.date, last: dt.date, stores: Stores = None
                   ) -> dict[dt.date, Counts]:
        """The merchant's (or these shops') totals per JST day from ``first`` to ``last`` (days without
        any: absent), from the per-shop day totals: one Query whatever ``stores`` is."""

    def period_counts(self, period_id: str) -> dict[str, Counts]:
        """Every merchant's totals for a settlement period (merchants without any: absent)."""

    def merchant_events(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *,
                        after: Key | None = None, limit: int | None = None) -> tuple[list[LedgerEvent], Key | None]:
        """Sales and cancellations stamped in ``[start, end)``, oldest first."""

    def merchant_events_since(self, merchant_id: str, start: dt.datetime, *, limit: int) -> list[LedgerEvent]:
        """Up to ``limit`` sales and cancellations stamped at or after ``start``, oldest first, in one
        read (the live feed: with nothing there it is one query that returns nothing)."""

    def granted_points(self) -> int:
        """Every point ever granted (from the grant totals)."""

    def wallets(self) -> Iterator[Wallet]:
        """Every wallet (an audit read, page by page; never on a request path)."""

    # -- claim codes ----------------------------------------------------------------------------
    def claim_batch(self, batch_id: str) -> ClaimBatch | None:
        """The batch with its claimed totals."""

    def claim_batches(self) -> list[ClaimBatch]:
        """Every batch with its claimed totals, newest first."""

    def claim_code(self, code_hash: str) -> ClaimCode | None:
        """The stored code and, when claimed, by whom and when (one Query of its partition)."""

    def claimed_codes(self, batch_id: str) -> list[ClaimCode]:
        """The batch's claimed codes (one Query of the claimed index)."""

    def claim_tries(self, consumer_id: str) -> ClaimTries: ...

    def start_claim_try(self, consumer_id: str, seen: ClaimTries, now: dt.datetime, window: dt.timedelta,
                        max_tries: int) -> bool:
        """Reserve one claim attempt: in the window ``seen`` while it has room, or a new window when
        ``seen``'s is over. False when another request changed the record since it was read."""

    def start_claim_batch(self, batch: ClaimBatch) -> bool:
        """Put the batch (not yet ready) unless its id exists; False when it exists."""

    def put_claim_codes(self, codes: Sequence[ClaimCode]) -> None:
        """Write code records (batch writes; idempotent: a code record never changes)."""

    def finish_claim_batch(self, batch_id: str) -> None:
        """Mark the batch ready (every code written)."""

    # -- writes ---------------------------------------------------------------------------------
    def commit_payment(self, *, wallet: Wallet, lots: Sequence[Lot], swept_points: int, payment: Payment,
                       record: IdempotencyRecord) -> None:
        """Debit, payment, shop-is-active check, idempotency record and totals, all or nothing.
        Rejects with ``wallet`` (changed since read), ``payment`` (id taken), ``merchant`` (not
        active) or ``idempotency`` (key used)."""

    def commit_cancel(self, *, payment: Payment, wallet: Wallet, lots: Sequence[Lot], to_expired: int,
                      now: dt.datetime, by: str) -> None:
        """Mark cancelled, add the reversal row, refund, move the totals; rejects with ``payment``
        (not completed or not this merchant's), ``cancel`` or ``wallet``."""

    def commit_grant(self, grant: Grant, lot: Lot, now: dt.datetime) -> None:
        """Record the grant, add its lot and its points to the grant totals; rejects with ``grant``
        when the id exists."""

    def commit_claim(self, code: ClaimCode, consumer_id: str, lot: Lot, now: dt.datetime) -> None:
        """Mark the code used, add its lot to the wallet, add it to the claim totals and give back the
        consumer's reserved try; rejects with ``code`` (absent or expired), ``used`` (already
        claimed) or ``tries``."""
