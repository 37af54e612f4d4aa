"""Where wallets, grants, payments, cancellations and idempotency records are kept.

The port (:class:`PaymentRepository`) speaks domain objects and raises
:class:`~chalicelib.core.errors.WriteRejected` naming the conditions that failed; ``dynamo`` is
the only code that knows how they are stored, ``fake`` keeps them in memory for unit tests.

Each ``commit_*`` is one ``TransactWriteItems``: all of its writes happen or none does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from chalicelib.payments.model import Grant, IdempotencyRecord, LedgerEvent, Payment
from chalicelib.payments.wallet import Lot, Wallet

IDEMPOTENCY_TTL = dt.timedelta(days=7)
Key = dict[str, Any]


class PaymentRepository(Protocol):
    # -- reads ----------------------------------------------------------------------------------
    def wallet(self, consumer_id: str) -> Wallet: ...

    def payment(self, payment_id: str) -> Payment | None: ...

    def grant(self, grant_id: str) -> Grant | None: ...

    def idempotency(self, consumer_id: str, key: str) -> IdempotencyRecord | None: ...

    def consumer_payments(self, consumer_id: str, *, limit: int, after: Key | None
                          ) -> tuple[list[Payment], Key | None]:
        """Newest first."""

    def merchant_payments(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *, newest_first: bool,
                          limit: int | None = None, after: Key | None = None) -> tuple[list[Payment], Key | None]:
        """Payments made in ``[start, end)``; ``limit`` None reads them all."""

    def iter_merchant_payments(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *,
                               newest_first: bool) -> Iterator[Payment]:
        """Every payment in ``[start, end)``, one page in memory at a time."""

    def period_events(self, period_id: str, merchant_id: str | None = None) -> Iterator[LedgerEvent]:
        """Sales and cancellations stamped in the period, by merchant then time."""

    def ledger_snapshot(self) -> Iterator[Wallet | Grant | Payment | LedgerEvent]:
        """Every wallet, grant, payment and cancellation (an audit read; never on a request path)."""

    # -- writes ---------------------------------------------------------------------------------
    def commit_payment(self, *, wallet: Wallet, lots: Sequence[Lot], swept_points: int, payment: Payment,
                       record: IdempotencyRecord) -> None:
        """Debit, payment, merchant-is-active check and idempotency record, all or nothing.
        Rejects with ``wallet`` (changed since read), ``payment`` (id taken), ``merchant`` (not
        active) or ``idempotency`` (key used)."""

    def commit_cancel(self, *, payment: Payment, wallet: Wallet, lots: Sequence[Lot], to_expired: int,
                      now: dt.datetime, by: str) -> None:
        """Mark cancelled, add the reversal row, refund; rejects with ``payment`` (not completed or
        not this merchant's), ``cancel`` or ``wallet``."""

    def commit_grant(self, grant: Grant, lot: Lot, now: dt.datetime) -> None:
        """Record the grant and add its lot; rejects with ``grant`` when the id exists."""
