"""Issue 5: closing periods exactly once, carry-over, reports, the Zengin file, schedules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib import bootstrap
from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.periods import Period
from chalicelib.settlement.dynamo import DynamoSettlementRepository
from chalicelib.settlement.model import Payout
from tests.support import drive
from tests.support.api import Api
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack, build_stack

START = "2026-10-1"


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST)


@pytest.fixture
def ledger(engine: Any, keys_dir: Any) -> Any:
    clock = FixedClock(at("2026-10-01 08:00"))
    stack = build_stack(engine, keys_dir, clock=clock, extra_env={"SETTLEMENT_START_PERIOD": START})
    c = stack.container
    drive.grant(c, "C-1", 1_000_000, "2027-12-31")
    yield stack, clock
    bootstrap.override(None)


def shop(stack: Stack, name: str = "女川商店") -> str:
    return drive.register(stack.container, name_ja=name, name_en="SHOP").merchant.merchant_id


def sell(stack: Stack, clock: FixedClock, when: dt.datetime, mid: str, amount: int) -> str:
    clock.set(when)
    return str(drive.pay(stack.container, "C-1", mid, amount)["payment_id"])


def cancel(stack: Stack, clock: FixedClock, when: dt.datetime, mid: str, pid: str) -> None:
    clock.set(when)
    stack.container.cancels.cancel(merchant_id=mid, payment_id=pid, confirm_payment_id=pid, by="test")


def payouts(stack: Stack, period_id: str) -> dict[str, dict[str, Any]]:
    return {p.merchant_id: dataclasses.asdict(p) for p in stack.container.payouts.payouts(period_id)}


def test_cancel_after_close_is_a_deduction_and_debt_carries(ledger: Any) -> None:
    stack, clock = ledger
    a = shop(stack)
    p1 = sell(stack, clock, at("2026-10-05 10:00"), a, 1000)
    sell(stack, clock, at("2026-10-15 23:59"), a, 500)
    clock.set(at("2026-10-16 00:10"))
    assert [r.period_id for r in stack.container.closing.close_due()] == ["2026-10-1"]
    first = payouts(stack, "2026-10-1")[a]
    assert (first["payout"], first["carry_out"], first["status"]) == (1500, 0, "scheduled")
    assert first["transfer_date"].isoformat() == "2026-10-30"  # 10-31 is a Saturday: previous business day
    cancel(stack, clock, at("2026-10-20 10:00"), a, p1)  # the sale was paid in 10-1: deduction in 10-2
    sell(stack, clock, at("2026-10-25 10:00"), a, 300)
    clock.set(at("2026-11-01 00:06"))
    stack.container.closing.close_due()
    second = payouts(stack, "2026-10-2")[a]
    assert (second["sales_points"], second["cancel_points"], second["net"], second["payout"], second["carry_out"]) == \
        (300, 1000, -700, 0, -700)
    assert second["status"] == "carried"
    sell(stack, clock, at("2026-11-03 10:00"), a, 900)
    clock.set(at("2026-11-16 00:06"))
    stack.container.closing.close_due()
    third = payouts(stack, "2026-11-1")[a]
    assert (third["carried_in"], third["payout"], third["carry_out"]) == (-700, 200, 0)


def test_sale_and_cancel_in_one_period_net_to_zero(ledger: Any) -> None:
    stack, clock = ledger
    a = shop(stack)
    pid = sell(stack, clock, at("2026-10-03 10:00"), a, 800)
    cancel(stack, clock, at("2026-10-03 10:05"), a, pid)
    clock.set(at("2026-10-16 00:10"))
    stack.container.closing.close_due()
    line = payouts(stack, "2026-10-1")[a]
    assert (line["sales_points"], line["cancel_points"], line["payout"], line["carry_out"]) == (800, 800, 0, 0)


@pytest.mark.parametrize(
    ("now", "due"),
    [("2026-10-16 00:04:59.999", False), ("2026-10-16 00:05:00.000", True)],
)
def test_grace_is_respected_with_a_fixed_clock(ledger: Any, now: str, due: bool) -> None:
    stack, clock = ledger
    clock.set(dt.datetime.strptime(now, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=JST))
    closed = [r.period_id for r in stack.container.closing.close_due()]
    assert closed == (["2026-10-1"] if due else [])


def test_an_event_stamped_before_the_end_commits_before_the_close(ledger: Any) -> None:
    """The last millisecond of the period belongs to it; the close after the grace includes it."""
    stack, clock = ledger
    a = shop(stack)
    sell(stack, clock, dt.datetime(2026, 10, 15, 23, 59, 59, 999000, tzinfo=JST), a, 77)
    sell(stack, clock, at("2026-10-16 00:00"), a, 11)
    clock.set(at("2026-10-16 00:05"))
    stack.container.closing.close_due()
    assert payouts(stack, "2026-10-1")[a]["sales_points"] == 77


def test_catch_up_after_missed_runs_closes_in_order(ledger: Any) -> None:
    stack, clock = ledger
    a = shop(stack)
    sell(stack, clock, at("2026-10-10 10:00"), a, 100)
    sell(stack, clock, at("2026-11-10 10:00"), a, 200)
    clock.set(at("2026-12-01 09:00"))
    assert [r.period_id for r in stack.container.closing.close_due()] == [
        "2026-10-1", "2026-10-2", "2026-11-1", "2026-11-2"]
    assert stack.container.closing.close_due() == []
    assert payouts(stack, "2026-11-1")[a]["payout"] == 200


class CrashingRepository(DynamoSettlementRepository):
    """The real repository, failing (as a crash would) after writing ``after`` payouts."""

    def __init__(self, after: int) -> None:
        self.left = after

    def add_payout(self, payout: Payout) -> Payout | None:
        if self.left == 0:
            raise RuntimeError("injected crash")
        self.left -= 1
        return super().add_payout(payout)


def test_crash_half_way_then_rerun_gives_one_payout_each(ledger: Any) -> None:
    stack, clock = ledger
    shops = [shop(stack, f"店{i}") for i in range(6)]
    for i, mid in enumerate(shops):
        sell(stack, clock, at("2026-10-05 10:00") + dt.timedelta(minutes=i), mid, 100 * (i + 1))
    clock.set(at("2026-10-16 01:00"))
    svc = stack.container.closing
    good_repo = svc.repo
    svc.repo = CrashingRepository(after=2)
    with pytest.raises(RuntimeError):
        svc.close("2026-10-1")
    assert len(payouts(stack, "2026-10-1")) == 2
    assert good_repo.period("2026-10-1").state == "closing"  # type: ignore[union-attr]
    svc.repo = good_repo
    result = svc.close_due()[0]
    lines = payouts(stack, "2026-10-1")
    assert sorted(lines) == sorted(shops) and result.payout_total == sum(100 * (i + 1) for i in range(6))
    assert [i["sk"] for i in stack.all_items() if i["pk"] == "PAYOUT#2026-10-1"].__len__() == 6


@pytest.mark.slow
def test_two_closes_at_once_over_http(ledger: Any, operator_token_factory: Any) -> None:
    stack, clock = ledger
    shops = [shop(stack, f"店{i}") for i in range(5)]
    for i, mid in enumerate(shops):
        sell(stack, clock, at("2026-10-05 10:00") + dt.timedelta(minutes=i), mid, 10 + i)
    clock.set(at("2026-10-16 01:00"))
    token = operator_token_factory(stack)
    with serve_app() as base, ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: http_json("POST", f"{base}/v1/admin/periods/2026-10-1/close", {},
                                                    headers={"Authorization": f"Bearer {token}"}), range(2)))
    assert [status for status, _, _ in results] == [200, 200]
    items = [i for i in stack.all_items() if i["pk"] == "PAYOUT#2026-10-1"]
    assert len(items) == 5 and {i["merchant_id"] for i in items} == set(shops)


@pytest.fixture
def operator_token_factory() -> Any:
    def make(stack: Stack) -> str:
        from chalicelib.core.clock import SystemClock

        stack.container.accounts.create(login_id="ops", role="operator", password="operator-pass-123",
                                        merchant_id=None, now=SystemClock().now())
        with Client(app, stage_name="local") as client:
            return Api(client).login("ops", "operator-pass-123")

    return make


def test_api_reports_zengin_marks_and_merchant_history(ledger: Any, operator_token_factory: Any) -> None:
    stack, clock = ledger
    a, b = shop(stack, "甲"), shop(stack, "乙")
    sell(stack, clock, at("2026-10-05 10:00"), a, 1234)
    sell(stack, clock, at("2026-10-06 10:00"), b, 4321)
    clock.set(at("2026-10-16 02:00"))
    token = operator_token_factory(stack)
    with Client(app, stage_name="local") as client:
        api = Api(client)
        periods = api.get("/v1/admin/periods", token=token).body["items"]
        assert {p["period_id"]: p["state"] for p in periods}["2026-10-1"] == "due"
        early = api.post("/v1/admin/periods/2026-10-2/close", {}, token=token)
        assert (early.status, early.error_code) == (409, "conflict")
        closed = api.post("/v1/admin/periods/2026-10-1/close", {}, token=token).body
        assert (closed["payouts_count"], closed["payouts_total"]) == (2, 5555)
        assert api.post("/v1/admin/periods/2026-10-1/close", {}, token=token).body["already_closed"] is True
        report = api.get("/v1/admin/periods/2026-10-1/report", token=token).body
        with urllib.request.urlopen(report["url"], timeout=30) as resp:
            text = resp.read().decode("utf-8-sig")
        assert text.count("\r\n") == 3 and "1234" in text and "4321" in text
        z = api.get("/v1/admin/periods/2026-10-1/zengin", token=token).body
        assert (z["count"], z["total"]) == (2, 5555)
        with urllib.request.urlopen(z["url"], timeout=30) as resp:
            data = resp.read()
        records = data.split(b"\r\n")[:-1]
        assert all(len(rec) == 120 for rec in records)
        assert [rec[:1] for rec in records] == [b"1", b"2", b"2", b"8", b"9"]
        trailer = records[3]
        assert int(trailer[1:7]) == 2 and int(trailer[7:19]) == 5555
        assert sorted(int(rec[80:90]) for rec in records[1:3]) == [1234, 4321]
        paid = api.post(f"/v1/admin/periods/2026-10-1/payouts/{a}/paid", token=token).body
        assert paid["status"] == "paid"
        failed = api.post(f"/v1/admin/periods/2026-10-1/payouts/{b}/failed", token=token).body
        assert failed["status"] == "failed"
        again = api.post(f"/v1/admin/periods/2026-10-1/payouts/{a}/failed", token=token)
        assert (again.status, again.error_code) == (409, "conflict")
        # the failed payout goes into the next file
        clock.set(at("2026-11-01 01:00"))
        token = api.login("ops", "operator-pass-123")  # a new session at the new time
        api.post("/v1/admin/periods/2026-10-2/close", {}, token=token)
        z2 = api.get("/v1/admin/periods/2026-10-2/zengin", token=token).body
        assert (z2["count"], z2["total"]) == (1, 4321)
        # merchant 振込履歴
        creds = stack.container.merchants.reset_password(b)
        shop_token = api.login(creds[0].login_id, creds[1])
        history = api.get("/v1/merchant/payouts", token=shop_token).body["items"]
        assert [(h["period_id"], h["amount"]) for h in history] == [("2026-10-1", 4321)]
        assert history[0]["transfer_date"] == "2026-10-30" and history[0]["processing_start_date"] == "2026-10-16"
        detail = api.get("/v1/merchant/payouts/2026-10-1/detail", token=shop_token).body
        with urllib.request.urlopen(detail["url"], timeout=30) as resp:
            rows = resp.read().decode("utf-8-sig").split("\r\n")
        assert rows[0] == "種別,日時,決済ID,店舗ID,店舗名,ポイント" and rows[1].startswith("売上,")
        assert rows[1].endswith(",4321") and f",{b}," in rows[1]
        assert f"店舗小計,,,{b}," in rows[2] and rows[2].endswith(",4321") and "振込額,,,,,4321" in rows
        other = api.get("/v1/merchant/payouts/2026-10-2/detail", token=shop_token)
        assert (other.status, other.error_code) == (404, "not_found")


def test_the_schedule_runs_the_catch_up(ledger: Any) -> None:
    stack, clock = ledger
    a = shop(stack)
    sell(stack, clock, at("2026-10-05 10:00"), a, 42)
    clock.set(at("2026-10-17 00:05"))
    with Client(app, stage_name="local") as client:
        event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
        client.lambda_.invoke("close_settlement_periods", event)
    assert payouts(stack, "2026-10-1")[a]["payout"] == 42


# -- the invariant, over random histories ---------------------------------------------------------
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 60 * 24 * 75), st.integers(1, 900),
                          st.one_of(st.none(), st.integers(0, 60 * 24 * 40))), min_size=1, max_size=14),
       st.integers(1, 4))
def test_sales_minus_cancellations_equal_payouts_plus_carry(engine: Any, keys_dir: Any,
                                                            plan: list[tuple[int, int, int, int | None]],
                                                            closes: int) -> None:
    clock = FixedClock(at("2026-10-01 00:00"))
    stack = build_stack(engine, keys_dir, clock=clock, extra_env={"SETTLEMENT_START_PERIOD": START})
    c = stack.container
    drive.grant(c, "C-1", 1_000_000, "2027-12-31")
    shops = [shop(stack, f"店{i}") for i in range(3)]
    base = at("2026-10-01 00:00")
    events = sorted(
        [(base + dt.timedelta(minutes=m), "sale", i, s, amt) for i, (s, m, amt, _) in enumerate(plan)]
        + [(base + dt.timedelta(minutes=m + d), "cancel", i, s, amt) for i, (s, m, amt, d) in enumerate(plan)
           if d is not None],
        key=lambda e: (e[0], e[1] == "cancel"))  # a cancel at the sale's own minute still comes after it
    pids: dict[int, str] = {}
    for when, kind, i, s, amt in events:
        if kind == "sale":
            pids[i] = sell(stack, clock, when, shops[s], amt)
        else:
            cancel(stack, clock, when, shops[s], pids[i])
    # close in several catch-up runs spread over time
    last = base + dt.timedelta(days=120)
    for k in range(1, closes + 1):
        clock.set(base + (last - base) * k / closes)
        c.closing.close_due()
    closed = {Period.parse(x.period_id) for x in c.closing.periods(12) if x.state == "closed"}
    ledger_sum: dict[str, int] = defaultdict(int)
    for when, kind, _, s, amt in events:
        from chalicelib.core.periods import period_of

        if period_of(when) in closed:
            ledger_sum[shops[s]] += amt if kind == "sale" else -amt
    paid: dict[str, int] = defaultdict(int)
    carry: dict[str, tuple[Period, int]] = {}
    for item in stack.all_items():
        if item.get("kind") == "payout":
            paid[item["merchant_id"]] += item["payout"]
            period = Period.parse(item["period_id"])
            if item["merchant_id"] not in carry or carry[item["merchant_id"]][0] < period:
                carry[item["merchant_id"]] = (period, item["carry_out"])
    for mid in shops:
        assert ledger_sum[mid] == paid[mid] + carry.get(mid, (None, 0))[1], mid
    bootstrap.override(None)
