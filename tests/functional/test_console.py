"""Issue 4: the merchant console API — history to the minute, one payment, cancel, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.clock import JST, FixedClock
from tests.support import drive
from tests.support.api import Api
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack


def at(text: str) -> dt.datetime:
    """'2026-11-01 09:00:00.000' in JST."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=JST)


class Shop:
    def __init__(self, stack: Stack, api: Api, name_ja: str = "女川商店", login: str | None = None) -> None:
        c = stack.container
        reg = drive.register(c, name_ja=name_ja)
        self.id = reg.merchant.merchant_id
        self.credentials = (reg.merchant.login_id, reg.initial_password)
        self.api = api
        self.stack = stack

    @property
    def token(self) -> str:
        """A session issued at the test clock's current time (tests move the clock by days)."""
        return self.api.login(*self.credentials)

    def sell(self, when: dt.datetime, amount: int, consumer: str = "C-1") -> str:
        c = self.stack.container
        clock = c.clock
        assert isinstance(clock, FixedClock)
        clock.set(when)
        return str(drive.pay(c, consumer, self.id, amount)["payment_id"])


@pytest.fixture
def shop(stack: Stack, api: Api) -> Shop:
    clock = stack.container.clock
    assert isinstance(clock, FixedClock)
    clock.set(at("2026-10-01 08:00:00.000"))
    for consumer in ("C-1", "C-2", "=HYPERLINK(\"http://x\")"):
        drive.grant(stack.container, consumer, 100_000, "2027-12-31")
    return Shop(stack, api)


def totals(body: dict[str, Any]) -> tuple[int, int, int, int]:
    return (body["completed_count"], body["completed_points"], body["cancelled_count"], body["cancelled_points"])


def test_minute_edges_are_exact(api: Api, shop: Shop, stack: Stack) -> None:
    sales = {
        "2026-11-01 08:59:59.999": 1,
        "2026-11-01 09:00:00.000": 10,
        "2026-11-01 12:34:56.789": 100,
        "2026-11-01 23:59:59.999": 1000,
        "2026-11-02 00:00:00.000": 10000,
    }
    for when, amount in sales.items():
        shop.sell(at(when), amount)
    stack.container.clock.set(at("2026-11-03 10:00:00.000"))  # type: ignore[attr-defined]
    body = api.get("/v1/merchant/transactions?from=2026-11-01T09:00&to=2026-11-01T23:59", token=shop.token).body
    expected = [a for w, a in sales.items() if at("2026-11-01 09:00:00.000") <= at(w) < at("2026-11-02 00:00:00.000")]
    assert [i["amount"] for i in body["items"]] == sorted(expected, reverse=True)  # newest first: bigger amounts later
    assert totals(body) == (len(expected), sum(expected), 0, 0)
    one_minute = api.get("/v1/merchant/transactions?from=2026-11-01T09:00&to=2026-11-01T09:00", token=shop.token)
    assert totals(one_minute.body) == (1, 10, 0, 0)
    before = api.get("/v1/merchant/transactions?from=2026-11-01T08:59&to=2026-11-01T08:59", token=shop.token)
    assert totals(before.body) == (1, 1, 0, 0)


def test_jst_midnight_is_not_utc_midnight(api: Api, shop: Shop, stack: Stack) -> None:
    shop.sell(at("2026-11-01 23:30:00.000"), 7)  # 14:30 UTC on the 1st
    shop.sell(at("2026-11-02 00:30:00.000"), 8)  # 15:30 UTC on the 1st, but the 2nd in Japan
    shop.sell(at("2026-11-02 09:30:00.000"), 9)  # 00:30 UTC on the 2nd
    body = api.get("/v1/merchant/transactions?from=2026-11-02&to=2026-11-02", token=shop.token).body
    assert [i["amount"] for i in body["items"]] == [9, 8]
    assert all(i["completed_at"].startswith("2026-11-02T") and i["completed_at"].endswith("+09:00")
               for i in body["items"])
    daily = api.get("/v1/merchant/sales/daily?from=2026-11-01&to=2026-11-02", token=shop.token).body["days"]
    assert [(d["date"], d["completed_points"]) for d in daily] == [("2026-11-01", 7), ("2026-11-02", 17)]


