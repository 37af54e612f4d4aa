"""The demo history of ``make run`` (SPEC §12): a believable two months, so every page has something
to show on a fresh start.

Written through the services, as the API would, with a :class:`FixedClock` stepped through the
days: several merchants (the fixed demo merchant ``MDEMOSHOP1`` among them, with its two shops), sales by
other demo consumers spread over every shop,
a few cancellations, each past period closed on its own night, transfer files made and payouts
marked so that every payout state appears (paid, exported, failed, carried, scheduled), and the
open period with sales up to now. ``DEMO-CONSUMER`` is not touched: it keeps exactly its 10,000
points and no history.

Invariants:
- Deterministic for a given "now" (a seeded random generator) and idempotent: a store that already
  has the demo shops is left alone.
- Modest in size (a few hundred payments): the local engine copies the table on every transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from typing import TYPE_CHECKING

from chalicelib.core.clock import JST, FixedClock, jst_date

if TYPE_CHECKING:
    from chalicelib.bootstrap import Container
    from chalicelib.core.periods import Period

SHOPS = (  # (merchant id, name, English name, holder kana, sales per open day on average)
    ("MDEMOSHOP2", "女川さかな店(デモ)", "ONAGAWA SAKANA DEMO", "ｵﾅｶﾞﾜｻｶﾅﾃﾝ", 0.4),
    ("MDEMOSHOP3", "まちなかカフェ(デモ)", "MACHINAKA CAFE DEMO", "ﾏﾁﾅｶｶﾌｴ", 0.35),
    ("MDEMOSHOP4", "海の駅 土産店(デモ)", "UMINOEKI GIFT DEMO", "ｳﾐﾉｴｷﾐﾔｹﾞ", 0.2),
)
CONSUMERS = tuple(f"DEMO-C{i:02d}" for i in range(1, 9))
CONSUMER_POINTS = 200_000
DAYS = 60
MARKER = SHOPS[0][0]


@dataclasses.dataclass(frozen=True)
class HistorySummary:
    created: bool
    payments: int = 0
    cancellations: int = 0
    closed_periods: tuple[str, ...] = ()
    payout_states: tuple[str, ...] = ()


def seed_history(container: Container, demo_merchant_id: str, now: dt.datetime | None = None) -> HistorySummary:
    """About two months of history up to ``now`` (default: the container's clock), once."""
    from chalicelib import bootstrap
    from chalicelib.core.errors import NotFound
    from chalicelib.core.periods import period_of
    from chalicelib.http.routes.payments import render_created
    from chalicelib.merchants.bank import bank_account
    from chalicelib.payments.commands import GrantRequest
    from chalicelib.payments.service import PayCommand

    try:
        container.merchants.get(MARKER)
        return HistorySummary(created=False)
    except NotFound:
        pass
    now = now or container.clock.now()
    # From the start of a period, so that every past period with sales is one the demo closes itself
    # (a period cut in half would be closed by the nightly job instead, with one payout more).
    start_day = jst_date(period_of(now - dt.timedelta(days=DAYS)).start_utc)
    clock = FixedClock(dt.datetime.combine(start_day, dt.time(8, 0), tzinfo=JST))
    # The same table and bucket, a clock of its own; the real container stays as it was.
    c = bootstrap.Container(settings=container.settings, clock=clock)
    rng = random.Random(f"onagawa-demo-{start_day.isoformat()}")

    for mid, name, name_en, kana, _ in SHOPS:
        c.merchants.register(name_ja=name, name_en=name_en, mcc=None, merchant_id=mid,
                             bank=bank_account(bank_code="0001", branch_code="002", account_type=1,
                                               account_number=f"{rng.randrange(10**6, 10**7):07d}", holder_kana=kana))
    expires = dt.date(jst_date(now).year + 1, 12, 31)
    for consumer in CONSUMERS:
        c.grants.grant(GrantRequest(grant_id=f"DEMO-HIST-{consumer}", consumer_id=consumer, points=CONSUMER_POINTS,
                                    expires_on=expires))

    # (merchant, shop, sales per open day): the demo merchant's sales spread over its shops
    demo_stores = sorted(container.merchants.store_ids(demo_merchant_id), key=lambda s: (s != demo_merchant_id, s))
    shops = [(demo_merchant_id, sid, 0.6 if sid == demo_merchant_id else 0.35) for sid in demo_stores]
    shops += [(mid, mid, rate) for mid, _, _, _, rate in SHOPS]
    current = period_of(now)
    closed = _past_periods(current, start_day)
    # The carried payout: the gift shop sells nothing in the second-newest closed period and has a
    # large sale of the period before cancelled in it, so that period's net is negative.
    quiet_shop, quiet_period = SHOPS[2][0], closed[-2] if len(closed) >= 2 else None
    payments = cancels = 0
    sold: list[tuple[str, str]] = []  # (payment id, merchant id) of the last days, for cancellations
    day = start_day
    while day <= jst_date(now):
        for period in closed:  # each period closes the night after it ends, its files follow
            if jst_date(period.end_utc) == day:
                _settle(c, clock, period, closed, now)
        for mid, store, rate in shops:
            if quiet_period and mid == quiet_shop and period_of(_at(day, 12)) == quiet_period:
                continue
            count = _poisson(rng, rate * (1.4 if day.weekday() >= 5 else 1.0))
            for _ in range(count):
                moment = _at(day, rng.randrange(9, 18), rng.randrange(60), rng.randrange(60), rng.randrange(1000))
                if moment >= now:
                    continue
                clock.set(moment)
                amount = rng.choice((300, 500, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4800))
                consumer = rng.choice(CONSUMERS)
                key = f"demo-{store}-{moment.isoformat()}"
                result = c.payments.pay(PayCommand(consumer_id=consumer, idempotency_key=key, amount=amount,
                                                   store_id=store, fingerprint=key), render_created)
                payments += 1
                sold.append((str(json.loads(result.body)["payment_id"]), mid))
                if payments % 17 == 0:  # a wrong amount, cancelled a few minutes later
                    clock.set(moment + dt.timedelta(minutes=rng.randrange(2, 15)))
                    pid, shop = sold[-1]
                    c.cancels.cancel(merchant_id=shop, payment_id=pid, confirm_payment_id=pid, by="demo")
                    cancels += 1
        if quiet_period and day == jst_date(quiet_period.start_utc) - dt.timedelta(days=1):
            clock.set(_at(day, 17, 30))
            key = f"demo-large-{day.isoformat()}"
            big = c.payments.pay(PayCommand(consumer_id=CONSUMERS[0], idempotency_key=key, amount=9_800,
                                            store_id=quiet_shop, fingerprint=key), render_created)
            payments += 1
            clock.set(_at(day + dt.timedelta(days=1), 10, 5))  # cancelled the next morning: the next period
            pid = str(json.loads(big.body)["payment_id"])
            c.cancels.cancel(merchant_id=quiet_shop, payment_id=pid, confirm_payment_id=pid, by="demo")
            cancels += 1
        day += dt.timedelta(days=1)
    states = sorted({p.status for period in closed for p in c.payouts.payouts(period.id)})
    return HistorySummary(created=True, payments=payments, cancellations=cancels,
                          closed_periods=tuple(p.id for p in closed), payout_states=tuple(states))


def _at(day: dt.date, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second, ms * 1000), tzinfo=JST)


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _past_periods(current: Period, start_day: dt.date) -> list[Period]:
    """The periods wholly after ``start_day`` that have ended, oldest first."""
    out = []
    period = current.previous()
    while jst_date(period.start_utc) >= start_day:
        out.append(period)
        period = period.previous()
    return list(reversed(out))


