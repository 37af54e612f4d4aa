"""取引履歴: a merchant's payments in a JST range, newest first, with totals for the whole range.

Rows live in one index partition per merchant and JST day, so a page reads only the days it shows.
Totals cost the number of days, not the number of payments: every day wholly inside the range is
read from the day totals kept with each payment and cancellation (``payments.aggregates``), and only
the rows of the (at most two) partial days at the edges of a minute-precise range are counted.
The day totals also say which days have rows at all, so pages skip empty days without reading them.

Totals are computed with the first page and travel inside the (signed) cursor.

By shop (``stores``: a set of shop ids, None for the whole merchant): the day totals are kept per shop
(``payments.aggregates``), so a shop's totals are the same one Query with the other shops' items left
out; its rows are the merchant's day partitions read through a filter on the shop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from chalicelib.console.ranges import Range
from chalicelib.core.clock import JST, UTC
from chalicelib.payments.aggregates import Counts
from chalicelib.payments.model import CANCELLED, COMPLETED, Payment
from chalicelib.payments.repository import PaymentRepository, Stores

STATUS_LABEL = {"completed": "完了", "cancelled": "取消"}
EXPORT_PAGE = 500


class Totals(msgspec.Struct):
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

    def merge(self, other: Totals) -> Totals:
        for field in self.__struct_fields__:
            setattr(self, field, getattr(self, field) + getattr(other, field))
        return self

    @classmethod
    def of(cls, counts: Counts) -> Totals:
        return cls(completed_count=counts.completed_count, completed_points=counts.completed_points,
                   cancelled_count=counts.cancelled_count, cancelled_points=counts.cancelled_points)

    def as_dict(self) -> dict[str, int]:
        return msgspec.structs.asdict(self)


class DaySpan(msgspec.Struct, frozen=True):
    """The part of one JST day inside a range; ``whole`` when the range covers all of the day."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    whole: bool


def day_spans(rng: Range) -> list[DaySpan]:
    """The JST days the range touches, oldest first, each clipped to the range."""
    spans: list[DaySpan] = []
    day = rng.start.astimezone(JST).date()
    while True:
        day_start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=JST).astimezone(UTC)
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=JST).astimezone(UTC)
        if day_start >= rng.end:
            return spans
        start, end = max(day_start, rng.start), min(day_end, rng.end)
        spans.append(DaySpan(day, start, end, whole=(start, end) == (day_start, day_end)))
        day += dt.timedelta(days=1)


class HistoryPage(msgspec.Struct, frozen=True):
    rows: list[Payment]
    totals: Totals
    cursor: dict[str, Any] | None  # to be signed by the caller


class DayTotals(msgspec.Struct, frozen=True):
    day: dt.date
    totals: Totals


class HistoryService:
    def __init__(self, payments: PaymentRepository) -> None:
        self.payments = payments

    # -- totals ---------------------------------------------------------------------------------
    def _counts(self, merchant_id: str, spans: list[DaySpan], stores: Stores) -> dict[dt.date, Counts]:
        return self.payments.day_counts(merchant_id, spans[0].day, spans[-1].day, stores) if spans else {}

    def daily(self, merchant_id: str, rng: Range, counts: dict[dt.date, Counts] | None = None,
              stores: Stores = None) -> list[DayTotals]:
        """Per JST day in the range: completed and cancelled counts and points (for the chart and
        the range totals). Whole days come from the day totals, partial ones from their rows."""
        spans = day_spans(rng)
        if counts is None:
            counts = self._counts(merchant_id, spans, stores)
        out = []
        for span in spans:
            found = counts.get(span.day)
            if found is None or found.sales_count == 0:
                out.append(DayTotals(span.day, Totals()))
            elif span.whole:
                out.append(DayTotals(span.day, Totals.of(found)))
            else:
                out.append(DayTotals(span.day, Totals.of(self.payments.span_counts(merchant_id, span.day, span.start,
                                                                                  span.end, stores))))
        return out

    def totals(self, merchant_id: str, rng: Range, counts: dict[dt.date, Counts] | None = None,
               stores: Stores = None) -> Totals:
        total = Totals()
        for day in self.daily(merchant_id, rng, counts, stores):
            total.merge(day.totals)
        return total

    # -- rows -----------------------------------------------------------------------------------
    def _rows(self, merchant_id: str, span: DaySpan, *, newest_first: bool, stores: Stores) -> Iterator[Payment]:
        after: dict[str, Any] | None = None
        while True:
            rows, after = self.payments.day_payments(merchant_id, span.day, span.start, span.end,
                                                     newest_first=newest_first, limit=EXPORT_PAGE, after=after,
                                                     stores=stores)
            yield from rows
            if after is None:
                return

    def _busy_spans(self, merchant_id: str, rng: Range, counts: dict[dt.date, Counts] | None = None,
                    status: str | None = None, stores: Stores = None) -> list[DaySpan]:
        """The days of the range with any payment (of ``status``, when given), newest first."""
        spans = day_spans(rng)
        if counts is None:
            counts = self._counts(merchant_id, spans, stores)
        return [s for s in reversed(spans) if (c := counts.get(s.day)) is not None and c.sales_count > 0
                and (status != CANCELLED or c.cancelled_count > 0) and (status != COMPLETED or c.completed_count > 0)]

    def iter_range(self, merchant_id: str, rng: Range, stores: Stores = None) -> Iterator[Payment]:
        """Every payment of the range (of these shops), newest first, one page in memory at a time."""
        for span in self._busy_spans(merchant_id, rng, stores=stores):
            yield from self._rows(merchant_id, span, newest_first=True, stores=stores)

    def page(self, merchant_id: str, rng: Range, *, limit: int, cursor: dict[str, Any] | None,
             status: str | None = None, stores: Stores = None) -> HistoryPage:
        """One page of rows and the range totals; ``cursor`` is what a previous call returned;
        ``status`` shows only completed or only cancelled rows (the totals stay the whole range's);
        ``stores`` rows and totals of these shops only."""
        # one read: the totals and which days have rows
        counts = self._counts(merchant_id, day_spans(rng), stores)
        if cursor is None:
            totals = self.totals(merchant_id, rng, counts, stores)
            day, after = None, None
        else:
            totals = Totals(**{k: int(v) for k, v in cursor["totals"].items()})
            day, after = dt.date.fromisoformat(cursor["day"]), cursor.get("key")
        spans = self._busy_spans(merchant_id, rng, counts, status, stores)
        if day is not None:
            spans = [s for s in spans if s.day <= day]
        rows: list[Payment] = []
        for i, span in enumerate(spans):
            if day is not None and span.day != day:
                after = None
            found, after = self.payments.day_payments(merchant_id, span.day, span.start, span.end, newest_first=True,
                                                      limit=limit - len(rows), after=after, status=status,
                                                      stores=stores)
            rows += found
            if len(rows) == limit:
                if after is not None:
                    return HistoryPage(rows, totals, {"day": span.day.isoformat(), "key": after,
                                                      "totals": totals.as_dict()})
                if i + 1 < len(spans):
                    return HistoryPage(rows, totals, {"day": spans[i + 1].day.isoformat(), "key": None,
                                                      "totals": totals.as_dict()})
                break
            day = None
        return HistoryPage(rows, totals, None)