def test_default_range_is_today_in_jst(api: Api, shop: Shop, stack: Stack) -> None:
    shop.sell(at("2026-11-04 23:59:00.000"), 3)
    shop.sell(at("2026-11-05 00:01:00.000"), 4)
    body = api.get("/v1/merchant/transactions", token=shop.token).body
    assert [i["amount"] for i in body["items"]] == [4] and body["from"] == "2026-11-05T00:00"


def test_paging_keeps_range_totals_and_matches_an_independent_sum(api: Api, shop: Shop, stack: Stack) -> None:
    import random

    rnd = random.Random(7)
    made: list[tuple[dt.datetime, int, str]] = []
    start = at("2026-11-10 00:00:00.000")
    for _ in range(37):
        when = start + dt.timedelta(minutes=rnd.randrange(0, 60 * 48), milliseconds=rnd.randrange(0, 60000))
        amount = rnd.randrange(1, 500)
        made.append((when, amount, shop.sell(when, amount)))
    cancelled = {pid for _, _, pid in made[:5]}
    for pid in cancelled:
        assert api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid}, token=shop.token).status \
            == 200
    lo, hi = at("2026-11-10 06:00:00.000"), at("2026-11-11 18:00:00.000")  # to=2026-11-11T17:59 inclusive
    in_range = [(w, a, p) for w, a, p in made if lo <= w < hi]
    seen: list[str] = []
    cursor = ""
    while True:
        url = "/v1/merchant/transactions?from=2026-11-10T06:00&to=2026-11-11T17:59&limit=4" + (
            f"&cursor={cursor}" if cursor else "")
        body = api.get(url, token=shop.token).body
        assert totals(body) == (
            sum(1 for _, _, p in in_range if p not in cancelled), sum(a for _, a, p in in_range if p not in cancelled),
            sum(1 for _, _, p in in_range if p in cancelled), sum(a for _, a, p in in_range if p in cancelled))
        seen += [i["payment_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [p for _, _, p in sorted(in_range, key=lambda x: x[0], reverse=True)]


@pytest.mark.parametrize(
    "query",
    ["from=2026-11-02T10:00&to=2026-11-02T09:00", "from=2026-11-02T9:00", "from=2026/11/02", "to=2026-11-02T25:00",
     "from=2025-01-01&to=2026-11-02", "limit=0", "limit=abc", "cursor=bogus", "color=red"],
)
def test_bad_ranges_are_400(api: Api, shop: Shop, query: str) -> None:
    reply = api.get(f"/v1/merchant/transactions?{query}", token=shop.token)
    assert (reply.status, reply.error_code) == (400, "invalid_request")


def test_a_cursor_is_bound_to_its_range(api: Api, shop: Shop) -> None:
    for m in range(3):
        shop.sell(at(f"2026-11-01 10:0{m}:00.000"), 5)
    first = api.get("/v1/merchant/transactions?from=2026-11-01&to=2026-11-01&limit=1", token=shop.token).body
    other = api.get(f"/v1/merchant/transactions?from=2026-11-02&to=2026-11-02&cursor={first['next_cursor']}",
                    token=shop.token)
    assert (other.status, other.error_code) == (400, "invalid_request")


# -- cancel ---------------------------------------------------------------------------------------
def test_cancel_refunds_once_and_is_a_ledger_event(api: Api, shop: Shop, stack: Stack) -> None:
    pid = shop.sell(at("2026-11-15 23:59:00.000"), 400)
    stack.container.clock.set(at("2026-11-16 00:01:00.000"))  # type: ignore[attr-defined]
    wrong = api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": "XXXXXXXXXX"}, token=shop.token)
    assert (wrong.status, wrong.error_code) == (400, "invalid_request")
    reply = api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid.lower()}, token=shop.token)
    assert reply.status == 200 and reply.body["status"] == "cancelled"
    assert reply.body["cancelled_at"].startswith("2026-11-16T00:01")
    again = api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid}, token=shop.token)
    assert (again.status, again.error_code) == (409, "already_cancelled")
    now = stack.container.clock.now()
    assert stack.container.payments.wallet("C-1").balance(now) == 100_000
    # the sale counts in its own period, the cancellation in the next one (the period of its own time)
    repo = stack.container.payment_repo
    first, second = repo.period_counts("2026-11-1")[shop.id], repo.period_counts("2026-11-2")[shop.id]
    assert (first.sales_points, first.cancel_points, second.sales_points, second.cancel_points) == (400, 0, 0, 400)
    assert stack.ledger(now).ok


