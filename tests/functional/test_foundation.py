"""Issue 2 end to end through chalice.test.Client against the single-threaded moto server."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import zxingcpp
from PIL import Image

from chalicelib.core.clock import FixedClock
from tests.functional.conftest import BANK
from tests.support.api import Api
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack


# -- login and lockout ---------------------------------------------------------------------------
def test_operator_login_returns_token_role_and_jst_expiry(api: Api, operator_token: str, stack: Stack) -> None:
    reply = api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "operator-pass-123"})
    assert reply.status == 200
    assert reply.body["role"] == "operator"
    assert reply.body["expires_at"].endswith("+09:00")
    cookies = str(reply.headers.get("Set-Cookie"))
    assert "HttpOnly" in cookies and "SameSite=Strict" in cookies


def test_unknown_id_and_wrong_password_get_identical_errors(api: Api, operator_token: str) -> None:
    wrong = api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "nope-nope"})
    unknown = api.post("/v1/auth/login", {"login_id": "nobody-here", "password": "nope-nope"})
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body


def test_five_failures_lock_for_fifteen_minutes_even_with_right_password(api: Api, operator_token: str,
                                                                          stack: Stack) -> None:
    clock = stack.container.clock
    assert isinstance(clock, FixedClock)
    codes = [api.post("/v1/auth/login", {"login_id": "ops-admin", "password": f"bad{i}"}).status for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    locked = api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "operator-pass-123"})
    assert (locked.status, locked.error_code) == (429, "too_many_attempts")
    clock.advance(minutes=14, seconds=59)
    assert api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "operator-pass-123"}).status == 429
    clock.advance(seconds=2)
    assert api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "operator-pass-123"}).status == 200


def test_unknown_login_id_locks_the_same_way(api: Api) -> None:
    codes = [api.post("/v1/auth/login", {"login_id": "ghost", "password": "x"}).status for _ in range(6)]
    assert codes == [401, 401, 401, 401, 429, 429]


def test_success_resets_the_failure_count(api: Api, operator_token: str) -> None:
    for _ in range(4):
        api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "bad"})
    assert api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "operator-pass-123"}).status == 200
    codes = [api.post("/v1/auth/login", {"login_id": "ops-admin", "password": "bad"}).status for _ in range(4)]
    assert codes == [401] * 4


# -- roles ---------------------------------------------------------------------------------------
def test_admin_route_needs_a_token_and_the_operator_role(api: Api, stack: Stack, merchant: dict[str, str]) -> None:
    none = api.get("/v1/admin/merchants")
    assert (none.status, none.error_code) == (401, "unauthenticated")
    shop_token = api.login(merchant["login_id"], merchant["initial_password"])
    as_shop = api.get("/v1/admin/merchants", token=shop_token)
    assert (as_shop.status, as_shop.error_code) == (403, "forbidden")
    as_consumer = api.get("/v1/admin/merchants", token=stack.consumer_token("C-1"))
    assert (as_consumer.status, as_consumer.error_code) == (403, "forbidden")


def test_tampered_and_expired_tokens_are_unauthenticated(api: Api, operator_token: str, stack: Stack) -> None:
    tampered = operator_token[:-3] + ("AAA" if not operator_token.endswith("AAA") else "BBB")
    assert api.get("/v1/admin/merchants", token=tampered).status == 401
    stack.container.clock.advance(hours=3)  # type: ignore[attr-defined]
    assert api.get("/v1/admin/merchants", token=operator_token).status == 401
    old_consumer = stack.consumer_token("C-1", now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    assert api.get("/v1/merchants/lookup?qr=x", token=old_consumer).status == 401


def test_consumer_token_with_hs256_or_none_is_refused(api: Api, stack: Stack) -> None:
    import jwt

    claims = {"sub": "C-1", "iss": stack.settings.consumer_jwt_issuer, "aud": stack.settings.consumer_jwt_audience,
              "exp": int(dt.datetime.now(dt.UTC).timestamp()) + 600}
    hs = jwt.encode(claims, "secret-secret-secret-secret-secret!", algorithm="HS256", headers={"kid": "dev-issuer-1"})
    assert api.get("/v1/merchants/lookup?qr=x", token=hs).status == 401
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    assert api.get("/v1/merchants/lookup?qr=x", token=unsigned).status == 401


# -- merchants -----------------------------------------------------------------------------------
def test_register_returns_login_and_initial_password_once(api: Api, operator_token: str,
                                                          merchant: dict[str, str]) -> None:
    assert merchant["login_id"] and merchant["initial_password"] and merchant["qr_payload"].startswith("000201")
    got = api.get(f"/v1/admin/merchants/{merchant['merchant_id']}", token=operator_token)
    assert got.status == 200 and "initial_password" not in got.body and "password_hash" not in str(got.body)
    listed = api.get("/v1/admin/merchants", token=operator_token)
    assert [m["merchant_id"] for m in listed.body["items"]] == [merchant["merchant_id"]]
    shop = api.post("/v1/auth/login", {"login_id": merchant["login_id"], "password": merchant["initial_password"]})
    assert shop.status == 200 and shop.body["role"] == "merchant"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"bank": {**BANK, "bank_code": "12"}}, "bank.bank_code"),
        ({"bank": {**BANK, "branch_code": "12a"}}, "bank.branch_code"),
        ({"bank": {**BANK, "account_type": 3}}, "bank.account_type"),
        ({"bank": {**BANK, "account_type": "1"}}, "bank.account_type"),
        ({"bank": {**BANK, "account_number": "123456"}}, "bank.account_number"),
        ({"bank": {**BANK, "holder_kana": "山田太郎"}}, "bank.holder_kana"),
        ({"bank": {**BANK, "swift": "X"}}, "bank.swift"),
        ({"name_ja": ""}, "name_ja"),
        ({"name_ja": "あ" * 26}, "name_ja"),
        ({"name_en": "ＯＮＡＧＡＷＡ"}, "name_en"),
        ({"mcc": "59"}, "mcc"),
        ({"color": "red"}, "color"),
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(api: Api, operator_token: str, stack: Stack,
                                                       change: dict[str, object], param: str) -> None:
    before = len(stack.all_items())
    body = {"name_ja": "女川商店", "name_en": "ONAGAWA SHOTEN", "bank": BANK, **change}
    reply = api.post("/v1/admin/merchants", body, token=operator_token)
    assert (reply.status, reply.error_code) == (400, "invalid_request")
    assert reply.body["error"]["param"] == param
    assert len(stack.all_items()) == before


def test_suspend_reactivate_and_lookup(api: Api, operator_token: str, merchant: dict[str, str], stack: Stack) -> None:
    consumer = stack.consumer_token("C-1")
    qr = merchant["qr_payload"]
    from urllib.parse import quote

    found = api.get(f"/v1/merchants/lookup?qr={quote(qr)}", token=consumer)
    assert found.status == 200
    assert found.body == {"merchant_id": merchant["merchant_id"], "name_ja": "女川商店", "name_en": "ONAGAWA SHOTEN"}
    assert api.post(f"/v1/admin/merchants/{merchant['merchant_id']}/suspend", token=operator_token).body["status"] \
        == "suspended"
    gone = api.get(f"/v1/merchants/lookup?qr={quote(qr)}", token=consumer)
    assert (gone.status, gone.error_code) == (409, "merchant_unavailable")
    api.post(f"/v1/admin/merchants/{merchant['merchant_id']}/reactivate", token=operator_token)
    assert api.get(f"/v1/merchants/lookup?qr={quote(qr)}", token=consumer).status == 200
    tampered = qr[:-5] + ("0" if qr[-5] != "0" else "1") + qr[-4:]
    bad = api.get(f"/v1/merchants/lookup?qr={quote(tampered)}", token=consumer)
    assert (bad.status, bad.error_code) == (400, "invalid_qr")


def test_reset_password_replaces_the_old_one(api: Api, operator_token: str, merchant: dict[str, str]) -> None:
    reply = api.post(f"/v1/admin/merchants/{merchant['merchant_id']}/reset-password", token=operator_token)
    assert reply.status == 200 and reply.body["initial_password"] != merchant["initial_password"]
    old = api.post("/v1/auth/login", {"login_id": merchant["login_id"], "password": merchant["initial_password"]})
    assert old.status == 401
    assert api.login(merchant["login_id"], reply.body["initial_password"])


def test_qr_png_decodes_back_to_the_payload(api: Api, operator_token: str, merchant: dict[str, str]) -> None:
    reply = api.get(f"/v1/admin/merchants/{merchant['merchant_id']}/qr.png", token=operator_token,
                    headers={"Accept": "image/png"})
    assert reply.status == 200 and reply.raw[:8] == b"\x89PNG\r\n\x1a\n"
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(reply.raw)))
    assert len(results) == 1
    assert results[0].bytes.decode("utf-8") == merchant["qr_payload"]
    svg = api.get(f"/v1/admin/merchants/{merchant['merchant_id']}/qr.svg", token=operator_token)
    assert svg.status == 200 and b"<svg" in svg.raw
    letter = api.get(f"/v1/admin/merchants/{merchant['merchant_id']}/letter", token=operator_token)
    assert letter.status == 200 and "女川商店" in letter.raw.decode() and merchant["login_id"] in letter.raw.decode()


def test_letter_prints_a_freshly_issued_password_only_when_posted(api: Api, operator_token: str,
                                                                 merchant: dict[str, str]) -> None:
    url = f"/v1/admin/merchants/{merchant['merchant_id']}/letter"
    plain = api.get(url, token=operator_token).raw.decode()
    assert merchant["initial_password"] not in plain
    printed = api.post(url, {"initial_password": merchant["initial_password"]}, token=operator_token)
    assert printed.status == 200 and merchant["initial_password"] in printed.raw.decode()
    hostile = api.post(url, {"initial_password": "<b>x</b>"}, token=operator_token).raw.decode()
    assert "<b>x</b>" not in hostile and "&lt;b&gt;x&lt;/b&gt;" in hostile


def test_unknown_merchant_is_404(api: Api, operator_token: str) -> None:
    for path in ("/v1/admin/merchants/MNOPE", "/v1/admin/merchants/MNOPE/qr.png"):
        reply = api.get(path, token=operator_token)
        assert (reply.status, reply.error_code) == (404, "not_found")
    reply = api.post("/v1/admin/merchants/MNOPE/suspend", token=operator_token)
    assert (reply.status, reply.error_code) == (404, "not_found")


# -- bad input at the edge -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (b"[1,2]", {}, 400),
        (b"", {}, 400),
        (b'{"login_id": "a", "password": "b", "extra": 1}', {}, 400),
        (b'{"login_id": 1, "password": "b"}', {}, 400),
        (b'{"login_id": "a"}', {}, 400),
        (b'{"login_id": "a", "password": NaN}', {}, 400),
        (b"\xff\xfe", {}, 400),
        (b'{"login_id": "' + b"a" * 20000 + b'", "password": "b"}', {}, 400),
        (b'{"login_id": "a", "password": "b"}', {"Content-Type": "text/plain"}, 415),
    ],
)
def test_malformed_requests_get_clear_json_4xx(api: Api, raw: bytes, headers: dict[str, str], status: int,
                                               stack: Stack) -> None:
    before = len(stack.all_items())
    reply = api.call("POST", "/v1/auth/login", raw=raw, headers=headers)
    assert reply.status == status
    assert reply.body["error"]["code"] == "invalid_request"
    assert len(stack.all_items()) == before


def test_unknown_route_and_wrong_method(api: Api) -> None:
    missing = api.get("/v1/nothing/here")
    assert (missing.status, missing.error_code) == (404, "not_found")
    wrong = api.call("DELETE", "/v1/auth/login")
    assert wrong.status == 405 and wrong.error_code == "invalid_request"


def test_methods_no_route_takes_get_the_json_405_over_http(stack: Stack) -> None:
    """Through the server `make run` serves (chalice's own answers TRACE with an HTML 501 page)."""
    with serve_app() as base:
        for method in ("TRACE", "PROPFIND", "DELETE"):
            status, body, headers = http_json(method, base + "/v1/merchant/transactions")
            assert status == 405, (method, status, body)
            assert body["error"]["code"] == "invalid_request" and headers["Content-Type"].startswith("application/json")


def test_openapi_documents_every_route_and_only_those(api: Api) -> None:
    from app import app as chalice_app

    doc = api.get("/v1/openapi.json").body
    served = {(path, method.lower()) for path, methods in chalice_app.routes.items() for method in methods
              if path.startswith("/v1/")}  # HTML pages and their assets are not API
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented
    assert doc["openapi"].startswith("3.")


def test_dev_token_absent_outside_local(engine, keys_dir) -> None:  # type: ignore[no-untyped-def]
    from chalice.test import Client

    from app import app as chalice_app
    from chalicelib import bootstrap
    from tests.support.stack import build_stack

    build_stack(engine, keys_dir, extra_env={"STAGE": "dev", "DEV_ISSUER_ENABLED": ""})
    try:
        with Client(chalice_app, stage_name="local") as client:
            reply = Api(client).post("/v1/dev/token", {"consumer_id": "C-1"})
            assert (reply.status, reply.error_code) == (404, "not_found")
            doc = Api(client).get("/v1/openapi.json").body
            assert "/v1/dev/token" not in doc["paths"]
    finally:
        bootstrap.override(None)
