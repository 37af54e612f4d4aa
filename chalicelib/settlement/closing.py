"""Closing settlement periods exactly once, with carry-over.

Why no event can commit into a closed period (the grace)
---------------------------------------------------------
A sale or a cancellation takes its timestamp from the clock immediately before its DynamoDB
transaction, and the request that does it runs inside an API Lambda whose timeout is 30 seconds
(.chalice/config.json). So an event stamped before a period's end ``E`` commits before ``E + 30 s``
or never. A period is closed only when ``now >= E + grace`` with ``grace`` (default 5 minutes,
``SETTLEMENT_GRACE_MINUTES``, at least 1) longer than that timeout: by then every event of the
period has either committed or failed, and the close reads a frozen set. Events stamped at or after
``E`` belong to the next period by construction (half-open periods).

Exactly once
------------
Periods close in order; each close reads the frozen totals of its period (kept per merchant in the
same transactions as the sales and cancellations, ``payments.aggregates``: the close costs the
number of merchants, not of payments) and the carries of the previous (closed, frozen) period, so
it computes the same payouts every time. Each payout is stored
only if absent; a second or concurrent close finds it there, checks it is identical and moves on; a
close that crashed half way is completed by the next run. The period is marked closed only after
every payout exists. Result: one payout per merchant and period, never two, never none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from chalicelib.core.clock import Clock, jst_iso
from chalicelib.core.errors import Conflict, InvalidRequest, NotFound, WriteRejected
from chalicelib.core.periods import Period, period_of
from chalicelib.merchants.repository import MerchantRepository
from chalicelib.payments.repository import PaymentRepository
from chalicelib.settlement import business_days
from chalicelib.settlement.calculation import merchant_totals, payout_lines
from chalicelib.settlement.model import CLOSED, DUE, OPEN, Payout, PeriodRecord, PeriodStatus
from chalicelib.settlement.repository import SettlementRepository


class PayoutMismatch(Exception):
    """A payout already stored differs from the recomputed one: the ledger changed after close."""


def parse_period(period_id: str) -> Period:
    try:
        return Period.parse(period_id)
    except ValueError:
        raise NotFound("期間が見つかりません(例: 2026-11-1)。", param="period_id") from None


@dataclasses.dataclass(frozen=True)
class CloseResult:
    period_id: str
    payouts: int
    payout_total: int
    already_closed: bool


class ClosingService:
    def __init__(self, repo: SettlementRepository, payments: PaymentRepository, merchants: MerchantRepository,
                 clock: Clock, *, grace: dt.timedelta, direction: business_days.Direction, start: Period) -> None:
        self.repo = repo
        self.payments = payments
        self.merchants = merchants
        self.clock = clock
        self.grace = grace
        self.direction: business_days.Direction = direction
        self.start = start

    def is_due(self, period: Period, now: dt.datetime) -> bool:
        return now >= period.end_utc + self.grace

    def transfer_date(self, period: Period) -> dt.date:
        return business_days.transfer_date(period, self.direction)

    # -- closing ------------------------------------------------------------------------------
    def close(self, period_id: str) -> CloseResult:
        period = parse_period(period_id)
        now = self.clock.now()
        if period < self.start:
            raise InvalidRequest(f"精算は {self.start.id} からです。", param="period_id")
        if not self.is_due(period, now):
            raise Conflict(f"期間 {period.id} はまだ締められません(終了 {jst_iso(period.end_utc)} の"
                           f"{int(self.grace.total_seconds() // 60)}分後から)。", param="period_id")
        existing = self.repo.period(period.id)
        if existing and existing.state == CLOSED:
            return CloseResult(period.id, existing.payouts_count, existing.payouts_total, True)
        if period != self.start:
            previous = self.repo.period(period.previous().id)
            if not previous or previous.state != CLOSED:
                raise Conflict(f"先に前の期間 {period.previous().id} を締めてください。", param="period_id")
        self.repo.mark_closing(period.id, now)

        carried_in = {} if period == self.start else {
            p.merchant_id: p.carry_out for p in self.repo.payouts(period.previous().id) if p.carry_out != 0}
        totals = merchant_totals(self.payments.period_counts(period.id))
        lines = payout_lines(period.id, totals, carried_in, self.transfer_date(period))
        names = {m.merchant_id: m.name_ja for m in self.merchants.all()} if lines else {}
        total = 0
        for line in lines:
            payout = Payout(
                period_id=period.id, merchant_id=line.merchant_id, name_ja=names.get(line.merchant_id, ""),
                sales_count=line.sales_count, sales_points=line.sales_points, cancel_count=line.cancel_count,
                cancel_points=line.cancel_points, carried_in=line.carried_in, net=line.net, payout=line.payout,
                carry_out=line.carry_out, transfer_date=line.transfer_date,
                processing_start_date=period.end_jst.date(), status=line.status, created_at=now)
            found = self.repo.add_payout(payout)
            if found is not None and found.amounts() != payout.amounts():
                raise PayoutMismatch(f"stored payout {period.id}/{line.merchant_id} differs from the ledger")
            total += line.payout
        self.repo.mark_closed(PeriodRecord(
            period.id, CLOSED, payouts_count=len(lines), payouts_total=total,
            sales_points=sum(t.sales_points for t in totals.values()),
            cancel_points=sum(t.cancel_points for t in totals.values())), now)
        self._advance_cursor(period)
        return CloseResult(period.id, len(lines), total, False)

    def _advance_cursor(self, period: Period) -> None:
        """Remember the newest closed period; a concurrent close that got further wins."""
        for _ in range(5):
            current = self.repo.last_closed()
            if current is not None and Period.parse(current) >= period:
                return
            try:
                self.repo.advance_last_closed(period.id, current)
                return
            except WriteRejected:
                continue

    def close_due(self) -> list[CloseResult]:
        """Close, in order, every period whose end plus the grace has passed (catching up)."""
        now = self.clock.now()
        last = self.repo.last_closed()
        period = Period.parse(last).next() if last else self.start
        results = []
        while self.is_due(period, now):
            results.append(self.close(period.id))
            period = period.next()
        return results

    # -- views --------------------------------------------------------------------------------
    def periods(self, count: int = 24) -> list[PeriodStatus]:
        now = self.clock.now()
        stored = {r.period_id: r for r in self.repo.periods(200)}
        out = []
        period = period_of(now)
        for _ in range(count):
            if period < self.start:
                break
            record = stored.get(period.id)
            state = record.state if record else (DUE if self.is_due(period, now) else OPEN)
            if record and record.state == CLOSED:
                sales, cancels = record.sales_points, record.cancel_points
            else:  # still moving: the running totals, one read of the period's totals
                running = merchant_totals(self.payments.period_counts(period.id)).values()
                sales, cancels = sum(t.sales_points for t in running), sum(t.cancel_points for t in running)
            out.append(PeriodStatus(
                period_id=period.id, start=period.start_utc, end=period.end_utc, state=state,
                closed_at=record.closed_at if record else None,
                payouts_count=record.payouts_count if record else 0,
                payouts_total=record.payouts_total if record else 0,
                transfer_date=self.transfer_date(period), sales_points=sales, cancel_points=cancels))
            period = period.previous()
        return out
