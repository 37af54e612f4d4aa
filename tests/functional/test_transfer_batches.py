"""Transfer batches (SPEC §7): a period's Zengin file is written once; every payout goes into exactly
one file per time it is due (a failed one into exactly one later file); marks never half-happen.

The shops have distinct account numbers, so each file's data records say which payouts it pays.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.core.clock import JST, FixedClock
from chalicelib.settlement.dynamo import DynamoSettlementRepository
from chalicelib.settlement.model import Payout
from tests.support import drive
from tests.support.api import Api
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack, build_stack

START = "2026-10-1"
OPERATOR = ("batch-operator", "batch-operator-pass")


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST)


@pytest.fixture
def books(engine: Any, keys_dir: Any) -> Any:
    clock = FixedClock(at("2026-10-01 08:00"))
    stack = build_stack(engine, keys_dir, clock=clock, extra_env={"SETTLEMENT_START_PERIOD": START})
    c = stack.container
    drive.grant(c, "C-1", 1_000_000, "2027-12-31")
    c.accounts.create(login_id=OPERATOR[0], role="operator", password=OPERATOR[1], merchant_id=None)
    yield stack, clock
    bootstrap.override(None)


def shop(stack: Stack, n: int) -> str:
    bank = {**drive.BANK, "account_number": f"{n:07d}"}
    return drive.register(stack.container, name_ja=f"店{n}", name_en=f"SHOP{n}", bank=bank).merchant.merchant_id


def sell(stack: Stack, clock: FixedClock, when: str, mid: str, amount: int) -> None:
    clock.set(at(when))
    drive.pay(stack.container, "C-1", mid, amount)


def transfers(data: bytes) -> list[tuple[str, int]]:
    """(account number, amount) of each data record of a Zengin file."""
    records = [r for r in data.split(b"\r\n") if r[:1] == b"2"]
    return [(r[43:50].decode(), int(r[80:90])) for r in records]


def download(link: dict[str, Any]) -> bytes:
    with urllib.request.urlopen(link["url"], timeout=30) as resp:
        return bytes(resp.read())


def test_a_file_is_written_once_and_failed_payouts_go_into_exactly_one_later_file(books: Any) -> None:
    stack, clock = books
    a, b, c = shop(stack, 1), shop(stack, 2), shop(stack, 3)
    for mid, amount in ((a, 1000), (b, 2000), (c, 3000)):
        sell(stack, clock, "2026-10-05 10:00", mid, amount)
    clock.set(at("2026-10-16 01:00"))
    stack.container.closing.close_due()
    api = stack.container.payouts
    first = api.zengin("2026-10-1")
    data1 = stack.container.files.get("transfers/2026-10-1/zengin_2026-10-1.txt")
    assert data1 is not None and sorted(transfers(data1)) == [("0000001", 1000), ("0000002", 2000), ("0000003", 3000)]
    # the link expired; the operator asks again: the same file, nothing marked twice, nothing dropped
    clock.advance(minutes=20)
    again = api.zengin("2026-10-1")
    assert (again.rows, again.total) == (first.rows, first.total) == (3, 6000)
    assert stack.container.files.get("transfers/2026-10-1/zengin_2026-10-1.txt") == data1
    # the bank paid a, refused b; c has no answer yet
    api.mark("2026-10-1", a, "paid")
    api.mark("2026-10-1", b, "failed")
    sell(stack, clock, "2026-10-20 10:00", a, 500)
    clock.set(at("2026-11-01 01:00"))
    stack.container.closing.close_due()
    second = api.zengin("2026-10-2")
    data2 = stack.container.files.get("transfers/2026-10-2/zengin_2026-10-2.txt")
    assert data2 is not None and sorted(transfers(data2)) == [("0000001", 500), ("0000002", 2000)]
    assert (second.rows, second.total) == (2, 2500)
    assert api.zengin("2026-10-2").total == 2500  # fetched again: still b's one re-send, not two
    repo = stack.container.settlement_repo
    states = {(p.period_id, p.merchant_id): (p.status, p.batch_id) for pid in ("2026-10-1", "2026-10-2")
              for p in repo.payouts(pid) if p.payout > 0}
    assert states == {("2026-10-1", a): ("paid", "2026-10-1"), ("2026-10-1", b): ("exported", "2026-10-2"),
                      ("2026-10-1", c): ("exported", "2026-10-1"), ("2026-10-2", a): ("exported", "2026-10-2")}


class StopAfter(DynamoSettlementRepository):
    """The real repository, stopping (as a Lambda timeout would) after ``n`` payouts were exported."""

    def __init__(self, n: int) -> None:
        self.left = n

    def export_payout(self, payout: Payout, batch_id: str, now: dt.datetime) -> None:
        if self.left == 0:
            raise RuntimeError("the generation stopped half way")
        self.left -= 1
        super().export_payout(payout, batch_id, now)


def test_a_generation_that_stopped_half_way_is_finished_with_the_same_file(books: Any) -> None:
    stack, clock = books
    shops = [shop(stack, n) for n in range(1, 6)]
    for n, mid in enumerate(shops, start=1):
        sell(stack, clock, "2026-10-05 10:00", mid, 100 * n)
    clock.set(at("2026-10-16 01:00"))
    stack.container.closing.close_due()
    payouts = stack.container.payouts
    real = payouts.repo
    payouts.repo = StopAfter(2)
    with pytest.raises(RuntimeError):
        payouts.zengin("2026-10-1")
    payouts.repo = real
    data = stack.container.files.get("transfers/2026-10-1/zengin_2026-10-1.txt")
    # meanwhile the bank already paid one of the two exported before the stop
    exported = sorted(p.merchant_id for p in real.payouts("2026-10-1") if p.status == "exported")
    assert len(exported) == 2
    assert payouts.mark("2026-10-1", exported[0], "paid").status == "paid"
    link = payouts.zengin("2026-10-1")  # the next request finishes the same batch
    assert (link.rows, link.total) == (5, 1500)
    assert stack.container.files.get("transfers/2026-10-1/zengin_2026-10-1.txt") == data
    assert data is not None and Counter(n for n, _ in transfers(data)) == Counter(f"{n:07d}" for n in range(1, 6))
    assert sorted(p.status for p in real.payouts("2026-10-1")) == ["exported"] * 4 + ["paid"]


def test_marks_during_a_generation_answer_409_and_never_half_mark(books: Any) -> None:
    stack, clock = books
    shops = [shop(stack, n) for n in range(1, 9)]
    for n, mid in enumerate(shops, start=1):
        sell(stack, clock, "2026-10-05 10:00", mid, 100 * n)
    clock.set(at("2026-10-16 01:00"))
    stack.container.closing.close_due()
    stack.container.payouts.zengin("2026-10-1")  # everything of 2026-10-1 is exported
    sell(stack, clock, "2026-10-20 10:00", shops[0], 7)
    clock.set(at("2026-11-01 01:00"))
    stack.container.closing.close_due()
    with serve_app() as base:
        from chalice.test import Client

        from app import app

        with Client(app, stage_name="local") as client:
            token = Api(client).login(*OPERATOR)
        headers = {"Authorization": f"Bearer {token}"}

        def generate(_: int) -> tuple[int, Any]:
            status, body, _ = http_json("GET", f"{base}/v1/admin/periods/2026-10-2/zengin", headers=headers)
            return status, body

        def mark(i: int) -> tuple[int, Any]:
            verdict = "failed" if i % 2 else "paid"
            status, body, _ = http_json("POST", f"{base}/v1/admin/periods/2026-10-1/payouts/{shops[i]}/{verdict}",
                                        {}, headers=headers)
            return status, body

        with ThreadPoolExecutor(max_workers=6) as pool:
            generations = list(pool.map(generate, range(3)))
            marks = list(pool.map(mark, range(len(shops))))
    statuses = Counter(s for s, _ in generations + marks)
    assert set(statuses) <= {200, 409}, statuses  # never a 500
    assert all(b["error"]["code"] == "conflict" for s, b in generations + marks if s == 409)
    repo = stack.container.settlement_repo
    final = {p.merchant_id: p for p in repo.payouts("2026-10-1")}
    for i, mid in enumerate(shops):
        status, _ = marks[i]
        expected = ("failed" if i % 2 else "paid") if status == 200 else "exported"
        assert final[mid].status == expected  # a mark happened entirely or not at all
    file2 = stack.container.files.get("transfers/2026-10-2/zengin_2026-10-2.txt")
    if file2 is not None:  # a failed payout is in at most one later file, never twice in one
        accounts = [n for n, _ in transfers(file2)]
        assert len(accounts) == len(set(accounts))
