"""Benchmark: closing a period does not grow with its payments (it reads the period's totals).

A store with 1,000 shops; period SMALL holds 10% of PAYMENTS payments and period LARGE all of them
(a few cancellations each). Figures:
- close_seconds (LARGE, median of 3 closes, each undone after) and close_ratio_vs_floor (target
  <= 1.5): the floor is the least a close must do with bare boto3 calls: one Query of the period's
  totals (every shop's shards), one of the previous period's payouts (their carries), one of the
  shop list (the names on the payouts), and one conditional PutItem per payout (a close never
  overwrites a payout);
- close_peak_mib_10k / _100k and close_memory_growth (target < 1.5): tracemalloc peak of closing
  SMALL against LARGE (the engine runs in another process). tracemalloc slows the client two to
  three times, so the timed close of LARGE runs untraced; LARGE's payouts and period record are then
  removed and it is closed again, traced, for its memory.
"""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import datetime as dt
import time
import tracemalloc

from bench.common import BatchWriter, Seeder, av, avs, bare_query_rows, emit, median, raw_client, start_remote_stack
from chalicelib.core.clock import JST, UTC, FixedClock
from chalicelib.core.periods import Period
from chalicelib.payments.model import Payment
from chalicelib.payments.wallet import Share
from chalicelib.store.models import MERCHANTS_INDEX_PK, payouts_pk, period_aggs_pk

PAYMENTS = int(os.environ.get("BENCH_SETTLEMENT_PAYMENTS", "100000"))
MERCHANTS = 1000
ROUNDS = 3
SMALL = Period.parse("2026-10-1")  # 10% of the payments
LARGE = Period.parse("2026-10-2")
BANK = {"bank_code": "0001", "branch_code": "001", "account_type": 1, "account_number": "1234567",
        "holder_kana": "ﾍﾞﾝﾁ"}


def seed(c: object) -> None:
    from chalicelib.bootstrap import Container

    assert isinstance(c, Container)
    writer = BatchWriter(raw_client(), c.settings.table_name)
    for m in range(MERCHANTS):
        mid = f"M{m:09d}"
        writer.add(avs({"pk": f"MERCHANT#{mid}", "sk": "PROFILE", "merchant_id": mid, "name_ja": f"店{m}",
                        "name_en": "SHOP", "mcc": "5999", "city": "ONAGAWA", "status": "active", "login_id": mid,
                        "bank": BANK, "created_at": "2026-01-01T00:00:00.000Z", "gsi1pk": "MERCHANTS",
                        "gsi1sk": f"x#{mid}"}))
    seeder = Seeder(writer)
    exp = dt.datetime(2027, 12, 31, 14, 59, 59, 999000, tzinfo=UTC)
    for period, count in ((SMALL, PAYMENTS // 10), (LARGE, PAYMENTS)):
        step = (period.end_utc - period.start_utc - dt.timedelta(hours=1)) / count
        for i in range(count):
            mid = f"M{i % MERCHANTS:09d}"
            when = period.start_utc + step * i
            p = Payment(payment_id=f"{period.half}{i:09d}", merchant_id=mid, consumer_id=f"C{i % 7000}",
                        amount=100 + i % 900, status="completed", completed_at=when, cancelled_at=None,
                        name_ja="店", name_en="SHOP", shares=(Share("G1", exp, 100 + i % 900),))
            if i % 40 == 0:  # some cancellations, in the same period
                seeder.cancel(p, when + dt.timedelta(minutes=1))
            else:
                seeder.sale(p)
    seeder.flush()


def floor_close(c: object, period: Period) -> float:
    """The least a close does: read the period's totals, the previous payouts and the shop list, and
    write one item per shop if it is not there yet."""
    from chalicelib.bootstrap import Container

    assert isinstance(c, Container)
    client, table = raw_client(), c.settings.table_name
    t0 = time.perf_counter()
    bare_query_rows(client, TableName=table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                    ExpressionAttributeValues={":p": av(period_aggs_pk(period.id))})
    bare_query_rows(client, TableName=table, KeyConditionExpression="pk = :p", ConsistentRead=True,
                    ExpressionAttributeValues={":p": av(payouts_pk(period.previous().id))})
    bare_query_rows(client, TableName=table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                    ExpressionAttributeValues={":p": av(MERCHANTS_INDEX_PK)})
    run = time.time_ns()  # each floor writes new items, as a close does
    for m in range(MERCHANTS):
        client.put_item(TableName=table, Item=avs({
            "pk": f"FLOOR#{period.id}#{run}", "sk": f"M{m:09d}", "payout": 1000 + m,
            "status": "scheduled"}), ConditionExpression="attribute_not_exists(pk)")
    return time.perf_counter() - t0


def undo_close(c: object, period: Period) -> None:
    """Remove a closed period's record and payouts (bench only), so it can be closed again."""
    from chalicelib.bootstrap import Container
    from chalicelib.store.models import period_pk

    assert isinstance(c, Container)
    client, table = raw_client(), c.settings.table_name
    keys = [{"pk": av(period_pk(period.id)), "sk": av("PERIOD")}]
    request: dict[str, object] = {"TableName": table, "KeyConditionExpression": "pk = :p",
                                  "ExpressionAttributeValues": {":p": av(payouts_pk(period.id))},
                                  "ProjectionExpression": "pk, sk"}
    while True:
        resp = client.query(**request)
        keys += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            break
        request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    for i in range(0, len(keys), 25):
        batch: dict[str, object] = {table: [{"DeleteRequest": {"Key": k}} for k in keys[i:i + 25]]}
        while batch:
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def main() -> None:
    clock = FixedClock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=JST))
    engine, c = start_remote_stack(clock=clock)
    os.environ["SETTLEMENT_START_PERIOD"] = SMALL.id
    try:
        t0 = time.perf_counter()
        seed(c)
        emit("seed_seconds", time.perf_counter() - t0)
        emit("payments_large_period", PAYMENTS)
        emit("payments_small_period", PAYMENTS // 10)
        emit("merchants", MERCHANTS)
        svc = c.closing
        svc.start = SMALL

        svc.close(SMALL.id)  # warm: the first close loads modules and clients
        undo_close(c, SMALL)
        tracemalloc.start()
        small = svc.close(SMALL.id)
        peak_small = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert small.payouts == min(MERCHANTS, PAYMENTS // 10), small

        floors, closes = [], []
        for _ in range(ROUNDS):  # alternate floor and close (undone after each) so both see the same load
            floors.append(floor_close(c, LARGE))
            t0 = time.perf_counter()
            large = svc.close(LARGE.id)
            closes.append(time.perf_counter() - t0)
            assert large.payouts == MERCHANTS and not large.already_closed, large
            undo_close(c, LARGE)
        floor, close = median(floors), median(closes)
        emit("floor_close_seconds", floor)

        undo_close(c, LARGE)
        tracemalloc.start()
        again = svc.close(LARGE.id)
        peak_large = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert again == large, (again, large)
        emit("close_seconds", close)
        emit("close_ratio_vs_floor", close / floor)
        emit("target_close_ratio", 1.5)
        emit("close_peak_mib_10k", peak_small / 2**20)
        emit("close_peak_mib_100k", peak_large / 2**20)
        emit("close_memory_growth", peak_large / peak_small)
        emit("target_memory_growth", 1.5)
    finally:
        engine.terminate()
        engine.wait(timeout=10)


if __name__ == "__main__":
    main()
