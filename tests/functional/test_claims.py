"""Claim codes (受取コード, SPEC §4) through the app: batches, CSV, letters, claims, the try limit.

GIVEN the app on the local engine with a fixed clock (2026-11-20 12:00 JST)
WHEN the operator issues a batch and consumers claim its codes
THEN each code is claimed at most once, in one transaction with its lot, and every refusal writes
nothing but the consumer's used try.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.ids import CROCKFORD
from chalicelib.payments import claim_codes
from tests.support.api import Api
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack

BATCH = {"batch_id": "WINTER-2026", "count": 5, "points": 1000, "expires_on": "2026-12-31"}


def codes_of(stack: Stack, batch_id: str, count: int) -> list[str]:
    key = stack.container.keys().claim_key
    return [claim_codes.display(claim_codes.derive(key, batch_id, i)) for i in range(count)]


@pytest.fixture
def batch(api: Api, operator_token: str, stack: Stack) -> list[str]:
    reply = api.post("/v1/admin/claim-batches", BATCH, token=operator_token)
    assert reply.status == 201, reply.body
    return codes_of(stack, BATCH["batch_id"], BATCH["count"])


def claim(api: Api, stack: Stack, consumer: str, code: Any) -> Any:
    return api.post("/v1/wallet/claims", {"code": code}, token=stack.consumer_token(consumer))


def money_items(stack: Stack) -> list[dict[str, Any]]:
    """Everything but the consumers' try counters and the audit log."""
    return sorted((i for i in stack.all_items() if not i["pk"].startswith(("CLAIMTRY#", "AUDIT#"))),
                  key=lambda i: (i["pk"], i["sk"]))


def test_batch_is_created_once_and_listed(api: Api, operator_token: str, stack: Stack, batch: list[str]) -> None:
    # WHEN the same batch is sent again, THEN the same answer and no new codes
    again = api.post("/v1/admin/claim-batches", BATCH, token=operator_token)
    assert again.status == 201 and again.body == {k: BATCH[k] for k in ("batch_id", "count", "points", "expires_on")}
    assert again.headers.get("Idempotent-Replayed") == "true"
    codes = [i for i in stack.all_items() if i["pk"].startswith("CLAIM#")]
    assert len(codes) == 5 and {i["sk"] for i in codes} == {"CODE"}
    # AND the table holds keyed hashes only: no code appears anywhere in it
    dump = repr(stack.all_items())
    assert not any(c.replace("-", "") in dump or c in dump for c in batch)
    # WHEN other content comes with the same id, THEN 409 and nothing changes
    other = api.post("/v1/admin/claim-batches", {**BATCH, "points": 500}, token=operator_token)
    assert other.status == 409 and other.error_code == "idempotency_key_reused"
    listed = api.get("/v1/admin/claim-batches", token=operator_token)
    assert listed.status == 200
    (item,) = listed.body["items"]
    assert item["batch_id"] == "WINTER-2026" and item["count"] == 5 and item["points"] == 1000
    assert item["claimed_count"] == 0 and item["claimed_points"] == 0 and item["unclaimed_points"] == 5000
    assert item["created_at"].endswith("+09:00")
    # AND the operator's action is in the audit log, once
    audit = api.get("/v1/admin/audit", token=operator_token).body["items"]
    assert [a["target"] for a in audit if a["action"] == "claim_batch"] == ["WINTER-2026"]


def test_batch_without_id_gets_one(api: Api, operator_token: str) -> None:
    reply = api.post("/v1/admin/claim-batches", {"count": 2, "points": 300, "expires_on": "2027-03-31"},
                     token=operator_token)
    assert reply.status == 201 and reply.body["batch_id"].startswith("CB")


@pytest.mark.parametrize("body", [
    {**BATCH, "count": 0}, {**BATCH, "count": 10_001}, {**BATCH, "count": 5.0}, {**BATCH, "count": "5"},
    {**BATCH, "points": 0}, {**BATCH, "points": -1}, {**BATCH, "points": 100_001}, {**BATCH, "points": True},
    {**BATCH, "expires_on": "2026-11-19"}, {**BATCH, "expires_on": "2026/12/31"}, {**BATCH, "batch_id": "a#b"},
    {**BATCH, "batch_id": ""}, {**BATCH, "extra": 1}, {"count": 1, "points": 1},
])
def test_bad_batch_bodies_are_refused_and_write_nothing(api: Api, operator_token: str, stack: Stack,
                                                        body: dict[str, Any]) -> None:
    before = money_items(stack)
    reply = api.post("/v1/admin/claim-batches", body, token=operator_token)
    assert reply.status == 400 and reply.error_code == "invalid_request", reply.body
    assert money_items(stack) == before


def test_consumers_cannot_issue_and_operators_cannot_claim(api: Api, operator_token: str, stack: Stack,
                                                           batch: list[str]) -> None:
    assert api.post("/v1/admin/claim-batches", BATCH, token=stack.consumer_token("C-1")).status == 403
    assert api.post("/v1/wallet/claims", {"code": batch[0]}, token=operator_token).status == 403
    assert api.post("/v1/wallet/claims", {"code": batch[0]}).status == 401