def test_cancel_window(api: Api, shop: Shop, stack: Stack) -> None:
    pid = shop.sell(at("2026-08-01 10:00:00.000"), 50)
    stack.container.clock.set(at("2026-10-30 10:00:00.001"))  # type: ignore[attr-defined]
    reply = api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid}, token=shop.token)
    assert (reply.status, reply.error_code) == (409, "cancel_window_expired")


def test_refund_into_an_expired_lot_counts_as_expired(api: Api, shop: Shop, stack: Stack) -> None:
    c = stack.container
    c.clock.set(at("2026-11-01 10:00:00.000"))  # type: ignore[attr-defined]
    drive.grant(c, "C-SHORT", 300, "2026-11-01")
    pid = shop.sell(at("2026-11-01 12:00:00.000"), 200, consumer="C-SHORT")
    c.clock.set(at("2026-11-02 09:00:00.000"))  # type: ignore[attr-defined]
    assert api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid}, token=shop.token).status == 200
    wallet = c.payments.wallet("C-SHORT")
    assert wallet.balance(c.clock.now()) == 0 and wallet.expired(c.clock.now()) == 300
    assert stack.ledger(c.clock.now()).ok


# -- authorization --------------------------------------------------------------------------------
def test_another_merchant_gets_404_and_writes_nothing(api: Api, shop: Shop, stack: Stack) -> None:
    pid = shop.sell(at("2026-11-01 10:00:00.000"), 70)
    other = Shop(stack, api, name_ja="隣の店")
    before = [i for i in stack.all_items() if not i["pk"].startswith(("LOGIN#", "AUDIT#"))]  # sessions, the log
    read = api.get(f"/v1/merchant/payments/{pid}", token=other.token)
    cancel = api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid}, token=other.token)
    assert (read.status, read.error_code) == (404, "not_found")
    assert (cancel.status, cancel.error_code) == (404, "not_found")
    history = api.get("/v1/merchant/transactions?from=2026-11-01&to=2026-11-01", token=other.token).body
    assert history["items"] == [] and totals(history) == (0, 0, 0, 0)
    export = api.post("/v1/merchant/exports", {"from": "2026-11-01", "to": "2026-11-01"}, token=other.token).body
    assert export["rows"] == 0
    after = [i for i in stack.all_items() if not i["pk"].startswith(("LOGIN#", "AUDIT#"))]
    assert after == before


def test_consumer_and_operator_get_403_on_merchant_routes(api: Api, shop: Shop, stack: Stack,
                                                          operator_token: str) -> None:
    consumer = stack.consumer_token("C-1")
    for token in (consumer, operator_token):
        for method, path in [("GET", "/v1/merchant/transactions"), ("GET", "/v1/merchant/payments/X"),
                             ("POST", "/v1/merchant/payments/X/cancel"), ("POST", "/v1/merchant/exports"),
                             ("GET", "/v1/merchant/contact"), ("GET", "/v1/merchant/sales/daily")]:
            reply = api.call(method, path, {} if method == "POST" else None, token=token)
            assert (reply.status, reply.error_code) == (403, "forbidden"), (path, reply.body)
    assert api.get("/v1/merchant/transactions").status == 401


