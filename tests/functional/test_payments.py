"""Issue 3: grants, wallet and payments through the app (chalice.test.Client against moto)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from chalicelib.core.clock import JST
from chalicelib.core.ids import is_crockford
from tests.support.api import Api
from tests.support.stack import Stack

CONSUMER = "C-TEST-1"


@pytest.fixture
def funded(api: Api, operator_token: str, merchant: dict[str, str], stack: Stack) -> dict[str, Any]:
    reply = api.post("/v1/admin/grants", {"consumer_id": CONSUMER, "points": 1000, "expires_on": "2026-12-31",
                                          "grant_id": "G-1"}, token=operator_token)
    assert reply.status == 201, reply.body
    return {"token": stack.consumer_token(CONSUMER), "merchant": merchant, "operator": operator_token}


def pay(api: Api, token: str, body: dict[str, Any], key: str | None = None) -> Any:
    return api.post("/v1/payments", body, token=token, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def test_pay_by_qr_debits_and_answers_with_payment_id_and_jst_time(api: Api, funded: dict[str, Any]) -> None:
    m = funded["merchant"]
    reply = pay(api, funded["token"], {"qr": m["qr_payload"], "amount": 300})
    assert reply.status == 201, reply.body
    body = reply.body
    assert body["merchant_id"] == m["merchant_id"] and body["name_ja"] == "女川商店"
    assert body["amount"] == 300 and body["balance_after"] == 700 and body["status"] == "completed"
    assert is_crockford(body["payment_id"], 10)
    assert body["completed_at"].endswith("+09:00")
    assert api.get("/v1/wallet", token=funded["token"]).body["balance"] == 700
    got = api.get(f"/v1/payments/{body['payment_id']}", token=funded["token"])
    assert got.status == 200 and got.body["status"] == "completed" and got.body["cancelled_at"] is None
    history = api.get("/v1/wallet/payments", token=funded["token"]).body
    assert [p["payment_id"] for p in history["items"]] == [body["payment_id"]]


def test_pay_by_merchant_id(api: Api, funded: dict[str, Any]) -> None:
    reply = pay(api, funded["token"], {"merchant_id": funded["merchant"]["merchant_id"], "amount": 1000})
    assert reply.status == 201 and reply.body["balance_after"] == 0


def test_wallet_breakdown_and_expired(api: Api, operator_token: str, stack: Stack) -> None:
    for gid, pts, day in [("a", 100, "2026-11-20"), ("b", 200, "2026-12-31"), ("c", 300, "2027-03-31")]:
        assert api.post("/v1/admin/grants", {"consumer_id": "C-W", "points": pts, "expires_on": day, "grant_id": gid},
                        token=operator_token).status == 201
    stack.container.clock.set(dt.datetime(2026, 11, 21, 0, 0, tzinfo=JST))  # type: ignore[attr-defined]
    wallet = api.get("/v1/wallet", token=stack.consumer_token("C-W")).body
    assert wallet["balance"] == 500 and wallet["expired"] == 100
    assert wallet["lots"] == [{"expires_on": "2026-12-31", "points": 200}, {"expires_on": "2027-03-31", "points": 300}]


def test_same_key_same_body_replays_the_original_response(api: Api, funded: dict[str, Any], stack: Stack) -> None:
    body = {"qr": funded["merchant"]["qr_payload"], "amount": 250}
    first = pay(api, funded["token"], body, key="K-1")
    stack.container.clock.advance(hours=23)  # type: ignore[attr-defined]
    again = pay(api, funded["token"], body, key="K-1")
    assert (again.status, again.body) == (first.status, first.body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.get("/v1/wallet", token=funded["token"]).body["balance"] == 750


def test_same_key_different_body_is_refused(api: Api, funded: dict[str, Any]) -> None:
    pay(api, funded["token"], {"qr": funded["merchant"]["qr_payload"], "amount": 250}, key="K-2")
    other = pay(api, funded["token"], {"qr": funded["merchant"]["qr_payload"], "amount": 260}, key="K-2")
    assert (other.status, other.error_code) == (409, "idempotency_key_reused")
    assert api.get("/v1/wallet", token=funded["token"]).body["balance"] == 750


def test_replay_still_answers_after_the_balance_is_spent(api: Api, funded: dict[str, Any]) -> None:
    body = {"qr": funded["merchant"]["qr_payload"], "amount": 1000}
    first = pay(api, funded["token"], body, key="K-ALL")
    assert first.status == 201
    assert pay(api, funded["token"], body, key="K-ALL").body == first.body


def test_keys_are_per_consumer(api: Api, funded: dict[str, Any], operator_token: str, stack: Stack) -> None:
    api.post("/v1/admin/grants", {"consumer_id": "C-OTHER", "points": 500, "expires_on": "2026-12-31"},
             token=operator_token)
    body = {"merchant_id": funded["merchant"]["merchant_id"], "amount": 100}
    a = pay(api, funded["token"], body, key="SHARED")
    b = pay(api, stack.consumer_token("C-OTHER"), body, key="SHARED")
    assert a.status == b.status == 201 and a.body["payment_id"] != b.body["payment_id"]


def test_consumer_sees_only_own_payment(api: Api, funded: dict[str, Any], stack: Stack) -> None:
    reply = pay(api, funded["token"], {"merchant_id": funded["merchant"]["merchant_id"], "amount": 10})
    other = api.get(f"/v1/payments/{reply.body['payment_id']}", token=stack.consumer_token("C-OTHER"))
    assert (other.status, other.error_code) == (404, "not_found")


def test_history_pages_with_a_cursor(api: Api, funded: dict[str, Any], stack: Stack) -> None:
    ids = []
    for _ in range(5):
        ids.append(pay(api, funded["token"], {"merchant_id": funded["merchant"]["merchant_id"], "amount": 1}).body[
            "payment_id"])
        stack.container.clock.advance(seconds=1)  # type: ignore[attr-defined]
    seen: list[str] = []
    cursor = None
    while True:
        path = "/v1/wallet/payments?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, token=funded["token"]).body
        seen += [p["payment_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    forged = api.get("/v1/wallet/payments?cursor=eyJhIjoxfQ.AAAA", token=funded["token"])
    assert (forged.status, forged.error_code) == (400, "invalid_request")


# -- bad input: the right code and no write -------------------------------------------------------
def _state(stack: Stack) -> list[dict[str, Any]]:
    return sorted((i for i in stack.all_items() if not i["pk"].startswith(("LOGIN#", "AUDIT#"))),
                  key=lambda i: (i["pk"], i["sk"]))


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"amount": 500.0}, None, 400, "invalid_request"),
        ({"amount": "500"}, None, 400, "invalid_request"),
        ({"amount": 0}, None, 400, "invalid_request"),
        ({"amount": -5}, None, 400, "invalid_request"),
        ({"amount": 100_001}, None, 400, "invalid_request"),
        ({"amount": True}, None, 400, "invalid_request"),
        ({"amount": None}, None, 400, "invalid_request"),
        ({"amount": 10, "tip": 1}, None, 400, "invalid_request"),
        ({"amount": 10}, {"Idempotency-Key": ""}, 400, "invalid_request"),
        ({"amount": 10}, {"Idempotency-Key": "k" * 256}, 400, "invalid_request"),
        ({"amount": 10, "merchant_id": "MNOPE00000"}, None, 409, "merchant_unavailable"),
        ({"amount": 10, "qr": "tampered"}, None, 400, "invalid_qr"),
        ({"amount": 5000}, None, 409, "insufficient_points"),
    ],
)
def test_bad_payment_input_writes_nothing(api: Api, funded: dict[str, Any], stack: Stack, body: dict[str, Any],
                                          headers: dict[str, str] | None, status: int, code: str) -> None:
    full = dict(body)
    if "merchant_id" not in full and "qr" not in full:
        full["merchant_id"] = funded["merchant"]["merchant_id"]
    before = _state(stack)
    hdrs = headers if headers is not None else {"Idempotency-Key": uuid.uuid4().hex}
    reply = api.post("/v1/payments", full, token=funded["token"], headers=hdrs)
    assert (reply.status, reply.error_code) == (status, code), reply.body
    assert _state(stack) == before


def test_missing_idempotency_key_header(api: Api, funded: dict[str, Any], stack: Stack) -> None:
    before = _state(stack)
    reply = api.post("/v1/payments", {"amount": 10, "merchant_id": funded["merchant"]["merchant_id"]},
                     token=funded["token"])
    assert (reply.status, reply.error_code) == (400, "invalid_request")
    assert _state(stack) == before


def test_tampered_qr_crc_and_suspended_merchant(api: Api, funded: dict[str, Any], stack: Stack) -> None:
    qr = funded["merchant"]["qr_payload"]
    tampered = qr.replace("ONAGAWA SHOTEN", "ONAGAWA SHOTEX")
    before = _state(stack)
    bad = pay(api, funded["token"], {"qr": tampered, "amount": 10})
    assert (bad.status, bad.error_code) == (400, "invalid_qr")
    api.post(f"/v1/admin/merchants/{funded['merchant']['merchant_id']}/suspend", token=funded["operator"])
    before = _state(stack)
    off = pay(api, funded["token"], {"qr": qr, "amount": 10})
    assert (off.status, off.error_code) == (409, "merchant_unavailable")
    assert _state(stack) == before


def test_expired_only_balance_is_insufficient(api: Api, operator_token: str, merchant: dict[str, str],
                                              stack: Stack) -> None:
    api.post("/v1/admin/grants", {"consumer_id": "C-EXP", "points": 900, "expires_on": "2026-11-20"},
             token=operator_token)
    stack.container.clock.set(dt.datetime(2026, 11, 21, 9, 0, tzinfo=JST))  # type: ignore[attr-defined]
    before = _state(stack)
    reply = pay(api, stack.consumer_token("C-EXP"), {"merchant_id": merchant["merchant_id"], "amount": 1})
    assert (reply.status, reply.error_code) == (409, "insufficient_points")
    assert _state(stack) == before


def test_payment_routes_need_a_consumer(api: Api, funded: dict[str, Any]) -> None:
    body = {"merchant_id": funded["merchant"]["merchant_id"], "amount": 10}
    assert api.post("/v1/payments", body, headers={"Idempotency-Key": "x"}).status == 401
    as_op = api.post("/v1/payments", body, token=funded["operator"], headers={"Idempotency-Key": "x"})
    assert (as_op.status, as_op.error_code) == (403, "forbidden")
    assert api.get("/v1/wallet", token=funded["operator"]).status == 403


# -- grants ---------------------------------------------------------------------------------------
def test_grant_is_idempotent_by_grant_id(api: Api, operator_token: str, stack: Stack) -> None:
    body = {"consumer_id": "C-G", "points": 100, "expires_on": "2026-12-31", "grant_id": "same"}
    first = api.post("/v1/admin/grants", body, token=operator_token)
    again = api.post("/v1/admin/grants", body, token=operator_token)
    assert first.status == again.status == 201 and first.body == again.body
    assert api.get("/v1/wallet", token=stack.consumer_token("C-G")).body["balance"] == 100
    clash = api.post("/v1/admin/grants", {**body, "points": 101}, token=operator_token)
    assert (clash.status, clash.error_code) == (409, "idempotency_key_reused")


@pytest.mark.parametrize(
    "change",
    [{"points": 0}, {"points": 1.5}, {"points": "100"}, {"expires_on": "2026-13-01"}, {"expires_on": "2026-11-19"},
     {"consumer_id": ""}, {"consumer_id": 12}, {"extra": 1}],
)
def test_bad_grants_write_nothing(api: Api, operator_token: str, stack: Stack, change: dict[str, Any]) -> None:
    before = _state(stack)
    body = {"consumer_id": "C-G", "points": 100, "expires_on": "2026-12-31", **change}
    reply = api.post("/v1/admin/grants", body, token=operator_token)
    assert (reply.status, reply.error_code) == (400, "invalid_request")
    assert _state(stack) == before


def test_ledger_check_route_reports_a_balanced_store(api: Api, funded: dict[str, Any]) -> None:
    pay(api, funded["token"], {"merchant_id": funded["merchant"]["merchant_id"], "amount": 321})
    assert api.get("/v1/admin/ledger/check", token=funded["operator"]).error_code == "not_found"  # never run yet
    ran = api.post("/v1/admin/ledger/check", token=funded["operator"]).body
    report = api.get("/v1/admin/ledger/check", token=funded["operator"]).body
    assert report == ran and report["ok"] is True and report["difference"] == 0
    assert (report["granted"], report["wallet_balances"], report["sales_outstanding"]) == (1000, 679, 321)
    assert api.get("/v1/admin/ledger/check", token=funded["token"]).status == 403
