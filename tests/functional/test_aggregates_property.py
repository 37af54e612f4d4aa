"""The day and period totals always equal a recount of the rows (SPEC §7 "totals from aggregates").

GIVEN random payments and cancellations by several consumers at two shops, at times that straddle
JST midnight and a period boundary (and, separately, many consumers paying one shop at once over HTTP)
THEN every stored total equals what a count of the payment and cancellation rows gives, and the
console's range totals (whole days from totals, edge minutes from rows) equal a count of the range.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import bootstrap
from chalicelib.console.ranges import Range
from chalicelib.core.clock import JST, UTC, FixedClock, jst_date, parse_utc_key
from chalicelib.core.errors import AlreadyCancelled, InsufficientPoints
from chalicelib.core.periods import period_of
from chalicelib.payments.aggregates import Counts
from tests.support import drive
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack, build_stack

# 2026-11-15 23:30 JST: half an hour before midnight and before period 2026-11-1 ends.
EDGE = dt.datetime(2026, 11, 15, 23, 30, tzinfo=JST)
CONSUMERS = ["C-A", "C-B", "C-C"]

step = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(CONSUMERS), st.integers(0, 1), st.integers(1, 900),
              st.integers(0, 120)),
    st.tuples(st.just("cancel"), st.integers(0, 50), st.integers(0, 1), st.integers(0, 2000), st.integers(0, 120)),
)


def recount(stack: Stack) -> tuple[dict[tuple[str, dt.date], Counts], dict[tuple[str, str], Counts]]:
    """Day and period totals counted from the rows themselves."""
    days: dict[tuple[str, dt.date], Counts] = defaultdict(Counts)
    periods: dict[tuple[str, str], Counts] = defaultdict(Counts)
    for item in stack.all_items():
        if item.get("sk") == "PAYMENT":
            at, mid, amount = parse_utc_key(item["completed_at"]), item["merchant_id"], item["amount"]
            days[(mid, jst_date(at))].add(Counts(sales_count=1, sales_points=amount))
            periods[(mid, period_of(at).id)].add(Counts(sales_count=1, sales_points=amount))
            if item["status"] == "cancelled":
                days[(mid, jst_date(at))].add(Counts(cancelled_count=1, cancelled_points=amount))
        elif item.get("sk") == "CANCEL":
            at, mid, amount = parse_utc_key(item["cancelled_at"]), item["merchant_id"], item["amount"]
            days[(mid, jst_date(at))].add(Counts(cancel_count=1, cancel_points=amount))
            periods[(mid, period_of(at).id)].add(Counts(cancel_count=1, cancel_points=amount))
    return days, periods


def stored(stack: Stack, merchants: list[str], first: dt.date, last: dt.date
           ) -> tuple[dict[tuple[str, dt.date], Counts], dict[tuple[str, str], Counts]]:
    repo = stack.container.payment_repo
    days = {(m, d): c for m in merchants for d, c in repo.day_counts(m, first, last).items()}
    periods = {(m, p): c for p in ("2026-11-1", "2026-11-2") for m, c in repo.period_counts(p).items()}
    return days, periods


def nonzero(totals: dict[Any, Counts]) -> dict[Any, Counts]:
    return {k: v for k, v in totals.items() if not v.is_zero()}


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_totals_equal_a_recount_of_the_rows(engine: Any, keys_dir: Any, steps: list[tuple[Any, ...]]) -> None:
    clock = FixedClock(EDGE)
    stack = build_stack(engine, keys_dir, clock=clock)
    try:
        c = stack.container
        shops = [drive.register(c, name_ja=f"店{i}").merchant.merchant_id for i in range(2)]
        for consumer in CONSUMERS:
            drive.grant(c, consumer, 5_000, "2027-12-31")
        paid: list[tuple[str, str]] = []  # (payment id, merchant)
        for kind, a, b, amount_or_pick, minutes in steps:
            clock.advance(minutes=minutes)
            if kind == "pay":
                try:
                    body = drive.pay(c, a, shops[b], amount_or_pick)
                except InsufficientPoints:
                    continue
                paid.append((str(body["payment_id"]), shops[b]))
            elif paid:
                pid, mid = paid[amount_or_pick % len(paid)]
                with contextlib.suppress(AlreadyCancelled):
                    c.cancels.cancel(merchant_id=mid, payment_id=pid, confirm_payment_id=pid, by="t")
        first, last = EDGE.date() - dt.timedelta(days=1), jst_date(clock.now()) + dt.timedelta(days=1)
        counted_days, counted_periods = recount(stack)
        kept_days, kept_periods = stored(stack, shops, first, last)
        assert nonzero(kept_days) == nonzero(counted_days)
        assert nonzero(kept_periods) == nonzero(counted_periods)
        # and the console's totals over a minute-precise range equal a count of the range
        rng = Range(EDGE.astimezone(UTC) + dt.timedelta(minutes=7), clock.now() + dt.timedelta(minutes=1))
        for mid in shops:
            totals = c.history.totals(mid, rng)
            rows = [i for i in stack.all_items() if i.get("sk") == "PAYMENT" and i["merchant_id"] == mid
                    and rng.start <= parse_utc_key(i["completed_at"]) < rng.end]
            done = [r["amount"] for r in rows if r["status"] == "completed"]
            undone = [r["amount"] for r in rows if r["status"] == "cancelled"]
            assert (totals.completed_count, totals.completed_points, totals.cancelled_count,
                    totals.cancelled_points) == (len(done), sum(done), len(undone), sum(undone))
    finally:
        bootstrap.override(None)


def test_many_consumers_paying_one_shop_at_once_all_succeed_and_count(stack: Stack) -> None:
    c = stack.container
    mid = drive.register(c).merchant.merchant_id
    consumers = [f"C-RUSH-{i}" for i in range(24)]
    for consumer in consumers:
        drive.grant(c, consumer, 1_000, "2027-12-31")
    tokens = {consumer: stack.consumer_token(consumer) for consumer in consumers}

    def pay(consumer: str) -> int:
        status, _, _ = http_json("POST", f"{base}/v1/payments", {"merchant_id": mid, "amount": 100},
                                 headers={"Authorization": f"Bearer {tokens[consumer]}",
                                          "Idempotency-Key": uuid.uuid4().hex})
        return status

    with serve_app() as base, ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(pay, consumers))
    assert statuses == [201] * 24
    day = jst_date(c.clock.now())
    counted_days, counted_periods = recount(stack)
    kept = c.payment_repo.day_counts(mid, day, day)[day]
    assert kept == counted_days[(mid, day)] and (kept.sales_count, kept.sales_points) == (24, 2_400)
    assert c.payment_repo.period_counts(period_of(c.clock.now()).id)[mid] == counted_periods[
        (mid, period_of(c.clock.now()).id)]
