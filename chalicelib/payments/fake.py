"""An in-memory :class:`~chalicelib.payments.repository.PaymentRepository` for unit tests.

It keeps the real repository's conditions (version, absence, merchant active, status) and can be
told to reject the next writes (``reject_next``) to drive a service's retry and conflict branches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec

from chalicelib.core.errors import WriteRejected
from chalicelib.core.periods import period_of
from chalicelib.merchants.fake import FakeMerchantRepository
from chalicelib.payments.model import CANCELLED, COMPLETED, Grant, IdempotencyRecord, LedgerEvent, Payment
from chalicelib.payments.wallet import Lot, Wallet

Key = dict[str, Any]


class FakePaymentRepository:
    def __init__(self, merchants: FakeMerchantRepository | None = None) -> None:
        self.merchants = merchants or FakeMerchantRepository()
        self.wallets: dict[str, Wallet] = {}
        self.payments: dict[str, Payment] = {}
        self.cancellations: dict[str, LedgerEvent] = {}
        self.grants: dict[str, Grant] = {}
        self.records: dict[tuple[str, str], IdempotencyRecord] = {}
        self.rejections: list[WriteRejected] = []
        self.interleaved: list[Callable[[], None]] = []
        self.writes = 0

    def reject_next(self, *reasons: str) -> None:
        """Make the next commit fail as if a condition (or, with no reason, contention) stopped it."""
        self.rejections.append(WriteRejected(set(reasons)))

    def interleave(self, competitor: Callable[[], None]) -> None:
        """Run ``competitor`` (another request's write) just before the next commit is checked, as a
        concurrent request that won the race would have."""
        self.interleaved.append(competitor)

    def _maybe_reject(self) -> None:
        if self.interleaved:
            self.interleaved.pop(0)()
        if self.rejections:
            raise self.rejections.pop(0)

    # -- reads ----------------------------------------------------------------------------------
    def wallet(self, consumer_id: str) -> Wallet:
        return self.wallets.get(consumer_id) or Wallet.empty(consumer_id)

    def payment(self, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)

    def grant(self, grant_id: str) -> Grant | None:
        return self.grants.get(grant_id)

    def idempotency(self, consumer_id: str, key: str) -> IdempotencyRecord | None:
        return self.records.get((consumer_id, key))

    @staticmethod
    def _page(rows: list[Payment], limit: int | None, after: Key | None) -> tuple[list[Payment], Key | None]:
        start = 0
        if after is not None:
            start = next((i + 1 for i, p in enumerate(rows) if p.payment_id == after["payment_id"]), len(rows))
        if limit is None:
            return rows[start:], None
        chunk = rows[start:start + limit]
        more = start + limit < len(rows)
        return chunk, ({"payment_id": chunk[-1].payment_id} if chunk and more else None)

    def consumer_payments(self, consumer_id: str, *, limit: int, after: Key | None
                          ) -> tuple[list[Payment], Key | None]:
        rows = sorted((p for p in self.payments.values() if p.consumer_id == consumer_id),
                      key=lambda p: (p.completed_at, p.payment_id), reverse=True)
        return self._page(rows, limit, after)

    def merchant_payments(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *, newest_first: bool,
                          limit: int | None = None, after: Key | None = None) -> tuple[list[Payment], Key | None]:
        rows = sorted((p for p in self.payments.values()
                       if p.merchant_id == merchant_id and start <= p.completed_at < end),
                      key=lambda p: (p.completed_at, p.payment_id), reverse=newest_first)
        return self._page(rows, limit, after)

    def iter_merchant_payments(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *,
                               newest_first: bool) -> Iterator[Payment]:
        yield from self.merchant_payments(merchant_id, start, end, newest_first=newest_first)[0]

    def period_events(self, period_id: str, merchant_id: str | None = None) -> Iterator[LedgerEvent]:
        events = [LedgerEvent("sale", p.payment_id, p.merchant_id, p.amount, p.completed_at)
                  for p in self.payments.values()] + list(self.cancellations.values())
        chosen = [e for e in events if period_of(e.at).id == period_id
                  and (merchant_id is None or e.merchant_id == merchant_id)]
        yield from sorted(chosen, key=lambda e: (e.merchant_id, e.at, e.payment_id, e.kind))

    def ledger_snapshot(self) -> Iterator[Wallet | Grant | Payment | LedgerEvent]:
        yield from self.wallets.values()
        yield from self.grants.values()
        yield from self.payments.values()
        yield from self.cancellations.values()

    # -- writes ---------------------------------------------------------------------------------
    def _version_ok(self, wallet: Wallet) -> bool:
        return self.wallet(wallet.consumer_id).version == wallet.version

    def commit_payment(self, *, wallet: Wallet, lots: Sequence[Lot], swept_points: int, payment: Payment,
                       record: IdempotencyRecord) -> None:
        self._maybe_reject()
        failed = set()
        if not self._version_ok(wallet):
            failed.add("wallet")
        if payment.payment_id in self.payments:
            failed.add("payment")
        merchant = self.merchants.get(payment.merchant_id)
        if merchant is None or not merchant.active:
            failed.add("merchant")
        if (record.consumer_id, record.key) in self.records:
            failed.add("idempotency")
        if failed:
            raise WriteRejected(failed)
        current = self.wallet(wallet.consumer_id)
        self.wallets[wallet.consumer_id] = Wallet(wallet.consumer_id, current.version + 1, tuple(lots),
                                                  current.expired_points + swept_points)
        self.payments[payment.payment_id] = payment
        self.records[(record.consumer_id, record.key)] = record
        self.writes += 1

    def commit_cancel(self, *, payment: Payment, wallet: Wallet, lots: Sequence[Lot], to_expired: int,
                      now: dt.datetime, by: str) -> None:
        self._maybe_reject()
        failed = set()
        stored = self.payments.get(payment.payment_id)
        if stored is None or stored.status != COMPLETED or stored.merchant_id != payment.merchant_id:
            failed.add("payment")
        if payment.payment_id in self.cancellations:
            failed.add("cancel")
        if not self._version_ok(wallet):
            failed.add("wallet")
        if failed:
            raise WriteRejected(failed)
        assert stored is not None
        self.payments[payment.payment_id] = msgspec.structs.replace(stored, status=CANCELLED, cancelled_at=now)
        self.cancellations[payment.payment_id] = LedgerEvent("cancel", payment.payment_id, payment.merchant_id,
                                                             payment.amount, now)
        current = self.wallet(wallet.consumer_id)
        self.wallets[wallet.consumer_id] = Wallet(wallet.consumer_id, current.version + 1, tuple(lots),
                                                  current.expired_points + to_expired)
        self.writes += 1

    def commit_grant(self, grant: Grant, lot: Lot, now: dt.datetime) -> None:
        self._maybe_reject()
        if grant.grant_id in self.grants:
            raise WriteRejected({"grant"})
        current = self.wallet(grant.consumer_id)
        self.grants[grant.grant_id] = grant
        self.wallets[grant.consumer_id] = Wallet(grant.consumer_id, current.version + 1, (*current.lots, lot),
                                                 current.expired_points)
        self.writes += 1
