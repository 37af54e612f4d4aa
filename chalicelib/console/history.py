"""取引履歴: a merchant's payments in a JST range, newest first, with totals for the whole range.

Key design: payments carry ``gsi1pk = M#<merchant>`` and ``gsi1sk = <utc ms stamp>#<payment id>``,
so a range is one Query on the merchant's own partition with ``gsi1sk BETWEEN``: no Scan, no row of
another merchant, no row outside the range, whatever the number of merchants.

Totals (count and points of completed and of cancelled payments in the range) come from the same
pass that produces the first page; they travel inside the signed cursor, so later pages do not
read the range again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from chalicelib.console.ranges import Range
from chalicelib.core.clock import jst_date, utc_key
from chalicelib.payments import records as r
from chalicelib.store.table import Table

STATUS_LABEL = {"completed": "完了", "cancelled": "取消"}


@dataclasses.dataclass
class Totals:
    completed_count: int = 0
    completed_points: int = 0
    cancelled_count: int = 0
    cancelled_points: int = 0

    def add(self, payment: r.Payment) -> None:
        if payment.status == "completed":
            self.completed_count += 1
            self.completed_points += payment.amount
        else:
            self.cancelled_count += 1
            self.cancelled_points += payment.amount

    def to_api(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def row(payment: r.Payment) -> dict[str, Any]:
    return {**payment.to_api(), "name_en": payment.name_en, "status_label": STATUS_LABEL[payment.status]}


def _range_condition(merchant_id: str, rng: Range) -> dict[str, Any]:
    # BETWEEN is inclusive; the range end is exclusive. Every sort key is "<stamp>#<id>", so the
    # bare stamp of the end instant sorts before any key at that instant and excludes it.
    return {
        "index": "gsi1",
        "key_condition": "gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
        "values": {":p": r.merchant_history_pk(merchant_id), ":a": utc_key(rng.start), ":b": utc_key(rng.end)},
    }


class HistoryService:
    def __init__(self, table: Table) -> None:
        self.table = table

    def iter_range(self, merchant_id: str, rng: Range, *, newest_first: bool = True) -> Iterator[r.Payment]:
        """Every payment in the range, one DynamoDB page (<= 1 MB) in memory at a time."""
        for item in self.table.query(forward=not newest_first, **_range_condition(merchant_id, rng)):
            yield r.payment_from_item(item)

    def page(
        self, merchant_id: str, rng: Range, *, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[r.Payment], Totals, dict[str, Any] | None]:
        """One page of rows and the range totals; ``cursor`` is what a previous call returned."""
        if cursor is None:
            return self._first_page(merchant_id, rng, limit)
        totals = Totals(**{k: int(v) for k, v in cursor["totals"].items()})
        page = self.table.query_page(forward=False, limit=limit, start_key=cursor["key"],
                                     **_range_condition(merchant_id, rng))
        rows = [r.payment_from_item(i) for i in page.items]
        next_cursor = {"key": page.last_key, "totals": totals.to_api()} if page.last_key else None
        return rows, totals, next_cursor

    def _first_page(self, merchant_id: str, rng: Range, limit: int
                    ) -> tuple[list[r.Payment], Totals, dict[str, Any] | None]:
        totals = Totals()
        rows: list[r.Payment] = []
        extra = False
        for payment in self.iter_range(merchant_id, rng):
            totals.add(payment)
            if len(rows) < limit:
                rows.append(payment)
            else:
                extra = True
        next_cursor = None
        if extra:
            last = rows[-1]
            at = utc_key(last.completed_at)
            key = {"pk": r.payment_pk(last.payment_id), "sk": r.PAYMENT_SK,
                   "gsi1pk": r.merchant_history_pk(merchant_id), "gsi1sk": f"{at}#{last.payment_id}"}
            next_cursor = {"key": key, "totals": totals.to_api()}
        return rows, totals, next_cursor

    def daily(self, merchant_id: str, rng: Range) -> list[dict[str, Any]]:
        """Per JST day in the range: completed and cancelled counts and points (for the chart)."""
        days: dict[dt.date, Totals] = {}
        day = jst_date(rng.start)
        last = jst_date(rng.end - dt.timedelta(milliseconds=1))
        while day <= last:
            days[day] = Totals()
            day += dt.timedelta(days=1)
        for payment in self.iter_range(merchant_id, rng, newest_first=False):
            days[jst_date(payment.completed_at)].add(payment)
        return [{"date": d.isoformat(), **t.to_api()} for d, t in days.items()]