# -- export ---------------------------------------------------------------------------------------
def test_export_csv_downloads_through_the_presigned_url(api: Api, stack: Stack) -> None:
    clock = stack.container.clock
    clock.set(at("2026-10-01 08:00:00.000"))  # type: ignore[attr-defined]
    for consumer in ("C-1", "=HYPERLINK(\"http://x\")"):
        drive.grant(stack.container, consumer, 100_000, "2027-12-31")
    shop = Shop(stack, api, name_ja="=HYPERLINK(\"http://evil\")")
    pids = [shop.sell(at(f"2026-11-01 1{h}:00:00.000"), 100 + h) for h in range(6)]
    shop.sell(at("2026-11-01 09:30:00.000"), 5, consumer="=HYPERLINK(\"http://x\")")
    api.post(f"/v1/merchant/payments/{pids[0]}/cancel", {"confirm_payment_id": pids[0]}, token=shop.token)
    reply = api.post("/v1/merchant/exports", {"from": "2026-11-01T09:00", "to": "2026-11-01T23:59"},
                     token=shop.token)
    assert reply.status == 201, reply.body
    assert reply.body["expires_at"].endswith("+09:00") and reply.body["rows"] == 7
    assert f"exports/{shop.id}/" in reply.body["url"]
    with urllib.request.urlopen(reply.body["url"], timeout=30) as resp:  # the moto server on 127.0.0.1
        raw = resp.read()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["取引日時", "決済ID", "店舗名", "利用者ID", "ポイント", "状態", "取消日時"]
    data = rows[1:]
    history = api.get("/v1/merchant/transactions?from=2026-11-01T09:00&to=2026-11-01T23:59", token=shop.token).body
    assert len(data) == history["completed_count"] + history["cancelled_count"]
    status = Counter(r[5] for r in data)
    assert status == {"完了": history["completed_count"], "取消": history["cancelled_count"]}
    assert sum(int(r[4]) for r in data if r[5] == "完了") == history["completed_points"]
    assert all(r[2] == "'=HYPERLINK(\"http://evil\")" for r in data)
    assert any(r[3] == "'=HYPERLINK(\"http://x\")" for r in data)
    # JST as a spreadsheet reads dates (SPEC §2), not ISO text
    assert all(re.fullmatch(r"2026/11/01 [0-9]{2}:[0-9]{2}:[0-9]{2}", r[0]) for r in data)
    assert ["2026/11/01 09:30:00", 5] in [[r[0], int(r[4])] for r in data]


# -- concurrency ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_ten_simultaneous_cancels_refund_once(api: Api, shop: Shop, stack: Stack) -> None:
    pid = shop.sell(at("2026-11-01 10:00:00.000"), 777)
    before = stack.container.payments.wallet("C-1").balance(stack.container.clock.now())
    token = shop.token  # one session for the ten clerks' clicks
    with serve_app() as base:
        def cancel(_: int) -> int:
            status, _, _ = http_json("POST", f"{base}/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid},
                                     headers={"Authorization": f"Bearer {token}"})
            return status

        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = Counter(pool.map(cancel, range(10)))
    assert statuses == {200: 1, 409: 9}
    now = stack.container.clock.now()
    assert stack.container.payments.wallet("C-1").balance(now) == before + 777
    assert sum(1 for i in stack.all_items() if i["sk"] == "CANCEL") == 1
    assert stack.ledger(now).ok


def test_contact_defaults_are_the_real_ones(api: Api, shop: Shop, stack: Stack) -> None:
    body = api.get("/v1/merchant/contact", token=shop.token).body
    assert body == {
        "merchant": {"name": "女川町商工会", "hours": "受付時間 平日 9:00〜17:00", "phone": "0225-53-3310",
                     "address": "〒986-2265 宮城県牡鹿郡女川町女川二丁目65番地2"},
        "consumer": {"name": "宮城県地域ポイントコールセンター", "hours": "受付時間 全日 9:00〜17:30",
                     "phone": "0120-558-856"},
    }


def test_contact_comes_from_configuration(tmp_path: Path) -> None:
    from chalicelib.config import load_settings
    from tests.support.stack import test_env

    settings = load_settings(test_env(tmp_path, {"CONTACT_MERCHANT_PHONE": "0225-00-0000",
                                                 "CONTACT_CONSUMER_NAME": "別の窓口"}))
    assert settings.contact_merchant_phone == "0225-00-0000" and settings.contact_consumer_name == "別の窓口"
    assert settings.contact_merchant_name == "女川町商工会"


