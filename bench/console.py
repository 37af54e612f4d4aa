"""Benchmark: the merchant console over 100,000 payments of one merchant among 10 merchants.

Figures (one run, same store):
- history_first_page_seconds: the first page of 取引履歴 for the whole range (it also totals the range)
- history_next_page_seconds: a following page (totals ride in the cursor)
- floor_query_rows_per_second: a bare boto3 Query of the same rows (same key condition, same page size)
- export_rows_per_second: the CSV export (query, decode, CSV, streamed upload to S3)
- export_ratio_vs_floor: floor rate / export rate (target <= 1.5)
- export_peak_mib_10k / _100k and export_memory_growth (target < 1.5): tracemalloc peak of the
  export in this process; the local engine runs in a separate process so its memory is not counted.
"""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import datetime as dt
import sys
import time
import tracemalloc

from bench.common import BatchWriter, avs, bare_query_rows, emit, raw_client, start_remote_stack
from chalicelib.console.ranges import Range
from chalicelib.core.clock import JST, UTC, utc_key
from chalicelib.payments.dynamo import payment_item
from chalicelib.payments.model import Payment
from chalicelib.payments.wallet import Share

TARGET_ROWS = int(os.environ.get("BENCH_CONSOLE_ROWS", "100000"))
OTHER_MERCHANTS = 9
OTHER_ROWS = 1000
START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=JST)


def seed(c: object) -> None:
    from chalicelib.bootstrap import Container

    assert isinstance(c, Container)
    writer = BatchWriter(raw_client(), c.settings.table_name)

    plan = [("MBENCH0000", TARGET_ROWS)] + [(f"MOTHER{i:04d}", OTHER_ROWS) for i in range(OTHER_MERCHANTS)]
    for merchant_id, count in plan:
        step = dt.timedelta(days=30) / count
        for i in range(count):
            when = (START + step * i).astimezone(UTC)
            pid = f"{merchant_id[1:4]}{merchant_id[-2:]}{i:06d}"
            exp = dt.datetime(2027, 12, 31, 14, 59, 59, 999000, tzinfo=UTC)
            p = Payment(payment_id=pid, merchant_id=merchant_id, consumer_id=f"C-{i % 5000:05d}",
                          amount=100 + i % 900, status="cancelled" if i % 50 == 0 else "completed",
                          completed_at=when, cancelled_at=when + dt.timedelta(minutes=3) if i % 50 == 0 else None,
                          name_ja="ベンチ商店", name_en="BENCH SHOP", shares=(Share("G1", exp, 100 + i % 900),))
            writer.add(payment_item(p, f"k{pid}"))
    writer.flush()


def floor_query(c: object, rng: Range) -> int:
    from chalicelib.bootstrap import Container

    assert isinstance(c, Container)
    return bare_query_rows(
        raw_client(), TableName=c.settings.table_name, IndexName="gsi1", ScanIndexForward=False,
        KeyConditionExpression="gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
        ExpressionAttributeValues=avs({":p": "M#MBENCH0000", ":a": utc_key(rng.start),
                                                 ":b": utc_key(rng.end)}))


def main() -> None:
    engine, c = start_remote_stack()
    try:
        t0 = time.perf_counter()
        seed(c)
        emit("seed_seconds", time.perf_counter() - t0)
        emit("rows_target_merchant", TARGET_ROWS)
        emit("rows_other_merchants", OTHER_MERCHANTS * OTHER_ROWS)
        whole = Range(START.astimezone(UTC), (START + dt.timedelta(days=31)).astimezone(UTC))
        history = c.history

        t0 = time.perf_counter()
        first = history.page("MBENCH0000", whole, limit=50, cursor=None)
        emit("history_first_page_seconds", time.perf_counter() - t0)
        totals = first.totals
        assert totals.completed_count + totals.cancelled_count == TARGET_ROWS, totals
        t0 = time.perf_counter()
        history.page("MBENCH0000", whole, limit=50, cursor=first.cursor)
        emit("history_next_page_seconds", time.perf_counter() - t0)

        floor_rates, export_rates = [], []
        for _ in range(int(os.environ.get("BENCH_ROUNDS", "1"))):
            t0 = time.perf_counter()
            n = floor_query(c, whole)
            floor_rates.append(n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            result = c.exports.export("MBENCH0000", whole)
            export_rates.append(result.rows / (time.perf_counter() - t0))
            assert result.rows == n == TARGET_ROWS
        floor_rate, export_rate = max(floor_rates), max(export_rates)
        emit("floor_query_rows_per_second", floor_rate)
        emit("export_rows_per_second", export_rate)
        emit("export_ratio_vs_floor", floor_rate / export_rate)
        emit("target_export_ratio", 1.5)

        tenth = Range(whole.start, whole.start + (whole.end - whole.start) / 10)
        peaks = {}
        for label, rng in (("10k", tenth), ("100k", whole)):
            tracemalloc.start()
            c.exports.export("MBENCH0000", rng)
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
