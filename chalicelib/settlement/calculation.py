"""Payout calculation for one settlement period: pure, streaming, deterministic.

Per merchant and period (SPEC §7), all amounts ``int`` points = yen:
    net = sales_points - cancelled_points + carried_in        (carried_in <= 0)
    payout = net if net > 0 else 0
    carry_out = 0 if net > 0 else net                         (a debt carried into the next period)

Invariant per merchant, over any run of closed periods:
    Σ sales - Σ cancellations = Σ payouts + carry_out(last period)
(telescoping: each period's carry_out is the next one's carried_in, and net = payout + carry_out).

Events arrive as a stream (a Query ordered by merchant); memory holds one running total per
merchant, never the events. The result depends only on the period's events and the previous
period's carries, which are frozen once the period is closed, so closing twice computes the same
payouts and a re-run after a crash can compare what it writes with what is already there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping

from chalicelib.payments.aggregates import Counts
from chalicelib.payments.model import LedgerEvent


@dataclasses.dataclass
class MerchantTotals:
    sales_count: int = 0
    sales_points: int = 0
    cancel_count: int = 0
    cancel_points: int = 0


@dataclasses.dataclass(frozen=True)
class PayoutLine:
    period_id: str
    merchant_id: str
    sales_count: int
    sales_points: int
    cancel_count: int
    cancel_points: int
    carried_in: int
    net: int
    payout: int
    carry_out: int
    transfer_date: dt.date

    @property
    def status(self) -> str:
        """A positive payout waits for the transfer file; a zero one only carries its balance on."""
        return "scheduled" if self.payout > 0 else "carried"


def merchant_totals(counts: Mapping[str, Counts]) -> dict[str, MerchantTotals]:
    """The close's view of a period's running totals: sales and cancellations stamped in it."""
    return {mid: MerchantTotals(c.sales_count, c.sales_points, c.cancel_count, c.cancel_points)
            for mid, c in counts.items() if c.sales_count or c.cancel_count}


def aggregate(events: Iterable[LedgerEvent]) -> dict[str, MerchantTotals]:
    """Sum sale and cancellation events per merchant."""
    totals: dict[str, MerchantTotals] = {}
    for event in events:
        aggregate_into(totals.setdefault(event.merchant_id, MerchantTotals()), event)
    return totals


def store_breakdown(events: Iterable[LedgerEvent]) -> dict[str, MerchantTotals]:
    """Sum one merchant's sale and cancellation events per shop (a payout's detail): the shops' nets
    add up to the merchant's ``sales_points - cancel_points`` for the same events."""
    totals: dict[str, MerchantTotals] = {}
    for event in events:
        aggregate_into(totals.setdefault(event.store_id or event.merchant_id, MerchantTotals()), event)
    return totals


def aggregate_into(t: MerchantTotals, event: LedgerEvent) -> None:
    if event.kind == "sale":
        t.sales_count += 1
        t.sales_points += event.amount
    elif event.kind == "cancel":
        t.cancel_count += 1
        t.cancel_points += event.amount
    else:
        raise ValueError(f"unknown ledger event kind {event.kind!r}")


def payout_lines(
    period_id: str,
    totals: Mapping[str, MerchantTotals],
    carried_in: Mapping[str, int],
    transfer_date: dt.date,
) -> list[PayoutLine]:
    """One line per merchant with events in the period or a debt carried into it."""
    lines = []
    for merchant_id in sorted(set(totals) | {m for m, c in carried_in.items() if c != 0}):
        t = totals.get(merchant_id, MerchantTotals())
        carry = carried_in.get(merchant_id, 0)
        if carry > 0:
            raise ValueError(f"carried balance of {merchant_id} must not be positive: {carry}")
        net = t.sales_points - t.cancel_points + carry
        payout = net if net > 0 else 0
        lines.append(PayoutLine(
            period_id=period_id, merchant_id=merchant_id, sales_count=t.sales_count, sales_points=t.sales_points,
            cancel_count=t.cancel_count, cancel_points=t.cancel_points, carried_in=carry, net=net, payout=payout,
            carry_out=net - payout, transfer_date=transfer_date,
        ))
    return lines
