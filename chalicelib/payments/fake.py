"""An in-memory :class:`~chalicelib.payments.repository.PaymentRepository` for unit tests.

It keeps the real repository's conditions (version, absence, merchant active, status) and can be
told to reject the next writes (``reject_next``) to drive a service's retry and conflict branches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec

from chalicelib.core.clock import jst_date
from chalicelib.core.errors import WriteRejected
from chalicelib.merchants.fake import FakeMerchantRepository
from chalicelib.payments.aggregates import DAY, PERIOD, AggregateKey, Counts, cancel_deltas, sale_deltas
from chalicelib.payments.model import (
    CANCELLED,
    COMPLETED,
    ClaimBatch,
    ClaimCode,
    ClaimTries,
    Grant,
    IdempotencyRecord,
    LedgerEvent,
    Payment,
)
from chalicelib.payments.wallet import Lot, Wallet

Key = dict[str, Any]


class FakePaymentRepository:
    def __init__(self, merchants: FakeMerchantRepository | None = None) -> None:
        self.merchants = merchants or FakeMerchantRepository()
        self.wallets_by_id: dict[str, Wallet] = {}
        self.totals: dict[AggregateKey, Counts] = {}
        self.payments: dict[str, Payment] = {}
        self.cancellations: dict[str, LedgerEvent] = {}
        self.grants: dict[str, Grant] = {}
        self.records: dict[tuple[str, str], IdempotencyRecord] = {}
        self.claim_batches_by_id: dict[str, ClaimBatch] = {}
        self.claim_codes: dict[str, ClaimCode] = {}
        self.tries: dict[str, ClaimTries] = {}
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
        return self.wallets_by_id.get(consumer_id) or Wallet.empty(consumer_id)

    def payment(self, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)

    def grant(self, grant_id: str) -> Grant | None:
        return self.grants.get(grant_id)

    def idempotency(self, consumer_id: str, key: str) -> IdempotencyRecord | None:
        return self.records.get((consumer_id, key))

    @staticmethod
    def _page(rows: list[Any], limit: int | None, after: Key | None, key: str = "payment_id"
              ) -> tuple[list[Any], Key | None]:
        start = 0
        if after is not None:
            start = next((i + 1 for i, p in enumerate(rows) if getattr(p, key) == after[key]), len(rows))
        if limit is None:
            return rows[start:], None
        chunk = rows[start:start + limit]
        more = start + limit < len(rows)
        return chunk, ({key: getattr(chunk[-1], key)} if chunk and more else None)

    def consumer_payments(self, consumer_id: str, *, limit: int, after: Key | None
                          ) -> tuple[list[Payment], Key | None]:
        rows = sorted((p for p in self.payments.values() if p.consumer_id == consumer_id),
                      key=lambda p: (p.completed_at, p.payment_id), reverse=True)
        return self._page(rows, limit, after)

    def day_payments(self, merchant_id: str, day: dt.date, start: dt.datetime, end: dt.datetime, *,
                     newest_first: bool, limit: int | None = None, after: Key | None = None,
                     status: str | None = None, stores: frozenset[str] | None = None
                     ) -> tuple[list[Payment], Key | None]:
        rows = sorted((p for p in self.payments.values() if p.merchant_id == merchant_id
                       and jst_date(p.completed_at) == day and start <= p.completed_at < end
                       and status in (None, p.status) and (stores is None or p.store_id in stores)),
                      key=lambda p: (p.completed_at, p.payment_id), reverse=newest_first)
        return self._page(rows, limit, after)

    def span_counts(self, merchant_id: str, day: dt.date, start: dt.datetime, end: dt.datetime,
                    stores: frozenset[str] | None = None) -> Counts:
        counts = Counts()
        for p in self.day_payments(merchant_id, day, start, end, newest_first=False, stores=stores)[0]:
            counts.add(Counts(sales_count=1, sales_points=p.amount))
            if p.cancelled:
                counts.add(Counts(cancelled_count=1, cancelled_points=p.amount))
        return counts

    def day_counts(self, merchant_id: str, first: dt.date, last: dt.date, stores: frozenset[str] | None = None
                   ) -> dict[dt.date, Counts]:
        out: dict[dt.date, Counts] = {}
        for key, counts in self.totals.items():
            if key.merchant_id == merchant_id and key.scope == DAY and (stores is None or key.store_id in stores):
                day = dt.date.fromisoformat(key.bucket)
                if first <= day <= last:
                    out.setdefault(day, Counts()).add(counts)
        return out

    def period_counts(self, period_id: str) -> dict[str, Counts]:
        out: dict[str, Counts] = {}
        for key, counts in self.totals.items():
            if key.scope == PERIOD and key.bucket == period_id:
                out.setdefault(key.merchant_id, Counts()).add(counts)
        return out

    def _events(self, merchant_id: str) -> list[LedgerEvent]:
        events = [LedgerEvent("sale", p.payment_id, p.merchant_id, p.amount, p.completed_at, p.store_id)
                  for p in self.payments.values() if p.merchant_id == merchant_id]
        events += [e for e in self.cancellations.values() if e.merchant_id == merchant_id]
        return sorted(events, key=lambda e: (e.at, e.payment_id, e.kind == "sale"))

    def merchant_events(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *,
                        after: Key | None = None, limit: int | None = None) -> tuple[list[LedgerEvent], Key | None]:
        rows = [e for e in self._events(merchant_id) if start <= e.at < end]
        if after is not None:
            rows = [e for e in rows if (e.at, e.payment_id, e.kind == "sale") > (
                dt.datetime.fromisoformat(after["at"]), after["payment_id"], after["kind"] == "sale")]
        if limit is None or len(rows) <= limit:
            return rows[:limit] if limit else rows, None
        last = rows[limit - 1]
        return rows[:limit], {"at": last.at.isoformat(), "payment_id": last.payment_id, "kind": last.kind}

    def merchant_events_since(self, merchant_id: str, start: dt.datetime, *, limit: int) -> list[LedgerEvent]:
        return [e for e in self._events(merchant_id) if e.at >= start][:limit]

    def granted_points(self) -> int:
        return sum(g.points for g in self.grants.values())

    # -- claim codes ----------------------------------------------------------------------------
    def _with_totals(self, batch: ClaimBatch) -> ClaimBatch:
        claimed = self.claimed_codes(batch.batch_id)
        return msgspec.structs.replace(batch, claimed_count=len(claimed), claimed_points=sum(c.points for c in claimed))

    def claim_batch(self, batch_id: str) -> ClaimBatch | None:
        batch = self.claim_batches_by_id.get(batch_id)
        return self._with_totals(batch) if batch else None

    def claim_batches(self) -> list[ClaimBatch]:
        return sorted((self._with_totals(b) for b in self.claim_batches_by_id.values()),
                      key=lambda b: (b.created_at, b.batch_id), reverse=True)

    def claim_code(self, code_hash: str) -> ClaimCode | None:
        return self.claim_codes.get(code_hash)

    def claimed_codes(self, batch_id: str) -> list[ClaimCode]:
        return sorted((c for c in self.claim_codes.values() if c.batch_id == batch_id and c.claimed_by),
                      key=lambda c: c.index)

    def claim_tries(self, consumer_id: str) -> ClaimTries:
        return self.tries.get(consumer_id, ClaimTries())

    def start_claim_try(self, consumer_id: str, seen: ClaimTries, now: dt.datetime, window: dt.timedelta,
                        max_tries: int) -> bool:
        current = self.claim_tries(consumer_id)
        if current != seen:
            return False
        if seen.open_at(now):
            if seen.tries >= max_tries:
                return False
            self.tries[consumer_id] = ClaimTries(seen.tries + 1, seen.window_until)
        else:
            self.tries[consumer_id] = ClaimTries(1, now + window)
        return True

    def start_claim_batch(self, batch: ClaimBatch) -> bool:
        if batch.batch_id in self.claim_batches_by_id:
            return False
        self.claim_batches_by_id[batch.batch_id] = batch
        return True

    def put_claim_codes(self, codes: Sequence[ClaimCode]) -> None:
        for code in codes:
            stored = self.claim_codes.get(code.code_hash)
            # the code record never changes; its claim is a record of its own in the real store
            self.claim_codes[code.code_hash] = stored or code

    def finish_claim_batch(self, batch_id: str) -> None:
        self.claim_batches_by_id[batch_id] = msgspec.structs.replace(self.claim_batches_by_id[batch_id], ready=True)

    def commit_claim(self, code: ClaimCode, consumer_id: str, lot: Lot, now: dt.datetime) -> None:
        self._maybe_reject()
        stored = self.claim_codes.get(code.code_hash)
        failed = set()
        if stored is None or now > stored.expires_at:
            failed.add("code")
        elif stored.claimed_by is not None:
            failed.add("used")
        if self.claim_tries(consumer_id).tries <= 0:
            failed.add("tries")
        if failed:
            raise WriteRejected(failed)
        assert stored is not None
        self.claim_codes[code.code_hash] = msgspec.structs.replace(stored, claimed_by=consumer_id, claimed_at=now)
        tries = self.claim_tries(consumer_id)
        self.tries[consumer_id] = ClaimTries(tries.tries - 1, tries.window_until)
        current = self.wallet(consumer_id)
        self.wallets_by_id[consumer_id] = Wallet(consumer_id, current.version + 1, (*current.lots, lot),
                                                 current.expired_points)
        self.writes += 1

    def wallets(self) -> Iterator[Wallet]:
        yield from list(self.wallets_by_id.values())

    # -- writes ---------------------------------------------------------------------------------
    def seed_sale(self, payment: Payment) -> None:
        """A sale as it would stand after a payment, without a wallet behind it (settlement tests)."""
        self.payments[payment.payment_id] = payment
        self._add_totals(sale_deltas(payment))

    def seed_cancel(self, payment_id: str, at: dt.datetime) -> None:
        """Its cancellation at ``at``, likewise."""
        stored = self.payments[payment_id]
        self.payments[payment_id] = msgspec.structs.replace(stored, status=CANCELLED, cancelled_at=at)
        self.cancellations[payment_id] = LedgerEvent("cancel", payment_id, stored.merchant_id, stored.amount, at,
                                                     stored.store_id)
        self._add_totals(cancel_deltas(stored, at))

    def _add_totals(self, deltas: list[tuple[AggregateKey, Counts]]) -> None:
        for key, counts in deltas:
            self.totals.setdefault(key, Counts()).add(counts)

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
        if not self.merchants.payable(payment.store_id):
            failed.add("merchant")
        if (record.consumer_id, record.key) in self.records:
            failed.add("idempotency")
        if failed:
            raise WriteRejected(failed)
        current = self.wallet(wallet.consumer_id)
        self.wallets_by_id[wallet.consumer_id] = Wallet(wallet.consumer_id, current.version + 1, tuple(lots),
                                                  current.expired_points + swept_points)
        self.payments[payment.payment_id] = payment
        self.records[(record.consumer_id, record.key)] = record
        self._add_totals(sale_deltas(payment))
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
                                                             payment.amount, now, payment.store_id)
        self._add_totals(cancel_deltas(stored, now))
        current = self.wallet(wallet.consumer_id)
        self.wallets_by_id[wallet.consumer_id] = Wallet(wallet.consumer_id, current.version + 1, tuple(lots),
                                                  current.expired_points + to_expired)
        self.writes += 1

    def commit_grant(self, grant: Grant, lot: Lot, now: dt.datetime) -> None:
        self._maybe_reject()
        if grant.grant_id in self.grants:
            raise WriteRejected({"grant"})
        current = self.wallet(grant.consumer_id)
        self.grants[grant.grant_id] = grant
        self.wallets_by_id[grant.consumer_id] = Wallet(grant.consumer_id, current.version + 1, (*current.lots, lot),
                                                 current.expired_points)
        self.writes += 1
