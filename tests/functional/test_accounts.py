"""Accounts you can trust (SPEC §8): revocable server-side sessions, forced password change, a lockout
that holds under concurrency, private login IDs, CSRF bound to the session, cookies by stage.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.core.clock import SystemClock
from tests.functional.conftest import BANK
from tests.support.api import Api, changed_password
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack, build_stack


def register(api: Api, operator_token: str, name: str = "女川商店") -> dict[str, Any]:
    reply = api.post("/v1/admin/merchants", {"name_ja": name, "name_en": "ONAGAWA SHOTEN", "bank": BANK},
                     token=operator_token)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def login(api: Api, login_id: str, password: str) -> Any:
    return api.post("/v1/auth/login", {"login_id": login_id, "password": password})


# -- first login: the initial password must be changed -------------------------------------------------
def test_a_new_shop_must_change_its_initial_password_before_anything_else(api: Api, operator_token: str) -> None:
    shop = register(api, operator_token)
    first = login(api, shop["login_id"], shop["initial_password"])
    assert first.status == 200 and first.body["must_change_password"] is True
    token = first.body["token"]
    blocked = api.get("/v1/merchant/me", token=token)
    assert (blocked.status, blocked.error_code) == (403, "password_change_required")
    for weak, why in (("short-1", "10文字"), (shop["login_id"] + "-abcdef", "ログインID"), ("Password2024!", "推測")):
        refused = api.post("/v1/auth/password", {"current_password": shop["initial_password"], "new_password": weak},
                           token=token)
        assert (refused.status, refused.error_code, refused.body["error"]["param"]) == (
            400, "invalid_request", "new_password") and why in refused.body["error"]["message"]
    wrong = api.post("/v1/auth/password", {"current_password": "not-it", "new_password": "kaigan-dori-7"},
                     token=token)
    assert (wrong.status, wrong.error_code) == (401, "unauthenticated")
    changed = api.post("/v1/auth/password", {"current_password": shop["initial_password"],
                                             "new_password": "kaigan-dori-7"}, token=token)
    assert changed.status == 200 and changed.body["must_change_password"] is False
    assert api.get("/v1/merchant/me", token=token).status == 401  # the old session ended
    assert api.get("/v1/merchant/me", token=changed.body["token"]).status == 200
    assert login(api, shop["login_id"], shop["initial_password"]).status == 401
    assert login(api, shop["login_id"], "kaigan-dori-7").body["must_change_password"] is False


# -- every way a session ends ---------------------------------------------------------------------------
def test_logout_password_change_reset_and_revocation_each_end_the_old_token(api: Api, operator_token: str) -> None:
    shop = register(api, operator_token)
    password = changed_password(shop["initial_password"])

    def fresh() -> str:
        return api.login(shop["login_id"], password)

    token = api.login(shop["login_id"], shop["initial_password"])  # changes the initial password
    assert api.post("/v1/auth/logout", token=token).status == 204
    assert api.get("/v1/merchant/me", token=token).status == 401

    token, other = fresh(), fresh()
    changed = api.post("/v1/auth/password", {"current_password": password, "new_password": password + "x"},
                       token=token)
    assert changed.status == 200
    assert api.get("/v1/merchant/me", token=other).status == 401  # every other session of the account
    password += "x"

    token = fresh()
    reset = api.post(f"/v1/admin/merchants/{shop['merchant_id']}/reset-password", token=operator_token)
    assert reset.status == 200
    assert api.get("/v1/merchant/me", token=token).status == 401
    assert api.get("/v1/merchant/me", token=api.login(shop["login_id"], reset.body["initial_password"])).status == 200
    password = changed_password(reset.body["initial_password"])

    token = fresh()
    assert api.post(f"/v1/admin/merchants/{shop['merchant_id']}/revoke-access", token=operator_token).body[
        "access"] == "revoked"
    assert api.get("/v1/merchant/me", token=token).status == 401
    refused = login(api, shop["login_id"], password)
    assert (refused.status, refused.error_code) == (401, "unauthenticated")
    assert api.post(f"/v1/admin/merchants/{shop['merchant_id']}/restore-access", token=operator_token).status == 200
    assert api.get("/v1/merchant/me", token=fresh()).status == 200


def test_a_suspended_shop_still_signs_in_to_read_but_cannot_be_paid(api: Api, operator_token: str,
                                                                    stack: Stack) -> None:
    shop = register(api, operator_token)
    token = api.login(shop["login_id"], shop["initial_password"])
    api.post(f"/v1/admin/merchants/{shop['merchant_id']}/suspend", token=operator_token)
    me = api.get("/v1/merchant/me", token=token)
    assert (me.status, me.body["status"]) == (200, "suspended")
    assert api.get("/v1/merchant/transactions", token=token).status == 200
    assert api.get("/v1/merchant/payouts", token=token).status == 200
    consumer = stack.consumer_token("C-SUSPENDED")
    paid = api.post("/v1/payments", {"merchant_id": shop["merchant_id"], "amount": 1}, token=consumer,
                    headers={"Idempotency-Key": "k-suspended"})
    assert paid.error_code in ("merchant_unavailable", "insufficient_points")


# -- private login IDs -----------------------------------------------------------------------------------
def test_no_login_id_can_be_read_from_the_qr_code_or_a_lookup(api: Api, operator_token: str, stack: Stack) -> None:
    shops = [register(api, operator_token, f"店{i}") for i in range(5)]
    consumer = stack.consumer_token("C-LOOKUP")
    for shop in shops:
        login_id, merchant_id, payload = shop["login_id"].lower(), shop["merchant_id"], shop["qr_payload"]
        assert login_id not in payload.lower() and login_id != merchant_id.lower()
        assert merchant_id.lower() not in login_id and login_id[3:] not in merchant_id.lower()
        lookup = api.get("/v1/merchants/lookup?" + urllib.parse.urlencode({"qr": payload}), token=consumer)
        assert lookup.status == 200 and login_id not in json.dumps(lookup.body).lower()
    assert len({s["login_id"] for s in shops}) == 5


def test_a_shop_registered_before_private_ids_gets_one_at_its_reset(api: Api, operator_token: str,
                                                                     stack: Stack) -> None:
    from tests.support import drive

    legacy = drive.register(stack.container, merchant_id="MLEGACY001", login_id="MLEGACY001")
    reset = api.post("/v1/admin/merchants/MLEGACY001/reset-password", token=operator_token).body
    assert reset["login_id"] != "MLEGACY001" and reset["login_id"].startswith("ogw")
    assert login(api, "MLEGACY001", legacy.initial_password).status == 401
    assert login(api, reset["login_id"], reset["initial_password"]).status == 200


# -- the lockout under concurrency -----------------------------------------------------------------------
OPS = ("guess-target", "the-right-password-1")


def guess_all(base: str, passwords: list[str]) -> list[tuple[int, str]]:
    def one(password: str) -> tuple[int, str]:
        status, _body, _ = http_json("POST", f"{base}/v1/auth/login", {"login_id": OPS[0], "password": password})
        return status, password

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(one, passwords))


@pytest.mark.slow
def test_thirty_wrong_passwords_at_once_check_at_most_five(stack: Stack) -> None:
    stack.container.accounts.create(login_id=OPS[0], role="operator", password=OPS[1], merchant_id=None)
    with serve_app() as base:
        answers = Counter(status for status, _ in guess_all(base, [f"wrong-{i}" for i in range(30)]))
    assert answers[401] <= 5 and answers[401] + answers[429] == 30 and answers[200] == 0, answers
    assert stack.container.account_repo.attempts(OPS[0]).checks <= 5


@pytest.mark.slow
def test_once_locked_the_right_password_racing_wrong_ones_is_refused_too(stack: Stack) -> None:
    stack.container.accounts.create(login_id=OPS[0], role="operator", password=OPS[1], merchant_id=None)
    with serve_app() as base:
        first = Counter(status for status, _ in guess_all(base, [f"wrong-{i}" for i in range(8)]))
        assert first[200] == 0 and stack.container.account_repo.attempts(OPS[0]).failures == 5, first
        answers = guess_all(base, [f"late-{i}" for i in range(4)] + [OPS[1]] + [f"later-{i}" for i in range(4)])
    assert {status for status, _ in answers} == {429}, answers
    assert stack.container.account_repo.attempts(OPS[0]).failures == 5


# -- CSRF and cookies ------------------------------------------------------------------------------------
def cookie_login(api: Api, login_id: str, password: str) -> tuple[str, str]:
    reply = login(api, login_id, password)
    cookies = reply.headers.get("Set-Cookie") or reply.headers.get("set-cookie")
    assert cookies and "HttpOnly" in str(cookies)
    return reply.body["token"], reply.body["csrf_token"]


def test_csrf_from_another_session_is_refused(api: Api, operator_token: str) -> None:
    shop = register(api, operator_token)
    api.login(shop["login_id"], shop["initial_password"])
    password = changed_password(shop["initial_password"])
    mine, my_csrf = cookie_login(api, shop["login_id"], password)
    _, their_csrf = cookie_login(api, shop["login_id"], password)
    body = {"from": "2026-11-01", "to": "2026-11-01"}

    def export(csrf: str) -> Any:
        return api.post("/v1/merchant/exports", body, headers={"Cookie": f"session={mine}", "X-CSRF-Token": csrf})

    assert (export(their_csrf).status, export(their_csrf).error_code) == (403, "forbidden")
    assert export("").status == 403
    assert export(my_csrf).status == 201


def test_cookies_and_hsts_outside_the_local_stage(engine: Any, keys_dir: Any) -> None:
    build_stack(engine, keys_dir, extra_env={"STAGE": "dev", "DEV_ISSUER_ENABLED": ""})
    try:
        c = bootstrap.container()
        c.accounts.create(login_id="ops-dev", role="operator", password="operator-pass-123", merchant_id=None,
                          now=SystemClock().now())
        with Client(app, stage_name="local") as client:
            reply = Api(client).post("/v1/auth/login", {"login_id": "ops-dev", "password": "operator-pass-123"})
        sent = reply.headers.get("Set-Cookie") or reply.headers.get("set-cookie") or []
        cookies = {c.split("=", 1)[0]: c for c in ([sent] if isinstance(sent, str) else sent)}
        assert reply.status == 200 and set(cookies) == {"__Host-session", "__Host-csrf"}
        assert all("Secure" in c and "SameSite=Strict" in c and "Path=/" in c for c in cookies.values())
        assert "HttpOnly" in cookies["__Host-session"] and "HttpOnly" not in cookies["__Host-csrf"]
        assert reply.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        bootstrap.override(None)


def test_a_rotated_session_key_still_verifies_sessions_signed_with_the_previous_one(stack: Stack) -> None:
    from aws_lambda_powertools.utilities import parameters

    from devstack.engine import local_client
    from tests.support.stack import SECRETS_NAME

    c = stack.container
    c.accounts.create(login_id="rotating", role="operator", password="operator-pass-123", merchant_id=None)
    old = c.login.login("rotating", "operator-pass-123").token
    client = local_client("secretsmanager", stack.engine.endpoint)
    value = json.loads(client.get_secret_value(SecretId=SECRETS_NAME)["SecretString"])
    value["session_keys"] = ["a-brand-new-session-key-" + "0" * 20, *value["session_keys"]]
    client.put_secret_value(SecretId=SECRETS_NAME, SecretString=json.dumps(value))
    parameters.clear_caches()  # what five minutes of cache expiry would do
    assert c.sessions.verify(old).subject == "rotating"
    new = c.login.login("rotating", "operator-pass-123").token
    value["session_keys"] = value["session_keys"][:1]  # the old key retired
    client.put_secret_value(SecretId=SECRETS_NAME, SecretString=json.dumps(value))
    parameters.clear_caches()
    assert c.sessions.verify(new).subject == "rotating"
    with pytest.raises(Exception, match="セッション"):
        c.sessions.verify(old)
    time.sleep(0)
