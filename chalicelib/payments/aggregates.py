"""Exact running totals per merchant (and shop), per JST day and per settlement period.

Every payment and every cancellation changes these counts in the *same* transaction that records it,
so a count is never ahead of or behind its rows. Two views are kept, because the console and the
settlement count differently (SPEC §6, §7):

- per **day** of the *payment*: ``sales`` (every payment made that day) and ``cancelled`` (those of
  them that are now cancelled) give the history's "completed" (= sales - cancelled) and "cancelled"
  totals for a range of days; ``cancel`` counts the cancellations *made* that day.
- per **period**: ``sales`` stamped in the period and ``cancel`` (cancellations stamped in the
  period), which is exactly what the close needs.

Invariants (checked against a recount of the rows by ``tests/functional/test_aggregates_property``):
- for a day: sales - cancelled = the count and points of that day's payments still completed,
  cancelled = those since cancelled, cancel = the cancellations stamped that day;
- for a period: sales and cancel = the sales and cancellations stamped in it.

All amounts are ``int`` points. The store keeps each total split over a few shards (any write may
go to any shard, since totals only add up), so that many consumers paying one shop at once do not
contend for a single item; readers add the shards.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from chalicelib.core.clock import jst_date
from chalicelib.core.periods import period_of
from chalicelib.payments.model import Payment

DAY, PERIOD = "D", "P"


class Counts(msgspec.Struct):
    sales_count: int = 0
    sales_points: int = 0
    cancelled_count: int = 0  # of the day's (or period's) sales, how many are now cancelled
    cancelled_points: int = 0
    cancel_count: int = 0  # cancellations stamped in the day (or period)
    cancel_points: int = 0

    def add(self, other: Counts) -> Counts:
        for field in self.__struct_fields__:
            setattr(self, field, getattr(self, field) + getattr(other, field))
        return self

    @property
    def completed_count(self) -> int:
        return self.sales_count - self.cancelled_count

    @property
    def completed_points(self) -> int:
        return self.sales_points - self.cancelled_points

    def is_zero(self) -> bool:
        return not any(getattr(self, f) for f in self.__struct_fields__)


class AggregateKey(msgspec.Struct, frozen=True):
    merchant_id: str
    store_id: str
    scope: str  # DAY | PERIOD
    bucket: str  # "2026-11-20" | "2026-11-2"


def day_key(p: Payment, day: dt.date) -> AggregateKey:
    return AggregateKey(p.merchant_id, p.store_id, DAY, day.isoformat())


def period_key(p: Payment, at: dt.datetime) -> AggregateKey:
    return AggregateKey(p.merchant_id, p.store_id, PERIOD, period_of(at).id)


def sale_deltas(p: Payment) -> list[tuple[AggregateKey, Counts]]:
    """What a payment adds: a sale to its day and to its period."""
    sale = Counts(sales_count=1, sales_points=p.amount)
    return [(day_key(p, jst_date(p.completed_at)), sale), (period_key(p, p.completed_at), Counts(
        sales_count=1, sales_points=p.amount))]


def cancel_deltas(p: Payment, cancelled_at: dt.datetime) -> list[tuple[AggregateKey, Counts]]:
    """What cancelling ``p`` at ``cancelled_at`` adds: the sale's day counts it as cancelled, the
    cancellation's own day and period count a cancellation. Keys that coincide are merged, so each
    key appears once (a transaction may touch an item only once)."""
    deltas: dict[AggregateKey, Counts] = {}
    for key, counts in (
        (day_key(p, jst_date(p.completed_at)), Counts(cancelled_count=1, cancelled_points=p.amount)),
        (day_key(p, jst_date(cancelled_at)), Counts(cancel_count=1, cancel_points=p.amount)),
        (period_key(p, cancelled_at), Counts(cancel_count=1, cancel_points=p.amount)),
    ):
        deltas.setdefault(key, Counts()).add(counts)
    return list(deltas.items())
