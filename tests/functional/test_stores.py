"""Issue 14 part 4: shops (店舗) of a merchant (SPEC §6a): the operator adds them, each with its own QR
code and letter; payments name their shop; the console filters by shop; old data keeps working."""

from __future__ import annotations

import csv
import io
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest

from chalicelib.merchants.qr import decode_merchant_qr
from tests.support import drive
from tests.support.api import Api
from tests.support.stack import Stack

CONSUMER = "C-SHOP-1"


def pay(api: Api, token: str, body: dict[str, Any], key: str | None = None) -> Any:
    return api.post("/v1/payments", body, token=token, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def items(stack: Stack) -> list[dict[str, Any]]:
    return sorted(stack.all_items(), key=lambda i: (i["pk"], i["sk"]))


@pytest.fixture
def shops(api: Api, operator_token: str, merchant: dict[str, str], stack: Stack) -> dict[str, Any]:
    mid = merchant["merchant_id"]
    added = api.post(f"/v1/admin/merchants/{mid}/stores", {"name_ja": "女川商店 駅前店", "name_en": "ONAGAWA EKIMAE"},
                     token=operator_token)
    assert added.status == 201, added.body
    assert api.post("/v1/admin/grants", {"consumer_id": CONSUMER, "points": 10_000, "expires_on": "2027-12-31"},
                    token=operator_token).status == 201
    owner = api.login(merchant["login_id"], merchant["initial_password"])
    return {"merchant": merchant, "store": dict(added.body), "operator": operator_token, "owner": owner,
            "consumer": stack.consumer_token(CONSUMER)}


def test_the_operator_adds_a_shop_with_its_own_qr_code(api: Api, shops: dict[str, Any], stack: Stack) -> None:
    mid, store = shops["merchant"]["merchant_id"], shops["store"]
    sid = store["store_id"]
    assert store["merchant_id"] == mid and store["name_ja"] == "女川商店 駅前店" and sid != mid
    assert sid.startswith("M") and len(sid) == len(mid)  # the merchant id style
    assert decode_merchant_qr(store["qr_payload"], guid=stack.container.settings.scheme_guid).merchant_id == sid
    listed = api.get(f"/v1/admin/merchants/{mid}/stores", token=shops["operator"]).body["items"]
    assert [(s["store_id"], s["is_default"], s["status"]) for s in listed] == [(mid, True, "active"),
                                                                               (sid, False, "active")]
    assert listed[0]["name_ja"] == "女川商店" and listed[0]["qr_payload"] == shops["merchant"]["qr_payload"]
    png = api.call("GET", f"/v1/admin/merchants/{mid}/stores/{sid}/qr.png", token=shops["operator"],
                   headers={"Accept": "image/png"})
    assert png.status == 200 and png.raw.startswith(b"\x89PNG")
    svg = api.call("GET", f"/v1/admin/merchants/{mid}/stores/{sid}/qr.svg", token=shops["operator"])
    assert svg.status == 200 and b"<svg" in svg.raw
    letter = api.call("GET", f"/v1/admin/merchants/{mid}/stores/{sid}/letter", token=shops["operator"])
    assert letter.status == 200 and "女川商店 駅前店" in letter.raw.decode() and sid in letter.raw.decode()
    assert "初期パスワード" not in letter.raw.decode()  # a shop's people sign in with their own staff logins
    audit = api.get("/v1/admin/audit", token=shops["operator"]).body["items"]
    assert ("store_add", sid) in {(i["action"], i["target"]) for i in audit}


def test_unknown_merchants_and_other_merchants_shops_are_404(api: Api, shops: dict[str, Any], stack: Stack) -> None:
    op = shops["operator"]
    sid = shops["store"]["store_id"]
    before = items(stack)
    for path in ("/v1/admin/merchants/M-NOPE/stores", f"/v1/admin/merchants/M-NOPE/stores/{sid}/qr.png",
                 f"/v1/admin/merchants/M-NOPE/stores/{sid}/letter"):
        reply = api.call("GET", path, token=op)
        assert (reply.status, reply.error_code) == (404, "not_found"), path
    reply = api.post("/v1/admin/merchants/M-NOPE/stores", {"name_ja": "店", "name_en": "SHOP"}, token=op)
    assert (reply.status, reply.error_code) == (404, "not_found")
    other = drive.register(stack.container, name_ja="隣の店").merchant.merchant_id
    before = items(stack)
    reply = api.call("GET", f"/v1/admin/merchants/{other}/stores/{sid}/qr.svg", token=op)
    assert (reply.status, reply.error_code) == (404, "not_found")
    for body in ({"name_ja": "", "name_en": "X"}, {"name_ja": "店", "name_en": "日本語"},
                 {"name_ja": "店", "name_en": "X", "mcc": "12"}, {"name_ja": "店", "name_en": "X", "extra": 1}):
        bad = api.post(f"/v1/admin/merchants/{other}/stores", body, token=op)
        assert (bad.status, bad.error_code) == (400, "invalid_request"), body
    assert items(stack) == before


def test_payments_name_their_shop(api: Api, shops: dict[str, Any]) -> None:
    mid, store = shops["merchant"]["merchant_id"], shops["store"]
    sid = store["store_id"]
    token = shops["consumer"]
    looked = api.get("/v1/merchants/lookup?" + urllib.parse.urlencode({"qr": store["qr_payload"]}), token=token)
    assert looked.status == 200, looked.body
    shop = looked.body
    assert (shop["store_id"], shop["merchant_id"], shop["name_ja"]) == (sid, mid, "女川商店 駅前店")
    by_qr = pay(api, token, {"qr": store["qr_payload"], "amount": 300})
    by_id = pay(api, token, {"store_id": sid, "amount": 200})
    default = pay(api, token, {"merchant_id": mid, "amount": 100})
    default_by_store = pay(api, token, {"store_id": mid, "amount": 50})
    for reply, shop, name in ((by_qr, sid, "女川商店 駅前店"), (by_id, sid, "女川商店 駅前店"),
                              (default, mid, "女川商店"), (default_by_store, mid, "女川商店")):
        assert reply.status == 201, reply.body
        body = reply.body
        assert (body["merchant_id"], body["store_id"], body["store_name"]) == (mid, shop, name)
        assert api.get(f"/v1/payments/{body['payment_id']}", token=token).body["store_id"] == shop
    # merchant_id names a merchant's default shop only; exactly one way to name the shop
    wrong = pay(api, token, {"merchant_id": sid, "amount": 10})
    assert (wrong.status, wrong.error_code) == (409, "merchant_unavailable")
    both = pay(api, token, {"store_id": sid, "merchant_id": mid, "amount": 10})
    assert (both.status, both.error_code) == (400, "invalid_request")
    unknown = pay(api, token, {"store_id": "M-NO-SUCH", "amount": 10})
    assert (unknown.status, unknown.error_code) == (409, "merchant_unavailable")
    owner = shops["owner"]
    history = api.get("/v1/merchant/transactions", token=owner).body
    assert history["completed_count"] == 4 and history["completed_points"] == 650
    assert {(r["store_id"], r["store_name"]) for r in history["items"]} == {(sid, "女川商店 駅前店"), (mid, "女川商店")}
    at_shop = api.get(f"/v1/merchant/transactions?store_id={sid}", token=owner).body
    assert at_shop["completed_count"] == 2 and at_shop["completed_points"] == 500
    assert {r["store_id"] for r in at_shop["items"]} == {sid}
    daily = api.get(f"/v1/merchant/sales/daily?store_id={mid}", token=owner).body["days"]
    assert sum(d["completed_points"] for d in daily) == 150
    live = api.get(f"/v1/merchant/live?store_id={sid}", token=owner).body["items"]
    assert [i["amount"] for i in live] == [300, 200] or sorted(i["amount"] for i in live) == [200, 300]
    assert {i["store_id"] for i in live} == {sid}
    stores = api.get("/v1/merchant/stores", token=owner).body["items"]
    assert [(s["store_id"], s["name_ja"]) for s in stores] == [(mid, "女川商店"), (sid, "女川商店 駅前店")]


def test_the_export_filters_by_shop_and_names_it(api: Api, shops: dict[str, Any]) -> None:
    mid, sid = shops["merchant"]["merchant_id"], shops["store"]["store_id"]
    token = shops["consumer"]
    assert pay(api, token, {"store_id": sid, "amount": 300}).status == 201
    assert pay(api, token, {"merchant_id": mid, "amount": 100}).status == 201

    def rows(reply: Any) -> list[list[str]]:
        assert reply.status == 201, reply.body
        with urllib.request.urlopen(reply.body["url"]) as resp:
            return list(csv.reader(io.StringIO(resp.read().decode("utf-8-sig"))))

    by_body = rows(api.post("/v1/merchant/exports", {"store_id": sid}, token=shops["owner"]))
    assert by_body[0][2] == "店舗名" and [r[2] for r in by_body[1:]] == ["女川商店 駅前店"]
    by_query = rows(api.post(f"/v1/merchant/exports?store_id={mid}", {}, token=shops["owner"]))
    assert [(r[2], r[4]) for r in by_query[1:]] == [("女川商店", "100")]
    everything = rows(api.post("/v1/merchant/exports", {}, token=shops["owner"]))
    assert sorted(r[2] for r in everything[1:]) == ["女川商店", "女川商店 駅前店"]
    clash = api.post(f"/v1/merchant/exports?store_id={mid}", {"store_id": sid}, token=shops["owner"])
    assert (clash.status, clash.error_code) == (400, "invalid_request")


def test_a_suspended_shop_or_merchant_cannot_be_paid(api: Api, shops: dict[str, Any], stack: Stack) -> None:
    mid, store = shops["merchant"]["merchant_id"], shops["store"]
    sid, op, token = store["store_id"], shops["operator"], shops["consumer"]
    suspended = api.post(f"/v1/admin/merchants/{mid}/stores/{sid}/suspend", token=op)
    assert suspended.status == 200 and suspended.body["status"] == "suspended"
    before = items(stack)
    refused = pay(api, token, {"store_id": sid, "amount": 10})
    assert (refused.status, refused.error_code) == (409, "merchant_unavailable")
    looked = api.get("/v1/merchants/lookup?" + urllib.parse.urlencode({"qr": store["qr_payload"]}), token=token)
    assert (looked.status, looked.error_code) == (409, "merchant_unavailable")
    assert items(stack) == before
    assert pay(api, token, {"merchant_id": mid, "amount": 10}).status == 201  # the other shop still takes payments
    default = api.post(f"/v1/admin/merchants/{mid}/stores/{mid}/suspend", token=op)
    assert (default.status, default.error_code) == (400, "invalid_request")  # the default shop follows its merchant
    assert api.post(f"/v1/admin/merchants/{mid}/stores/{sid}/reactivate", token=op).status == 200
    assert pay(api, token, {"store_id": sid, "amount": 10}).status == 201
    # the merchant's suspension stops every shop of it, even with a warm cache of the shop
    assert api.post(f"/v1/admin/merchants/{mid}/suspend", token=op).status == 200
    stopped = pay(api, token, {"store_id": sid, "amount": 10})
    assert (stopped.status, stopped.error_code) == (409, "merchant_unavailable")
    assert api.post(f"/v1/admin/merchants/{mid}/stores/{sid}/reactivate", token=op).status == 200
    still = pay(api, token, {"store_id": sid, "amount": 10})
    assert (still.status, still.error_code) == (409, "merchant_unavailable")  # its merchant is still suspended
    assert api.post(f"/v1/admin/merchants/{mid}/reactivate", token=op).status == 200
    assert pay(api, token, {"store_id": sid, "amount": 10}).status == 201
    actions = {(i["action"], i["target"]) for i in api.get("/v1/admin/audit", token=op).body["items"]}
    assert {("store_suspend", sid), ("store_reactivate", sid)} <= actions


def test_a_payment_from_before_shops_belongs_to_the_default_shop(api: Api, shops: dict[str, Any],
                                                                 stack: Stack) -> None:
    """Rows written before payments carried a shop: no store_id attribute at all."""
    from chalicelib.store.models import PaymentItem

    mid, sid = shops["merchant"]["merchant_id"], shops["store"]["store_id"]
    paid = pay(api, shops["consumer"], {"merchant_id": mid, "amount": 70}).body
    item = PaymentItem.get(f"PAYMENT#{paid['payment_id']}", "PAYMENT")
    item.update(actions=[PaymentItem.store_id.remove()])
    got = api.get(f"/v1/payments/{paid['payment_id']}", token=shops["consumer"]).body
    assert (got["store_id"], got["store_name"]) == (mid, "女川商店")
    owner = shops["owner"]
    assert [r["payment_id"] for r in api.get(f"/v1/merchant/transactions?store_id={mid}", token=owner).body["items"]
            ] == [paid["payment_id"]]
    assert api.get(f"/v1/merchant/transactions?store_id={sid}", token=owner).body["items"] == []


def test_shop_ids_are_unique_among_merchants_and_shops(stack: Stack) -> None:
    from chalicelib.core.errors import InvalidRequest

    c = stack.container
    a = drive.register(c, name_ja="一号").merchant.merchant_id
    b = drive.register(c, name_ja="二号").merchant.merchant_id
    shop = drive.add_store(c, a)
    for taken in (a, b, shop):
        with pytest.raises(InvalidRequest):
            c.merchants.add_store(a, name_ja="重複", name_en="DUP", mcc=None, store_id=taken)
    with pytest.raises(InvalidRequest):
        drive.register(c, name_ja="三号", merchant_id=shop)
    assert c.merchants.store_ids(a) == frozenset({a, shop}) and c.merchants.store_ids(b) == frozenset({b})


def test_a_till_polling_one_added_shop_costs_one_small_read_per_quiet_poll(api: Api, shops: dict[str, Any]) -> None:
    from tests.functional.test_console import EventsIndexReads

    sid = shops["store"]["store_id"]
    first = api.get(f"/v1/merchant/live?store_id={sid}", token=shops["owner"])
    assert first.status == 200 and first.body["items"] == []
    reads = EventsIndexReads()
    quiet = api.get(f"/v1/merchant/live?store_id={sid}&after={first.body['cursor']}", token=shops["owner"])
    assert quiet.status == 200 and quiet.body["items"] == []
    # the session's GetItem, then one Query of the events index: the shop's owner was read once, before
    assert reads.calls == [("GetItem", None), ("Query", "gsi3")]
