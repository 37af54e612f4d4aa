"""The operator CLI under test: driven with click's CliRunner, against the app served over real HTTP.

Results are checked through the HTTP API (:class:`OperatorApi`) or the CLI's own output, never
through the services behind the API. The one exception is :func:`operator`, which creates the
operator account to log in with (there is no API for that).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from chalicelib.core.clock import SystemClock
from cli.client import ENV_API, ENV_LOGIN_ID, ENV_PASSWORD
from cli.context import Session
from cli.main import cli
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack

OPERATOR = ("cli-operator", "cli-operator-pass-123")
BANK = {"bank_code": "0001", "branch_code": "123", "account_type": 1, "account_number": "1234567",
        "holder_kana": "ｵﾅｶﾞﾜｼｮｳﾃﾝ"}
FIELD = r"^\s+{}\s+(\S.*)$"


@pytest.fixture(autouse=True)
def no_cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own ONAGAWA_* settings must not leak into the tests."""
    for name in (ENV_API, ENV_LOGIN_ID, ENV_PASSWORD):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str, password: str | None = None, env: dict[str, str] | None = None,
           input: str | None = None) -> Result:
    """Run the CLI in-process; an unexpected exception propagates (a traceback fails the test)."""
    obj = Session(password=lambda: password) if password is not None else None
    return CliRunner().invoke(cli, list(args), obj=obj, env=env, input=input, catch_exceptions=False)


def field(output: str, name: str) -> str:
    """The value of a ``  name  value`` line the CLI printed."""
    match = re.search(FIELD.format(re.escape(name)), output, re.M)
    assert match is not None, f"no {name} in:\n{output}"
    return match.group(1).strip()


@pytest.fixture
def api_url(stack: Stack) -> Iterator[str]:
    """``chalice local``'s server for ``app`` on a free port, in a thread, using the stack's container."""
    with serve_app() as url:
        yield url


@pytest.fixture
def operator(stack: Stack) -> tuple[str, str]:
    """An operator account (login id, password): the only thing the tests create behind the API."""
    stack.container.accounts.create(login_id=OPERATOR[0], role="operator", password=OPERATOR[1],
                                    merchant_id=None, now=SystemClock().now())
    return OPERATOR


@dataclasses.dataclass
class OperatorCli:
    """The CLI pointed at the served app, logged in as the operator."""

    api_url: str
    login: tuple[str, str]

    def __call__(self, *args: str, password: str | None = None) -> Result:
        return invoke("--api", self.api_url, "--login-id", self.login[0], *args,
                      password=self.login[1] if password is None else password)


@pytest.fixture
def run(api_url: str, operator: tuple[str, str]) -> OperatorCli:
    return OperatorCli(api_url, operator)


class OperatorApi:
    """The HTTP API, for checking what the CLI did; logs in as the operator (again after a 401)."""

    def __init__(self, base_url: str, login: tuple[str, str], stack: Stack) -> None:
        self.base_url = base_url
        self.login_pair = login
        self.stack = stack
        self._token: str | None = None

    def login(self, login_id: str, password: str) -> tuple[int, Any]:
        status, body, _ = http_json("POST", f"{self.base_url}/v1/auth/login",
                                    {"login_id": login_id, "password": password})
        return status, body

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        for _ in range(2):
            if self._token is None:
                status, reply = self.login(*self.login_pair)
                assert status == 200, reply
                self._token = str(reply["token"])
            status, reply, _ = http_json(method, self.base_url + path, body,
                                         headers={"Authorization": f"Bearer {self._token}"})
            if status != 401:
                return status, reply
            self._token = None  # the session ended (e.g. a test moved the clock): log in again
        return status, reply

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, reply = self.call(method, path, body)
        assert status in (200, 201), (status, reply)
        return reply

    def register_merchant(self, name_ja: str = "女川商店", name_en: str = "ONAGAWA SHOTEN") -> dict[str, Any]:
        return dict(self.ok("POST", "/v1/admin/merchants", {"name_ja": name_ja, "name_en": name_en, "bank": BANK}))

    def merchant(self, merchant_id: str) -> dict[str, Any]:
        return dict(self.ok("GET", f"/v1/admin/merchants/{merchant_id}"))

    def granted_points(self) -> int:
        """All points ever granted, from the ledger check."""
        return int(self.ok("POST", "/v1/admin/ledger/check")["granted"])

    def consumer(self, method: str, path: str, consumer_id: str, body: Any = None,
                 headers: dict[str, str] | None = None) -> tuple[int, Any]:
        token = self.stack.consumer_token(consumer_id)
        status, reply, _ = http_json(method, self.base_url + path, body,
                                     headers={"Authorization": f"Bearer {token}", **(headers or {})})
        return status, reply

    def balance(self, consumer_id: str) -> int:
        status, wallet = self.consumer("GET", "/v1/wallet", consumer_id)
        assert status == 200, wallet
        return int(wallet["balance"])

    def pay(self, consumer_id: str, merchant_id: str, amount: int) -> dict[str, Any]:
        status, reply = self.consumer("POST", "/v1/payments", consumer_id,
                                      {"merchant_id": merchant_id, "amount": amount},
                                      headers={"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, reply
        return dict(reply)


@pytest.fixture
def api(api_url: str, operator: tuple[str, str], stack: Stack) -> OperatorApi:
    return OperatorApi(api_url, operator, stack)
