"""Concurrency over real HTTP: chalice's local server (threaded) -> the app -> moto served
single-threaded (each request atomic, as in DynamoDB). Never overdrawn, never a double debit."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.core.clock import SystemClock
from tests.support import drive
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack

pytestmark = pytest.mark.slow


@pytest.fixture
def base(stack: Stack) -> Iterator[str]:
    with serve_app() as url:
        yield url


def _merchant(stack: Stack, name: str = "女川商店") -> str:
    reg = drive.register(stack.container, name_ja=name)
    return reg.merchant.merchant_id


def _grant(stack: Stack, consumer: str, points: int) -> None:
    drive.grant(stack.container, consumer, points, "2026-12-31")


def _pay(base: str, token: str, merchant_id: str, amount: int, key: str) -> tuple[int, object]:
    status, body, _ = http_json("POST", f"{base}/v1/payments", {"merchant_id": merchant_id, "amount": amount},
                                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
    return status, body


def test_fifty_simultaneous_payments_never_overdraw(stack: Stack, base: str) -> None:
    mid = _merchant(stack)
    _grant(stack, "C-RACE", 1000)
    token = stack.consumer_token("C-RACE")
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda i: _pay(base, token, mid, 100, f"race-{i}"), range(50)))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 409: 40}, statuses
    assert all(body["error"]["code"] == "insufficient_points" for status, body in results  # type: ignore[index]
               if status == 409)
    assert stack.container.payments.wallet("C-RACE").balance(stack.container.clock.now()) == 0
    report = stack.ledger(stack.container.clock.now())
    assert report.ok, report


def test_twenty_retries_of_one_key_debit_once_with_identical_responses(stack: Stack, base: str) -> None:
    mid = _merchant(stack)
    _grant(stack, "C-RETRY", 1000)
    token = stack.consumer_token("C-RETRY")
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: _pay(base, token, mid, 300, key), range(20)))
    assert {status for status, _ in results} == {201}
    assert len({repr(body) for _, body in results}) == 1
    assert stack.container.payments.wallet("C-RETRY").balance(stack.container.clock.now()) == 700
    payments = [i for i in stack.all_items() if i["sk"] == "PAYMENT"]
    assert len(payments) == 1


def test_many_wallets_paying_one_shop_at_once_lose_nothing(stack: Stack, base: str) -> None:
    mid = _merchant(stack)
    consumers = [f"C-MANY-{i}" for i in range(40)]
    for c in consumers:
        _grant(stack, c, 500)
    tokens = {c: stack.consumer_token(c) for c in consumers}
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda c: _pay(base, tokens[c], mid, 123, uuid.uuid4().hex), consumers))
    assert [status for status, _ in results] == [201] * 40
    sales = [i for i in stack.all_items() if i["sk"] == "PAYMENT" and i["merchant_id"] == mid]
    assert len(sales) == 40 and sum(i["amount"] for i in sales) == 40 * 123
    now = SystemClock().now()
    assert all(stack.container.payments.wallet(c).balance(now) == 377 for c in consumers)
