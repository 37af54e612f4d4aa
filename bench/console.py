"""Benchmark: the merchant console's first history page does not grow with the shop's payments.

One store holds two shops over the same 30 days: SMALL with 1,000 payments and BIG with 100,000
(plus a few cancellations each). The first page of 取引履歴 for the month is timed for both in
alternating rounds, once as the console asks it (whole days: a date range or a preset) and once typed
to the minute (09:00 on the first day to 17:59 on the last): its totals come from the day totals
(plus, with minute edges, the rows of the two edge days), its rows from the newest day's partition.

Figures (one run, one store):
- history_first_page_seconds_1k / _100k and history_first_page_growth (target <= 2), and the same
  with the suffix _minute_edges;
- history_first_page_items_read_1k / _100k (and _minute_edges): items DynamoDB returned for the page
  (read units follow them): day totals of the month, the edge days' rows and the page's rows;
- floor_query_rows_per_second, export_rows_per_second, export_ratio_vs_floor (target <= 1.5): the
  CSV export of BIG's month against a bare boto3 Query of the same rows, day by day;
- export_peak_mib_10k / _100k and export_memory_growth (target < 1.5): tracemalloc peak of the
  export of BIG's first 3 days against its whole month; the engine runs in another process.

moto answers every Query by walking the whole table, so absolute times are the engine's and grow
with the table; both shops share the table, so the growth figure compares only what the app reads.
"""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import datetime as dt
import statistics
import sys
import time
import tracemalloc
from typing import Any

from bench.common import BatchWriter, Seeder, avs, emit, raw_client, start_remote_stack
from chalicelib.console.ranges import Range
from chalicelib.core.clock import JST, UTC, utc_key
from chalicelib.payments.model import Payment
from chalicelib.payments.wallet import Share
from chalicelib.store.connection import client as store_client
from chalicelib.store.models import merchant_day_pk

BIG_ROWS = int(os.environ.get("BENCH_CONSOLE_ROWS", "100000"))
SMALL_ROWS = 1000
DAYS = 30
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
START = dt.datetime(2026, 11, 1, 0, 0, tzinfo=JST)
SHOPS = {"MSMALL0001": SMALL_ROWS, "MBIG000001": BIG_ROWS}


def seed(c: Any) -> None:
    seeder = Seeder(BatchWriter(raw_client(), c.settings.table_name))
    exp = dt.datetime(2027, 12, 31, 14, 59, 59, 999000, tzinfo=UTC)
    for merchant_id, count in SHOPS.items():
        step = dt.timedelta(days=DAYS) / count
        for i in range(count):
            when = (START + step * i).astimezone(UTC)
            pid = f"{merchant_id[1:4]}{i:07d}"
            p = Payment(payment_id=pid, merchant_id=merchant_id, consumer_id=f"C-{i % 5000:05d}",
                        amount=100 + i % 900, status="completed", completed_at=when, cancelled_at=None,
                        name_ja="ベンチ商店", name_en="BENCH SHOP", shares=(Share("G1", exp, 100 + i % 900),))
            if i % 50 == 0:
                seeder.cancel(p, when + dt.timedelta(minutes=3))
            else:
                seeder.sale(p)
    seeder.flush()


class ItemCounter:
    """Items returned by Query calls of the store's client (read units follow them)."""

    def __init__(self, client: Any) -> None:
        self.items = 0
        client.meta.events.register("after-call.dynamodb.Query", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.items += int(parsed.get("Count", 0))


def floor_export(c: Any, merchant_id: str, rng: Range) -> int:
    """The same rows as the export, by bare boto3 Queries of each day partition, decoding nothing."""
    client = raw_client()
    rows = 0
    day = rng.start.astimezone(JST).date()
    while dt.datetime.combine(day, dt.time(0, 0), tzinfo=JST) < rng.end:
        kwargs: dict[str, Any] = {
            "TableName": c.settings.table_name, "IndexName": "gsi1", "ScanIndexForward": False,
            "KeyConditionExpression": "gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": avs({":p": merchant_day_pk(merchant_id, day), ":a": utc_key(rng.start),
                                              ":b": utc_key(rng.end)})}
        while True:
            resp = client.query(**kwargs)
            rows += len(resp["Items"])
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        day += dt.timedelta(days=1)
    return rows


def main() -> None:
    engine, c = start_remote_stack()
    try:
        t0 = time.perf_counter()
        seed(c)
        emit("seed_seconds", time.perf_counter() - t0)
        for name, rows in SHOPS.items():
            emit(f"rows_{name}", rows)
        # The console's own ranges (a date, 今日/昨日/今月/今期) are whole days; a range typed to the minute
        # has edge days whose rows are counted (SPEC §7: edges by minute from rows).
        days = Range(START.astimezone(UTC), (START + dt.timedelta(days=DAYS)).astimezone(UTC))
        month = Range((START + dt.timedelta(hours=9)).astimezone(UTC),
                      (START + dt.timedelta(days=DAYS - 1, hours=18)).astimezone(UTC))
        history = c.history
        counter = ItemCounter(store_client())
        for name, rng in (("", days), ("_minute_edges", month)):
            times: dict[str, list[float]] = {"1k": [], "100k": []}
            items: dict[str, int] = {}
            for i in range(ROUNDS):
                order = [("1k", "MSMALL0001"), ("100k", "MBIG000001")]
                for label, shop in (order if i % 2 == 0 else list(reversed(order))):
                    counter.items = 0
                    t0 = time.perf_counter()
                    page = history.page(shop, rng, limit=50, cursor=None)
                    times[label].append(time.perf_counter() - t0)
                    items[label] = counter.items
                    assert len(page.rows) == 50 and page.cursor is not None
            small, big = statistics.median(times["1k"]), statistics.median(times["100k"])
            emit(f"history_first_page_seconds_1k{name}", small)
            emit(f"history_first_page_seconds_100k{name}", big)
            emit(f"history_first_page_growth{name}", big / small)
            emit(f"history_first_page_items_read_1k{name}", items["1k"])
            emit(f"history_first_page_items_read_100k{name}", items["100k"])
        emit("target_growth", 2.0)
        t0 = time.perf_counter()
        history.page("MBIG000001", month, limit=50, cursor=page.cursor)
        emit("history_next_page_seconds_100k", time.perf_counter() - t0)

        t0 = time.perf_counter()
        floor_rows = floor_export(c, "MBIG000001", month)
        floor_rate = floor_rows / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = c.exports.export("MBIG000001", month)
        export_rate = result.rows / (time.perf_counter() - t0)
        assert result.rows == floor_rows, (result.rows, floor_rows)
        emit("export_rows", result.rows)
        emit("floor_query_rows_per_second", floor_rate)
        emit("export_rows_per_second", export_rate)
        emit("export_ratio_vs_floor", floor_rate / export_rate)
        emit("target_export_ratio", 1.5)

        three_days = Range(month.start, month.start + dt.timedelta(days=3))
        peaks = {}
        for label, rng in (("10k", three_days), ("100k", month)):
            tracemalloc.start()
            c.exports.export("MBIG000001", rng)
            peaks[label] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        emit("export_peak_mib_10k", peaks["10k"] / 2**20)
        emit("export_peak_mib_100k", peaks["100k"] / 2**20)
        emit("export_memory_growth", peaks["100k"] / peaks["10k"])
        emit("target_memory_growth", 1.5)
    finally:
        engine.terminate()
        engine.wait(timeout=10)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