def _settle(c: Container, clock: FixedClock, period: Period, closed: list[Period], now: dt.datetime) -> None:
    """The night after ``period``: it is closed, and its transfer moves on so that the demo shows
    every payout state: the newest closed period is still scheduled; the one before was sent to the
    bank (exported) and one of its transfers came back failed; older ones are paid."""
    from chalicelib.core.errors import Conflict
    from chalicelib.settlement import business_days

    index = closed.index(period)
    clock.set(period.end_utc + dt.timedelta(minutes=10))
    c.closing.close_due()
    if index == len(closed) - 1:
        return
    clock.set(period.end_utc + dt.timedelta(days=1, hours=1))  # the operator makes the bank file next morning
    try:
        c.payouts.zengin(period.id)
    except Conflict:  # nothing payable in this period: nothing to send
        return
    if index == len(closed) - 2:
        clock.set(min(period.end_utc + dt.timedelta(days=3), now))
        c.payouts.mark(period.id, SHOPS[0][0], "failed")  # the bank rejected one transfer
        return
    paid_on = business_days.transfer_date(period, c.settings.transfer_date_direction)
    clock.set(min(dt.datetime.combine(paid_on, dt.time(16, 0), tzinfo=JST), now))
    for payout in c.payouts.payouts(period.id):
        if payout.status == "exported":
            c.payouts.mark(period.id, payout.merchant_id, "paid")
