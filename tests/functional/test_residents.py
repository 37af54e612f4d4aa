"""Issue 12: residents create an account, confirm it, sign in and pay, against the local engine's
Cognito (the production code path: the pool's tokens, its key set through PyJWKClient)."""

from __future__ import annotations

from typing import Any

import jwt
import msgspec
import pytest

from chalicelib import bootstrap
from chalicelib.config import load_settings
from devstack.engine import local_client
from devstack.provision import create_user_pool_from_template, load_resources
from tests.support import drive
from tests.support import stack as test_stack
from tests.support.api import Api
from tests.support.stack import Stack

PASSWORD = "umineko-2026"


def sign_up_and_in(api: Api, email: str, password: str = PASSWORD) -> dict[str, Any]:
    created = api.post("/v1/consumer/sign-up", {"email": email, "password": password})
    assert created.status == 201, created.body
    assert created.body["confirmed"] is False and created.body["email"] == email.lower()
    assert api.post("/v1/consumer/confirm", {"email": email, "code": "123456"}).status == 200
    signed = api.post("/v1/consumer/sign-in", {"email": email, "password": password})
    assert signed.status == 200, signed.body
    return dict(signed.body)


def test_a_resident_signs_up_signs_in_and_pays_as_the_pools_sub(api: Api, stack: Stack) -> None:
    signed = sign_up_and_in(api, "Hana@Example.jp")
    claims = jwt.decode(signed["token"], options={"verify_signature": False})
    assert claims["token_use"] == "access" and claims["iss"] == stack.settings.cognito_issuer
    sub = claims["sub"]
    wallet = api.get("/v1/wallet", token=signed["token"])
    assert (wallet.status, wallet.body["balance"]) == (200, 0)

    drive.grant(stack.container, sub, 1000, "2027-03-31")
    shop = drive.register(stack.container).merchant
    paid = api.post("/v1/payments", {"merchant_id": shop.merchant_id, "amount": 300}, token=signed["token"],
                    headers={"Idempotency-Key": "resident-pay-1"})
    assert (paid.status, paid.body["balance_after"]) == (201, 700)
    # the ID token is a consumer token too (checked by its own claims), the same person
    assert api.get("/v1/wallet", token=signed["id_token"]).body["balance"] == 700
    # and the refresh token keeps the resident signed in
    again = api.post("/v1/consumer/refresh", {"refresh_token": signed["refresh_token"]})
    assert again.status == 200 and api.get("/v1/wallet", token=again.body["token"]).body["balance"] == 700


def test_sign_up_and_sign_in_errors_are_the_apis_own(api: Api) -> None:
    weak = api.post("/v1/consumer/sign-up", {"email": "weak@example.jp", "password": "abcdefghij"})  # no digit
    assert (weak.status, weak.error_code, weak.body["error"]["param"]) == (400, "invalid_request", "password")
    short = api.post("/v1/consumer/sign-up", {"email": "short@example.jp", "password": "abc1"})
    assert (short.status, short.error_code) == (400, "invalid_request")
    assert api.post("/v1/consumer/sign-up", {"email": "not-an-email", "password": PASSWORD}).status == 400

    created = api.post("/v1/consumer/sign-up", {"email": "taro@example.jp", "password": PASSWORD})
    assert created.status == 201
    early = api.post("/v1/consumer/sign-in", {"email": "taro@example.jp", "password": PASSWORD})
    assert (early.status, early.error_code, early.body["error"]["param"]) == (409, "conflict", "code")
    twice = api.post("/v1/consumer/sign-up", {"email": "TARO@example.jp", "password": PASSWORD})
    assert (twice.status, twice.error_code) == (409, "conflict")
    api.post("/v1/consumer/confirm", {"email": "taro@example.jp", "code": "111111"})

    wrong = api.post("/v1/consumer/sign-in", {"email": "taro@example.jp", "password": "wrong-password-1"})
    nobody = api.post("/v1/consumer/sign-in", {"email": "nobody@example.jp", "password": "wrong-password-1"})
    assert (wrong.status, wrong.error_code) == (nobody.status, nobody.error_code) == (401, "unauthenticated")
    assert wrong.body["error"]["message"] == nobody.body["error"]["message"]
    bad_refresh = api.post("/v1/consumer/refresh", {"refresh_token": "not-a-refresh-token"})
    assert (bad_refresh.status, bad_refresh.error_code) == (401, "unauthenticated")
    unknown_field = api.post("/v1/consumer/sign-in", {"email": "taro@example.jp", "password": PASSWORD, "x": 1})
    assert unknown_field.status == 400


def test_a_token_of_another_pool_is_refused(api: Api, stack: Stack) -> None:
    endpoint = stack.engine.endpoint
    other = create_user_pool_from_template(local_client("cognito-idp", endpoint, stack.settings.cognito_region),
                                           "another-pool", load_resources(), stack.settings.cognito_region)
    cognito = local_client("cognito-idp", endpoint, stack.settings.cognito_region)
    cognito.sign_up(ClientId=other.client_id, Username="x@example.jp", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "x@example.jp"}])
    cognito.confirm_sign_up(ClientId=other.client_id, Username="x@example.jp", ConfirmationCode="1")
    foreign = cognito.initiate_auth(ClientId=other.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "x@example.jp", "PASSWORD": PASSWORD})
    for kind in ("AccessToken", "IdToken"):
        reply = api.get("/v1/wallet", token=foreign["AuthenticationResult"][kind])
        assert (reply.status, reply.error_code) == (401, "unauthenticated")


def test_an_unreachable_key_set_answers_503_never_500(api: Api, stack: Stack) -> None:
    signed = sign_up_and_in(api, "outage@example.jp")
    env = test_stack.test_env(stack.keys_dir, {
        "COGNITO_USER_POOL_ID": stack.settings.cognito_user_pool_id,
        "COGNITO_CLIENT_ID": stack.settings.cognito_client_id,
        "COGNITO_REGION": stack.settings.cognito_region,
        "COGNITO_JWKS_URL": "http://127.0.0.1:9/nothing-listens-here/jwks.json",
    })
    broken = bootstrap.Container(settings=load_settings(env), clock=stack.container.clock)
    broken.__dict__.update({k: v for k, v in stack.container.__dict__.items()
                            if k in ("store_binding", "account_repo", "merchant_repo", "payment_repo")})
    bootstrap.override(broken)
    try:
        reply = api.get("/v1/wallet", token=signed["token"])
        assert (reply.status, reply.error_code) == (503, "service_unavailable")
        dev = api.get("/v1/wallet", token=stack.consumer_token("C-DEV-1"))  # other issuers are unaffected
        assert dev.status == 200
    finally:
        bootstrap.override(stack.container)


def test_without_a_pool_the_resident_routes_are_absent(api: Api, stack: Stack) -> None:
    bare = bootstrap.Container(settings=msgspec.structs.replace(stack.settings, cognito_user_pool_id="",
                                                                cognito_client_id=""),
                               clock=stack.container.clock)
    bootstrap.override(bare)
    try:
        reply = api.post("/v1/consumer/sign-in", {"email": "a@example.jp", "password": PASSWORD})
        assert (reply.status, reply.error_code) == (404, "not_found")
    finally:
        bootstrap.override(stack.container)


@pytest.mark.parametrize("body", [{}, {"email": "a@example.jp"}, {"email": 5, "password": PASSWORD}, []])
def test_bad_bodies_are_400(api: Api, body: Any) -> None:
    assert api.post("/v1/consumer/sign-up", body).status == 400
    assert api.post("/v1/consumer/sign-in", body).status == 400