def test_claim_adds_the_lot_and_a_second_claim_is_409(api: Api, stack: Stack, batch: list[str]) -> None:
    reply = claim(api, stack, "C-CLAIM", batch[0].lower().replace("-", " "))
    assert reply.status == 201, reply.body
    assert reply.body == {"points": 1000, "expires_on": "2026-12-31", "balance": 1000}
    wallet = api.get("/v1/wallet", token=stack.consumer_token("C-CLAIM")).body
    assert wallet["balance"] == 1000 and wallet["lots"] == [{"expires_on": "2026-12-31", "points": 1000}]
    again = claim(api, stack, "C-CLAIM", batch[0])
    assert again.status == 409 and again.error_code == "claim_code_used"
    other = claim(api, stack, "C-OTHER", batch[0])
    assert other.status == 409 and other.error_code == "claim_code_used"
    assert api.get("/v1/wallet", token=stack.consumer_token("C-OTHER")).body["balance"] == 0
    # AND the conservation check counts the claimed points as granted
    report = stack.ledger()
    assert report.ok, report
    assert report.granted == 1000 and report.claimed == 1000
    (b,) = report.claim_batches
    assert (b.batch_id, b.issued, b.claimed, b.unclaimed) == ("WINTER-2026", 5000, 1000, 4000)


def test_the_claimed_points_can_be_spent(api: Api, stack: Stack, batch: list[str], merchant: dict[str, str]) -> None:
    assert claim(api, stack, "C-SPEND", batch[1]).status == 201
    paid = api.post("/v1/payments", {"merchant_id": merchant["merchant_id"], "amount": 400},
                    token=stack.consumer_token("C-SPEND"), headers={"Idempotency-Key": "k-1"})
    assert paid.status == 201 and paid.body["balance_after"] == 600
    assert stack.ledger().ok


def wrong_check(code: str) -> str:
    raw = code.replace("-", "")
    last = CROCKFORD[(CROCKFORD.index(raw[-1]) + 1) % 32]
    return claim_codes.display(raw[:-1] + last)


def test_unknown_mistyped_and_expired_codes_are_404(api: Api, stack: Stack, batch: list[str],
                                                    operator_token: str) -> None:
    unknown = claim_codes.display(claim_codes.derive("another-key" * 4, "X", 0))
    swapped = batch[2][:3] + batch[2][4] + batch[2][3] + batch[2][5:] if batch[2][3] != batch[2][4] else batch[2]
    for code in (unknown, wrong_check(batch[2]), "ABCD", "UUUU-UUUU-UUUU-UUUU", swapped.replace("-", "")[:15] + "-"):
        before = money_items(stack)
        reply = claim(api, stack, "C-TYPO", code)
        assert reply.status == 404 and reply.error_code == "claim_code_not_found", (code, reply.body)
        assert reply.body["error"]["param"] == "code"
        assert money_items(stack) == before
    # AND an expired code: a batch that expired yesterday (issued while it was still valid)
    assert api.post("/v1/admin/claim-batches", {"batch_id": "OLD", "count": 1, "points": 10,
                                                "expires_on": "2026-11-20"}, token=operator_token).status == 201
    clock = stack.container.clock
    assert isinstance(clock, FixedClock)
    clock.set(dt.datetime(2026, 11, 21, 0, 0, tzinfo=JST))
    (old,) = codes_of(stack, "OLD", 1)
    reply = claim(api, stack, "C-LATE", old)
    assert reply.status == 404 and reply.error_code == "claim_code_not_found"
    assert api.get("/v1/wallet", token=stack.consumer_token("C-LATE")).body["balance"] == 0


def test_the_eleventh_failed_try_within_an_hour_is_429_until_the_hour_has_passed(
        api: Api, stack: Stack, batch: list[str]) -> None:
    clock = stack.container.clock
    assert isinstance(clock, FixedClock)
    start = clock.now()
    for n in range(10):
        clock.set(start + dt.timedelta(minutes=5 * n))
        assert claim(api, stack, "C-GUESS", wrong_check(batch[3])).error_code == "claim_code_not_found"
    clock.set(start + dt.timedelta(minutes=50))
    locked = claim(api, stack, "C-GUESS", batch[3])  # even the right code: locked
    assert locked.status == 429 and locked.error_code == "too_many_attempts"
    assert api.get("/v1/wallet", token=stack.consumer_token("C-GUESS")).body["balance"] == 0
    # AND another consumer is not affected
    assert claim(api, stack, "C-HONEST", batch[4]).status == 201
    # WHEN the hour from the first failure has passed, THEN claims work again
    clock.set(start + dt.timedelta(hours=1, seconds=1))
    assert claim(api, stack, "C-GUESS", batch[3]).status == 201


def test_successful_claims_do_not_use_up_the_tries(api: Api, operator_token: str, stack: Stack) -> None:
    assert api.post("/v1/admin/claim-batches", {"batch_id": "MANY", "count": 12, "points": 10,
                                                "expires_on": "2026-12-31"}, token=operator_token).status == 201
    for code in codes_of(stack, "MANY", 12):
        assert claim(api, stack, "C-MANY", code).status == 201
    assert api.get("/v1/wallet", token=stack.consumer_token("C-MANY")).body["balance"] == 120