# -- live -----------------------------------------------------------------------------------------
class EventsIndexReads:
    """Every DynamoDB request of the store's client, and how many items each Query returned."""

    def __init__(self) -> None:
        from chalicelib.store.connection import client

        self.calls: list[tuple[str, str | None]] = []
        self.returned: list[int] = []
        events = client().meta.events
        events.register("before-parameter-build.dynamodb.*", self._before)
        events.register("after-call.dynamodb.Query", self._after)

    def _before(self, model: Any, params: Any, **_: Any) -> None:
        self.calls.append((model.name, params.get("IndexName")))

    def _after(self, parsed: Any, **_: Any) -> None:
        self.returned.append(int(parsed.get("Count", 0)))

    def reset(self) -> None:
        self.calls.clear()
        self.returned.clear()


def test_live_feed_delivers_each_event_once_and_costs_one_empty_query_when_quiet(api: Api, shop: Shop,
                                                                                 stack: Stack) -> None:
    clock = stack.container.clock
    assert isinstance(clock, FixedClock)
    yesterday = shop.sell(at("2026-11-19 18:00:00.000"), 50)
    morning = shop.sell(at("2026-11-20 09:00:00.000"), 300)
    clock.set(at("2026-11-20 10:00:00.000"))
    token = shop.token
    first = api.get("/v1/merchant/live", token=token).body  # no cursor: from 00:00 JST today
    assert [(i["kind"], i["payment_id"], i["amount"]) for i in first["items"]] == [("payment", morning, 300)]
    assert first["items"][0]["at"] == "2026-11-20T09:00:00.000+09:00" and yesterday not in str(first)

    reads = EventsIndexReads()
    clock.set(at("2026-11-20 10:01:00.000"))
    quiet = api.get("/v1/merchant/live?after=" + first["cursor"], token=token).body
    assert quiet["items"] == []
    # The session's GetItem, then one Query of the events index that returns nothing.
    assert reads.calls == [("GetItem", None), ("Query", "gsi3")] and reads.returned == [0]

    sold = shop.sell(at("2026-11-20 10:02:00.000"), 1234)
    clock.set(at("2026-11-20 10:02:00.500"))
    api.post(f"/v1/merchant/payments/{morning}/cancel", {"confirm_payment_id": morning}, token=token)
    clock.set(at("2026-11-20 10:02:01.000"))
    news = api.get("/v1/merchant/live?after=" + quiet["cursor"], token=token).body
    assert [(i["kind"], i["payment_id"], i["amount"]) for i in news["items"]] == [
        ("payment", sold, 1234), ("cancellation", morning, 300)]
    again = api.get("/v1/merchant/live?after=" + news["cursor"], token=token).body
    assert again["items"] == []

    # the cursor is signed and bound to its merchant and shop
    other = Shop(stack, api, name_ja="別の店")
    stolen = api.get("/v1/merchant/live?after=" + news["cursor"], token=other.token)
    assert (stolen.status, stolen.error_code) == (400, "invalid_request")
    assert api.get(f"/v1/merchant/live?store_id={shop.id}", token=token).status == 200
    assert api.get(f"/v1/merchant/live?store_id={other.id}", token=token).status == 404


def test_history_filters_by_status(api: Api, shop: Shop, stack: Stack) -> None:
    pids = [shop.sell(at(f"2026-11-01 1{h}:00:00.000"), 100 + h) for h in range(4)]
    api.post(f"/v1/merchant/payments/{pids[1]}/cancel", {"confirm_payment_id": pids[1]}, token=shop.token)
    base = "/v1/merchant/transactions?from=2026-11-01T00:00&to=2026-11-01T23:59"
    done = api.get(base + "&status=completed", token=shop.token).body
    gone = api.get(base + "&status=cancelled", token=shop.token).body
    assert [i["payment_id"] for i in done["items"]] == [pids[3], pids[2], pids[0]]
    assert [i["payment_id"] for i in gone["items"]] == [pids[1]]
    assert totals(done) == totals(gone) == (3, 100 + 102 + 103, 1, 101)  # the range's totals either way
    paged = api.get(base + "&status=completed&limit=2", token=shop.token).body
    rest = api.get(base + "&status=completed&limit=2&cursor=" + paged["next_cursor"], token=shop.token).body
    assert [i["payment_id"] for i in paged["items"] + rest["items"]] == [pids[3], pids[2], pids[0]]
    assert api.get(base + "&status=refunded", token=shop.token).status == 400
