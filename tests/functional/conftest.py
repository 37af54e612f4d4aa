from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib.core.clock import SystemClock
from tests.support.api import Api
from tests.support.stack import Stack

OPERATOR = ("ops-admin", "operator-pass-123")


@pytest.fixture
def api(stack: Stack) -> Iterator[Api]:
    with Client(app, stage_name="local") as client:
        yield Api(client)


@pytest.fixture
def operator_token(stack: Stack, api: Api) -> str:
    stack.container.accounts.create(login_id=OPERATOR[0], role="operator", password=OPERATOR[1],
                                    merchant_id=None, now=SystemClock().now())
    return api.login(*OPERATOR)


BANK = {"bank_code": "0001", "branch_code": "123", "account_type": 1, "account_number": "1234567",
        "holder_kana": "オナガワショウテン"}


@pytest.fixture
def merchant(api: Api, operator_token: str) -> dict[str, str]:
    reply = api.post("/v1/admin/merchants", {"name_ja": "女川商店", "name_en": "ONAGAWA SHOTEN", "bank": BANK},
                     token=operator_token)
    assert reply.status == 201, reply.body
    return dict(reply.body)