@pytest.mark.parametrize("raw", [
    b"", b"{", b"[]", b'{"code": 1}', b'{"code": null}', b'{"code": ""}', b'{"code": "' + b"A" * 65 + b'"}',
    b'{"code": "ABCD", "x": 1}', b'{"codes": "ABCD"}',
])
def test_bad_claim_bodies_are_400_and_write_nothing(api: Api, stack: Stack, batch: list[str], raw: bytes) -> None:
    before = stack.all_items()
    reply = api.post("/v1/wallet/claims", raw=raw, token=stack.consumer_token("C-BAD"))
    assert reply.status == 400 and reply.error_code == "invalid_request", reply.body
    assert sorted(map(repr, stack.all_items())) == sorted(map(repr, before))


def test_csv_export_lists_every_code_with_its_state(api: Api, operator_token: str, stack: Stack,
                                                    batch: list[str]) -> None:
    assert claim(api, stack, "C-CSV", batch[1]).status == 201
    reply = api.get("/v1/admin/claim-batches/WINTER-2026/codes", token=operator_token)
    assert reply.status == 200, reply.body
    assert reply.body["expires_at"].endswith("+09:00")
    with urllib.request.urlopen(reply.body["url"], timeout=30) as resp:  # the moto server on 127.0.0.1
        data = resp.read()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:5] == ["番号", "受取コード", "ポイント", "有効期限", "状態"]
    assert [r[1] for r in rows[1:]] == batch
    assert [r[4] for r in rows[1:]] == ["未使用", "使用済み", "未使用", "未使用", "未使用"]
    assert {r[2] for r in rows[1:]} == {"1000"} and {r[3] for r in rows[1:]} == {"2026/12/31"}
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d", rows[2][5])
    assert api.get("/v1/admin/claim-batches/NOPE/codes", token=operator_token).status == 404
    assert api.get("/v1/admin/claim-batches/a%23b/codes", token=operator_token).status == 404


def test_letters_have_one_page_per_code_with_the_code_and_its_qr(api: Api, operator_token: str, stack: Stack,
                                                                  batch: list[str]) -> None:
    reply = api.get("/v1/admin/claim-batches/WINTER-2026/letters", token=operator_token)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    html = reply.raw.decode("utf-8")
    assert html.count('<section class="letter">') == 5 and html.count("<svg") == 5
    for code in batch:
        assert code in html and f"http://127.0.0.1:8000/pay/?code={code}" in html
    assert "1,000 ポイント" in html and "2026年12月31日" in html and "0120-558-856" in html
    page = api.get("/v1/admin/claim-batches/WINTER-2026/letters?offset=3&limit=1", token=operator_token)
    assert page.raw.decode("utf-8").count('<section class="letter">') == 1 and batch[3] in page.raw.decode("utf-8")
    assert api.get("/v1/admin/claim-batches/WINTER-2026/letters?limit=0", token=operator_token).status == 400


# -- over real HTTP, concurrently -------------------------------------------------------------------
@pytest.fixture
def base(stack: Stack) -> Iterator[str]:
    with serve_app() as url:
        yield url


@pytest.mark.slow
def test_ten_consumers_claiming_one_code_at_once_get_one_201(base: str, stack: Stack, api: Api,
                                                            batch: list[str]) -> None:
    tokens = [stack.consumer_token(f"C-RACE-{i}") for i in range(10)]

    def attempt(token: str) -> tuple[int, Any]:
        status, body, _ = http_json("POST", f"{base}/v1/wallet/claims", {"code": batch[0]},
                                    headers={"Authorization": f"Bearer {token}"})
        return status, body

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, tokens))
    assert Counter(s for s, _ in results) == {201: 1, 409: 9}, results
    assert all(b["error"]["code"] == "claim_code_used" for s, b in results if s == 409)
    now = stack.container.clock.now()
    balances = [stack.container.payments.wallet(f"C-RACE-{i}").balance(now) for i in range(10)]
    assert sorted(balances) == [0] * 9 + [1000]
    assert stack.ledger().ok


@pytest.mark.slow
def test_twenty_wrong_guesses_at_once_check_at_most_ten(base: str, stack: Stack, batch: list[str]) -> None:
    token = stack.consumer_token("C-BURST")

    def attempt(i: int) -> int:
        status, _, _ = http_json("POST", f"{base}/v1/wallet/claims", {"code": wrong_check(batch[i % 5])},
                                 headers={"Authorization": f"Bearer {token}"})
        return status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(attempt, range(20)))
    # at most 10 were looked at; the rest were refused before any read of a code
    assert statuses[404] <= 10 and statuses[404] + statuses[429] == 20, statuses
    tries = stack.container.payment_repo.claim_tries("C-BURST")
    assert tries.tries == statuses[404]
    if statuses[404] == 10:  # the allowance is used up: even the right code waits for the hour
        status, body, _ = http_json("POST", f"{base}/v1/wallet/claims", {"code": batch[0]},
                                    headers={"Authorization": f"Bearer {token}"})
        assert status == 429, body
