"""The claim-code service on the in-memory fake: batches, exports, claims and the try limit.

GIVEN a fake store and a fixed clock (2026-11-20 12:00 JST)
WHEN the operator issues codes and consumers claim them
THEN each rule of SPEC §4 holds, in milliseconds.
"""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.errors import (
    ClaimCodeNotFound,
    ClaimCodeUsed,
    Conflict,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    TooManyAttempts,
)
from chalicelib.payments import claim_codes
from chalicelib.payments.claims import MAX_TRIES, ClaimService
from chalicelib.payments.commands import ClaimBatchRequest
from chalicelib.payments.fake import FakePaymentRepository
from chalicelib.store.files import MemoryFiles

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=JST)
KEY = "q" * 40


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.repo = FakePaymentRepository()
        self.files = MemoryFiles()
        self.sleeps: list[float] = []
        self.claims = ClaimService(self.repo, self.clock, lambda: KEY, max_points=100_000, files=self.files,
                                   sleep=self.sleeps.append)

    def issue(self, batch_id: str = "B1", count: int = 3, points: int = 500,
              expires_on: str = "2026-12-31") -> list[str]:
        self.claims.create_batch(ClaimBatchRequest(count=count, points=points,
                                                   expires_on=dt.date.fromisoformat(expires_on), batch_id=batch_id))
        return [claim_codes.derive(KEY, batch_id, i) for i in range(count)]


@pytest.fixture
def w() -> World:
    return World()


def test_a_batch_stores_keyed_hashes_only_and_is_idempotent(w: World) -> None:
    codes = w.issue()
    assert set(w.repo.claim_codes) == {claim_codes.code_hash(KEY, c) for c in codes}
    again = w.claims.create_batch(ClaimBatchRequest(count=3, points=500, expires_on=dt.date(2026, 12, 31),
                                                    batch_id="B1"))
    assert not again.created and again.batch.ready
    with pytest.raises(IdempotencyKeyReused):
        w.claims.create_batch(ClaimBatchRequest(count=4, points=500, expires_on=dt.date(2026, 12, 31), batch_id="B1"))


def test_a_batch_stopped_half_way_is_finished_by_the_same_request(w: World) -> None:
    from chalicelib.payments.model import ClaimBatch

    w.repo.start_claim_batch(ClaimBatch(batch_id="B2", count=2, points=100, expires_on=dt.date(2026, 12, 31),
                                        expires_at=dt.datetime(2026, 12, 31, 23, 59, 59, 999000, tzinfo=JST),
                                        created_at=NOW))
    with pytest.raises(NotFound):
        w.claims.batch("B2")  # not ready: not shown
    outcome = w.issue("B2", count=2, points=100)
    assert len(w.repo.claim_codes) == 2 and w.claims.batch("B2").ready
    assert outcome


@pytest.mark.parametrize(("points", "expires_on"), [(100_001, "2026-12-31"), (10, "2026-11-19"), (10, "2032-01-01")])
def test_points_above_the_maximum_or_a_bad_expiry_are_refused(w: World, points: int, expires_on: str) -> None:
    with pytest.raises(InvalidRequest):
        w.issue(points=points, expires_on=expires_on)
    assert not w.repo.claim_batches_by_id


def test_a_claim_adds_a_lot_once(w: World) -> None:
    codes = w.issue()
    claimed = w.claims.claim("C1", claim_codes.display(codes[0]).lower())
    assert (claimed.points, claimed.expires_on, claimed.balance) == (500, dt.date(2026, 12, 31), 500)
    with pytest.raises(ClaimCodeUsed):
        w.claims.claim("C2", codes[0])
    assert w.repo.wallet("C2").balance(NOW) == 0
    (batch,) = w.claims.batches()
    assert (batch.claimed_count, batch.claimed_points, batch.issued_points) == (1, 500, 1500)


def test_unknown_mistyped_and_expired_codes_are_not_found(w: World) -> None:
    codes = w.issue(expires_on="2026-11-20")
    with pytest.raises(ClaimCodeNotFound):
        w.claims.claim("C1", claim_codes.derive("k" * 40, "B1", 0))
    with pytest.raises(ClaimCodeNotFound):
        w.claims.claim("C1", codes[0][:-1] + ("0" if codes[0][-1] != "0" else "1"))
    w.clock.set(dt.datetime(2026, 11, 21, 0, 0, tzinfo=JST))
    with pytest.raises(ClaimCodeNotFound):
        w.claims.claim("C1", codes[1])
    assert w.repo.wallet("C1").balance(w.clock.now()) == 0


def test_the_try_limit_counts_failures_only_and_lifts_after_the_hour(w: World) -> None:
    codes = w.issue(count=2)
    for _ in range(MAX_TRIES - 1):
        with pytest.raises(ClaimCodeNotFound):
            w.claims.claim("C1", "0000-0000-0000-0001")
    assert w.claims.claim("C1", codes[0]).points == 500  # a success gives its try back
    with pytest.raises(ClaimCodeNotFound):
        w.claims.claim("C1", "0000-0000-0000-0001")
    with pytest.raises(TooManyAttempts):
        w.claims.claim("C1", codes[1])
    w.clock.set(NOW + dt.timedelta(hours=1))
    assert w.claims.claim("C1", codes[1]).balance == 1000


def test_contention_is_retried_then_refused(w: World) -> None:
    codes = w.issue()
    w.repo.reject_next()
    assert w.claims.claim("C1", codes[0]).points == 500
    assert w.sleeps == [0.01]
    for _ in range(10):
        w.repo.reject_next()
    with pytest.raises(Conflict):
        w.claims.claim("C1", codes[1])


def test_a_concurrent_winner_makes_it_used(w: World) -> None:
    codes = w.issue()
    w.repo.interleave(lambda: w.claims.claim("C2", codes[0]))
    with pytest.raises(ClaimCodeUsed):
        w.claims.claim("C1", codes[0])
    assert w.repo.wallet("C2").balance(NOW) == 500 and w.repo.wallet("C1").balance(NOW) == 0


def test_the_csv_lists_the_codes_and_their_state(w: World) -> None:
    codes = w.issue()
    w.claims.claim("C1", codes[2])
    link = w.claims.export_codes("B1")
    assert link.rows == 3
    (data, _), = w.files.objects.values()
    text = data.decode("utf-8")
    assert text.startswith("\ufeff番号,受取コード,ポイント,有効期限,状態")
    lines = text.split("\r\n")
    assert [line.split(",")[1] for line in lines[1:4]] == [claim_codes.display(c) for c in codes]
    assert [line.split(",")[4] for line in lines[1:4]] == ["未使用", "未使用", "使用済み"]
