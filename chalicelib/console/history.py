"""取引履歴: a merchant's payments in a JST range, newest first, with totals for the whole range.

The rows of a range come from one Query on the merchant's own history index partition (no Scan,
no row of another merchant, no row outside the range).

Totals (count and points of completed and of cancelled payments in the range) come from the same
pass that produces the first page; they travel inside the (signed) cursor, so later pages do not
read the range again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from chalicelib.console.ranges import Range
from chalicelib.core.clock import jst_date
from chalicelib.payments.model import Payment
from chalicelib.payments.repository import PaymentRepository

STATUS_LABEL = {"completed": "完了", "cancelled": "取消"}


@dataclasses.dataclass
class Totals:
    completed_count: int = 0
    completed_points: int = 0
    cancelled_count: int = 0
    cancelled_points: int = 0

    def add(self, payment: Payment) -> None:
        if payment.cancelled:
            self.cancelled_count += 1
            self.cancelled_points += payment.amount
        else:
            self.completed_count += 1
            self.completed_points += payment.amount

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class HistoryPage:
    rows: list[Payment]
    totals: Totals
    cursor: dict[str, Any] | None  # to be signed by the caller


@dataclasses.dataclass(frozen=True)
class DayTotals:
    day: dt.date
    totals: Totals


class HistoryService:
    def __init__(self, payments: PaymentRepository) -> None:
        self.payments = payments

    def page(self, merchant_id: str, rng: Range, *, limit: int, cursor: dict[str, Any] | None) -> HistoryPage:
        """One page of rows and the range totals; ``cursor`` is what a previous call returned."""
        if cursor is None:
            return self._first_page(merchant_id, rng, limit)
        totals = Totals(**{k: int(v) for k, v in cursor["totals"].items()})
        rows, after = self.payments.merchant_payments(merchant_id, rng.start, rng.end, newest_first=True,
                                                      limit=limit, after=cursor["key"])
        return HistoryPage(rows, totals, {"key": after, "totals": totals.as_dict()} if after else None)

    def _first_page(self, merchant_id: str, rng: Range, limit: int) -> HistoryPage:
        totals = Totals()
        rows: list[Payment] = []
        extra = False
        for payment in self.payments.iter_merchant_payments(merchant_id, rng.start, rng.end, newest_first=True):
            totals.add(payment)
            if len(rows) < limit:
                rows.append(payment)
            else:
                extra = True
        cursor = None
        if extra:
            # the key after which the second page starts: read it back as a page of the same size
            _, after = self.payments.merchant_payments(merchant_id, rng.start, rng.end, newest_first=True,
                                                       limit=limit)
            cursor = {"key": after, "totals": totals.as_dict()}
        return HistoryPage(rows, totals, cursor)

    def daily(self, merchant_id: str, rng: Range) -> list[DayTotals]:
        """Per JST day in the range: completed and cancelled counts and points (for the chart)."""
        days: dict[dt.date, Totals] = {}
        day = jst_date(rng.start)
        last = jst_date(rng.end - dt.timedelta(milliseconds=1))
        while day <= last:
            days[day] = Totals()
            day += dt.timedelta(days=1)
        for payment in self.payments.iter_merchant_payments(merchant_id, rng.start, rng.end, newest_first=False):
            days[jst_date(payment.completed_at)].add(payment)
        return [DayTotals(d, t) for d, t in days.items()]
